"""Radio link budget: received power, C/N0, Eb/N0, margin, achievable data rate and data volume.

The standard one-way budget in decibels (CCSDS 401.0-B §2; DSN 810-005 module 201 form):

    EIRP  = P_tx + G_tx − L_line                               (dBW)
    P_rx  = EIRP − L_fs − L_point − L_atm − L_pol + G_rx        (dBW)
    C/N0  = P_rx − 10 log10(k T_sys)                            (dB-Hz)
    Eb/N0 = C/N0 − 10 log10(R) − L_impl                         (dB)
    margin = Eb/N0 − (Eb/N0)_required                           (dB)

with the free-space loss L_fs = 20 log10(4π d f / c) (Sklar eq. 5.10) and a parabolic antenna's
gain G = η (π D f / c)² (Sklar eq. 5.14 with A_e = η π D²/4). Solving the margin equation for R
at a required margin gives the achievable bit rate, and integrating it over a contact window (with
the range at each epoch) gives the data volume.

Assumptions and limitations
    * One carrier, all power in the data (no residual carrier or ranging power split).
    * Losses are fixed numbers (dB) per budget; no rain or elevation-dependent atmosphere model.
    * Rates are continuous (a real modem steps through a table of rates): use ``max_data_rate_bps``
      to cap at the radio's top rate.

References
    Sklar, B., *Digital Communications: Fundamentals and Applications* (2nd ed., 2001), §5.1–5.4:
    eq. 5.10 (free-space loss), eq. 5.14 (antenna gain), eqs. 5.20–5.22 (Pr/N0 = Eb/N0 · R,
    link margin).
    CCSDS 401.0-B, "Radio Frequency and Modulation Systems — Part 1", §2; JPL DSN 810-005, module 201
    (telecommunications link design handbook).
    CODATA 2018: Boltzmann constant k = 1.380649e-23 J/K (exact), 10 log10 k = −228.6 dBW/K/Hz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.environment.constants import BOLTZMANN, SPEED_OF_LIGHT

BOLTZMANN_DBW = 10.0 * math.log10(BOLTZMANN)   # −228.60 dBW/(K·Hz)


def db(x) -> np.ndarray:
    """10 log10 of a power ratio."""
    return 10.0 * np.log10(x)


def free_space_loss_db(range_m, frequency_hz: float) -> np.ndarray:
    """Free-space path loss (dB): 20 log10(4π d f / c) (Sklar eq. 5.10)."""
    d = np.asarray(range_m, float)
    if np.any(d <= 0.0) or not frequency_hz > 0.0:
        raise ValueError(f"range_m must be > 0 and frequency_hz = {frequency_hz} > 0")
    return 20.0 * np.log10(4.0 * math.pi * d * frequency_hz / SPEED_OF_LIGHT)


def parabolic_gain_dbi(diameter_m: float, frequency_hz: float, efficiency: float = 0.55) -> float:
    """Gain (dBi) of a parabolic dish: η (π D f / c)² (Sklar eq. 5.14, A_e = η π D²/4)."""
    if not (diameter_m > 0.0 and frequency_hz > 0.0 and 0.0 < efficiency <= 1.0):
        raise ValueError(f"diameter_m = {diameter_m}, frequency_hz = {frequency_hz}, efficiency = "
                         f"{efficiency}: need D > 0, f > 0, 0 < η ≤ 1")
    return float(db(efficiency * (math.pi * diameter_m * frequency_hz / SPEED_OF_LIGHT) ** 2))


def c_over_n0_dbhz(received_power_dbw, system_noise_temp_k: float) -> np.ndarray:
    """Carrier-to-noise-density ratio (dB-Hz): P_rx − 10 log10(k T_sys)."""
    if not system_noise_temp_k > 0.0:
        raise ValueError(f"system_noise_temp_k = {system_noise_temp_k} must be > 0 K")
    return np.asarray(received_power_dbw, float) - BOLTZMANN_DBW - db(system_noise_temp_k)


def eb_n0_db(c_n0_dbhz, data_rate_bps) -> np.ndarray:
    """Eb/N0 (dB) = C/N0 − 10 log10(R) (Sklar eq. 5.20)."""
    r = np.asarray(data_rate_bps, float)
    if np.any(r <= 0.0):
        raise ValueError("data_rate_bps must be > 0")
    return np.asarray(c_n0_dbhz, float) - db(r)


class Antenna(ConfigModel):
    """An antenna: a given gain (dBi), or a parabolic dish's diameter (m) and aperture efficiency."""

    gain_dbi: float | None = Field(default=None, ge=-30.0, le=90.0)
    diameter_m: float | None = Field(default=None, gt=0.0, le=100.0)
    efficiency: float = Field(default=0.55, gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _check(self):
        if (self.gain_dbi is None) == (self.diameter_m is None):
            fail("give exactly one of gain_dbi and diameter_m", "gain_dbi", self.gain_dbi)
        return self

    def gain(self, frequency_hz: float) -> float:
        """Gain (dBi) at a frequency (Hz)."""
        if self.gain_dbi is not None:
            return self.gain_dbi
        return parabolic_gain_dbi(self.diameter_m, frequency_hz, self.efficiency)


class LinkBudget(ConfigModel):
    """One-way link: transmitter, antennas, losses (dB, ≥ 0), receiver noise, modulation/coding."""

    name: str = "link"
    frequency_hz: float = Field(gt=1.0e6, le=1.0e12)
    tx_power_w: float = Field(gt=0.0, le=1.0e6)
    tx_antenna: Antenna
    rx_antenna: Antenna
    tx_line_loss_db: float = Field(default=0.0, ge=0.0, le=50.0)
    pointing_loss_db: float = Field(default=0.0, ge=0.0, le=50.0)
    atmospheric_loss_db: float = Field(default=0.0, ge=0.0, le=50.0)
    polarization_loss_db: float = Field(default=0.0, ge=0.0, le=50.0)
    implementation_loss_db: float = Field(default=0.0, ge=0.0, le=50.0)
    system_noise_temp_k: float = Field(gt=0.0, le=1.0e5)
    required_eb_n0_db: float = Field(ge=-5.0, le=40.0)
    margin_db: float = Field(default=3.0, ge=0.0, le=40.0)
    max_data_rate_bps: float | None = Field(default=None, gt=0.0, le=1.0e12)

    @property
    def eirp_dbw(self) -> float:
        """P_tx + G_tx − L_line (dBW)."""
        return float(db(self.tx_power_w)) + self.tx_antenna.gain(self.frequency_hz) - self.tx_line_loss_db

    def received_power_dbw(self, range_m) -> np.ndarray:
        """Received carrier power (dBW) at range(s) (m)."""
        losses = self.pointing_loss_db + self.atmospheric_loss_db + self.polarization_loss_db
        return (self.eirp_dbw - free_space_loss_db(range_m, self.frequency_hz) - losses
                + self.rx_antenna.gain(self.frequency_hz))

    def c_over_n0_dbhz(self, range_m) -> np.ndarray:
        return c_over_n0_dbhz(self.received_power_dbw(range_m), self.system_noise_temp_k)

    def eb_n0_db(self, range_m, data_rate_bps) -> np.ndarray:
        """Eb/N0 (dB) delivered at a rate, after the implementation loss."""
        return eb_n0_db(self.c_over_n0_dbhz(range_m), data_rate_bps) - self.implementation_loss_db

    def link_margin_db(self, range_m, data_rate_bps) -> np.ndarray:
        """Eb/N0 delivered − Eb/N0 required (dB)."""
        return self.eb_n0_db(range_m, data_rate_bps) - self.required_eb_n0_db

    def data_rate_bps(self, range_m) -> np.ndarray:
        """Highest rate (bps) closing the link with ``margin_db`` to spare (capped, if a cap is set):
        R = 10^((C/N0 − L_impl − (Eb/N0)_req − margin)/10)."""
        exponent = self.c_over_n0_dbhz(range_m) - self.implementation_loss_db - self.required_eb_n0_db - self.margin_db
        rate = 10.0 ** (exponent / 10.0)
        return np.minimum(rate, self.max_data_rate_bps) if self.max_data_rate_bps is not None else rate


@dataclass(frozen=True)
class WindowVolume:
    """Data returned in one window: start/end (ET s), volume (Mbit), mean and minimum rates (bps)."""

    start_et: float
    end_et: float
    volume_mbit: float
    mean_rate_bps: float
    min_rate_bps: float


def window_data_volume(budget: LinkBudget, window: tuple[float, float], ets, range_m) -> WindowVolume:
    """Data volume (Mbit) over a window: ∫ R(d(t)) dt by the trapezoidal rule on the samples of
    ``ets`` (ET s) and ``range_m`` (m) that fall inside it (range interpolated at the edges)."""
    ets, range_m = np.asarray(ets, float), np.asarray(range_m, float)
    return window_volume_from_rates(window, ets, budget.data_rate_bps(range_m))


def window_volume_from_rates(window: tuple[float, float], ets, rate_bps) -> WindowVolume:
    """Data volume (Mbit) over a window from sampled rates (bit/s) at ``ets`` (ET s): ∫ R dt by the
    trapezoidal rule, the rate interpolated at the edges. For a relayed link pass the lesser of
    the two hops' rates."""
    ets, rate_bps = np.asarray(ets, float), np.asarray(rate_bps, float)
    t0, t1 = window
    if not t1 > t0:
        raise ValueError(f"window end {t1} must be after its start {t0} (ET s)")
    inside = (ets > t0) & (ets < t1)
    t = np.concatenate([[t0], ets[inside], [t1]])
    rate = np.interp(t, ets, rate_bps)
    volume = float(np.sum(0.5 * (rate[1:] + rate[:-1]) * np.diff(t)))
    return WindowVolume(t0, t1, volume / 1e6, volume / (t1 - t0), float(rate.min()))


def total_data_volume_mbit(budget: LinkBudget, windows, ets, range_m) -> float:
    """Summed data volume (Mbit) over windows [(start, end)] (ET s)."""
    return sum(window_data_volume(budget, w, ets, range_m).volume_mbit for w in windows)
