"""Scenario fields set from outside the file: ``guanghan run chang-e-5 --set PATH=VALUE``.

``PATH`` is a dotted path as in ``[dispersions]`` (``phases.entry.capsule.lift_to_drag``, a phase
or list item by name or index; :func:`guanghan.mission.dispersions.resolve`), ``VALUE`` a TOML
value (``0.3``, ``"GRGM1200A"``, ``true``, ``[1, 2]``, ``2020-12-01T14:57:00Z``, an inline table
``{f107_sfu = 150}``). The value goes into the scenario as written in the file (tables the file left
to their defaults are created) and the whole scenario is validated again, so an override is
checked exactly like the file's own value and a bad one gives the file's message, prefixed with
the override: ``--set phases.entry.capsule.lift_to_drag=9: chang-e-5.toml: phases[6]…``.

The scenario keeps the file's path and text (so its SHA-256 still names the file) and records
the overrides (``Scenario.overrides``; the run's provenance carries them).

Assumptions and limitations
    * A path must exist in the scenario with its defaults filled in; a field inside an optional
      table the file does not give (None) is set by giving the whole table as an inline table.
    * A value that is not valid TOML is taken as a bare string (``--set phases.0.site=other``).
    * ``dispersions`` fields cannot be set (``guanghan run`` does not use them).
"""

from __future__ import annotations

import copy
import datetime as _dt
import tomllib
from pathlib import Path
from typing import Any

from guanghan.errors import ScenarioError
from guanghan.mission.dispersions import assign, resolve
from guanghan.mission.scenario import Scenario, load_scenario, validate_scenario

__all__ = ["parse_override", "apply_overrides", "load_with_overrides"]


def parse_override(text: str) -> tuple[str, Any]:
    """``"PATH=VALUE"`` → (path, value parsed as TOML); ScenarioError when there is no ``=`` or
    no path."""
    path, sep, raw = str(text).partition("=")
    path, raw = path.strip(), raw.strip()
    if not sep or not path or not raw:
        raise ScenarioError(f"--set {text!r}: write PATH=VALUE, e.g. "
                            "phases.entry.capsule.lift_to_drag=0.3")
    if any(not part for part in path.split(".")):
        raise ScenarioError(f"--set {text!r}: the path {path!r} has an empty part")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw                                 # a bare word: a string
    return path, value


def _describe(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{path}={_shown(v)}" for path, v in overrides.items())


def _shown(value) -> str:
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def jsonable(value):
    """The override's value as JSON can hold it (dates and times as ISO-8601 text)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        return value.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    return value


def apply_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A new scenario: ``scenario`` as its file wrote it with ``overrides`` (path → value) set,
    validated again; ScenarioError naming the override and why (an unknown path, or the file's own
    message for a value the scenario refuses)."""
    if not overrides:
        return scenario
    file = str(scenario.source_path) if scenario.source_path else None
    text = scenario.source_text
    sparse = tomllib.loads(text) if text is not None else scenario.nominal_data()
    full = scenario.model_dump(mode="python")
    out = copy.deepcopy(sparse)
    for path, value in overrides.items():
        if path.split(".", 1)[0] == "dispersions":
            raise ScenarioError(f"--set {path}: dispersions are for `guanghan campaign`; "
                                "`guanghan run` does not use them")
        try:
            resolve(full, path)
            assign(out, full, path, value)
        except KeyError as exc:
            raise ScenarioError(f"--set {path}={_shown(value)}: {exc.args[0]}") from None
    try:
        new = validate_scenario(out, file=file)
    except ScenarioError as exc:
        raise ScenarioError(f"--set {_describe(overrides)}: {exc}") from None
    new._source_path = scenario.source_path
    new._source_text = text
    new._overrides = {path: jsonable(v) for path, v in overrides.items()}
    return new


def load_with_overrides(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """:func:`~guanghan.mission.scenario.load_scenario` then :func:`apply_overrides`."""
    return apply_overrides(load_scenario(path), dict(overrides or {}))
