"""Schema-driven mutations of the packaged scenarios, for the fuzz harness (issue 8, item 5).

Not a test file: ``tests/test_fuzz.py`` (the CI profile) and ``benchmarks/fuzz.py`` (the long
profile) build their cases with :func:`fuzz_variants.build_cases` from the mutations made here and
run them with :mod:`fuzz_run`.

* **Schema walk** (:func:`schema_fields`): follows a scenario dict through the pydantic model of
  :func:`guanghan.mission.scenario.scenario_model` — every phase through the configuration record
  of its registered leg (:data:`guanghan.mission.leg.LEGS`), so a new leg is covered with no change
  here — and lists every table and leaf present, plus the optional leaves the schema declares but
  the file leaves at their default (``phases[0].atmosphere.f107_sfu``), each with its kind, its
  declared bounds (``gt/ge/lt/le`` from the field metadata), its ``Literal`` choices and whether it
  is a UTC epoch (a ``str`` whose name ends in ``utc`` or that carries the ``UtcText`` validator).
* **Mutations** (:func:`mutations`): deletion, each bound at / just inside / just past, ×1e30,
  ×1e-30, 0, negative, NaN, ±inf, wrong types, epochs in 1500 and 2300, 30 years later, a real and
  a non-existent leap second, a missing ``Z``, an offset, an unknown sibling key, another
  ``Literal`` choice, rich markup and a 100 kB string. :func:`sample_cases` draws a seeded sample
  with a :class:`numpy.random.Generator` (no hypothesis: the same seed gives the same cases).
* **Trimming** of the full missions for CI: :mod:`fuzz_variants`.
"""

from __future__ import annotations

import copy
import math
import types
import typing
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal, Union

import numpy as np
from pydantic import BaseModel

from guanghan.mission.scenario import scenario_model

DELETE = object()                 # the mutation "remove this key"
UNKNOWN_KEY = "zz_fuzz_key"


@dataclass(frozen=True)
class SchemaField:
    """A table or leaf of a scenario dict, as the schema declares it."""

    path: tuple                   # keys and list indices: ("phases", 1, "capsule", "lift_to_drag")
    kind: str                     # table, number, integer, bool, string, utc, literal, list
    value: Any                    # the value in the file (or the default when not present)
    present: bool
    required: bool
    bounds: dict = field(default_factory=dict)      # {"gt": 0, "le": 1e7}
    choices: tuple = ()
    item_kind: str | None = None  # kind of a list's items

    @property
    def dotted(self) -> str:
        return dotted(self.path)


@dataclass
class Case:
    """One mutated scenario: where, what, the dict, and the variant it came from."""

    variant: str
    path: tuple
    mutation: str
    data: dict
    runnable: bool = True         # False: a full mission, run only by the long profile

    @property
    def id(self) -> str:
        return f"{self.variant}:{dotted(self.path)}:{self.mutation}"


def dotted(path: tuple) -> str:
    """``("phases", 0, "capsule")`` → ``phases[0].capsule``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


# --------------------------------------------------------------------------- schema walk


def _unwrap(ann) -> tuple[Any, list, bool]:
    """(core annotation, metadata found in Annotated layers, whether None is allowed)."""
    meta, optional = [], False
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            ann, *extra = typing.get_args(ann)
            meta.extend(extra)
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(ann))
            if len(args) != 1:
                return Union[tuple(args)], meta, optional    # noqa: UP007
            ann = args[0]
        else:
            return ann, meta, optional


def _bounds(meta: list) -> dict:
    out = {}
    for m in meta:
        for inner in [m, *getattr(m, "metadata", [])]:
            for op in ("gt", "ge", "lt", "le"):
                v = getattr(inner, op, None)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out[op] = v
    return out


def _is_model(t) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def _pick_model(union, value):
    """The model of a discriminated union whose tag matches ``value``: the phases by ``type``, an
    entry's guidance by ``mode`` (the member with a default ``mode`` when the table gives none)."""
    models = [_unwrap(a)[0] for a in typing.get_args(union)]
    models = [m for m in models if _is_model(m)]
    if not isinstance(value, dict):
        return None
    for key in ("type", "mode"):
        for m in models:
            info = m.model_fields.get(key)
            if info is None:
                continue
            tag = value.get(key, None if info.is_required() else info.default)
            if typing.get_args(info.annotation) == (tag,):
                return m
    return None


def _is_utc(name: str, meta: list) -> bool:
    funcs = [getattr(m, "func", None) for m in meta]
    return name.lower().endswith("utc") or any(f and "utc" in f.__name__ for f in funcs)


def _scalar_kind(core, name, meta, value) -> tuple[str, tuple]:
    if typing.get_origin(core) is Literal:
        return "literal", typing.get_args(core)
    if core is bool:
        return "bool", ()
    if core is int:
        return "integer", ()
    if core is float:
        return "number", ()
    if core is str:
        return ("utc" if _is_utc(name, meta) else "string"), ()
    if typing.get_origin(core) is Union:      # e.g. published: float | UtcText
        return ("utc" if isinstance(value, str) else "number"), ()
    return "string", ()


def _walk_value(ann, meta, value, path, present, required, out) -> None:
    core, more, _ = _unwrap(ann)
    meta = [*meta, *more]
    name = next((p for p in reversed(path) if isinstance(p, str)), "")
    if core is type(None) or (value is None and not present and not _is_leafish(core)):
        return
    model = core if _is_model(core) else (_pick_model(core, value) if typing.get_origin(core) is Union
                                          else None)
    if model is not None:
        if isinstance(value, dict):
            out.append(SchemaField(path, "table", value, present, required))
            _walk_model(model, value, path, present, out)
        return
    origin = typing.get_origin(core)
    if origin is dict and isinstance(value, dict):
        out.append(SchemaField(path, "table", value, present, required))
        for k, v in value.items():
            _walk_value(typing.get_args(core)[1], [], v, path + (k,), present, False, out)
        return
    if origin is list:
        item = typing.get_args(core)[0]
        icore, imeta, _ = _unwrap(item)
        if _is_model(icore) or (typing.get_origin(icore) is Union and _pick_model(icore, {}) is None
                                and any(_is_model(a) for a in typing.get_args(icore))):
            for i, v in enumerate(value or []):
                _walk_value(item, [], v, path + (i,), present, True, out)
            return
        ikind, _ = _scalar_kind(icore, name, imeta, (value or [None])[0])
        if typing.get_origin(icore) is list:
            ikind = "list"
        out.append(SchemaField(path, "list", value, present, required, _bounds(meta), (), ikind))
        return
    kind, choices = _scalar_kind(core, name, meta, value)
    out.append(SchemaField(path, kind, value, present, required, _bounds(meta), choices))


def _is_leafish(core) -> bool:
    return core in (float, int, str, bool) or typing.get_origin(core) is Literal


def _walk_model(model, data: dict, path: tuple, present: bool, out: list) -> None:
    for name, info in model.model_fields.items():
        here = path + (name,)
        if name in data:
            _walk_value(info.annotation, list(info.metadata), data[name], here, present,
                        info.is_required(), out)
        elif not info.is_required():
            default = info.get_default(call_default_factory=True)
            if isinstance(default, BaseModel):
                default = default.model_dump(mode="python", exclude_none=True)
            _walk_value(info.annotation, list(info.metadata), default, here, False, False, out)


def schema_fields(data: dict, model=None) -> list[SchemaField]:
    """Every table and leaf of ``data`` (and the optional leaves left at their defaults), in
    schema order, described by the scenario model of the legs registered now."""
    out: list[SchemaField] = []
    _walk_model(model or scenario_model(), data, (), True, out)
    return out


# --------------------------------------------------------------------------- mutations


def _base_number(f: SchemaField) -> float:
    if isinstance(f.value, (int, float)) and not isinstance(f.value, bool):
        return f.value
    lo = f.bounds.get("ge", f.bounds.get("gt"))
    hi = f.bounds.get("le", f.bounds.get("lt"))
    if lo is not None and hi is not None:
        return (lo + hi) / 2
    return (lo + 1.0) if lo is not None else ((hi - 1.0) if hi is not None else 1.0)


def _number_mutations(f: SchemaField) -> list[tuple[str, Any]]:
    integer = f.kind == "integer"
    v = _base_number(f)
    out = []
    for op, b in sorted(f.bounds.items()):
        lower = op in ("gt", "ge")
        if integer:
            b = int(math.ceil(b) if lower else math.floor(b))
            past, inside = (b - 1, b + 1) if lower else (b + 1, b - 1)
        else:
            past = math.nextafter(b, -math.inf if lower else math.inf)
            inside = math.nextafter(b, math.inf if lower else -math.inf)
        out += [(f"{op}{b:g}_at", b), (f"{op}{b:g}_past", past), (f"{op}{b:g}_inside", inside)]
    if integer:
        v = int(v)
        out += [("x1e30", v * 10**30 or 10**30), ("max_int64", 2**63 - 1), ("zero", 0),
                ("negative", -abs(v) or -1), ("type_float", v + 0.5)]
    else:
        out += [("x1e30", v * 1e30 or 1e30), ("x1e-30", v * 1e-30 or 1e-30), ("zero", 0.0),
                ("negative", -abs(v) or -1.0), ("nan", math.nan), ("inf", math.inf),
                ("-inf", -math.inf)]
    return out + [("type_string", str(v)), ("type_list", [v])]


def _shift_utc(text: str, years: int = 0, days: int = 0) -> str:
    import datetime as dt

    t = dt.datetime.fromisoformat(text.replace("Z", "").replace(":60", ":59"))
    try:
        t = t.replace(year=t.year + years)
    except ValueError:                # 29 February
        t = t.replace(year=t.year + years, day=28)
    return (t + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_mutations(f: SchemaField) -> list[tuple[str, Any]]:
    v = f.value if isinstance(f.value, str) else "2020-12-16T17:33:00Z"
    out = [("utc_1500", "1500-01-01T00:00:00Z"), ("utc_2300", "2300-01-01T00:00:00Z"),
           ("utc_leap_valid", "2016-12-31T23:59:60Z"), ("utc_leap_invalid", "2017-06-30T23:59:60Z"),
           ("utc_no_z", v.rstrip("Z")), ("utc_offset", v.rstrip("Z") + "+08:00"),
           ("utc_fraction", v.rstrip("Z") + ".123456Z"), ("utc_month13", "2020-13-01T00:00:00Z"),
           ("type_number", 2020.0)]
    try:
        out += [("utc_plus_30y", _shift_utc(v, years=30)), ("utc_minus_1d", _shift_utc(v, days=-1)),
                ("utc_plus_1d", _shift_utc(v, days=1))]
    except ValueError:
        pass
    return out


def _list_mutations(f: SchemaField, rng: np.random.Generator) -> list[tuple[str, Any]]:
    v = list(f.value or [])
    out = [("list_empty", []), ("type_string", "x"), ("type_table", {"a": 1.0})]
    if len(v) > 1:
        out += [("list_reversed", v[::-1]), ("list_duplicate", v + v[:1])]
    flat = [(i, None) for i, x in enumerate(v) if isinstance(x, (int, float))] + \
           [(i, j) for i, x in enumerate(v) if isinstance(x, list)
            for j, y in enumerate(x) if isinstance(y, (int, float))]
    if flat:
        i, j = flat[int(rng.integers(len(flat)))]
        for tag, bad in (("nan", math.nan), ("x1e30", 1e30), ("negative", -1.0)):
            w = copy.deepcopy(v)
            if j is None:
                w[i] = bad
            else:
                w[i][j] = bad
            out.append((f"item{i}{'' if j is None else f'_{j}'}_{tag}", w))
    return out


def mutations(f: SchemaField, rng: np.random.Generator) -> list[tuple[str, Any]]:
    """(name, new value or DELETE) mutations of one schema field."""
    out: list[tuple[str, Any]] = [("delete", DELETE)] if f.present else []
    if f.kind == "table":
        return out + [("type_list", [1.0]), ("type_string", "x"), ("unknown_key", UNKNOWN_KEY)]
    if f.kind in ("number", "integer"):
        return out + _number_mutations(f)
    if f.kind == "utc":
        return out + _utc_mutations(f)
    if f.kind == "list":
        return out + _list_mutations(f, rng)
    if f.kind == "bool":
        return out + [("type_string", "true"), ("type_integer", 1)]
    if f.kind == "literal":
        others = [c for c in f.choices if c != f.value]
        pick = [("literal_other", others[int(rng.integers(len(others)))])] if others else []
        return out + pick + [("literal_bogus", "NOT_A_CHOICE"), ("type_number", 1.0)]
    return out + [("type_number", 42.0), ("type_list", ["x"]), ("empty", ""),
                  ("markup", "[/x][bold]y"), ("long_100kB", "x" * 100_000)]


def apply(data: dict, path: tuple, value) -> dict:
    """A deep copy of ``data`` with ``path`` set to ``value`` (DELETE removes it; tables on the
    way that are absent are created)."""
    out = copy.deepcopy(data)
    node = out
    for p in path[:-1]:
        if isinstance(node, dict) and p not in node:
            node[p] = {}
        node = node[p]
    last = path[-1]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return out


def all_mutations(data: dict, rng: np.random.Generator) -> list[tuple[tuple, str, Any]]:
    """Every (path, mutation name, value) of a scenario dict, in a fixed order for a seed."""
    out = []
    for f in schema_fields(data):
        for name, value in mutations(f, rng):
            if name == "unknown_key":
                out.append((f.path + (UNKNOWN_KEY,), name, 1.0))
            else:
                out.append((f.path, name if f.present else f"added_{name}", value))
    return out


def sample_cases(variant: str, data: dict, n: int | None, seed: int,
                 runnable: bool = True) -> list[Case]:
    """``n`` cases (all if None) drawn without replacement; deterministic for (variant, seed)."""
    rng = np.random.default_rng([seed, zlib.crc32(variant.encode())])
    pool = all_mutations(data, rng)
    picks = range(len(pool)) if n is None or n >= len(pool) else \
        sorted(rng.choice(len(pool), size=n, replace=False))
    return [Case(variant, pool[i][0], pool[i][1], apply(data, pool[i][0], pool[i][2]), runnable)
            for i in picks]
