"""Draws against the database: commit (prepare), draw (run), unseal, list, and the one-step draw.

This module is the facade the CLI and the web layer import; the work lives in inspect_kit.draw.store
(prepare, run, unseal, read, locking, export) and the pure rules in inspect_kit.draw.core. It also
re-exports the core names the CLI needs (seed sources, bundle verification, ticket formatting) and
the draw from a spreadsheet (store/listfile) and the current tasks (store/tasks).

Commit, then reveal, and nothing the operator can steer in between:

* ``prepare`` freezes the frame of each (matter, period) and records a **commitment**: the
  frame's SHA-256, the time, and the seed source that will be used — a future drand round, a
  lottery issue drawn on a later day, or a witnessed meeting — plus, for a sealed draw
  (保密抽查), the SHA-256 of a secret salt the tool generates and keeps. Every argument is
  checked before anything is written; one transaction for all matters of the command.
* ``run`` draws from exactly the committed frame (``frame_sha256=`` refuses another), with the
  public seed the source produced (a drand signature is verified offline), through the per-draw
  seed rule of inspect_kit.draw.core.seeds, so every (matter, period) has its own tickets.
* A re-draw needs a new commitment made with a reason (``redraw=True, reason=...``): the
  earlier draw stays, the new one names it. Re-freezing a frame after the committed value was
  published counts as a re-draw too. Every frame ever frozen is listed (``list_frames``).
* ``unseal`` reveals a sealed draw's salt after the inspections; from then on anyone can
  re-derive it.

Every record is appended to the transparency log in the transaction that writes it. Frames,
commitments, draws, tasks and unsealings are append-only (database triggers refuse UPDATE,
DELETE and, on PostgreSQL, TRUNCATE).
"""

from __future__ import annotations

from inspect_kit.draw.core.bundle import DrawVerifyReport, verify_bundle
from inspect_kit.draw.core.record import Expected
from inspect_kit.draw.core.sampler import format_ticket
from inspect_kit.draw.core.seeds import CST, DRAND_CHAINS, SeedError, SeedSource
from inspect_kit.draw.store.export import export_bundle, frame_rows_from_blob, verify_draw
from inspect_kit.draw.store.listfile import draw_from_file
from inspect_kit.draw.store.prepare import prepare, prepare_frame, public_text
from inspect_kit.draw.store.read import CommitmentInfo, DrawInfo, FrameInfo, get_draw, list_draws, list_frames
from inspect_kit.draw.store.run import draw_now, run, run_draw
from inspect_kit.draw.store.tasks import TaskInfo, current_draw_ids, current_tasks, task_by_no
from inspect_kit.draw.store.unseal import unseal

__all__ = [
    "DrawVerifyReport",
    "CST",
    "CommitmentInfo",
    "DRAND_CHAINS",
    "DrawInfo",
    "Expected",
    "FrameInfo",
    "SeedError",
    "SeedSource",
    "TaskInfo",
    "current_draw_ids",
    "current_tasks",
    "draw_from_file",
    "draw_now",
    "export_bundle",
    "format_ticket",
    "frame_rows_from_blob",
    "get_draw",
    "list_draws",
    "list_frames",
    "prepare",
    "prepare_frame",
    "public_text",
    "run",
    "run_draw",
    "task_by_no",
    "unseal",
    "verify_bundle",
    "verify_draw",
]
