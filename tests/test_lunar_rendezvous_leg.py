"""The lunar-rendezvous leg (issue 11, items 4–5) in the full missions (session fixtures, flown
once): phasing from the ascent's insertion to the hand-over, the orbiter's autonomous approach and
capture, the samples moved to the returner, undocking and (Chang'e-5) the ascender's impact.

Published (validation/missions.md §1e, §2e): Chang'e-5 docking 2020-12-05 21:42 UTC, container
transferred 22:12, undocking 2020-12-06 04:35, ascender impact near 30° S, 0° E; Chang'e-6 docking
2024-06-06 06:48 UTC.
"""

from __future__ import annotations

import pytest

from guanghan.environment import time_scales

KEYS = ["rendezvous.burns", "rendezvous.delta_v_m_s", "rendezvous.docking_utc",
        "rendezvous.capture_speed_m_s", "rendezvous.capture_offset_m"]
DISPOSAL = ["disposal.impact_utc", "disposal.impact_lat_deg", "disposal.impact_lon_deg"]


def _leg(result):
    return next(p for p in result.phases if p.leg_type == "lunar_rendezvous")


@pytest.mark.parametrize("fixture, docking", [("ce5_run", "2020-12-05T21:42:00Z"),
                                              ("ce6_run", "2024-06-06T06:48:00Z")])
def test_the_orbiter_captures_the_ascender_within_six_hours_of_the_published_docking(request, fixture,
                                                                                       docking):
    scenario, result = request.getfixturevalue(fixture)
    assert result.completed, result.reason
    s = result.summary
    print(f"\n{scenario.mission.name}: {s['rendezvous.burns']} phasing burns "
          f"({s['rendezvous.phasing_delta_v_m_s']:.1f} m/s), hand-over {s['rendezvous.handover_utc']}, "
          f"close range {s['rendezvous.proximity_delta_v_m_s']:.1f} m/s, docking {s['rendezvous.docking_utc']} "
          f"at {s['rendezvous.capture_speed_m_s']:.3f} m/s, offset {s['rendezvous.capture_offset_m'] * 1e3:.1f} mm")
    for key in KEYS:
        assert s.get(key) is not None, key
    dt = time_scales.utc_to_et(s["rendezvous.docking_utc"]) - time_scales.utc_to_et(docking)
    assert abs(dt) < 6 * 3600.0
    phase = next(p for p in scenario.phases if p.type == "lunar_rendezvous")
    cap = phase.proximity.capture
    assert cap.closing_speed_min_m_s <= s["rendezvous.capture_speed_m_s"] <= cap.closing_speed_max_m_s
    assert s["rendezvous.capture_offset_m"] <= cap.lateral_offset_max_m
    assert s["rendezvous.capture_attitude_deg"] <= cap.relative_attitude_max_deg
    names = [e["event"] for e in result.events if e["phase"] == phase.name]
    for event in ("hand_over", "final_approach_start", "capture", "docking", "sample_transfer", "undocking"):
        assert event in names, event
    assert sum(n.startswith("phasing_") for n in names) == s["rendezvous.burns"]
    assert any(n.startswith("holding_point") for n in names)


@pytest.mark.parametrize("fixture", ["ce5_run", "ce6_run"])
def test_the_samples_move_to_the_returner_and_fly_home_in_it(request, fixture):
    scenario, result = request.getfixturevalue(fixture)
    s = result.summary
    leg = _leg(result)
    samples = s["surface.sample_mass_g"] / 1e3
    assert s["rendezvous.transferred_mass_kg"] == pytest.approx(samples, abs=1e-9)
    returner = scenario.modules["returner"].mass_kg
    assert leg.module_masses["returner"] == pytest.approx(returner + samples, abs=1e-9)
    assert leg.cargo_kg["returner"] == pytest.approx(samples, abs=1e-9)
    assert result.meta["module_masses_kg"]["returner"] == pytest.approx(returner + samples, abs=1e-9)


def test_chang_e_5_ascender_hits_the_moon_near_30_south_0_east(ce5_run):
    _, result = ce5_run
    s = result.summary
    for key in DISPOSAL:
        assert s.get(key) is not None, key
    print(f"\nChang'e-5 ascender: deorbit {s['disposal.deorbit_utc']}, impact {s['disposal.impact_utc']} at "
          f"{s['disposal.impact_lat_deg']:.2f}°, {s['disposal.impact_lon_deg']:.2f}° "
          f"({s['disposal.impact_speed_m_s']:.0f} m/s)")
    assert s["disposal.impact_lat_deg"] == pytest.approx(-30.0, abs=5.0)
    assert s["disposal.impact_lon_deg"] == pytest.approx(0.0, abs=5.0)
    names = {e["event"] for e in result.events if e["phase"] == "rendezvous"}
    assert {"deorbit_burn", "impact"} <= names
