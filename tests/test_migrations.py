"""The Alembic migrations and the SQLAlchemy models describe the same schema, on every backend."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect as sa_inspect

from inspect_kit.errors import InspectError
from inspect_kit.storage.db import current_revision, head_revision, init_database, make_engine, open_database, upgrade
from inspect_kit.storage.models import Base


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    assert current_revision(engine) == head_revision()
    assert set(sa_inspect(engine).get_table_names()) >= set(Base.metadata.tables)


def test_upgrade_step_by_step_from_the_first_revision(db_url):
    from alembic.script import ScriptDirectory

    from inspect_kit.storage.db import alembic_config

    eng = make_engine(db_url)
    revisions = [s.revision for s in ScriptDirectory.from_config(alembic_config(eng)).walk_revisions()][::-1]
    for rev in revisions:
        upgrade(eng, rev)
        assert current_revision(eng) == rev
    upgrade(eng)  # at head already: nothing to do, no error
    assert current_revision(eng) == head_revision()
    eng.dispose()


def test_init_refuses_a_non_empty_database(engine):
    with pytest.raises(InspectError, match="not empty"):
        init_database(engine)


def test_missing_or_old_database_is_a_clear_error(tmp_path):
    with pytest.raises(InspectError, match="run `inspect init`"):
        open_database(f"sqlite:///{tmp_path / 'none.db'}")
    eng = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(eng, "0001")
    if head_revision() != "0001":
        with pytest.raises(InspectError, match="inspect db upgrade"):
            open_database(f"sqlite:///{tmp_path / 'old.db'}")
    eng.dispose()


def test_downgrade_step_by_step_and_upgrade_again(engine):
    from alembic import command
    from alembic.script import ScriptDirectory

    from inspect_kit.storage.db import alembic_config

    cfg = alembic_config(engine)
    for script in ScriptDirectory.from_config(cfg).walk_revisions():  # newest first
        target = script.down_revision or "base"
        command.downgrade(cfg, target)
        assert current_revision(engine) == (None if target == "base" else target)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
