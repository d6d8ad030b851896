"""Scenario model: the TOML file that describes a mission, read into validated pydantic objects.

A scenario holds everything mission-specific (masses, engines, sites, orbits, epochs, published
figures to check against); no mission constant lives in code. ``load_scenario(path)`` reads the TOML
with :mod:`tomllib`, validates it, and turns every problem into ONE
:class:`guanghan.errors.ScenarioError` naming the file, the dotted field path
(``phases[0].initial_orbit.periapsis_altitude_km``), the value given and the reason in plain words.

Phases are a discriminated union on ``type``. A new phase type is a subclass of :class:`PhaseBase`
with a ``type: Literal["..."]`` field, added to :data:`PHASE_TYPES` and the ``Phase`` union below.

Assumptions and limitations
    * Field names carry their unit suffix (``thrust_n``, ``duration_h``); values are at the edge
      units named there, converted to SI by the phases that use them.
    * Numbers are strict: a string where a number belongs is an error, not coerced. Integers are
      accepted for float fields.
    * UTC strings must be ISO-8601 with an explicit ``Z`` (``2020-11-29T12:40:00Z``); unquoted TOML
      datetimes with an offset are converted to that form. Leap second ``:60`` is passed to SPICE.
    * Orbit checks against the surface use the Moon's mean radius from ``pck00011.tpc``; every
      phase type defined so far is Moon-centred.
    * Phase starts that follow from a previous phase's end are only known at run time, so the
      ephemeris-span check covers explicit starts and the mission epoch.

References
    TOML v1.0.0 specification, https://toml.io/en/v1.0.0 (the subset :func:`dumps_toml` writes).
    Vallado, D. A., *Fundamentals of Astrodynamics and Applications*, 4th ed., §2.5 (elements).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import (AfterValidator, BaseModel, Field, PrivateAttr,
                      ValidationError, model_validator)

from guanghan.environment import spice_kernels
from guanghan.errors import ScenarioError
from guanghan.mission.scenario_entry import (AtmosphereDrivers, CapsuleAero, EarthEntryPhase,
                                             EntryGuidanceConfig, EntryInterface, Parachutes)
from guanghan.mission.scenario_errors import to_scenario_error
from guanghan.mission.scenario_orbits import InitialOrbit, InitialState
from guanghan.mission.scenario_return import RETURN_MODELS, TransEarthPhase
from guanghan.mission.scenario_fields import (CONFIG, NAME_PATTERN, UtcText, check_et_in_span, check_lon,
                                              fail)
from guanghan.mission.toml_writer import dumps_toml

_GRAVITY_MAX_DEGREE = {"GRGM1200A": 1200, "LP165P": 165}
EVENT_KINDS = ("site_longitude", "periapsis", "apoapsis", "earth_occultation", "shadow")


# --------------------------------------------------------------------------- hardware


class MissionInfo(BaseModel):
    """Name, description and the default start epoch of the first phase."""

    model_config = CONFIG
    name: str = Field(min_length=1)
    description: str = ""
    epoch_utc: UtcText


class Environment(BaseModel):
    """Force-model choices shared by all phases."""

    model_config = CONFIG
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
            fail(f"order must be <= degree ({self.lunar_gravity_degree})",
                 "lunar_gravity_order", self.lunar_gravity_order)
        if len(set(self.third_bodies)) != len(self.third_bodies):
            fail("a body is listed twice", "third_bodies", self.third_bodies)
        return self


class Engine(BaseModel):
    """A set of ``count`` identical engines or thrusters."""

    model_config = CONFIG
    thrust_n: float = Field(gt=0)
    isp_s: float = Field(gt=0)
    count: int = Field(default=1, ge=1)


class Module(BaseModel):
    """A separable spacecraft module (orbiter, lander, ...) with its propellant and engines."""

    model_config = CONFIG
    dry_mass_kg: float = Field(gt=0)
    propellant_kg: float = Field(ge=0)
    engines: dict[str, Engine] = {}

    @property
    def mass_kg(self) -> float:
        """Wet mass (kg)."""
        return self.dry_mass_kg + self.propellant_kg


class Vehicle(BaseModel):
    """A stack of modules flying together; its mass is the sum of theirs."""

    model_config = CONFIG
    srp_area_m2: float = Field(gt=0)
    srp_reflectivity: float = Field(ge=1, le=2)
    modules: list[str] = Field(min_length=1)


class Site(BaseModel):
    """A surface point: planetocentric (Moon) or geodetic (Earth) coordinates."""

    model_config = CONFIG
    body: Literal["MOON", "EARTH"]
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: Annotated[float, AfterValidator(check_lon)]
    altitude_m: float = 0.0


# --------------------------------------------------------------------------- initial conditions


class Propagation(BaseModel):
    """Integrator settings; the velocity tolerance is derived from ``atol_m`` by the engine."""

    model_config = CONFIG
    rtol: float = Field(default=1e-11, gt=0, lt=1)
    atol_m: float = Field(default=1e-4, gt=0)
    max_step_s: float = Field(default=600.0, gt=0)


# --------------------------------------------------------------------------- phases


class PhaseBase(BaseModel):
    """Fields every phase shares."""

    model_config = CONFIG
    name: str = Field(pattern=NAME_PATTERN)
    vehicle: str
    start_utc: UtcText | None = None
    duration_h: float = Field(gt=0)
    output_step_s: float = Field(default=60.0, gt=0)
    propagation: Propagation = Propagation()
    initial_orbit: InitialOrbit | None = None
    initial_state: InitialState | None = None

    @model_validator(mode="after")
    def _one_initial_condition(self) -> "PhaseBase":
        if self.initial_orbit is not None and self.initial_state is not None:
            fail("give either initial_orbit or initial_state, not both", "initial_state",
                 self.initial_state.model_dump())
        return self


class LunarOrbitCoastPhase(PhaseBase):
    """Unpowered flight about the Moon; logs passes over ``site`` and the listed events."""

    type: Literal["lunar_orbit_coast"]
    site: str | None = None
    events: list[Literal[EVENT_KINDS]] = list(EVENT_KINDS)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _check_events(self) -> "LunarOrbitCoastPhase":
        if len(set(self.events)) != len(self.events):
            fail("an event is listed twice", "events", self.events)
        if "site_longitude" in self.events and self.site is None:
            fail("the site_longitude event needs `site = ...`; give one or drop the event",
                 "site", None)
        return self


#: Phase classes by their ``type`` tag. Add a new phase type here and in ``Phase``.
PHASE_TYPES: dict[str, type[BaseModel]] = {"lunar_orbit_coast": LunarOrbitCoastPhase,
                                           "trans_earth": TransEarthPhase,
                                           "earth_entry": EarthEntryPhase}
#: Sub-models of phases (for the "wrong unit" hints of error messages).
PHASE_MODELS = (CapsuleAero, Parachutes, EntryInterface, EntryGuidanceConfig, AtmosphereDrivers,
                *RETURN_MODELS)
Phase = Annotated[Union[LunarOrbitCoastPhase, TransEarthPhase, EarthEntryPhase], Field(discriminator="type")]


class ValidationTarget(BaseModel):
    """A published figure to compare with the run summary key ``<phase>.<quantity>_<unit>``."""

    model_config = CONFIG
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
    published: float | UtcText          # a UTC epoch compares in seconds (tolerance in s)
    tolerance: float = Field(gt=0)
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


class Scenario(BaseModel):
    """A whole mission: hardware, sites, published timeline, phases and validation targets."""

    model_config = CONFIG
    mission: MissionInfo
    environment: Environment
    modules: dict[str, Module] = Field(min_length=1)
    vehicles: dict[str, Vehicle] = Field(min_length=1)
    sites: dict[str, Site] = {}
    timeline: dict[Annotated[str, AfterValidator(_timeline_key)], UtcText] = {}
    phases: list[Phase] = Field(min_length=1)
    validation: list[ValidationTarget] = []
    _source_path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_references(self) -> "Scenario":
        for vname, vehicle in self.vehicles.items():
            for i, mod in enumerate(vehicle.modules):
                _need(mod, self.modules, "module", f"vehicles.{vname}.modules[{i}]")
            if len(set(vehicle.modules)) != len(vehicle.modules):
                fail("a module is listed twice", f"vehicles.{vname}.modules", vehicle.modules)
        seen: set[str] = set()
        for i, phase in enumerate(self.phases):
            _check_phase_refs(self, i, phase)
            if phase.name in seen:
                fail("duplicate phase name; names are summary-key prefixes and must be unique",
                     f"phases[{i}].name", phase.name)
            seen.add(phase.name)
        first = self.phases[0]
        if isinstance(first, EarthEntryPhase):
            if first.entry_interface is None:
                fail("the first phase needs [phases.entry_interface]", "phases[0].entry_interface", None)
        elif isinstance(first, TransEarthPhase):
            if first.parking_orbit is None and first.initial_orbit is None:
                fail("the first phase needs [phases.parking_orbit] or [phases.initial_orbit]",
                     "phases[0].parking_orbit", None)
        elif first.initial_orbit is None and first.initial_state is None:
            fail("the first phase needs [phases.initial_orbit] or [phases.initial_state]",
                 "phases[0].initial_orbit", None)
        groups = seen | {g for p in self.phases for g in getattr(p, "summary_groups", ())}
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
    def epoch_et(self) -> float:
        """Mission epoch (s past J2000 TDB)."""
        return spice_kernels.utc_to_et(self.mission.epoch_utc)

    def vehicle_mass_kg(self, name: str) -> float:
        """Wet mass (kg) of vehicle ``name``: the sum of its modules' dry mass and propellant."""
        return sum(self.modules[m].mass_kg for m in self.vehicles[name].modules)

    def vehicle_engines(self, name: str) -> dict[str, Engine]:
        """Engines of vehicle ``name``, keyed ``<module>.<engine>``."""
        return {f"{m}.{e}": eng for m in self.vehicles[name].modules
                for e, eng in self.modules[m].engines.items()}

    def phase_index(self, name: str) -> int:
        """Position of the phase called ``name``."""
        for i, phase in enumerate(self.phases):
            if phase.name == name:
                return i
        raise KeyError(f"no phase {name!r}; phases: {[p.name for p in self.phases]}")

    def phase_start_et(self, i: int, previous_end_et: float | None = None) -> float:
        """Start (s past J2000 TDB) of phase ``i``: its start_utc, else the mission epoch for the
        first phase, else ``previous_end_et`` (the end of phase ``i - 1``)."""
        phase = self.phases[i]
        if phase.start_utc is not None:
            return spice_kernels.utc_to_et(phase.start_utc)
        if i == 0:
            return self.epoch_et
        if previous_end_et is None:
            raise ValueError(f"phase {phase.name!r} starts when phase {i - 1} ends; pass its end")
        return float(previous_end_et)

    def to_toml(self) -> str:
        """This scenario as TOML text that :func:`load_scenario` reads back to an equal model."""
        return dumps_toml(self.model_dump(mode="python", exclude_none=True))


def _need(name: str, defined: dict, what: str, field: str) -> None:
    if name not in defined:
        fail(f"no {what} named {name!r}; defined: {sorted(defined)}", field, name)


def _check_phase_refs(scenario: Scenario, i: int, phase: PhaseBase) -> None:
    _need(phase.vehicle, scenario.vehicles, "vehicle", f"phases[{i}].vehicle")
    site = getattr(phase, "site", None)
    body = getattr(phase, "site_body", "MOON")
    if site is not None:
        _need(site, scenario.sites, "site", f"phases[{i}].site")
        if scenario.sites[site].body != body:
            fail(f"site {site!r} is on {scenario.sites[site].body}; a {phase.type} phase "
                 f"needs a site on the {body.capitalize()}", f"phases[{i}].site", site)
    if isinstance(phase, TransEarthPhase):
        _check_return_refs(scenario, i, phase)
    start_utc = phase.start_utc or (scenario.mission.epoch_utc if i == 0 else None)
    if start_utc is not None and hasattr(phase, "duration_h"):
        end_et = spice_kernels.utc_to_et(start_utc) + phase.duration_h * 3600.0
        check_et_in_span(end_et, f"phases[{i}].duration_h", phase.duration_h)


def _check_return_refs(scenario: Scenario, i: int, phase: TransEarthPhase) -> None:
    engines = scenario.vehicle_engines(phase.vehicle)
    for field, name in phase.engine_names().items():
        if name not in engines:
            fail(f"vehicle {phase.vehicle!r} has no engine {name!r}; it has {sorted(engines)}",
                 f"phases[{i}].{field}", name)
    returner = phase.separation.returner_vehicle
    _need(returner, scenario.vehicles, "vehicle", f"phases[{i}].separation.returner_vehicle")
    mass = phase.start_mass_kg or scenario.vehicle_mass_kg(phase.vehicle)
    if mass <= scenario.vehicle_mass_kg(returner):
        fail(f"the stack ({mass} kg) must be heavier than the returner "
             f"({scenario.vehicle_mass_kg(returner)} kg) it carries", f"phases[{i}].start_mass_kg", mass)


# --------------------------------------------------------------------------- loading


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
    return scenario


def validate_scenario(data: dict, file: str | None = None) -> Scenario:
    """Validate an already-parsed scenario dict; every problem raises one ScenarioError."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise to_scenario_error(exc, file) from None


def _toml_error(exc: tomllib.TOMLDecodeError, text: str, file: str) -> ScenarioError:
    match = re.search(r"line (\d+), column (\d+)", str(exc))
    if match is None:
        return ScenarioError(f"TOML syntax error: {exc}", file=file)
    line = int(match.group(1))
    lines = text.splitlines()
    shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return ScenarioError(f"TOML syntax error at line {line}: {exc}; the line reads `{shown}`",
                         file=file, field=None, value=line)
