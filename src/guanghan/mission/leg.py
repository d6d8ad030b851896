"""The leg interface: what every leg of a mission is, how it is registered, what it is given and
what it returns.

A leg is a folder ``mission/legs/<leg>/`` with its configuration record (a subclass of
:class:`PhaseConfig` with a ``type: Literal["<leg>"]`` tag) and a function
``fly(config, context) -> PhaseResult`` that only adapts the configuration to calls into ``gnc`` and
``dynamics`` and packs the result. One line registers it::

    LEG = register("earth_entry", EarthEntryConfig, fly)

The scenario's phase union, the runner, the error hints and the report's figures are all built from
:data:`LEGS`, so adding a leg touches no core file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa
from pydantic import Field

from guanghan.config_model import NAME_PATTERN, ConfigModel, fail
from guanghan.dynamics.propulsion import Engine
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment.config_fields import UtcText
from guanghan.errors import InputError, ScenarioError
from guanghan.mission.event_log import EventLog


class LegLimits(ConfigModel):
    """Work a leg may do before it is ended as a mission failure (:mod:`guanghan.run_limits`)."""

    max_wall_s: float = Field(default=1800.0, ge=1.0, le=86_400.0, description=(
        "a leg's wall-time budget: 1 s to 1 day (default 30 min, ~20x the slowest packaged leg)"))
    max_steps: int = Field(default=20_000_000, ge=100, le=1_000_000_000, description=(
        "a leg's budget of integration steps: 100 to 1e9 (default 2e7)"))


class PhaseConfig(ConfigModel):
    """What every phase of a scenario has: its leg type, a unique name (the prefix of its summary
    keys), the vehicle that flies it, an optional start epoch, and, for a leg whose predecessors are
    not simulated, the propellant (kg) each module has left when it starts."""

    type: str
    name: str = Field(pattern=NAME_PATTERN)
    vehicle: str
    start_utc: UtcText | None = None
    start_propellant_kg: dict[str, float] | None = None
    limits: LegLimits = LegLimits()

    #: summary-key groups the leg writes besides its own name (e.g. ``entry``, ``earth_landing``)
    summary_groups: ClassVar[tuple[str, ...]] = ()
    #: the body its ``site`` (if it has one) must be on
    site_body: ClassVar[str] = "MOON"

    def check_references(self, scenario, where: str) -> None:
        """Fail (validator error, field relative to the scenario) if a name this phase uses is not
        defined in ``scenario``; legs extend it for their own references."""
        need(self.vehicle, scenario.vehicles, "vehicle", f"{where}.vehicle")
        site = getattr(self, "site", None)
        if site is not None:
            need(site, scenario.sites, "site", f"{where}.site")
            if scenario.sites[site].body != self.site_body:
                fail(f"site {site!r} is on {scenario.sites[site].body} (sites.{site}.body); a {self.type} "
                     f"phase needs a site on the {self.site_body.capitalize()}", f"{where}.site", site)
        modules = scenario.vehicles[self.vehicle].modules
        for module, kg in (self.start_propellant_kg or {}).items():
            if module not in modules:
                fail(f"module {module!r} is not part of vehicle {self.vehicle!r} ({modules})",
                     f"{where}.start_propellant_kg", module)
            if not 0.0 <= kg <= scenario.modules[module].propellant_kg:
                fail(f"must be within [0, {scenario.modules[module].propellant_kg}] kg, the module's "
                     "propellant load", f"{where}.start_propellant_kg.{module}", kg)

    def check_standalone(self, where: str) -> None:
        """Fail if this phase cannot start without a previous leg (it is the first phase)."""

    def check_after(self, previous_end: tuple[float, str, object], where: str) -> None:
        """Fail if this phase's own epochs come before the end of the previous phase, known before
        flying as (ET s, its field, its value) when that phase has a fixed duration."""

    def ends_after_et(self) -> float | None:
        """An epoch (ET s) this phase surely ends after, when its end is only known in flight (the
        next phase's start is then checked from it); None if unknown."""
        return None

    def data_needs(self, scenario, index: int) -> list[tuple[str, float, float, str, object, str]]:
        """Data this phase needs before it runs: (source, ET from, ET to, field relative to the
        phase, value, hint) for :func:`guanghan.environment.data_spans.require`. Planetary
        ephemeris and lunar orientation are checked on every UTC field already."""
        return []


def need(name: str, defined: dict, what: str, field: str) -> None:
    """Fail (validator error) naming ``field`` if ``name`` is not a key of ``defined``."""
    if name not in defined:
        fail(f"no {what} named {name!r} in the scenario's {what}s; defined: {sorted(defined)}", field, name)


@dataclass
class PhaseResult:
    """What every leg returns: final state and module masses, events, summary figures
    (``"<phase>.<quantity>_<unit>"``), the sampled trajectory, time series of the leg's own
    quantities (one Arrow table per name), and why the mission cannot go on (``aborted``)."""

    name: str
    final_state: SpacecraftState
    events: EventLog
    summary: dict
    trajectory: pa.Table
    meta: dict = field(default_factory=dict)
    series: dict[str, pa.Table] = field(default_factory=dict)
    aborted: str | None = None
    module_masses: dict[str, float] = field(default_factory=dict)
    leg_type: str = ""
    #: final states of the other vehicles the leg flew or left in flight (vehicle name → state),
    #: e.g. the orbiter left in orbit at a lander's separation; later legs pick them up
    vehicle_states: dict[str, SpacecraftState] = field(default_factory=dict)
    #: cargo (kg) each module carries after the leg, by module (the samples), included in its mass
    cargo_kg: dict[str, float] = field(default_factory=dict)
    #: what the leg designed before flying (JSON-ready, see :mod:`guanghan.mission.mission_design`),
    #: or None for a leg that designs nothing
    design: dict | None = None


@dataclass
class LegContext:
    """What a leg is given: the scenario, its position, the previous leg's final state, the modules'
    current masses (kg), the last known states of the other vehicles in flight, and the
    translation of lower-layer errors to scenario fields; with ``design``, the leg flies that stored
    design instead of designing (:mod:`guanghan.mission.mission_design`)."""

    scenario: Any
    index: int
    previous: SpacecraftState | None
    masses: dict[str, float]
    #: last known states of vehicles other than the one flying (see PhaseResult.vehicle_states)
    vehicles: dict[str, SpacecraftState] = field(default_factory=dict)
    #: cargo (kg) carried by module (the samples), already included in ``masses``
    cargo_kg: dict[str, float] = field(default_factory=dict)
    #: the stored design to fly (``PhaseResult.design`` of an earlier run), or None: design it
    design: dict | None = None
    #: True for a campaign sample, which keeps only the figures: a leg may then skip what only
    #: files and reports use (its trajectory table and series), its figures unchanged
    summary_only: bool = False

    @property
    def where(self) -> str:
        """The phase's field path in the scenario (``phases[2]``)."""
        return f"phases[{self.index}]"

    @property
    def file(self) -> str | None:
        path = self.scenario.source_path
        return str(path) if path else None

    def error(self, reason: str, field: str | None = None, value: Any = None) -> ScenarioError:
        """A ScenarioError for ``field`` (relative to the phase)."""
        full = f"{self.where}.{field}" if field else self.where
        return ScenarioError(reason, file=self.file, field=full, value=value)

    def scenario_error(self, exc: InputError, prefix: str = "") -> ScenarioError:
        """The ScenarioError of a lower layer's InputError, its quantity taken relative to the
        record at ``prefix`` of the phase (``parking_orbit``), or to the phase itself."""
        quantity = ".".join(p for p in (prefix, exc.quantity) if p)
        return self.error(exc.reason, quantity or None, exc.value)

    def vehicle_mass_kg(self, vehicle: str) -> float:
        """Current mass (kg) of ``vehicle``: the sum of its modules' current masses."""
        return sum(self.masses[m] for m in self.scenario.vehicles[vehicle].modules)

    def engines(self, vehicle: str) -> dict[str, Engine]:
        """Engines of ``vehicle``, keyed ``<module>.<engine>``."""
        return self.scenario.vehicle_engines(vehicle)


FlyFunction = Callable[[PhaseConfig, LegContext], PhaseResult]


@dataclass(frozen=True)
class Leg:
    """A registered leg: its type tag, configuration record and ``fly`` function."""

    type: str
    config: type[PhaseConfig]
    fly: FlyFunction


#: Registered legs by type tag, in registration order.
LEGS: dict[str, Leg] = {}


def register(leg_type: str, config: type[PhaseConfig], fly: FlyFunction) -> Leg:
    """Register a leg (replacing one of the same type); returns it."""
    tag = config.model_fields["type"].annotation
    if getattr(tag, "__args__", None) != (leg_type,):
        raise TypeError(f"{config.__name__}.type must be Literal[{leg_type!r}]")
    LEGS[leg_type] = Leg(leg_type, config, fly)
    return LEGS[leg_type]
