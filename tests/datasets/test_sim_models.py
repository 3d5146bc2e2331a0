"""Error models of the simulator: documented ranges, switches and seeding."""

from __future__ import annotations

import numpy as np

from gnssaug.datasets.sim.clocks import OrbitClockErrorModel
from gnssaug.datasets.sim.iono import IonoModel
from gnssaug.datasets.sim.noise import code_elevation_bias_m, signal_table
from gnssaug.datasets.sim.tropo import TropoModel
from gnssaug.gnss import BDS, GAL, GPS, sat_index
from tests.datasets.sim_helpers import circular_states


def test_vtec_diurnal_shape_gradient_and_disturbances():
    model = IonoModel()
    params = model.params(np.random.default_rng(1))
    hours = np.arange(0, 24, 0.25)
    lon = 114.3
    sod = ((hours - lon / 15.0) % 24) * 3600.0  # UTC seconds of day of each local time
    v = model.vtec_tecu(params, 30.5, lon, hours * 3600.0, sod)
    day, night = v[(hours > 12) & (hours < 16)], v[(hours < 4)]
    assert 40.0 <= day.mean() <= 80.0  # daytime peak at 30 N near solar maximum
    assert 5.0 <= night.mean() <= 20.0
    north = model.vtec_tecu(params, 33.0, lon, 6 * 3600.0, 6 * 3600.0)
    south = model.vtec_tecu(params, 29.0, lon, 6 * 3600.0, 6 * 3600.0)
    assert north < south
    # Travelling disturbances: the field minus its smooth part varies by TECU over 100-300 km.
    quiet = IonoModel(tid_rms_tecu=0.0, lstid_rms_tecu=0.0).params(np.random.default_rng(1))
    lats = np.linspace(29.0, 33.0, 200)
    wave = model.vtec_tecu(params, lats, lon, 0.0, 6 * 3600.0) - IonoModel().vtec_tecu(quiet, lats, lon, 0.0,
                                                                                      6 * 3600.0)
    assert 0.3 < np.std(wave) < 3.0


def test_iono_switch_and_seed():
    off = IonoModel(enabled=False)
    p = off.params(np.random.default_rng(0))
    assert off.vtec_tecu(p, 30.0, 114.0, 0.0, 21600.0) == 0.0
    a = IonoModel().params(np.random.default_rng(5))
    b = IonoModel().params(np.random.default_rng(5))
    c = IonoModel().params(np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_zenith_wet_delay_between_5_and_30_cm_over_the_seasons_and_smooth():
    model = TropoModel()
    params = model.params(np.random.default_rng(2))
    llh = np.array([np.radians(30.5), np.radians(114.3), 25.0])
    t = np.arange(0.0, 3600.0, 60.0)
    zhd_w, zwd_w = model.zenith_delays_m(params, llh, t, doy=15.0)
    _, zwd_s = model.zenith_delays_m(params, llh, t, doy=197.0)
    assert 0.04 < zwd_w.mean() < 0.10 and 0.20 < zwd_s.mean() < 0.35
    assert 2.25 < zhd_w.mean() < 2.35  # Saastamoinen at sea level, +-4 hPa weather
    assert np.abs(np.diff(zwd_s)).max() < 0.005  # smooth in time: mm per minute
    high = np.array([np.radians(31.0), np.radians(110.0), 1300.0])
    _, zwd_high = model.zenith_delays_m(params, high, t, doy=197.0)
    assert zwd_high.mean() < 0.6 * zwd_s.mean()
    off = TropoModel(enabled=False).zenith_delays_m(params, llh, t, 15.0)
    assert not np.any(off[0]) and not np.any(off[1])


def test_broadcast_orbit_and_clock_errors_are_about_a_metre_and_slow():
    sat = np.array([sat_index(GPS, 5), sat_index(GAL, 11), sat_index(BDS, 3), sat_index(BDS, 30)], dtype=np.int16)
    model = OrbitClockErrorModel()
    params = model.params(np.random.default_rng(3), sat)
    t = np.arange(0.0, 7200.0, 30.0)
    pos, vel, clk, drift, _ = circular_states(sat, (t * 1e9).astype(np.int64))
    pos0, clk0 = pos.copy(), clk.copy()
    OrbitClockErrorModel.apply(params, t, pos, vel, clk, drift)
    err = np.linalg.norm(pos - pos0, axis=2)
    assert 0.1 < np.median(err) < 3.0
    assert np.abs(np.diff(err, axis=0)).max() < 0.05  # centimetres per 30 s: slowly varying
    clk_err_m = (clk - clk0) * 299_792_458.0
    assert 0.05 < np.median(np.abs(clk_err_m)) < 3.0
    OrbitClockErrorModel.apply(OrbitClockErrorModel(enabled=False).params(np.random.default_rng(3), sat), t,
                               pos0, vel, clk0, drift)
    np.testing.assert_array_equal(pos0, circular_states(sat, (t * 1e9).astype(np.int64))[0])


def test_signal_plan_per_satellite():
    sats = np.array([sat_index(GPS, 1), sat_index(GPS, 2), sat_index(GAL, 1), sat_index(BDS, 3),
                     sat_index(BDS, 11), sat_index(BDS, 30), sat_index(BDS, 60)], dtype=np.int16)
    table = signal_table(sats)
    have = np.isfinite(table.freq_hz)
    assert have[0].tolist()[:3] == [True, True, True]  # GPS IIF: L1, L2, L5
    assert have[1].tolist()[:3] == [True, True, False]  # GPS IIR: no L5
    assert have[2].tolist()[:3] == [True, True, True]  # Galileo E1, E5a, E5b
    assert have[3].tolist()[:5] == [True, True, True, False, False]  # BDS-2 GEO: B1I, B3I, B2I
    assert have[5].tolist()[:5] == [True, True, False, True, True]  # BDS-3 MEO: B1I, B3I, B1C, B2a
    assert have[6].tolist()[:5] == [True, True, False, False, False]  # BDS-3 GEO: B1I, B3I
    bias = code_elevation_bias_m(sats)
    assert np.abs(bias[4]).max() > 0.5 and not bias[5].any() and not bias[3].any()
