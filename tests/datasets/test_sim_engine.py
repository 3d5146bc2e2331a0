"""Simulator engine: geometry against an independent light-time solution, error models, seeding."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.constants import C_MPS, NS_PER_S, OMEGA_E_GPS_RADPS
from gnssaug.datasets.sim.clocks import OrbitClockErrorModel
from gnssaug.datasets.sim.engine import SimConfig, Simulator
from gnssaug.datasets.sim.iono import IonoModel
from gnssaug.datasets.sim.noise import ReceiverEnv
from gnssaug.datasets.sim.rovers import Receiver
from gnssaug.datasets.sim.tropo import TropoModel
from gnssaug.geodesy import ecef_from_llh_deg
from gnssaug.time import gpst_ns_from_calendar
from tests.datasets.sim_helpers import SATS, circular_states, circular_states_at

T0_NS = int(gpst_ns_from_calendar(2025, 1, 1, 4, 0, 0))
RANGE_TOL_M = 1e-3  # light time, Earth rotation and clock handling must be exact to a millimetre
QUIET = ReceiverEnv(el_mask_deg=0.0, mp_alpha0=0.0, mp_gm_sigma_m=0.0, slip_per_sat_hour=0.0,
                    lol_per_sat_hour=0.0, rx_bias_sigma_m=0.0)


def _states(sat, t_ns):
    return circular_states(sat, t_ns, T0_NS)


def _quiet_config(**kw):
    base = dict(
        start_gpst_ns=T0_NS, duration_s=30.0, seed=3, iono=IonoModel(enabled=False),
        tropo=TropoModel(enabled=False), orbit_clock=OrbitClockErrorModel(enabled=False), noise=False,
        multipath=False, slips=False, sat_bias_sigma_m=0.0, block_s=7.0,
    )
    base.update(kw)
    return SimConfig(**base)


def _receiver(name="AAAA", lat=30.5, lon=114.3, h=30.0, env=QUIET):
    return Receiver(name, ecef_from_llh_deg(lat, lon, h), env)


def _true_range(rx_ecef, sat, t_rx_s):
    """Independent light-time solution with exact orbit positions and a Sagnac rotation."""
    tau = np.full(sat.size, 0.07)
    for _ in range(6):
        p = np.stack([circular_states_at(sat[j:j + 1], np.array([t_rx_s - tau[j]]))[0, 0] for j in range(sat.size)])
        a = OMEGA_E_GPS_RADPS * tau
        rot = np.stack([np.cos(a) * p[:, 0] + np.sin(a) * p[:, 1], -np.sin(a) * p[:, 0] + np.cos(a) * p[:, 1],
                        p[:, 2]], axis=1)
        rho = np.linalg.norm(rot - rx_ecef, axis=1)
        tau = rho / C_MPS
    return rho, tau


def test_pseudorange_is_range_plus_clocks_to_a_millimetre():
    rx = _receiver()
    sim = Simulator(_quiet_config(), [rx], SATS, _states)
    series = sim.run()["AAAA"]
    assert len(series) == 30
    checked = 0
    for i in (0, 13, 29):
        ep = series.epoch(i)
        t_tag_s = (ep.t_gpst_ns - T0_NS) / NS_PER_S
        # The receiver clock of the simulation is recovered from the GPS L1 pseudoranges below.
        cols = np.searchsorted(SATS, ep.sat)
        # Solve dt_rx by fixed point: the geometry depends on the true reception time.
        dt_rx = 0.0
        for _ in range(4):
            rho, tau = _true_range(rx.pos_ecef_m, ep.sat, t_tag_s - dt_rx)
            clk_sat = 1e-4 + 1e-11 * (t_tag_s - dt_rx - tau) + 1e-6 * ep.sat
            resid = ep.pr_m[:, 0] - rho + C_MPS * clk_sat
            dt_rx = np.median(resid) / C_MPS
        np.testing.assert_allclose(resid - np.median(resid), 0.0, atol=RANGE_TOL_M)
        checked += cols.size
    assert checked > 10


def test_first_order_iono_scales_with_inverse_frequency_squared_and_is_code_plus_phase_minus():
    rx = _receiver()
    cfg = _quiet_config(iono=IonoModel())
    series = Simulator(cfg, [rx], SATS, _states).run()["AAAA"]
    ep = series.epoch(5)
    from gnssaug.gnss import sat_freq_hz

    f = sat_freq_hz(ep.sat)
    lam = C_MPS / f
    cmc = ep.pr_m - ep.cp_cyc * lam  # = 2 I_k - lambda_k N_k
    # The ambiguities are unknown but constant (no slips): difference over time.
    ep2 = series.epoch(25)
    cmc2 = ep2.pr_m - ep2.cp_cyc * lam
    d_iono = (cmc2 - cmc) / 2.0  # change of I_k over 20 s (ambiguities constant, no slips)
    ratio = d_iono[:, 1] / d_iono[:, 0]
    expected = (f[:, 0] / f[:, 1]) ** 2
    ok = np.abs(d_iono[:, 0]) > 1e-3
    assert ok.sum() >= 3
    np.testing.assert_allclose(ratio[ok], expected[ok], rtol=1e-3)


def test_doppler_matches_the_phase_rate():
    series = Simulator(_quiet_config(iono=IonoModel(), tropo=TropoModel()), [_receiver()], SATS, _states).run()["AAAA"]
    a, b = series.epoch(10), series.epoch(11)
    common, ia, ib = np.intersect1d(a.sat, b.sat, return_indices=True)
    rate_hz = b.cp_cyc[ib, 0] - a.cp_cyc[ia, 0]
    mean_dop = -(a.dop_hz[ia, 0].astype(float) + b.dop_hz[ib, 0]) / 2.0
    assert common.size >= 3
    np.testing.assert_allclose(rate_hz, mean_dop, atol=0.05)  # Hz: Doppler leaves out only the iono rate


def test_receiver_streams_do_not_depend_on_other_receivers_and_seed_matters():
    env = ReceiverEnv()
    a, b = _receiver("AAAA", env=env), _receiver("BBBB", lat=30.7, env=env)
    cfg = SimConfig(start_gpst_ns=T0_NS, duration_s=20.0, seed=11, block_s=6.0)
    both = Simulator(cfg, [a, b], SATS, _states).run()
    alone = Simulator(cfg, [b], SATS, _states).run()
    np.testing.assert_array_equal(both["BBBB"].pr_m, alone["BBBB"].pr_m)
    np.testing.assert_array_equal(both["BBBB"].cp_cyc, alone["BBBB"].cp_cyc)
    other = Simulator(SimConfig(start_gpst_ns=T0_NS, duration_s=20.0, seed=12, block_s=6.0), [b], SATS, _states).run()
    assert not np.allclose(other["BBBB"].pr_m, alone["BBBB"].pr_m, equal_nan=True)


def test_epoch_stream_equals_the_series():
    cfg = SimConfig(start_gpst_ns=T0_NS, duration_s=8.0, seed=1, block_s=3.0)
    receivers = [_receiver("AAAA"), _receiver("BBBB", lat=31.0)]
    series = Simulator(cfg, receivers, SATS, _states).run()
    stream = list(Simulator(cfg, receivers, SATS, _states).epochs())
    assert len(stream) == 8
    for i, (t, epochs) in enumerate(stream):
        for name, ep in epochs.items():
            ref = series[name].epoch(i)
            assert ep.t_gpst_ns == t == ref.t_gpst_ns
            np.testing.assert_array_equal(ep.sat, ref.sat)
            np.testing.assert_array_equal(ep.cp_cyc, ref.cp_cyc)


@pytest.mark.parametrize("kind", ["jump", "steered"])
def test_receiver_clock_models(kind):
    import numpy.random as npr

    from gnssaug.datasets.sim.clocks import ReceiverClockModel

    t = np.arange(0.0, 7200.0)
    off, drift = ReceiverClockModel(kind=kind).offsets(npr.default_rng(4), t)
    assert np.all(np.abs(off) <= 0.5e-3 + 1e-12)
    if kind == "jump":
        steps = np.diff(off)
        jumps = np.abs(steps) > 1e-4
        np.testing.assert_allclose(np.abs(steps[jumps]), 1e-3, atol=2e-6)
    else:
        assert np.abs(off).max() < 1e-7
