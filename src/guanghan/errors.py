"""Typed exceptions of Guanghan. Messages name the field, the value, the limit and the way out.

Tests check the exception type and its attributes (``field``, ``value``), not the wording.
"""

from __future__ import annotations

from typing import Any


class GuanghanError(Exception):
    """Base class of every error Guanghan raises on purpose."""


class ScenarioError(GuanghanError):
    """A scenario file is malformed or physically impossible.

    ``str(error)`` reads ``<file>: <field> = <value>: <reason>``; the CLI prints it and exits 2.
    """

    def __init__(self, reason: str, *, file: str | None = None, field: str | None = None,
                 value: Any = None):
        self.reason = reason
        self.file = file
        self.field = field
        self.value = value
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = f"{self.file}: " if self.file else ""
        if self.field is None:
            return f"{where}{self.reason}"
        shown = "" if self.value is None else f" = {self.value!r}"
        return f"{where}{self.field}{shown}: {self.reason}"

    def with_file(self, file: str) -> "ScenarioError":
        """The same error, attributed to ``file``."""
        return ScenarioError(self.reason, file=file, field=self.field, value=self.value)


class InputError(GuanghanError, ValueError):
    """A lower layer refuses a value: names the quantity, the value and the limit or reason.

    ``quantity`` uses the name of the configuration record field that carries it, relative to the
    record passed in (``altitude_km``, ``capsule.lift_to_drag``), so a leg can translate it to the
    scenario's field path with :meth:`guanghan.mission.leg.LegContext.scenario_error`.
    """

    def __init__(self, reason: str, *, quantity: str | None = None, value: Any = None,
                 limit: Any = None):
        self.reason, self.quantity, self.value, self.limit = reason, quantity, value, limit
        what = f"{quantity} = {value!r}: " if quantity is not None else ""
        super().__init__(f"{what}{reason}")


class GravityFieldError(GuanghanError, ValueError):
    """A gravity field request or file is invalid; names the field, the value and the limit."""

    def __init__(self, reason: str, *, field: str | None = None, value=None,
                 file: str | None = None, line: int | None = None):
        self.reason, self.field, self.value, self.file, self.line = reason, field, value, file, line
        where = f"{file}" + (f" line {line}" if line is not None else "") + ": " if file else ""
        what = f"{field} = {value!r}: " if field is not None else ""
        super().__init__(f"{where}{what}{reason}")


class EphemerisRangeError(GuanghanError):
    """An epoch lies outside the span of a loaded ephemeris or orientation kernel."""

    def __init__(self, what: str, utc: str, start_utc: str, end_utc: str):
        self.what, self.utc, self.start_utc, self.end_utc = what, utc, start_utc, end_utc
        super().__init__(f"{utc} is outside {what}, which covers {start_utc} to {end_utc}")


class PropagationError(GuanghanError):
    """The integrator could not continue (step size underflow, too many steps, surface impact)."""


class RunLimitExceeded(GuanghanError):
    """A leg used up its wall-time or step budget (:mod:`guanghan.run_limits`): a mission failure."""


class GuidanceFailure(GuanghanError):
    """A guidance law found no solution; the runner logs it as a ``guidance_failure`` event."""

    def __init__(self, phase: str, reason: str):
        self.phase, self.reason = phase, reason
        super().__init__(f"{phase}: {reason}")
