"""Helpers shared by the tests: scenario paths, dict mutations, the Chang'e-5 return problem.

Tests import from here instead of from each other.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

from guanghan.gnc.return_plan import ReturnProblem
from guanghan.mission.scenario import load_scenario

#: the packaged scenarios (``src/guanghan/scenarios``)
SCENARIOS = Path(str(files("guanghan").joinpath("scenarios")))
#: small files the tests read, with one line of provenance each in ``tests/data/PROVENANCE.md``
DATA = Path(__file__).resolve().parent / "data"


def scenario_path(name: str) -> Path:
    return SCENARIOS / f"{name}.toml"


def scenario_data(name: str) -> dict:
    return tomllib.loads(scenario_path(name).read_text(encoding="utf-8"))


def _walk(data, path: str):
    *head, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    for key in head:
        data = data[key]
    return data, last


def set_(path: str, value):
    """A mutation that sets ``data[path...] = value`` (dotted path, list indices as integers)."""
    def mutate(data):
        parent, last = _walk(data, path)
        parent[last] = value
    return mutate


def drop(path: str):
    """A mutation that deletes ``data[path...]``."""
    def mutate(data):
        parent, last = _walk(data, path)
        del parent[last]
    return mutate


def rename(path: str, new_key: str):
    """A mutation that renames the key at ``path`` to ``new_key``."""
    def mutate(data):
        parent, last = _walk(data, path)
        parent[new_key] = parent.pop(last)
    return mutate


def both(*mutations):
    """The mutations applied in order."""
    def mutate(data):
        for m in mutations:
            m(data)
    return mutate


_PLAN_FIELDS = {"tei1_utc": ("tei_1", "utc"), "tei2_utc": ("tei_2", "utc"),
                "mcc_utc": ("midcourse", "utc"), "entry_utc": ("entry_target", "utc"),
                "downrange_min_km": ("entry_target", "downrange_min_km")}


def ce5_return_problem(**changes) -> ReturnProblem:
    """The Chang'e-5 return of ``chang-e-5-return.toml`` (masses from its modules and the orbiter's
    ``start_propellant_kg``), with plan fields changed by their names in ``_PLAN_FIELDS``, and
    ``execution_errors``/``force_models`` records replaced whole."""
    sc = load_scenario(scenario_path("chang-e-5-return"))
    phase = sc.phases[0]
    update: dict = {}
    for key, value in changes.items():
        if key in ("execution_errors", "force_models"):
            update[key] = value
            continue
        record, field = _PLAN_FIELDS[key]
        base = update.get(record, getattr(phase, record))
        update[record] = base.model_copy(update={field: list(value) if field == "utc" and
                                                 isinstance(value, tuple) else value})
    plan = phase.model_copy(update=update)
    orbiter = sc.modules["orbiter"].dry_mass_kg + phase.start_propellant_kg["orbiter"]
    returner = sc.vehicle_mass_kg(phase.separation.returner_vehicle)
    site = sc.sites[phase.site]
    return ReturnProblem.resolve(plan, sc.vehicle_engines(phase.vehicle), orbiter, returner,
                                 site.lat_deg, site.lon_deg)


def with_plan(problem: ReturnProblem, **records) -> ReturnProblem:
    """``problem`` with plan records replaced (``execution_errors=...``, ``force_models=...``)."""
    from dataclasses import replace
    return replace(problem, plan=problem.plan.model_copy(update=records))


def minimal_dict() -> dict:
    """A small valid scenario written as a dict (numbers chosen by hand, not from any file)."""
    return {
        "mission": {"name": "test", "description": "", "epoch_utc": "2021-03-01T00:00:00Z"},
        "environment": {"lunar_gravity_model": "LP165P", "lunar_gravity_degree": 20,
                        "lunar_gravity_order": 10, "third_bodies": ["EARTH"],
                        "solar_radiation_pressure": False},
        "modules": {
            "bus": {"dry_mass_kg": 1000.0, "propellant_kg": 250.5,
                    "engines": {"main": {"thrust_n": 500.0, "isp_s": 300.0, "count": 1}}},
            "probe": {"dry_mass_kg": 75.25, "propellant_kg": 0.0,
                      "engines": {"rcs": {"thrust_n": 10.0, "isp_s": 220.0, "count": 8}}},
        },
        "vehicles": {"stack": {"srp_area_m2": 4.0, "srp_reflectivity": 1.5,
                               "modules": ["bus", "probe"]},
                     "probe_only": {"srp_area_m2": 1.0, "srp_reflectivity": 1.0,
                                    "modules": ["probe"]}},
        "sites": {"crater": {"body": "MOON", "lat_deg": -10.5, "lon_deg": 180.0,
                             "altitude_m": 120.0}},
        "timeline": {"launch_utc": "2021-02-25T06:00:00Z"},
        "phases": [
            {"type": "lunar_orbit_coast", "name": "first", "vehicle": "stack", "duration_h": 2.5,
             "site": "crater", "output_step_s": 30.0,
             "events": ["site_longitude", "periapsis"],
             "propagation": {"rtol": 1e-10, "atol_m": 1e-3, "max_step_s": 120.0},
             "initial_orbit": {"frame": "J2000", "periapsis_altitude_km": 100.0,
                               "apoapsis_altitude_km": 300.0, "inclination_deg": 90.0,
                               "raan_deg": 10.0, "arg_periapsis_deg": 20.0,
                               "true_anomaly_deg": 30.0}},
            {"type": "lunar_orbit_coast", "name": "second", "vehicle": "probe_only",
             "duration_h": 1.0, "events": ["shadow"]},
        ],
        "validation": [{"key": "first.mean_altitude_km", "published": 200.0, "tolerance": 5.0,
                        "source": "[TEST]", "note": ""}],
    }


def external_links(html: str) -> list[str]:
    """src/href attributes of a page that point off it (a report must open with no network)."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(v for k, v in attrs if k in ("src", "href") and v and "//" in v)

    Links().feed(html)
    return found


#: The chained Chang'e-5 entry interface: the state the trans-Earth leg of chang-e-5-return.toml
#: hands to the entry at 120 km (inertial speed, flight-path angle and azimuth), read from that
#: run; rebuilt from these rounded figures with entry_state_from_geodetic it is within 0.2 m and
#: 0.3 mm/s of it. 6,640 km from the landing zone of the packaged scenarios.
CHAINED_CE5_INTERFACE = dict(altitude_km=120.0, lat_deg=7.494120, lon_deg=55.905504,
                             speed_m_s=10982.199, fpa_deg=-5.81592, azimuth_deg=46.78498,
                             utc="2020-12-16T17:33:00Z")
