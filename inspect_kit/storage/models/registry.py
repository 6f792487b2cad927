"""两库 (entity and inspector registries), declared conflicts, units and the matters list (一单)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspect_kit.storage.models.base import PRIVATE, Base

# The predicate of the partial index ix_entities_left_out; a query that counts those rows repeats it
# verbatim (as literal SQL: a planner matches a partial index only on the same expression).
LEFT_OUT_WHERE = "status <> 'active' OR exempt_reason IS NOT NULL"


class Unit(Base):
    """An organisation: a department (生态环境局) or a township; scored at year end."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # department | township
    parent_code: Mapped[str | None] = mapped_column(String(32))
    division_code: Mapped[str | None] = mapped_column(String(12))


class Matter(Base):
    """One line of the matters list; `spec` is the validated config entry as loaded."""

    __tablename__ = "matters"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))  # quarter | month | year
    spec: Mapped[dict] = mapped_column(JSON)
    spec_sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Entity(Base):
    """检查对象: one inspectable business, institution or site."""

    __tablename__ = "entities"
    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)  # USCC or other scheme
    id_scheme: Mapped[str] = mapped_column(String(16), default="uscc")
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64), index=True)
    department: Mapped[str | None] = mapped_column(String(64))
    division_code: Mapped[str | None] = mapped_column(String(12))
    township: Mapped[str | None] = mapped_column(String(64))
    industry: Mapped[str | None] = mapped_column(String(100))
    credit_class: Mapped[str | None] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(16), default="active")
    exempt_reason: Mapped[str | None] = mapped_column(Text)
    exempt_from: Mapped[dt.date | None] = mapped_column(Date)
    exempt_to: Mapped[dt.date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(64), info=PRIVATE)
    legal_rep: Mapped[str | None] = mapped_column(String(64), info=PRIVATE)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # The registry_insert_blocks row that holds this entity's insert history (NULL: inserted
    # before revision 0008, its insert is a registry_changes row). No foreign key: not checked
    # once per inserted row.
    insert_block_id: Mapped[int | None] = mapped_column(Integer)

    # The rows a draw's frame may leave out (not active, or with an exemption reason): counting them
    # reads these few, not the registry (inspect_kit.draw.store.frames.left_out_query). Migration 0009
    # makes it partial on PostgreSQL too; a postgresql_where here would import SQLAlchemy's PostgreSQL
    # dialect into every process that loads the models (0.1 s), and Alembic does not compare predicates.
    __table_args__ = (Index("ix_entities_left_out", "category", sqlite_where=text(LEFT_OUT_WHERE)),)


class Inspector(Base):
    """执法检查人员 (kind=officer) or an outside expert (kind=expert, never counts towards a team)."""

    __tablename__ = "inspectors"
    id: Mapped[int] = mapped_column(primary_key=True)
    cert_no: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64), index=True)
    home_township: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="officer")  # officer | expert
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | on_leave | retired
    cert_valid_from: Mapped[dt.date | None] = mapped_column(Date)
    cert_valid_to: Mapped[dt.date | None] = mapped_column(Date)
    max_tasks_per_period: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str | None] = mapped_column(String(64), info=PRIVATE)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    qualifications: Mapped[list["InspectorQualification"]] = relationship(
        back_populates="inspector", cascade="all, delete-orphan", order_by="InspectorQualification.qualification"
    )


class InspectorQualification(Base):
    """A matter code or entity category that the inspector is qualified to inspect."""

    __tablename__ = "inspector_qualifications"
    __table_args__ = (UniqueConstraint("inspector_id", "qualification", name="uq_inspector_qualification"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id", ondelete="CASCADE"), index=True)
    qualification: Mapped[str] = mapped_column(String(64))
    inspector: Mapped[Inspector] = relationship(back_populates="qualifications")


class Conflict(Base):
    """A declared conflict of interest (利害关系): this inspector must never inspect this entity."""

    __tablename__ = "conflicts"
    __table_args__ = (UniqueConstraint("inspector_id", "entity_id", name="uq_conflict_pair"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id", ondelete="CASCADE"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ImportBatch(Base):
    """One import or config load: what file, when, and what it changed."""

    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # entities | inspectors | conflicts | config
    source: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    by: Mapped[str | None] = mapped_column(String(64))  # the user who wrote it (web), or NULL (CLI)


class RegistryChange(Base):
    """History of registry rows: every insert, update or delete, with old and new values.

    `changes` maps field → [old, new] (dates as ISO strings); for an insert old is null. An
    entity's insert from revision 0008 on is in RegistryInsertBlock instead (see there).
    """

    __tablename__ = "registry_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    table_name: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(8))  # insert | update | delete
    changes: Mapped[dict] = mapped_column(JSON)


class RegistryInsertBlock(Base):
    """The insert history of a block of entities added by one import, compactly: one row for up
    to a chunk of inserted entities instead of one registry_changes row each.

    `names` are the fields the file had, in its order; `columns` one list per name of the values
    as inserted (jsonable: dates as ISO strings, empty as null). The insert of the entity whose
    identifier is columns[names.index("identifier")][i] reads as the registry_changes row
    (at, "insert", {name: [null, value] for each non-null value}, batch_id) would have; the entity
    points here by `insert_block_id`. Append-only, like registry_changes.
    """

    __tablename__ = "registry_insert_blocks"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    table_name: Mapped[str] = mapped_column(String(32))
    names: Mapped[list] = mapped_column(JSON)
    columns: Mapped[list] = mapped_column(JSON)
