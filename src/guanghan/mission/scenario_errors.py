"""Pydantic validation errors of a scenario translated into one plain-words ScenarioError.

The message names the dotted field path (``phases[0].initial_orbit.periapsis_altitude_km``), the
value given and the reason; a key that differs from a known field only by its unit suffix gets a
"wrong unit" hint (``thrust_kn`` → ``thrust_n``).
"""

from __future__ import annotations

import typing

from pydantic import BaseModel, ValidationError

from guanghan.errors import ScenarioError
from guanghan.mission.leg import LEGS


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """Every model reachable from ``root`` through its fields' annotations (the registered legs'
    configurations included)."""
    found: list[type[BaseModel]] = []
    todo: list = [root, *(leg.config for leg in LEGS.values())]
    while todo:
        t = todo.pop()
        if isinstance(t, type) and issubclass(t, BaseModel):
            if t in found:
                continue
            found.append(t)
            todo.extend(f.annotation for f in t.model_fields.values())
        else:
            todo.extend(typing.get_args(t))
    return found


def _phase_types():
    return LEGS


def _mode_tags() -> dict[str, type[BaseModel]]:
    """Models tagged by a ``mode`` literal (the entry's guidance modes) by tag: pydantic puts the
    tag of such a union member in the error's path, as it does the phase type."""
    out = {}
    for model in _models(BaseModel):
        info = model.model_fields.get("mode")
        if info is not None and typing.get_origin(info.annotation) is typing.Literal:
            out.update({tag: model for tag in typing.get_args(info.annotation)})
    return out


_UNIT_WORDS = {"_deg_s": "deg/s", "_m_s": "m/s", "_m_s2": "m/s²", "_kg_s": "kg/s", "_w_m2": "W/m²",
               "_j_m2": "J/m²", "_sfu": "sfu", "_pct": "%", "_hz": "Hz", "_k": "K", "_km_s": "km/s", "_m2": "m²", "_kg": "kg", "_km": "km", "_deg": "deg", "_utc": "UTC",
               "_n": "N", "_s": "s", "_m": "m", "_h": "h"}


def _unit_of(name: str) -> tuple[str, str] | None:
    """(suffix, unit words) of a field name, longest suffix first."""
    for suffix in sorted(_UNIT_WORDS, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix, _UNIT_WORDS[suffix]
    return None


def _all_field_names(root: type[BaseModel]) -> set[str]:
    return {name for model in _models(root) for name in model.model_fields}


def _wrong_unit_hint(key: str, root: type[BaseModel]) -> str | None:
    """'wrong unit' message if ``key`` differs from a known field only by its unit suffix."""
    for known in sorted(_all_field_names(root)):
        unit = _unit_of(known)
        if unit is None or key == known:
            continue
        stem = known[: -len(unit[0])]
        if key == stem or key.startswith(stem + "_"):
            return f"wrong unit: this field is `{known}` ({unit[1]})"
    return None


def _format_loc(loc: tuple) -> str:
    parts: list[str] = []
    for i, item in enumerate(loc):
        if item == "[key]":
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif i >= 2 and loc[i - 2] == "phases" and isinstance(loc[i - 1], int) and item in _phase_types():
            continue  # pydantic puts the discriminator tag in the path
        elif isinstance(item, str) and item in _mode_tags():
            continue  # the same for a guidance mode
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _join(base: str, extra: str | None) -> str:
    if not extra:
        return base
    return extra if not base else base + ("" if extra.startswith("[") else ".") + extra


def _field_description(root: type[BaseModel], loc: tuple) -> str | None:
    """The ``description`` (the reason for its bounds) of the field at ``loc`` in ``root``; list
    indices, dict keys and phase type tags along the path are stepped over."""
    model, info = root, None
    for item in loc:
        if not isinstance(item, str) or model is None:
            continue
        if item in model.model_fields:
            info = model.model_fields[item]
            model = next(iter(_models_in(info.annotation)), None)
        elif item in LEGS:
            model = LEGS[item].config
        elif item in _mode_tags():
            model = _mode_tags()[item]
    return info.description if info is not None else None


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in typing.get_args(annotation) for m in _models_in(a)]


def _reason(err: dict, field: str, root: type[BaseModel]) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    unit = _unit_of(field.rsplit(".", 1)[-1])
    u = f" {unit[1]}" if unit and unit[1] != "UTC" else ""
    bounds = {"greater_than": "greater than {gt}", "greater_than_equal": "at least {ge}",
              "less_than": "less than {lt}", "less_than_equal": "at most {le}"}
    if kind in bounds:
        why = _field_description(root, tuple(err["loc"]))
        return "must be " + bounds[kind].format(**ctx) + u + (f": {why}" if why else "")
    if kind == "extra_forbidden":
        key = field.rsplit(".", 1)[-1]
        return _wrong_unit_hint(key, root) or f"unknown key `{key}` (check the spelling in the schema)"
    if kind in ("float_type", "int_type", "int_from_float", "string_type", "bool_type",
                "list_type", "dict_type", "model_type", "model_attributes_type"):
        wanted = {"float_type": "a number", "int_type": "an integer", "int_from_float": "an integer",
                  "string_type": "a string", "bool_type": "true or false", "list_type": "a list",
                  }.get(kind, "a table")
        return f"wrong type: must be {wanted}, not {type(err['input']).__name__}"
    simple = {"missing": "missing required field",
              "literal_error": "must be one of {expected}",
              "too_short": "needs at least {min_length} item(s)",
              "too_long": "takes at most {max_length} item(s)",
              "string_pattern_mismatch": "must match {pattern} (lower_snake_case names)",
              "finite_number": "must be a finite number",
              "union_tag_invalid": "unknown phase type; known types: {expected_tags}",
              "union_tag_not_found": "missing phase type; known types: " + ", ".join(_phase_types())}
    if kind in simple:
        return simple[kind].format(**ctx)
    return err["msg"]


def _pick(errors: list[dict]) -> dict:
    """The first error, unless a misspelt key caused it (then the misspelt key's error)."""
    first = errors[0]
    if first["type"] == "missing":
        for err in errors:
            if err["type"] == "extra_forbidden" and err["loc"][:-1] == first["loc"][:-1]:
                return err
    return first


def to_scenario_error(exc: ValidationError, file: str | None, root: type[BaseModel]) -> ScenarioError:
    """One ScenarioError for the first (most telling) error of a pydantic ValidationError raised
    by validating the model ``root``."""
    err = _pick(exc.errors())
    ctx, loc = err.get("ctx", {}), tuple(err["loc"])
    field = _format_loc(loc)
    if err["type"] == "scenario":
        field = _join(field, ctx.get("field"))
        value = ctx["value"] if "value" in ctx else err["input"]
        if loc and loc[-1] == "[key]":
            value = loc[-2]
        return ScenarioError(ctx["reason"], file=file, field=field or None, value=value)
    value = err["input"]
    if err["type"] == "missing":
        value = None
    elif err["type"].startswith("union_tag"):
        field, value = _join(field, "type"), ctx.get("tag")
    return ScenarioError(_reason(err, field, root), file=file, field=field or None, value=value)


