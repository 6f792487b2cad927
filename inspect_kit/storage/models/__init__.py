"""All ORM models. Import from here so that `Base.metadata` is complete.

One module per pipeline stage; each stage's tables come with one Alembic migration
(versions/0001_foundation.py, 0002_draws.py, ...).
"""

from inspect_kit.storage.models.base import Base
from inspect_kit.storage.models.registry import (
    Conflict,
    Entity,
    ImportBatch,
    Inspector,
    InspectorQualification,
    Matter,
    RegistryChange,
    Unit,
)

__all__ = [
    "Base",
    "Conflict",
    "Entity",
    "ImportBatch",
    "Inspector",
    "InspectorQualification",
    "Matter",
    "RegistryChange",
    "Unit",
]

# Later stages register themselves here (kept importable even while a stage is absent).
import importlib as _importlib

for _stage in ("draw", "assign", "findings", "publish", "score"):
    try:
        _mod = _importlib.import_module(f"inspect_kit.storage.models.{_stage}")
    except ModuleNotFoundError as _exc:  # stage not built yet
        if _exc.name != f"inspect_kit.storage.models.{_stage}":
            raise
        continue
    for _name in getattr(_mod, "__all__", []):
        globals()[_name] = getattr(_mod, _name)
        __all__.append(_name)
