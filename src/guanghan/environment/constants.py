"""Physical constants and conventional values used across Guanghan: one definition each.

Body figures (radii, GM) come from the SPICE kernels (:mod:`guanghan.environment.spice_kernels`);
what is here is either a defined constant or a conventional value that no kernel carries.

References
    CGPM (1901), 3rd General Conference on Weights and Measures: standard gravity 9.80665 m/s².
    Moritz, H. (2000), "Geodetic Reference System 1980", J. Geodesy 74: IUGG mean radius
    R1 = (2a + b)/3 = 6 371 008.8 m, used here rounded to 6 371.0 km (the value the entry guidance,
    the return targeting and the report have always used, so their figures stay as they were).
    IERS Conventions (2010), Technical Note 36, §1.2: nominal mean Earth rotation rate.
    IAU 2012 Resolution B2 (astronomical unit); IAU 2015 Resolution B3 (nominal solar radius).
    Kopp, G. and Lean, J. L. (2011), "A new, lower value of total solar irradiance", GRL 38.
    CODATA 2018 (Tiesinga et al. 2021, Rev. Mod. Phys. 93, 025010): σ and k.
"""

from __future__ import annotations

STANDARD_GRAVITY = 9.80665            # m/s², g0 (CGPM 1901): Isp and g-load definitions
EARTH_MEAN_RADIUS = 6_371_000.0       # m, IUGG R1 rounded: great-circle distances on the Earth
EARTH_ROTATION_RATE = 7.292115e-5     # rad/s, IERS nominal mean rate
SPEED_OF_LIGHT = 299_792_458.0        # m/s, exact (SI)
AU = 149_597_870_700.0                # m, IAU 2012, exact
SUN_RADIUS = 695_700_000.0            # m, IAU 2015 nominal
SOLAR_IRRADIANCE_1AU = 1361.0         # W/m², total solar irradiance at 1 au (Kopp & Lean 2011)
STEFAN_BOLTZMANN = 5.670374419e-8     # W m⁻² K⁻⁴, CODATA 2018 (exact from h, k, c)
BOLTZMANN = 1.380649e-23              # J/K, SI 2019 exact
MEAN_SYNODIC_MONTH_S = 29.530589 * 86400.0   # s, mean synodic month (Allen's Astrophysical Quantities, §12.2)
#: the Moon's sidereal rotation period (s): 27.321661 d (Allen's Astrophysical Quantities, 4th ed., §11.2)
SIDEREAL_MONTH_S = 27.321661 * 86_400.0
