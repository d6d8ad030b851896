"""Hazard avoidance flown, not only mapped: 50 seeded highland hover areas, the Chang'e-5 lander
from the hover to touchdown in closed loop (navigation filter, hazard lidar, divert, slow descent,
cut-off, free fall onto the true terrain under the landing-gear footprint).

Inputs from the packaged Chang'e-5 scenario (its lander, sensors, profile and hazard-detection
settings, its site and the DEM around it), with the hover-area terrain class switched to
"highland" (the issue's acceptance case: rougher than Chang'e-5's mare). Per seed: a synthetic
terrain, a hover start dispersed by a few metres and decimetres per second, and the navigation
errors at the hover from the scenario's sensor sigmas.

ASSUMED: 1,950 kg at the hover (lander dry 950 kg + ascender 800 kg + 200 kg of descent propellant
left; the scenario's run lands with a similar reserve). The flight from the hover at the aim point
is :func:`guanghan.gnc.powered_descent.fly_terminal_descent`; the braking and approach are covered by
the leg tests.
"""

from __future__ import annotations

import time

import numpy as np

from guanghan.dynamics.propulsion import Engine
from guanghan.environment import spice_kernels
from guanghan.environment.geodetic import MOON_MEAN_RADIUS
from guanghan.environment.landing_terrain import DescentTerrain
from guanghan.gnc.hazard_detection import check_site
from guanghan.gnc.hover_hazard_avoidance import HoverHazardDetection
from guanghan.gnc.powered_descent import (DescentTarget, LanderConfig, fly_terminal_descent,
                                          start_state_uprange)
from guanghan.mission.legs.lunar_descent.terrain import synthetic_hover_terrain
from guanghan.mission.scenario import load_scenario
from guanghan.mission.scenario_catalogue import resolve

HOVER_MASS_KG = 1950.0
N_TERRAINS = 50


def _ce5_descent():
    sc = load_scenario(resolve("chang-e-5"))
    phase = next(p for p in sc.phases if p.type == "lunar_descent")
    module, name = phase.engine.split(".", 1)
    engine = sc.modules[module].engines[name]
    dry = sc.modules["lander"].dry_mass_kg + sc.modules["ascender"].dry_mass_kg + \
        sc.modules["ascender"].propellant_kg
    lander = LanderConfig(engine=Engine(thrust_n=engine.thrust_n, isp_s=engine.isp_s,
                                        count=engine.count),
                          dry_mass_kg=dry, **phase.lander.model_dump())
    return sc.sites[phase.site], phase, lander


def test_terminal_descent_over_50_highland_terrains():
    """With avoidance every landing is safe on the TRUE terrain (slope under the scenario's 8°, no
    rock or residual above the clearance under the footprint) at touchdown speeds under the
    scenario's limits; landing at the aim point without avoidance fails the check in some cases."""
    site, phase, lander = _ce5_descent()
    hz = phase.hazard.model_copy(update={"site_class": "highland"})
    target = DescentTarget(latitude_deg=site.lat_deg, longitude_deg=site.lon_deg,
                           radius_m=MOON_MEAN_RADIUS + site.altitude_m)
    et = spice_kernels.utc_to_et("2020-12-01T15:09:00")
    terrain = DescentTerrain(site.lat_deg, site.lon_deg, 3e3)
    t0 = time.perf_counter()
    rows = []
    for seed in range(N_TERRAINS):
        rng = np.random.default_rng(seed)
        terrain.attach(synthetic_hover_terrain(hz, rng, *terrain.regional_slope()))
        hda = HoverHazardDetection(terrain.synthetic, hz, site.lat_deg, site.lon_deg,
                                   site.altitude_m, et, rng)
        off = rng.uniform(-5.0, 5.0, 2)                     # hover start dispersion (m, m/s)
        start = start_state_uprange(et, target, float(np.hypot(*off)),
                                    terrain(*off) + lander.hover_altitude_m,
                                    float(rng.uniform(0.0, 0.3)), HOVER_MASS_KG,
                                    approach_azimuth_deg=float(np.degrees(np.arctan2(*off))) + 180.0)
        row = {}
        for mode, choose in (("hda", hda), ("aim", None)):
            res = fly_terminal_descent(start, lander, target, terrain, phase.sensors, choose,
                                       1000 + seed, phase.profile)
            f = res.figures
            chk = check_site(terrain.synthetic, f["touchdown_east_m"], f["touchdown_north_m"],
                             hz.footprint_diameter_m, hz.clearance_m, hz.slope_limit_deg)
            row[mode] = dict(ok=res.success, reason=res.failure_reason, safe=chk.safe,
                             slope=chk.slope_deg, rock=max(chk.max_rock_height_m, chk.max_residual_m),
                             vz=f["touchdown_vertical_speed_m_s"],
                             vh=f["touchdown_horizontal_speed_m_s"], divert=f["divert_distance_m"],
                             miss=f["miss_from_site_m"], prop=f["propellant_kg"])
        rows.append(row)
    wall = time.perf_counter() - t0
    hda = [r["hda"] for r in rows]
    aim = [r["aim"] for r in rows]
    unsafe_aim = sum(not r["safe"] for r in aim)
    print(f"\nTerminal descent over {N_TERRAINS} highland hover areas (Chang'e-5 lander, "
          f"{HOVER_MASS_KG:.0f} kg at the hover), {wall:.1f} s:\n"
          f"  with avoidance: landed {sum(r['ok'] for r in hda)}/{N_TERRAINS}, safe on the true "
          f"terrain {sum(r['safe'] for r in hda)}/{N_TERRAINS}; worst slope "
          f"{max(r['slope'] for r in hda):.2f}° (limit {hz.slope_limit_deg}°), worst obstacle "
          f"{max(r['rock'] for r in hda):.3f} m (clearance {hz.clearance_m} m); touchdown vertical "
          f"≤ {max(r['vz'] for r in hda):.2f} m/s (limit {lander.touchdown_vertical_limit_m_s}), "
          f"horizontal ≤ {max(r['vh'] for r in hda):.3f} m/s (limit "
          f"{lander.touchdown_horizontal_limit_m_s}); divert median "
          f"{np.median([r['divert'] for r in hda]):.1f} m, max {max(r['divert'] for r in hda):.1f} m;"
          f" miss from the chosen site ≤ {max(r['miss'] for r in hda):.2f} m; propellant ≤ "
          f"{max(r['prop'] for r in hda):.0f} kg\n"
          f"  without avoidance (aim point): unsafe {unsafe_aim}/{N_TERRAINS} = "
          f"{100 * unsafe_aim / N_TERRAINS:.0f} %")
    assert all(r["ok"] for r in hda), [r["reason"] for r in hda if not r["ok"]]
    assert all(r["safe"] and r["slope"] < hz.slope_limit_deg for r in hda)
    assert all(r["vz"] <= lander.touchdown_vertical_limit_m_s and
               r["vh"] <= lander.touchdown_horizontal_limit_m_s for r in hda + aim)
    assert unsafe_aim > 0
