from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names, so that migrations and models agree on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    if TYPE_CHECKING:
        # Every model here is mapped to a plain Table (no mapping to joins or selects), so
        # `Model.__table__` is a Table with .c, .insert(), .delete(); SQLAlchemy types it as the
        # wider FromClause.
        __table__: ClassVar[Table]


# Columns holding personal data carry info={"private": True}: public notices and exports
# meant for publication must never read them.
PRIVATE = {"private": True}
