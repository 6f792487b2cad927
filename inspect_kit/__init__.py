"""inspect-kit: verifiable 双随机、一公开 random inspections.

The pipeline, one sub-package each: registry → draw → assign → findings → publish → score.
`draw`, `assign`, `score` and `findings.calendar` hold pure functions on plain data; `storage`
holds the SQLAlchemy models and migrations; `cli` is a thin Typer shell over the library.
"""

__version__ = "0.1.0"
