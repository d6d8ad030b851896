"""The base of every configuration record: strict, closed pydantic models.

Parameter records of the physics (an engine, a parachute system, guidance tunables) and the
scenario's own tables all derive from :class:`ConfigModel`, so a value is declared, bounded and
documented once, where the physics that uses it lives, and the scenario composes those records
instead of mirroring them. Numbers are strict (a string is not coerced into a number), unknown keys
are refused, and NaN/inf are refused.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

CONFIG = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
UNSET = object()


def fail(reason: str, field: str | None = None, value: Any = UNSET):
    """Raise, inside a validator, the pydantic error that the scenario's error translation
    (:mod:`guanghan.mission.scenario_errors`) turns into one plain-words ScenarioError.

    ``field`` is relative to the model being validated; without ``value`` the input is reported.
    """
    ctx: dict[str, Any] = {"reason": reason, "field": field}
    if value is not UNSET:
        ctx["value"] = value
    raise PydanticCustomError("scenario", "{reason}", ctx)


class ConfigModel(BaseModel):
    """A strict pydantic model: unknown keys, coerced strings and NaN/inf are errors."""

    model_config = CONFIG
