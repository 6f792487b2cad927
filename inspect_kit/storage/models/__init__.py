"""All ORM models. Import from here so that `Base.metadata` is complete.

One module per pipeline stage; each stage's tables come with one Alembic migration
(one small revision per schema change from 0003 on).
"""

from inspect_kit.storage.models.accounts import (
    ApiToken,
    Evidence,
    EvidenceBlob,
    FindingReview,
    LoginAttempt,
    User,
    WebSession,
)
from inspect_kit.storage.models.assign import Assignment, TeamMember
from inspect_kit.storage.models.base import Base
from inspect_kit.storage.models.draw import (
    APPEND_ONLY_TABLES,
    Commitment,
    Draw,
    Frame,
    SealSalt,
    Task,
    Unsealing,
)
from inspect_kit.storage.models.findings import Finding, FindingRevision
from inspect_kit.storage.models.joint import JointVisit, JointVisitTask
from inspect_kit.storage.models.log import LogEntry, LogGenesis
from inspect_kit.storage.models.publish import Notice
from inspect_kit.storage.models.registry import (
    Conflict,
    Entity,
    ImportBatch,
    Inspector,
    InspectorQualification,
    Matter,
    RegistryChange,
    RegistryInsertBlock,
    Unit,
)
from inspect_kit.storage.models.score import ManualValue, ScoringRun

__all__ = [
    "ApiToken",
    "Evidence",
    "EvidenceBlob",
    "FindingReview",
    "LoginAttempt",
    "User",
    "WebSession",
    "APPEND_ONLY_TABLES",
    "Assignment",
    "Base",
    "Commitment",
    "Draw",
    "Finding",
    "FindingRevision",
    "Frame",
    "JointVisit",
    "JointVisitTask",
    "LogEntry",
    "LogGenesis",
    "ManualValue",
    "Notice",
    "ScoringRun",
    "SealSalt",
    "Task",
    "TeamMember",
    "Unsealing",
    "Conflict",
    "Entity",
    "ImportBatch",
    "Inspector",
    "InspectorQualification",
    "Matter",
    "RegistryChange",
    "RegistryInsertBlock",
    "Unit",
]
