"""Run limits: a wall-time and integration-step budget for the leg being flown.

The runner opens a budget for each leg (:func:`budget`, from the leg's ``limits`` in the scenario);
long loops in the lower layers charge it (:func:`charge`: the propagator after every chunk of
steps, the entry guidance every cycle, the powered descent every re-plan) and
:class:`~guanghan.errors.RunLimitExceeded` ends the leg as a mission failure instead of a hang.
Outside a budget, :func:`charge` does nothing. The budget is a context variable, so each thread
(a campaign worker) has its own.

Assumptions and limitations
    Cooperative: a single compiled call between two charges is not interrupted (the propagator's
    chunks are at most 4,096 steps, well under a second).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from guanghan.errors import RunLimitExceeded


@dataclass
class _Budget:
    what: str
    deadline: float             # time.monotonic() value
    max_wall_s: float
    max_steps: int
    steps: int = 0
    evaluations: int = 0            # right-hand-side (force model) evaluations, counted, not limited


_current: ContextVar[_Budget | None] = ContextVar("guanghan_run_budget", default=None)


@contextmanager
def budget(what: str, max_wall_s: float, max_steps: int):
    """Limit the work done inside the ``with`` block to ``max_wall_s`` (s) and ``max_steps``;
    yields the budget, whose ``steps`` and ``evaluations`` are the work charged to it."""
    b = _Budget(what, time.monotonic() + max_wall_s, max_wall_s, max_steps)
    token = _current.set(b)
    try:
        yield b
    finally:
        _current.reset(token)


def charge(steps: int = 0, evaluations: int = 0) -> None:
    """Count ``steps`` integration steps (and ``evaluations`` of a right-hand side, for the
    record) against the open budget; raise when it is spent."""
    b = _current.get()
    if b is None:
        return
    b.steps += int(steps)
    b.evaluations += int(evaluations)
    if b.steps > b.max_steps:
        raise RunLimitExceeded(f"{b.what} took more than {b.max_steps:,} integration steps "
                               "(limits.max_steps)")
    if time.monotonic() > b.deadline:
        raise RunLimitExceeded(f"{b.what} ran longer than {b.max_wall_s:g} s of wall time "
                               "(limits.max_wall_s)")
