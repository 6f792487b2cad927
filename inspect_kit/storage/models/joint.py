"""Joint visits (综合查一次): the tasks of several matters on one entity merged into one visit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inspect_kit.storage.models.base import Base

__all__ = ["JointVisit", "JointVisitTask"]


class JointVisit(Base):
    """One merged visit: its lead unit (组长单位) by the configured rule, the units taking part."""

    __tablename__ = "joint_visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_no: Mapped[str] = mapped_column(String(64), unique=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    identifier: Mapped[str] = mapped_column(String(64))
    lead_unit: Mapped[str] = mapped_column(String(32))
    units: Mapped[list] = mapped_column(JSON)
    rule: Mapped[str] = mapped_column(Text)  # how the lead unit was chosen, in words
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    by: Mapped[str | None] = mapped_column(String(64))


class JointVisitTask(Base):
    """One task of a joint visit; a task is in at most one visit. Its result stays its own."""

    __tablename__ = "joint_visit_tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    joint_visit_id: Mapped[int] = mapped_column(ForeignKey("joint_visits.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), unique=True)
