"""A mission's design, kept apart from its flight: plan once, fly many.

What the ground designs before a leg flies — the parking orbit and the TEI burns of the return, the
rendezvous phasing burns and the ascender's deorbit epoch, the ascent's launch windows and its
ground-loop study — is returned by each leg as ``PhaseResult.design`` (JSON-ready data) and
collected in a :class:`MissionDesign`. Every run writes it to ``design.json``; a later run given it
(``guanghan run … --design-from DIR``, or a campaign, which designs its nominal mission once) hands
each leg its stored design in ``LegContext.design``, and the leg flies it without redesigning:
closed-loop guidance, execution errors and the re-targeting that flight guidance does from the
flown state still run.

Each phase's design records the inputs it was made from (the phase's configuration, the modules
and the environment); a run whose inputs differ flies the stored design anyway (that is what a
Monte Carlo sample of a fixed design is) and logs the differing fields in a ``design_reused``
event. A design for another mission (phase names or leg types that do not match) is refused.

:func:`encode` and :func:`decode` turn the legs' dataclasses (burns, states, plans) into JSON-ready
values and back, guided by the dataclasses' type hints; floats round-trip exactly (``repr``).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path

import numpy as np

from guanghan.errors import InputError
from guanghan.version import __version__

FILE_NAME = "design.json"
FORMAT = "guanghan-mission-design/1"


def encode(value):
    """JSON-ready form of ``value``: dataclasses as dicts of their fields, arrays and tuples as
    lists, numpy scalars as Python numbers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def _strip_optional(hint):
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def _decode_value(hint, value):
    if value is None:
        return None
    hint = _strip_optional(hint)
    origin = typing.get_origin(hint)
    if hint is np.ndarray:
        return np.asarray(value, dtype=float)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return decode(hint, value)
    if origin is tuple:
        return tuple(value)
    if origin is list:
        (item,) = typing.get_args(hint) or (typing.Any,)
        return [_decode_value(item, v) for v in value]
    return value


def decode(cls, data: dict):
    """The ``cls`` dataclass instance :func:`encode` made ``data`` from."""
    hints = typing.get_type_hints(cls)
    kwargs = {f.name: _decode_value(hints.get(f.name, typing.Any), data[f.name])
              for f in dataclasses.fields(cls) if f.init and f.name in data}
    return cls(**kwargs)


def design_inputs(scenario, index: int) -> dict:
    """What phase ``index``'s design depends on in ``scenario``: its configuration, the modules'
    configuration and the environment (JSON-ready)."""
    phase = scenario.phases[index]
    return {"phase": phase.model_dump(mode="json"),
            "modules": {k: m.model_dump(mode="json") for k, m in scenario.modules.items()},
            "environment": scenario.environment.model_dump(mode="json")}


def differences(a, b, path: str = "", limit: int = 20) -> list[str]:
    """Dotted paths (at most ``limit``) where the JSON-ready values ``a`` and ``b`` differ."""
    out: list[str] = []

    def walk(x, y, where):
        if len(out) >= limit:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                walk(x.get(k), y.get(k), f"{where}.{k}" if where else k)
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (u, v) in enumerate(zip(x, y, strict=True)):
                walk(u, v, f"{where}[{i}]")
        elif x != y:
            out.append(where)

    walk(a, b, path)
    return out


@dataclasses.dataclass
class PhaseDesign:
    """One phase's stored design: its leg type, the inputs it was made from and the leg's data."""

    leg_type: str
    inputs: dict
    data: dict


@dataclasses.dataclass
class MissionDesign:
    """The designs of a mission's phases by phase name, and where they came from."""

    scenario_name: str
    phases: dict[str, PhaseDesign] = dataclasses.field(default_factory=dict)
    source: str | None = None           # the file it was read from, if any

    def to_json(self) -> str:
        doc = {"format": FORMAT, "guanghan_version": __version__, "scenario_name": self.scenario_name,
               "phases": {k: encode(p) for k, p in self.phases.items()}}
        return json.dumps(doc, indent=1) + "\n"

    def check_fits(self, scenario) -> None:
        """InputError (quantity ``design_from``) unless it is the design of ``scenario``'s mission
        (same mission name) and every stored phase is a phase of it with the same leg type."""
        if scenario.mission.name != self.scenario_name:
            raise InputError(f"it is the design of mission {self.scenario_name!r}, not of "
                             f"{scenario.mission.name!r}", quantity="design_from", value=self.source)
        types_now = {p.name: p.type for p in scenario.phases}
        for name, p in self.phases.items():
            if types_now.get(name) != p.leg_type:
                got = f"a {types_now[name]} phase" if name in types_now else "no such phase"
                raise InputError(f"the design of {self.scenario_name!r} has a {p.leg_type} phase "
                                 f"{name!r}; scenario {scenario.mission.name!r} has {got}: it is the "
                                 "design of another mission", quantity="design_from", value=self.source)


def read_design(path) -> MissionDesign:
    """The :class:`MissionDesign` in ``path`` (a run folder holding ``design.json``, or the file);
    InputError (quantity ``design_from``) when it is missing or not a Guanghan design."""
    p = Path(path)
    file = p / FILE_NAME if p.is_dir() else p
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{file} not found: give a run folder written by `guanghan run` (it holds "
                         f"{FILE_NAME}) or the file itself", quantity="design_from", value=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file} cannot be read: {exc}", quantity="design_from", value=str(path)) from None
    return parse_design(text, str(file))


def parse_design(text: str, source: str | None = None) -> MissionDesign:
    """The :class:`MissionDesign` of a ``design.json`` text; InputError when it is not one."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source} cannot be read as JSON: {exc}", quantity="design_from",
                         value=source) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("phases"), dict):
        raise InputError(f"{source} is not a Guanghan mission design (format {FORMAT!r})",
                         quantity="design_from", value=source)
    try:
        phases = {k: PhaseDesign(v["leg_type"], v["inputs"], v["data"]) for k, v in doc["phases"].items()}
    except (KeyError, TypeError):
        raise InputError(f"{source} has a malformed phase entry", quantity="design_from",
                         value=source) from None
    return MissionDesign(str(doc.get("scenario_name")), phases, source)
