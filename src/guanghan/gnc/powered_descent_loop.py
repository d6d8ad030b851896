"""The closed loop of a lunar powered descent: guidance per phase, navigation, truth dynamics.

:class:`DescentLoop` holds one flight's state and steps it; :mod:`guanghan.gnc.powered_descent`
builds it, checks the inputs and flies it (:func:`~guanghan.gnc.powered_descent.fly_powered_descent`,
:func:`~guanghan.gnc.powered_descent.fly_terminal_descent`) and packs the outcome
(:func:`~guanghan.gnc.powered_descent.descent_result`).

Sequence: main braking (convex fuel-optimal guidance to an approach gate ~3 km up and up-range of
the site, re-planned every ~20 s, under an altitude ceiling) → rapid attitude adjustment (the
thrust slews at its rate limit to the near-vertical approach attitude) → approach (convex
guidance to the hover point, tilt and glide-slope constrained, re-planned every ~4 s; at
``approach_decision_height_m`` the coarse hazard-avoidance callback ``choose_approach_site`` may
re-target the hover point) → hover (position hold; after ``hover_duration_s`` the
hazard-avoidance callback ``choose_site(estimate)`` returns the site's east/north offset from the
aim point) → divert (E-guidance, lateral translation at constant height) → slow vertical descent
(velocity hold, slower over the last metres) → engine cut-off when the altimeter reads the cut-off
height → free fall → touchdown.

Guidance and control run on the navigation estimate (:mod:`guanghan.gnc.descent_navigation`), the
simulation on the truth (:mod:`guanghan.dynamics.powered_descent_dynamics`). The lander's mass is
known to the guidance (propellant gauging). Between re-plans the plan is tracked:
thrust = m (u_plan + K_p (r_plan − r̂) + K_d (v_plan − v̂)), tilt-limited. After a hazard
decision the approach, the divert and the vertical descent steer on the descent camera's
measurement of the site relative to the lander (terrain-relative), so the site is reached despite
the absolute navigation error (which shows as the miss from the aim point).

The phases share the flight's state, so they stay methods of one class (this module is at the
~400-line guide); the records are in :mod:`guanghan.gnc.powered_descent_config`.

References
    Zhang, H. et al. (2014), "Guidance navigation and control for Chang'E-3 powered descent"
    (in Chinese), Scientia Sinica Technologica 44(4), 377–384: the phase sequence (main braking,
    quick adjustment, approach, hover, obstacle avoidance, slow descent).
    Açıkmeşe & Ploen (2007), Blackmore et al. (2010), Cherry (1964), Klumpp (1974): see
    :mod:`guanghan.gnc.convex_descent_guidance`.
"""

from __future__ import annotations

import math

import numpy as np

from guanghan import run_limits
from guanghan.dynamics.powered_descent_dynamics import LanderDynamics, SiteFrame
from guanghan.dynamics.vector3 import unit
from guanghan.environment.constants import STANDARD_GRAVITY
from guanghan.gnc.convex_descent_guidance import ConvexDescentGuidance, e_guidance_acceleration
from guanghan.gnc.descent_navigation import DescentNavigator
from guanghan.gnc.powered_descent_config import StateEstimate

_UP = (0.0, 0.0, 1.0)        # site up: the direction given to a zero vector
#: when the fixed-time re-plan over the remaining horizon is infeasible, horizons this much longer
#: are tried before a full flight-time search (11 solves): in the Chang'e-5 approach the searches
#: landed 0.5-9 % above the remaining time
REPLAN_STRETCH = (1.04, 1.10)


def _limit_tilt(a, up, max_tilt_deg: float) -> np.ndarray:
    """``a`` with a non-negative vertical part and at most ``max_tilt_deg`` from ``up``: the
    engine only pushes, and the attitude envelope is kept (horizontal part scaled down)."""
    a_up = max(float(a @ up), 0.05)
    a_h = a - (a @ up) * up
    h = math.sqrt(float(a_h @ a_h))
    cap = a_up * math.tan(math.radians(min(max_tilt_deg, 89.0)))
    return a_up * up + (a_h * (cap / h) if h > cap else a_h)


class DescentLoop:
    """State of one closed-loop descent (see :func:`fly_powered_descent`)."""

    def __init__(self, start, lander, target, terrain, sensors, choose_site, rng, profile, field_,
                 choose_approach_site=None, approach_decision_height_m=2000.0):
        self.lander, self.profile, self.terrain, self.choose_site = lander, profile, terrain, \
            choose_site
        self.choose_approach_site = choose_approach_site
        self.approach_decision_height_m = approach_decision_height_m
        self.aim = np.zeros(2)              # terrain east/north of the current aim (m)
        self.et0 = start.et
        self.frame = SiteFrame.at_site(target.latitude_deg, target.longitude_deg, start.et,
                                       target.radius_m, field_)
        self.nav_frame = self.frame if field_ is None else SiteFrame.at_site(
            target.latitude_deg, target.longitude_deg, start.et, target.radius_m)
        p0, v0 = self.frame.from_state(start)
        self.m0 = start.mass
        self.g_surface = self.frame.surface_gravity()
        self.dyn = LanderDynamics(self.frame, lander.max_thrust_n, lander.engine.isp_s,
                                  lander.max_slew_rate_deg_s, lander.dry_mass_kg,
                                  np.concatenate([p0, v0, [start.mass]]), -unit(v0, _UP))
        self.nav = DescentNavigator(self.nav_frame, sensors, terrain, p0, v0, rng)
        margin = profile.guidance_throttle_margin
        self.guid = ConvexDescentGuidance(profile.n_nodes, lander.engine.isp_s,
                                          lander.min_thrust_n * 1.02,   # tracking room below
                                          lander.max_thrust_n * margin, lander.dry_mass_kg)
        self.h_site = float(terrain(0.0, 0.0))
        self.hover_point = np.array([0.0, 0.0, self.h_site + lander.hover_altitude_m])
        self.t, self.phase, self.events, self.rows = 0.0, "main_braking", [], []
        self.site = np.zeros(2)
        self.ceiling_m = float(self.frame.altitude(p0)) + profile.braking_ceiling_margin_m
        self.failure: str | None = None
        self.touchdown, self.exhausted, self.divert_distance = None, False, 0.0
        self._ground_key, self._ground_value = None, math.nan

    # ------------------------------------------------------------------ helpers
    def event(self, name: str, **details) -> None:
        plain = {k: float(v) if isinstance(v, np.floating) else v for k, v in details.items()}
        self.events.append({"name": name, "t_s": round(self.t, 6), "et": self.et0 + self.t,
                            "phase": self.phase, **plain})

    def ground_under(self, p) -> float:
        """Highest terrain (m above the sphere) under the footprint at the sub-point of ``p``
        (the last answer is kept: each step asks again at the position the last step ended)."""
        key = (float(p[0]), float(p[1]), float(p[2]))
        if key == self._ground_key:
            return self._ground_value
        rad0 = self.frame.radius_m
        x, y, z = key[0], key[1], key[2] + rad0
        k = rad0 / math.sqrt(x * x + y * y + z * z)
        e, n = k * x, k * y
        rad = self.lander.footprint_radius_m
        highest = getattr(self.terrain, "footprint_max", None)    # a compiled terrain does it at once
        if highest is not None:
            value = float(highest(e, n, rad))
        else:
            pts = [(e, n)] + ([(e + rad, n), (e - rad, n), (e, n + rad), (e, n - rad)] if rad else [])
            value = max(float(self.terrain(a, b)) for a, b in pts)
        self._ground_key, self._ground_value = key, value
        return value

    def gate(self, p_est):
        """Braking-end gate position and velocity, up-range of the site toward ``p_est``."""
        prof = self.profile
        az = math.degrees(math.atan2(p_est[0], p_est[1]))
        gp = self.frame.point_uprange(prof.braking_end_range_m, az,
                                      self.h_site + prof.braking_end_altitude_m)
        return gp, prof.braking_end_speed_m_s * unit(self.hover_point - gp, _UP)

    def plan_braking(self, p, v, m, reference=None, search=True, stretch=1.0):
        gp, gv = self.gate(p)
        kw = dict(apparent_accel=self.nav_frame.apparent_acceleration, centre=self.frame.centre,
                  max_tilt_deg=90.0, glide_slope_deg=0.0, max_altitude_m=self.ceiling_m)
        kw["max_altitude_m"] = max(self.ceiling_m, float(self.frame.altitude(p)) + 1.0)
        if not search:
            return self.guid.solve_fixed_time(p, v, m, gp, gv, stretch * self.tf_left(),
                                              reference=reference, **kw)
        if reference is None:
            speed = float(np.linalg.norm(v - gv))
            t_ref = speed * m / self.lander.max_thrust_n
            bounds = (0.6 * t_ref, 1.6 * t_ref)
        else:
            bounds = (0.85 * self.tf_left(), 1.25 * self.tf_left())
        return self.guid.solve(p, v, m, gp, gv, bounds, reference=reference,
                               gravity_iterations=1 if reference is None else 0,
                               **(kw | dict(max_altitude_m=max(
                                   self.ceiling_m, float(self.frame.altitude(p)) + 1.0))))

    def plan_approach(self, p, v, m, reference=None, search=True, stretch=1.0):
        prof = self.profile
        kw = dict(apparent_accel=self.nav_frame.apparent_acceleration, centre=self.frame.centre,
                  max_tilt_deg=prof.approach_max_tilt_deg,
                  glide_slope_deg=prof.approach_glide_slope_deg)
        if not search:
            return self.guid.solve_fixed_time(p, v, m, self.hover_point, np.zeros(3),
                                              stretch * self.tf_left(), reference=reference, **kw)
        if reference is None:
            dist = float(np.linalg.norm(p - self.hover_point))
            t_ref = dist / max(float(np.linalg.norm(v)), 5.0)
            bounds = (0.8 * t_ref, 4.0 * t_ref)
        else:
            bounds = (0.7 * self.tf_left(), 1.5 * self.tf_left())
        return self.guid.solve(p, v, m, self.hover_point, np.zeros(3), bounds,
                               reference=reference, n_grid=5, n_golden=4, **kw)

    def tf_left(self) -> float:
        return self.plan.tf_s - (self.t - self.plan_t0)

    # ------------------------------------------------------------------ guidance per phase
    def command(self, p, v, m, g_app) -> np.ndarray | None:
        """Thrust vector (N) for this step, or None for engine off."""
        prof, lander = self.profile, self.lander
        if self.phase in ("main_braking", "rapid_adjustment", "approach"):
            return self.track_plan(p, v, m)
        up = self.frame.local_up(p)
        tilt = prof.terminal_max_tilt_deg
        if self.phase == "hover":
            if self.t - self.phase_t0 >= lander.hover_duration_s:
                self.decide_site(p, v)
            return m * _limit_tilt(-g_app + 0.09 * (self.hover_point - p) - 0.6 * v, up, tilt)
        if self.phase in ("divert", "vertical_descent"):       # steer on the camera's site fix
            rel = self.nav.site_offset(self.site, self.dyn.y[0:3])
            target = np.array([p[0] + rel[0], p[1] + rel[1], self.hover_point[2]])
        if self.phase == "divert":
            t_go = self.divert_time - (self.t - self.phase_t0)
            if t_go > 3.0:                                  # E-guidance, then position hold
                a = e_guidance_acceleration(p, v, target, np.zeros(3), t_go, g_app)
                return m * _limit_tilt(a, up, tilt)
            if t_go < -3.0:
                self.set_phase("vertical_descent")
                self.event("vertical_descent_start", height_m=self.height_est(p))
            return m * _limit_tilt(-g_app + 0.09 * (target - p) - 0.6 * v, up, tilt)
        if self.phase == "vertical_descent":
            if self.nav.last_altimeter_m is not None and \
                    self.nav.last_altimeter_m <= lander.cutoff_height_m:
                self.set_phase("free_fall")
                self.event("engine_cutoff", altimeter_m=self.nav.last_altimeter_m,
                           true_height_m=self.true_height(),
                           vertical_speed_m_s=self.true_speeds()[1])
                return None
            slow = self.nav.last_altimeter_m is not None and \
                self.nav.last_altimeter_m <= lander.final_descent_height_m
            speed = lander.final_descent_speed_m_s if slow else lander.vertical_descent_speed_m_s
            a = -g_app + 0.8 * (-speed - v @ up) * up
            horiz = target - p
            a += 0.09 * (horiz - up * (horiz @ up)) - 0.6 * (v - up * (v @ up))
            return m * _limit_tilt(a, up, tilt)
        return None

    def track_plan(self, p, v, m):
        if self.phase == "approach" and self.choose_approach_site is not None and \
                self.height_est(p) <= self.approach_decision_height_m:
            self.decide_approach_site(p, v)
        tp = self.t - self.plan_t0
        r_pl, v_pl = self.plan.state_at(tp)
        wn = 0.05 if self.phase == "main_braking" else 0.2
        a = self.plan.thrust_accel_at(tp) + wn * wn * (r_pl - p) + 1.6 * wn * (v_pl - v)
        self.maybe_replan(p, v, m, tp)
        limit = 90.0 if self.phase == "main_braking" else self.profile.approach_max_tilt_deg + 10.0
        return m * _limit_tilt(a, self.frame.local_up(p), limit)

    def maybe_replan(self, p, v, m, tp) -> None:
        prof = self.profile
        braking = self.phase == "main_braking"
        period = prof.braking_replan_s if braking else prof.approach_replan_s
        left = self.plan.tf_s - tp
        if self.phase == "rapid_adjustment":
            ang = math.degrees(math.acos(min(1.0, float(self.dyn.d @ self.d_cmd))))
            if ang < 3.0:
                self.set_phase("approach")
        if left <= 0.0:                                     # end of plan: next phase
            if braking:
                self.start_approach(p, v, m)
            else:
                self.set_phase("hover")
                self.event("hover_start", height_m=self.height_est(p),
                           position_error_m=float(np.linalg.norm(p - self.hover_point)))
            return
        if self.t - self.last_plan_t < period or left < (45.0 if braking else 8.0):
            return
        ref = self.plan.reference_from(tp)
        planner = self.plan_braking if braking else self.plan_approach
        new = planner(p, v, m, reference=ref, search=False)
        for stretch in REPLAN_STRETCH:                      # the horizon a little longer first:
            if new is not None:                             # searches found t_f 0-10 % above it
                break
            new = planner(p, v, m, reference=ref, search=False, stretch=stretch)
        if new is None:                                     # horizon no longer feasible: re-search
            try:
                new = planner(p, v, m, reference=ref, search=True)
            except ValueError as exc:
                self.event("guidance_replan_failed", reason=str(exc))
                self.last_plan_t = self.t
                return
        self.plan, self.plan_t0, self.last_plan_t = new, self.t, self.t
        self.replans += 1
        self.plan_log.append((self.t, self.phase, new.tf_s, new.kind, new.propellant_kg))
        if new.kind != "fuel_optimal":
            self.event("guidance_min_landing_error", miss_m=new.miss_m)

    def start_approach(self, p, v, m) -> None:
        self.set_phase("rapid_adjustment")
        self.event("braking_end", height_m=self.height_est(p), speed_m_s=float(np.linalg.norm(v)))
        try:
            plan = self.plan_approach(p, v, m)
        except ValueError as exc:
            self.failure = f"no feasible approach guidance: {exc}"
            return
        self.plan, self.plan_t0, self.last_plan_t = plan, self.t, self.t
        self.event("approach_plan", tf_s=plan.tf_s, propellant_kg=plan.propellant_kg,
                   kind=plan.kind)

    def _ask(self, callback, name: str, p, v) -> np.ndarray:
        """Call a hazard-avoidance callback with the estimate; its checked (east, north) answer."""
        est = StateEstimate(self.t, p.copy(), v.copy(), self.nav.sigma[0:3].copy(),
                            self.height_est(p), (float(self.aim[0]), float(self.aim[1])))
        offset = self.aim.copy() if callback is None else callback(est)
        site = np.asarray(offset, dtype=float).reshape(-1)
        if site.shape != (2,) or not np.all(np.isfinite(site)):
            raise ValueError(f"{name} returned {offset!r}: expected finite (east_m, north_m)")
        if np.linalg.norm(site) > self.profile.max_divert_m:
            raise ValueError(f"{name} returned a site {np.linalg.norm(site):.1f} m from the "
                             f"aim point: beyond max_divert_m = {self.profile.max_divert_m} m")
        return site

    def decide_approach_site(self, p, v) -> None:
        """Coarse hazard avoidance: re-target the hover over the callback's area, located by the
        camera relative to the lander (terrain-relative), and re-plan the approach at once."""
        self.choose_approach_site, callback = None, self.choose_approach_site     # once
        site = self._ask(callback, "choose_approach_site", p, v)
        self.aim = site
        nav_site = p[:2] + self.nav.site_offset(site, self.dyn.y[0:3])
        self.hover_point = np.array([nav_site[0], nav_site[1],
                                     float(self.terrain(*site)) + self.lander.hover_altitude_m])
        self.event("approach_site_chosen", east_m=float(site[0]), north_m=float(site[1]),
                   height_m=self.height_est(p), retarget_m=float(np.linalg.norm(site)))
        self.last_plan_t = -math.inf                 # re-plan to the new hover point now

    def decide_site(self, p, v) -> None:
        site = self._ask(self.choose_site, "choose_site", p, v)
        self.site = site
        self.event("hazard_site_chosen", east_m=float(site[0]), north_m=float(site[1]))
        # From here on the hazard camera tracks the site relative to the lander (terrain-
        # relative): in navigation coordinates it lies at p̂ + (site − p_true) + camera noise.
        nav_site = p[:2] + self.nav.site_offset(site, self.dyn.y[0:3])
        dist = float(np.linalg.norm(nav_site - p[:2]))
        self.divert_distance = dist
        self.divert_time = max(6.0, math.sqrt(6.0 * dist / self.profile.divert_max_accel_m_s2))
        self.set_phase("divert")
        self.event("divert_start", distance_m=dist, planned_duration_s=self.divert_time)
        self.hover_point = np.array([nav_site[0], nav_site[1], self.hover_point[2]])

    def set_phase(self, phase: str) -> None:
        self.phase, self.phase_t0 = phase, self.t

    # ------------------------------------------------------------------ measurements of truth
    def true_height(self) -> float:
        p = self.dyn.y[0:3]
        return float(self.frame.altitude(p)) - self.ground_under(p)

    def true_speeds(self) -> tuple[float, float]:
        """(horizontal, vertical-up) ground-relative speed (m/s)."""
        p, v = self.dyn.y[0:3], self.dyn.y[3:6]
        up = self.frame.local_up(p)
        vu = float(v @ up)
        return float(np.linalg.norm(v - vu * up)), vu

    def height_est(self, p) -> float:
        h, e, n = self.nav._sub_point(p)
        return float(h - self.terrain(e, n))

    # ------------------------------------------------------------------ the loop
    def run(self, first_plan) -> None:
        """Fly to touchdown (or failure) from the braking plan ``first_plan``, or from the
        hover when it is None."""
        lander = self.lander
        c = lander.engine.isp_s * STANDARD_GRAVITY
        self.plan, self.plan_t0, self.last_plan_t, self.phase_t0 = first_plan, 0.0, 0.0, 0.0
        self.replans, self.d_cmd, self.plan_log = 0, self.dyn.d.copy(), []
        if first_plan is None:                              # entered at the hover
            self.event("hover_start", height_m=self.true_height(), mass_kg=self.m0)
        else:
            self.event("powered_descent_start", height_m=self.true_height(), mass_kg=self.m0,
                       plan_tf_s=first_plan.tf_s, plan_kind=first_plan.kind)
        while self.failure is None:
            dt = self.profile.braking_time_step_s if self.phase == "main_braking" else \
                self.profile.time_step_s
            p, v, m = self.nav.p, self.nav.v, float(self.dyn.y[6])
            g_app = self.nav_frame.apparent_acceleration(p, v)
            thrust = self.command(p, v, m, g_app)
            if self.failure is not None:
                break
            throttle = 0.0
            if thrust is not None and self.phase != "free_fall":
                mag = math.sqrt(float(thrust @ thrust))
                self.d_cmd = unit(thrust, _UP)
                throttle = min(max(mag / lander.max_thrust_n, lander.min_throttle), 1.0)
            m_before = float(self.dyn.y[6])
            run_limits.charge(1)
            frac = self.dyn.step(dt, throttle, self.d_cmd, self.ground_under(self.dyn.y[0:3]))
            self.ground_m = self.ground_under(self.dyn.y[0:3])
            step = frac * dt
            f_true = (c * math.log(m_before / self.dyn.y[6]) / step) * self.dyn.d \
                if self.dyn.last_thrust_n > 0 and step > 0 else np.zeros(3)
            if step > 0:
                self.nav.propagate(self.nav.imu_measure(f_true, step), step)
            self.t += step
            self.nav.measure_and_update(self.t, self.dyn.y[0:3], self.dyn.y[3:6])
            self.record(throttle if self.dyn.last_thrust_n > 0 else 0.0)
            if frac < 1.0:
                self.on_touchdown()
                break
            if self.dyn.propellant_exhausted and self.failure is None and \
                    self.phase != "free_fall":
                self.event("propellant_exhausted", mass_kg=float(self.dyn.y[6]))
                self.set_phase("free_fall")               # fall to the ground, judged there
                self.exhausted = True
            if self.t > self.profile.max_duration_s:
                self.failure = f"time limit {self.profile.max_duration_s} s reached in {self.phase}"

    def on_touchdown(self) -> None:
        vh, vu = self.true_speeds()
        self.set_phase("touchdown")
        p = self.dyn.y[0:3]
        self.touchdown = dict(east_m=float(p[0]), north_m=float(p[1]), vertical_m_s=-vu,
                              horizontal_m_s=vh)
        self.event("touchdown", **self.touchdown, mass_kg=float(self.dyn.y[6]))
        lim_v, lim_h = self.lander.touchdown_vertical_limit_m_s, \
            self.lander.touchdown_horizontal_limit_m_s
        if self.exhausted:
            self.failure = "propellant exhausted before touchdown"
        elif -vu > lim_v:
            self.failure = f"crash: vertical touchdown speed {-vu:.2f} m/s > limit {lim_v} m/s"
        elif vh > lim_h:
            self.failure = f"crash: horizontal touchdown speed {vh:.2f} m/s > limit {lim_h} m/s"

    def record(self, throttle: float) -> None:
        y, nav = self.dyn.y, self.nav
        up = self.frame.local_up(y[0:3])
        tilt = math.degrees(math.acos(min(1.0, max(-1.0, float(self.dyn.d @ up)))))
        self.rows.append((self.t, *y[0:7], *nav.x[0:6], throttle, tilt, self.phase,
                          self.frame.altitude(y[0:3]) - self.ground_m))
