"""Scenario model: the TOML file that describes a mission, read into validated pydantic objects.

A scenario holds everything mission-specific (masses, engines, sites, orbits, epochs, published
figures to check against); no mission constant lives in code. ``load_scenario(path)`` reads the TOML
with :mod:`tomllib`, validates it, and turns every problem into ONE
:class:`guanghan.errors.ScenarioError` naming the file, the dotted field path
(``phases[0].initial_orbit.periapsis_altitude_km``), the value given and the reason in plain words.

Phases are a discriminated union on ``type`` built from the registered legs
(:data:`guanghan.mission.leg.LEGS`): :func:`scenario_model` makes the model for the legs registered
at the time of the call, so a leg registered later (even one defined in a test) is accepted with no
change here.

Assumptions and limitations
    * Field names carry their unit suffix (``thrust_n``, ``duration_h``); values are at the edge
      units named there, converted to SI by the phases that use them.
    * Numbers are strict: a string where a number belongs is an error, not coerced. Integers are
      accepted for float fields.
    * UTC strings must be ISO-8601 with an explicit ``Z`` (``2020-11-29T12:40:00Z``); unquoted TOML
      datetimes with an offset are converted to that form. Leap second ``:60`` is passed to SPICE.
    * Phase starts that follow from a previous phase's end are only known at run time, so the
      ephemeris-span check covers explicit starts and the mission epoch.

References
    TOML v1.0.0 specification, https://toml.io/en/v1.0.0 (the subset :func:`dumps_toml` writes).
    Vallado, D. A., *Fundamentals of Astrodynamics and Applications*, 4th ed., §2.5 (elements).
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, Field, PrivateAttr, ValidationError, create_model, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.dynamics.propulsion import Engine
from guanghan.environment import data_spans, spice_kernels
from guanghan.environment.config_fields import UtcText, check_et_in_span
from guanghan.environment.sites import Site
from guanghan.errors import ScenarioError
from guanghan.mission import legs as _builtin_legs  # noqa: F401  (registers the built-in legs)
from guanghan.mission.dispersions import Dispersions, check_paths
from guanghan.mission.leg import LEGS, PhaseConfig, need
from guanghan.mission.scenario_errors import to_scenario_error
from guanghan.mission.toml_writer import dumps_toml

_GRAVITY_MAX_DEGREE = {"GRGM1200A": 1200, "LP165P": 165}


# --------------------------------------------------------------------------- hardware


class MissionInfo(ConfigModel):
    """Name, description, the default start epoch of the first phase and, when published, the
    launch mass (kg) that the modules' wet masses should add up to."""

    name: str = Field(min_length=1)
    description: str = ""
    epoch_utc: UtcText
    launch_mass_kg: float | None = Field(default=None, gt=0, le=1e7, description="a launch mass: below 1e7 kg")


class Environment(ConfigModel):
    """Force-model choices shared by all phases."""

    lunar_gravity_model: Literal["GRGM1200A", "LP165P"] = "GRGM1200A"
    lunar_gravity_degree: int = Field(ge=2)
    lunar_gravity_order: int | None = Field(default=None, ge=0)
    third_bodies: list[Literal["EARTH", "SUN"]] = ["EARTH", "SUN"]
    solar_radiation_pressure: bool = True

    @model_validator(mode="after")
    def _check_field_size(self) -> "Environment":
        top = _GRAVITY_MAX_DEGREE[self.lunar_gravity_model]
        if self.lunar_gravity_degree > top:
            fail(f"{self.lunar_gravity_model} goes up to degree {top}; use at most {top}",
                 "lunar_gravity_degree", self.lunar_gravity_degree)
        if self.lunar_gravity_order is None:
            self.lunar_gravity_order = self.lunar_gravity_degree
        elif self.lunar_gravity_order > self.lunar_gravity_degree:
            fail(f"order must be <= degree (lunar_gravity_degree = {self.lunar_gravity_degree})",
                 "lunar_gravity_order", self.lunar_gravity_order)
        if len(set(self.third_bodies)) != len(self.third_bodies):
            fail("a body is listed twice", "third_bodies", self.third_bodies)
        return self


class Module(ConfigModel):
    """A separable spacecraft module (orbiter, lander, ...) with its propellant and engines."""

    dry_mass_kg: float = Field(ge=0.1, le=1e7, description=(
        "a spacecraft module: 0.1 kg to 1e7 kg (ten times the heaviest vehicle flown)"))
    propellant_kg: float = Field(ge=0, le=1e7, description="a propellant load below 1e7 kg")
    engines: dict[str, Engine] = {}

    @property
    def mass_kg(self) -> float:
        """Wet mass (kg)."""
        return self.dry_mass_kg + self.propellant_kg


class Vehicle(ConfigModel):
    """A stack of modules flying together; its mass is the sum of theirs."""

    srp_area_m2: float = Field(gt=0, le=1e4, description="a cross-section below 1e4 m² (100 m × 100 m)")
    srp_reflectivity: float = Field(ge=1, le=2)
    modules: list[str] = Field(min_length=1)


# --------------------------------------------------------------------------- phases


class ValidationTarget(ConfigModel):
    """A published figure to compare with the run summary key ``<phase>.<quantity>_<unit>``."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
    published: float | UtcText          # a UTC epoch compares in seconds (tolerance in s)
    tolerance: float = Field(gt=0, allow_inf_nan=False)
    source: str = Field(min_length=1)
    note: str = ""

    @property
    def phase(self) -> str:
        return self.key.split(".", 1)[0]


def _timeline_key(key: str) -> str:
    if not re.match(r"^[a-z][a-z0-9_]*_utc$", key):
        fail("timeline names are lower_snake_case and end in _utc, e.g. launch_utc")
    return key


# --------------------------------------------------------------------------- scenario


class Scenario(ConfigModel):
    """A whole mission: hardware, sites, published timeline, phases and validation targets.

    ``phases`` holds leg configurations; the concrete model for the registered legs is
    :func:`scenario_model`'s (``load_scenario`` and ``validate_scenario`` use it)."""

    mission: MissionInfo
    environment: Environment
    modules: dict[str, Module] = Field(min_length=1)
    vehicles: dict[str, Vehicle] = Field(min_length=1)
    sites: dict[str, Site] = {}
    timeline: dict[Annotated[str, AfterValidator(_timeline_key)], UtcText] = {}
    phases: list[PhaseConfig] = Field(min_length=1)
    validation: list[ValidationTarget] = []
    dispersions: Dispersions | None = None      # Monte Carlo campaigns (guanghan campaign)
    _source_path: Path | None = PrivateAttr(default=None)
    _source_text: str | None = PrivateAttr(default=None)
    _overrides: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_references(self) -> "Scenario":
        for vname, vehicle in self.vehicles.items():
            for i, mod in enumerate(vehicle.modules):
                need(mod, self.modules, "module", f"vehicles.{vname}.modules[{i}]")
            if len(set(vehicle.modules)) != len(vehicle.modules):
                fail("a module is listed twice", f"vehicles.{vname}.modules", vehicle.modules)
        seen: set[str] = set()
        previous_end, floor = None, None
        for i, phase in enumerate(self.phases):
            phase.check_references(self, f"phases[{i}]")
            if phase.name in seen:
                fail("duplicate phase name; names are summary-key prefixes and must be unique",
                     f"phases[{i}].name", phase.name)
            seen.add(phase.name)
            if i > 0 and previous_end is not None:
                phase.check_after(previous_end, f"phases[{i}]")
            start_utc = phase.start_utc or (self.mission.epoch_utc if i == 0 else None)
            start_et = spice_kernels.utc_to_et(start_utc) if start_utc is not None else floor
            previous_end = None
            if getattr(phase, "end_utc", None) is not None:
                previous_end = (spice_kernels.utc_to_et(phase.end_utc), f"phases[{i}].end_utc", phase.end_utc)
            elif start_et is not None and getattr(phase, "duration_h", None) is not None:
                end_et = start_et + phase.duration_h * 3600.0      # the earliest, after a floor
                check_et_in_span(end_et, f"phases[{i}].duration_h", phase.duration_h)
                previous_end = (end_et, f"phases[{i}].duration_h", phase.duration_h)
            floor = phase.ends_after_et()
        self.phases[0].check_standalone("phases[0]")
        for i, phase in enumerate(self.phases):
            for source, et0, et1, field, value, hint in phase.data_needs(self, i):
                try:
                    data_spans.require(source, et0, et1, hint)
                except data_spans.DataSpanError as exc:
                    fail(str(exc), f"phases[{i}].{field}", value)
        if self.dispersions is not None:
            check_paths(self.dispersions, self.nominal_data(full=True))
        groups = seen | {g for p in self.phases for g in p.summary_groups}
        for i, row in enumerate(self.validation):
            if row.phase not in groups:
                fail(f"no phase or summary group named {row.phase!r}; known: {sorted(groups)}",
                     f"validation[{i}].key", row.key)
        return self

    @property
    def source_path(self) -> Path | None:
        """The file this scenario was read from (None if built in code)."""
        return self._source_path

    @property
    def source_text(self) -> str | None:
        """The TOML text this scenario was read from (None if built in code)."""
        return self._source_text

    @property
    def overrides(self) -> dict:
        """Fields set over the file's values (dotted path → value; ``guanghan run --set``)."""
        return self._overrides

    @property
    def epoch_et(self) -> float:
        """Mission epoch (s past J2000 TDB)."""
        return spice_kernels.utc_to_et(self.mission.epoch_utc)

    def vehicle_mass_kg(self, name: str) -> float:
        """Wet mass (kg) of vehicle ``name``: the sum of its modules' dry mass and propellant."""
        return sum(self.modules[m].mass_kg for m in self.vehicles[name].modules)

    def vehicle_engines(self, name: str) -> dict[str, Engine]:
        """Engines of vehicle ``name``, keyed ``<module>.<engine>``, as seen along the vehicle's
        thrust axis (:meth:`~guanghan.dynamics.propulsion.Engine.axial`: a cant reduces thrust and
        Isp together)."""
        return {f"{m}.{e}": eng.axial() for m in self.vehicles[name].modules
                for e, eng in self.modules[m].engines.items()}

    def phase_index(self, name: str) -> int:
        """Position of the phase called ``name``."""
        for i, phase in enumerate(self.phases):
            if phase.name == name:
                return i
        raise KeyError(f"no phase {name!r}; phases: {[p.name for p in self.phases]}")

    def nominal_data(self, full: bool = False) -> dict:
        """This scenario as a dict without its ``dispersions``: as written (``full`` False: what
        validates again) or with every default filled in (``full``: nominal values to read)."""
        return self.model_dump(mode="python", exclude_none=True, exclude_unset=not full,
                               exclude={"dispersions"})

    def to_toml(self) -> str:
        """This scenario as TOML text that :func:`load_scenario` reads back to an equal model."""
        return dumps_toml(self.model_dump(mode="python", exclude_none=True, exclude_unset=True))


@functools.lru_cache(maxsize=8)
def _model_for(legs: tuple) -> type[Scenario]:
    configs = tuple(leg.config for leg in legs)
    phase = configs[0] if len(configs) == 1 else \
        Annotated[Union[configs], Field(discriminator="type")]  # noqa: UP007
    return create_model("Scenario", __base__=Scenario, __module__=__name__,
                        phases=(list[phase], Field(min_length=1)))


def scenario_model() -> type[Scenario]:
    """The scenario model whose phases are the legs registered now."""
    return _model_for(tuple(LEGS.values()))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a TOML scenario; every problem raises one ScenarioError."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("file not found", file=file, value=file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the file: {exc}", file=file, value=file) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, text, file) from None
    scenario = validate_scenario(data, file=file)
    scenario._source_path = Path(path)
    scenario._source_text = text
    return scenario


def validate_scenario(data: dict, file: str | None = None) -> Scenario:
    """Validate an already-parsed scenario dict; every problem raises one ScenarioError."""
    model = scenario_model()
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise to_scenario_error(exc, file, model) from None


def _toml_error(exc: tomllib.TOMLDecodeError, text: str, file: str) -> ScenarioError:
    match = re.search(r"line (\d+), column (\d+)", str(exc))
    if match is None:
        return ScenarioError(f"TOML syntax error: {exc}", file=file)
    line = int(match.group(1))
    lines = text.splitlines()
    shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return ScenarioError(f"TOML syntax error at line {line}: {exc}; the line reads `{shown}`",
                         file=file, field=None, value=line)
