"""Link budget arithmetic against a published budget and textbook formulas, and data volumes."""

import math

import numpy as np
import pydantic
import pytest

from guanghan.gnc import link_budget as lb


def test_free_space_loss_textbook_values():
    """Sklar (2001) eq. 5.10, L_s = (4π d / λ)²: at 1 km and 1 GHz, 92.45 dB (the familiar
    32.45 dB + 20 log f[MHz] + 20 log d[km] rule); doubling the range adds 6.02 dB."""
    assert lb.free_space_loss_db(1e3, 1e9) == pytest.approx(92.448, abs=1e-3)
    assert lb.free_space_loss_db(2e3, 1e9) - lb.free_space_loss_db(1e3, 1e9) == pytest.approx(20 * math.log10(2))
    # Earth–Moon at X band: 384,400 km, 8.4 GHz → 222.6 dB
    assert lb.free_space_loss_db(384_400e3, 8.4e9) == pytest.approx(222.6, abs=0.05)
    assert lb.BOLTZMANN_DBW == pytest.approx(-228.6, abs=0.01)


def test_parabolic_gain():
    """G = η (π D / λ)²: a 70 m DSN dish at 8.42 GHz with η = 0.7 has ~74.3 dBi (DSN 810-005 quotes
    74.2–74.6 dBi at X band); a 4.2 m dish (Queqiao) at X band, η = 0.55: ~48.8 dBi."""
    assert lb.parabolic_gain_dbi(70.0, 8.42e9, 0.7) == pytest.approx(74.3, abs=0.1)
    assert lb.parabolic_gain_dbi(4.2, 8.4e9, 0.55) == pytest.approx(48.8, abs=0.1)
    assert lb.Antenna(diameter_m=4.2).gain(8.4e9) == pytest.approx(lb.parabolic_gain_dbi(4.2, 8.4e9))


def test_published_emwin_budget():
    """NOAA NWS EMWIN-N link budget (www.nws.noaa.gov/emwin/emwin-n-link-budget.htm): path 41,127 km
    at 5° elevation; uplink 2034.70 MHz, EIRP 76.7 dBm, pointing 0.5, atmosphere 0.4, polarisation
    0.2 dB, spacecraft G/T −14.2 dB/K → free-space loss 190.9 dB, C/N0 69.1 dB-Hz; downlink
    1692.70 MHz, EIRP 44.8 dBm, atmosphere 0.4, polarisation 0.2 dB, ground G/T −0.3 dB/K → 189.3 dB,
    53.2 dB-Hz; composite 53.1 dB-Hz, 9600 bps → Eb/N0 13.3 dB; required 2.6 dB theoretical + 2.0 +
    1.0 dB implementation/degradations = 5.6 dB → margin 7.7 dB."""
    rng = 41_127e3
    assert lb.free_space_loss_db(rng, 2034.70e6) == pytest.approx(190.9, abs=0.05)
    assert lb.free_space_loss_db(rng, 1692.70e6) == pytest.approx(189.3, abs=0.05)
    # G/T expressed as a receive gain and a noise temperature: G − 10 log T
    up = lb.LinkBudget(frequency_hz=2034.70e6, tx_power_w=1.0, tx_antenna=lb.Antenna(gain_dbi=76.7 - 30.0),
                       rx_antenna=lb.Antenna(gain_dbi=14.8), pointing_loss_db=0.5, atmospheric_loss_db=0.4,
                       polarization_loss_db=0.2, system_noise_temp_k=10 ** ((14.8 + 14.2) / 10),
                       required_eb_n0_db=2.6, implementation_loss_db=3.0)
    down = lb.LinkBudget(frequency_hz=1692.70e6, tx_power_w=1.0, tx_antenna=lb.Antenna(gain_dbi=44.8 - 30.0),
                         rx_antenna=lb.Antenna(gain_dbi=20.0), atmospheric_loss_db=0.4,
                         polarization_loss_db=0.2, system_noise_temp_k=10 ** ((20.0 + 0.3) / 10),
                         required_eb_n0_db=2.6, implementation_loss_db=3.0)
    cn_up, cn_down = float(up.c_over_n0_dbhz(rng)), float(down.c_over_n0_dbhz(rng))
    assert cn_up == pytest.approx(69.1, abs=0.05)
    assert cn_down == pytest.approx(53.2, abs=0.05)
    incident_dbm = float(down.received_power_dbw(rng)) - 20.0 + 0.2 + 30.0     # before G_rx and polarisation
    assert incident_dbm == pytest.approx(-144.9, abs=0.05)
    composite = -10 * math.log10(10 ** (-cn_up / 10) + 10 ** (-cn_down / 10))
    assert composite == pytest.approx(53.1, abs=0.05)
    ebn0 = float(lb.eb_n0_db(composite, 9600.0))
    assert ebn0 == pytest.approx(13.3, abs=0.05)
    assert ebn0 - 3.0 - 2.6 == pytest.approx(7.7, abs=0.05)
    # the budget's own margin on the downlink alone (53.2 dB-Hz) is 0.1 dB better than the composite
    assert float(down.link_margin_db(rng, 9600.0)) == pytest.approx(7.8, abs=0.06)


def test_data_rate_closes_at_the_margin_and_volume_integrates():
    budget = lb.LinkBudget(name="lander→relay X", frequency_hz=8.4e9, tx_power_w=20.0,
                           tx_antenna=lb.Antenna(gain_dbi=20.0), rx_antenna=lb.Antenna(diameter_m=4.2),
                           pointing_loss_db=1.0, implementation_loss_db=1.5, system_noise_temp_k=300.0,
                           required_eb_n0_db=2.5, margin_db=3.0)
    rate = float(budget.data_rate_bps(10_000e3))
    assert float(budget.link_margin_db(10_000e3, rate)) == pytest.approx(3.0, abs=1e-9)
    assert float(budget.data_rate_bps(5_000e3)) == pytest.approx(4.0 * rate, rel=1e-9)   # inverse square
    ets = np.linspace(0.0, 3600.0, 61)
    v = lb.window_data_volume(budget, (600.0, 3000.0), ets, np.full(ets.size, 10_000e3))
    assert v.volume_mbit == pytest.approx(rate * 2400.0 / 1e6, rel=1e-12)
    capped = budget.model_copy(update={"max_data_rate_bps": 1e5})
    assert lb.total_data_volume_mbit(capped, [(0.0, 1000.0), (2000.0, 3600.0)], ets,
                                     np.full(ets.size, 10_000e3)) == pytest.approx(0.1 * 2600.0, rel=1e-9)
    print(f"\nillustrative X-band lander→relay (20 W, 20 dBi → 4.2 m dish): {rate / 1e6:.1f} Mbit/s at "
          f"10,000 km with 3 dB margin")


def test_bad_input_names_the_parameter():
    with pytest.raises(pydantic.ValidationError, match="exactly one of gain_dbi and diameter_m"):
        lb.Antenna(gain_dbi=10.0, diameter_m=1.0)
    with pytest.raises(pydantic.ValidationError, match="pointing_loss_db"):
        lb.LinkBudget(frequency_hz=8.4e9, tx_power_w=1.0, tx_antenna=lb.Antenna(gain_dbi=0.0),
                      rx_antenna=lb.Antenna(gain_dbi=0.0), pointing_loss_db=-1.0, system_noise_temp_k=100.0,
                      required_eb_n0_db=2.0)
    with pytest.raises(ValueError, match="frequency_hz"):
        lb.free_space_loss_db(1e3, -1.0)
    with pytest.raises(ValueError, match="data_rate_bps"):
        lb.eb_n0_db(50.0, 0.0)
