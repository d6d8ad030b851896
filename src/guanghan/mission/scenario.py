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

import datetime as _dt
import functools
import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr,
                      ValidationError, model_validator)
from pydantic_core import PydanticCustomError

from guanghan.environment import spice_kernels
from guanghan.errors import ScenarioError
from guanghan.mission.scenario_errors import to_scenario_error
from guanghan.mission.toml_writer import dumps_toml

_CONFIG = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
_GRAVITY_MAX_DEGREE = {"GRGM1200A": 1200, "LP165P": 165}
EVENT_KINDS = ("site_longitude", "periapsis", "apoapsis", "earth_occultation", "shadow")
_NAME = r"^[a-z][a-z0-9_]*$"
_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$")


_UNSET = object()


def _fail(reason: str, field: str | None = None, value: Any = _UNSET):
    """Raise a pydantic error that :func:`_to_scenario_error` turns into a ScenarioError.

    ``field`` is relative to the model being validated; without ``value`` the input is reported.
    """
    ctx: dict[str, Any] = {"reason": reason, "field": field}
    if value is not _UNSET:
        ctx["value"] = value
    raise PydanticCustomError("scenario", "{reason}", ctx)


# --------------------------------------------------------------------------- time


@functools.lru_cache(maxsize=1)
def _coverage_et() -> tuple[float, float, str]:
    """Common span (ET) of the planetary ephemeris and the lunar orientation kernel."""
    eph, ori = spice_kernels.ephemeris_coverage(), spice_kernels.lunar_orientation_coverage()
    start, end = max(eph.start_et, ori.start_et), min(eph.end_et, ori.end_et)
    span = f"{spice_kernels.et_to_utc(start, 0)} to {spice_kernels.et_to_utc(end, 0)}"
    return start, end, f"{eph.name} and {ori.name} cover {span}"


def _check_et_in_span(et: float, field: str | None = None, value: Any = _UNSET) -> None:
    start, end, text = _coverage_et()
    if not start <= et <= end:
        _fail(f"epoch outside the ephemeris span: {text}", field, value)


def _datetime_to_utc_text(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            _fail("a date-time needs an explicit UTC offset; write it as \"YYYY-MM-DDTHH:MM:SSZ\"")
        utc = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return utc.isoformat() + "Z"
    return value


def _utc_text_to_et(text: str) -> float:
    """ET (s past J2000 TDB) of a scenario UTC string; raises the pydantic error `_fail` makes."""
    if not _UTC_RE.match(text):
        _fail("malformed UTC: write ISO-8601 with a Z, e.g. \"2020-11-29T12:40:00Z\"")
    try:
        _dt.datetime.fromisoformat(text[:-1].replace(":60", ":59"))
    except ValueError as exc:
        _fail(f"malformed UTC: {exc}")
    try:
        return spice_kernels.utc_to_et(text)
    except ValueError as exc:
        _fail(f"malformed UTC: {exc}")


def _check_utc(text: str) -> str:
    _check_et_in_span(_utc_text_to_et(text))
    return text


UtcText = Annotated[str, BeforeValidator(_datetime_to_utc_text), AfterValidator(_check_utc)]


# --------------------------------------------------------------------------- hardware


class MissionInfo(BaseModel):
    """Name, description and the default start epoch of the first phase."""

    model_config = _CONFIG
    name: str = Field(min_length=1)
    description: str = ""
    epoch_utc: UtcText


class Environment(BaseModel):
    """Force-model choices shared by all phases."""

    model_config = _CONFIG
    lunar_gravity_model: Literal["GRGM1200A", "LP165P"] = "GRGM1200A"
    lunar_gravity_degree: int = Field(ge=2)
    lunar_gravity_order: int | None = Field(default=None, ge=0)
    third_bodies: list[Literal["EARTH", "SUN"]] = ["EARTH", "SUN"]
    solar_radiation_pressure: bool = True

    @model_validator(mode="after")
    def _check_field_size(self) -> "Environment":
        top = _GRAVITY_MAX_DEGREE[self.lunar_gravity_model]
        if self.lunar_gravity_degree > top:
            _fail(f"{self.lunar_gravity_model} goes up to degree {top}; use at most {top}",
                  "lunar_gravity_degree", self.lunar_gravity_degree)
        if self.lunar_gravity_order is None:
            self.lunar_gravity_order = self.lunar_gravity_degree
        elif self.lunar_gravity_order > self.lunar_gravity_degree:
            _fail(f"order must be <= degree ({self.lunar_gravity_degree})",
                  "lunar_gravity_order", self.lunar_gravity_order)
        if len(set(self.third_bodies)) != len(self.third_bodies):
            _fail("a body is listed twice", "third_bodies", self.third_bodies)
        return self


class Engine(BaseModel):
    """A set of ``count`` identical engines or thrusters."""

    model_config = _CONFIG
    thrust_n: float = Field(gt=0)
    isp_s: float = Field(gt=0)
    count: int = Field(default=1, ge=1)


class Module(BaseModel):
    """A separable spacecraft module (orbiter, lander, ...) with its propellant and engines."""

    model_config = _CONFIG
    dry_mass_kg: float = Field(gt=0)
    propellant_kg: float = Field(ge=0)
    engines: dict[str, Engine] = {}

    @property
    def mass_kg(self) -> float:
        """Wet mass (kg)."""
        return self.dry_mass_kg + self.propellant_kg


class Vehicle(BaseModel):
    """A stack of modules flying together; its mass is the sum of theirs."""

    model_config = _CONFIG
    srp_area_m2: float = Field(gt=0)
    srp_reflectivity: float = Field(ge=1, le=2)
    modules: list[str] = Field(min_length=1)


def _check_lon(lon_deg: float) -> float:
    if not -180.0 < lon_deg <= 180.0:
        wrapped = round((lon_deg + 180.0) % 360.0 - 180.0, 10)
        wrapped = 180.0 if wrapped == -180.0 else wrapped
        _fail(f"longitude must be east-positive in (-180, 180] deg; write {wrapped}")
    return lon_deg


class Site(BaseModel):
    """A surface point: planetocentric (Moon) or geodetic (Earth) coordinates."""

    model_config = _CONFIG
    body: Literal["MOON", "EARTH"]
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: Annotated[float, AfterValidator(_check_lon)]
    altitude_m: float = 0.0


# --------------------------------------------------------------------------- initial conditions


Frame = Literal["J2000", "MOON_ME", "MOON_PA"]


@functools.lru_cache(maxsize=1)
def _moon_mean_radius_km() -> float:
    return float(sum(spice_kernels.radii("MOON")) / 3.0 / 1e3)


class InitialOrbit(BaseModel):
    """Osculating Keplerian elements about the Moon, in J2000 or body-fixed axes frozen at start."""

    model_config = _CONFIG
    frame: Frame
    periapsis_altitude_km: float
    apoapsis_altitude_km: float
    inclination_deg: float = Field(ge=0, le=180)
    raan_deg: float = 0.0
    arg_periapsis_deg: float = 0.0
    true_anomaly_deg: float = 0.0

    @model_validator(mode="after")
    def _check_shape(self) -> "InitialOrbit":
        if self.periapsis_altitude_km <= 0:
            _fail("periapsis at or below the lunar surface: the altitude must be > 0 km",
                  "periapsis_altitude_km", self.periapsis_altitude_km)
        if self.apoapsis_altitude_km < self.periapsis_altitude_km:
            _fail(f"apoapsis below periapsis ({self.periapsis_altitude_km} km); swap them?",
                  "apoapsis_altitude_km", self.apoapsis_altitude_km)
        return self


Vector3 = Annotated[list[float], Field(min_length=3, max_length=3)]


class InitialState(BaseModel):
    """Cartesian Moon-centred state; in a body-fixed frame the velocity is relative to that frame."""

    model_config = _CONFIG
    frame: Frame
    position_km: Vector3
    velocity_km_s: Vector3

    @model_validator(mode="after")
    def _check_above_surface(self) -> "InitialState":
        r_km, radius_km = math.hypot(*self.position_km), _moon_mean_radius_km()
        if r_km <= radius_km:
            _fail(f"|position| = {r_km:.3f} km is inside the Moon (mean radius {radius_km} km)",
                  "position_km", self.position_km)
        return self


class Propagation(BaseModel):
    """Integrator settings; the velocity tolerance is derived from ``atol_m`` by the engine."""

    model_config = _CONFIG
    rtol: float = Field(default=1e-11, gt=0, lt=1)
    atol_m: float = Field(default=1e-4, gt=0)
    max_step_s: float = Field(default=600.0, gt=0)


# --------------------------------------------------------------------------- phases


class PhaseBase(BaseModel):
    """Fields every phase shares."""

    model_config = _CONFIG
    name: str = Field(pattern=_NAME)
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
            _fail("give either initial_orbit or initial_state, not both", "initial_state",
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
            _fail("an event is listed twice", "events", self.events)
        if "site_longitude" in self.events and self.site is None:
            _fail("the site_longitude event needs `site = ...`; give one or drop the event",
                  "site", None)
        return self


class CapsuleAero(BaseModel):
    """Return-capsule aerodynamics: reference area, trim L/D, nose radius, Cd against Mach."""

    model_config = _CONFIG
    reference_area_m2: float = Field(gt=0)
    lift_to_drag: float = Field(gt=0)
    nose_radius_m: float = Field(gt=0)
    cd_mach: list[Annotated[list[float], Field(min_length=2, max_length=2)]] = Field(min_length=1)
    max_bank_rate_deg_s: float = Field(default=20.0, gt=0)

    @model_validator(mode="after")
    def _check_table(self) -> "CapsuleAero":
        mach = [row[0] for row in self.cd_mach]
        if any(b <= a for a, b in zip(mach, mach[1:])) or any(row[1] <= 0 for row in self.cd_mach):
            _fail("needs [Mach, Cd] pairs with Mach increasing and Cd > 0", "cd_mach", self.cd_mach)
        return self


class Parachutes(BaseModel):
    """Drogue and main canopies (deployment altitudes geodetic, drag areas CdA) and the wind."""

    model_config = _CONFIG
    drogue_altitude_km: float = Field(gt=0)
    drogue_cd_area_m2: float = Field(gt=0)
    main_altitude_km: float = Field(gt=0)
    main_cd_area_m2: float = Field(gt=0)
    wind_east_m_s: float = 0.0
    wind_north_m_s: float = 0.0

    @model_validator(mode="after")
    def _check_order(self) -> "Parachutes":
        if self.main_altitude_km >= self.drogue_altitude_km:
            _fail(f"the main opens below the drogue ({self.drogue_altitude_km} km)",
                  "main_altitude_km", self.main_altitude_km)
        return self


class EntryInterface(BaseModel):
    """Entry-interface state from geodetic position, speed, flight-path angle and azimuth."""

    model_config = _CONFIG
    utc: UtcText
    altitude_km: float
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: Annotated[float, AfterValidator(_check_lon)]
    speed_m_s: float = Field(gt=0)
    fpa_deg: float = Field(gt=-90, lt=90)
    azimuth_deg: float = Field(ge=0, lt=360)
    inertial: bool = True               # speed/FPA/azimuth inertial (True) or Earth-relative

    @model_validator(mode="after")
    def _check_altitude(self) -> "EntryInterface":
        if self.altitude_km <= 0:
            _fail("the entry interface is at or below the Earth's surface: give an altitude > 0 km "
                  "(typically 120 km)", "altitude_km", self.altitude_km)
        _check_et_in_span(_utc_text_to_et(self.utc), "utc", self.utc)
        return self


class EntryGuidanceConfig(BaseModel):
    """Tunables of the predictor–corrector skip-entry guidance (see gnc.entry_guidance)."""

    model_config = _CONFIG
    period_s: float = Field(default=2.0, gt=0)
    sigma_final_deg: float = Field(default=70.0, gt=0, lt=180)
    sensible_atmosphere_km: float = Field(default=100.0, gt=0)
    corridor_km: float = Field(default=1.0, ge=0)
    corridor_km_per_km_s: float = Field(default=3.0, ge=0)
    max_reversals: int = Field(default=8, ge=0)


class AtmosphereDrivers(BaseModel):
    """NRLMSIS drivers; omitted values come from the space-weather table of the entry day."""

    model_config = _CONFIG
    f107_sfu: float | None = Field(default=None, gt=0)
    f107a_sfu: float | None = Field(default=None, gt=0)
    ap: float | None = Field(default=None, ge=0)


class EarthEntryPhase(BaseModel):
    """Guided (skip) entry of a capsule from the entry interface to touchdown at an Earth ``site``."""

    model_config = _CONFIG
    type: Literal["earth_entry"]
    name: str = Field(pattern=_NAME)
    vehicle: str
    site: str
    entry_interface: EntryInterface | None = None   # None: the previous phase's final state
    capsule: CapsuleAero
    parachutes: Parachutes
    guidance: EntryGuidanceConfig = EntryGuidanceConfig()
    atmosphere: AtmosphereDrivers = AtmosphereDrivers()
    max_g: float = Field(default=10.0, gt=0)
    step_s: float = Field(default=0.5, gt=0, le=5)
    start_utc: None = None                      # the entry starts at its interface epoch

    #: summary-key groups this phase writes besides its name (as the mission issue asks)
    summary_groups: ClassVar[tuple[str, ...]] = ("entry", "earth_landing")
    site_body: ClassVar[str] = "EARTH"

    @model_validator(mode="after")
    def _check_chutes(self) -> "EarthEntryPhase":
        if self.entry_interface is not None and \
                self.parachutes.drogue_altitude_km >= self.entry_interface.altitude_km:
            _fail(f"drogue deployment is above the entry interface ({self.entry_interface.altitude_km} km)",
                  "parachutes.drogue_altitude_km", self.parachutes.drogue_altitude_km)
        return self


#: Phase classes by their ``type`` tag. Add a new phase type here and in ``Phase``.
PHASE_TYPES: dict[str, type[BaseModel]] = {"lunar_orbit_coast": LunarOrbitCoastPhase,
                                           "earth_entry": EarthEntryPhase}
#: Sub-models of phases (for the "wrong unit" hints of error messages).
PHASE_MODELS = (CapsuleAero, Parachutes, EntryInterface, EntryGuidanceConfig, AtmosphereDrivers)
Phase = Annotated[Union[LunarOrbitCoastPhase, EarthEntryPhase], Field(discriminator="type")]


class ValidationTarget(BaseModel):
    """A published figure to compare with the run summary key ``<phase>.<quantity>_<unit>``."""

    model_config = _CONFIG
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
        _fail("timeline names are lower_snake_case and end in _utc, e.g. launch_utc")
    return key


# --------------------------------------------------------------------------- scenario


class Scenario(BaseModel):
    """A whole mission: hardware, sites, published timeline, phases and validation targets."""

    model_config = _CONFIG
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
                _fail("a module is listed twice", f"vehicles.{vname}.modules", vehicle.modules)
        seen: set[str] = set()
        for i, phase in enumerate(self.phases):
            _check_phase_refs(self, i, phase)
            if phase.name in seen:
                _fail("duplicate phase name; names are summary-key prefixes and must be unique",
                      f"phases[{i}].name", phase.name)
            seen.add(phase.name)
        first = self.phases[0]
        if isinstance(first, EarthEntryPhase):
            if first.entry_interface is None:
                _fail("the first phase needs [phases.entry_interface]", "phases[0].entry_interface", None)
        elif first.initial_orbit is None and first.initial_state is None:
            _fail("the first phase needs [phases.initial_orbit] or [phases.initial_state]",
                  "phases[0].initial_orbit", None)
        groups = seen | {g for p in self.phases for g in getattr(p, "summary_groups", ())}
        for i, row in enumerate(self.validation):
            if row.phase not in groups:
                _fail(f"no phase or summary group named {row.phase!r}; known: {sorted(groups)}",
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
        _fail(f"no {what} named {name!r}; defined: {sorted(defined)}", field, name)


def _check_phase_refs(scenario: Scenario, i: int, phase: PhaseBase) -> None:
    _need(phase.vehicle, scenario.vehicles, "vehicle", f"phases[{i}].vehicle")
    site = getattr(phase, "site", None)
    body = getattr(phase, "site_body", "MOON")
    if site is not None:
        _need(site, scenario.sites, "site", f"phases[{i}].site")
        if scenario.sites[site].body != body:
            _fail(f"site {site!r} is on {scenario.sites[site].body}; a {phase.type} phase "
                  f"needs a site on the {body.capitalize()}", f"phases[{i}].site", site)
    start_utc = phase.start_utc or (scenario.mission.epoch_utc if i == 0 else None)
    if start_utc is not None and hasattr(phase, "duration_h"):
        end_et = spice_kernels.utc_to_et(start_utc) + phase.duration_h * 3600.0
        _check_et_in_span(end_et, f"phases[{i}].duration_h", phase.duration_h)


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
