"""The trajectory table's sunlit fraction on and near the surface, against the Sun's elevation from
SPICE: a lander below the mean radius is lit when the Sun is above its horizon."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from guanghan.environment import spice_kernels, time_scales
from guanghan.mission.trajectory_table import sunlit_fraction


def _point_with_sun_elevation(et: float, elevation_deg: float, radius_m: float) -> np.ndarray:
    """A Moon-centred J2000 position at ``radius_m`` where the Sun's centre is ``elevation_deg``
    above the local horizontal (the Sun's direction from the Moon's centre, turned)."""
    sun = spice_kernels.body_positions("SUN", "MOON", "J2000", np.array([et]))[0]
    s = sun / np.linalg.norm(sun)
    side = np.cross(s, [0.0, 0.0, 1.0])
    side /= np.linalg.norm(side)
    up_angle = np.radians(90.0 - elevation_deg)          # angle between the local vertical and the Sun
    up = np.cos(up_angle) * s + np.sin(up_angle) * side
    return radius_m * up


def test_a_surface_point_below_the_mean_radius_is_lit_by_a_sun_above_its_horizon():
    et = time_scales.utc_to_et("2020-12-02T00:00:00Z")
    for radius in (1_737_400.0 - 2_500.0, 1_737_400.0 + 1_000.0):       # below and above the mean sphere
        lit = sunlit_fraction("MOON", np.array([et] * 3),
                              np.array([_point_with_sun_elevation(et, e, radius) for e in (5.0, 0.0, -5.0)]))
        assert lit[0] == 1.0 and lit[2] == 0.0
        if radius < 1_737_400.0:                           # the Sun's centre on the horizon: about half
            assert 0.3 < lit[1] < 0.7
        else:                                              # 1 km up, the horizon dips 1.9°: all of it
            assert lit[1] == 1.0


def test_the_chang_e_5_stay_is_in_sunlight(ce5_run):
    """Chang'e-5 landed in the local morning and left before sunset: every surface row is lit."""
    _, result = ce5_run
    t = result.trajectory.filter(pc.equal(result.trajectory["phase"], "surface"))
    assert t.num_rows > 0 and min(t["sunlit"].to_pylist()) > 0.99
