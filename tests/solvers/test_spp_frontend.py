"""The SPP front end (row preparation, group delays, IF combination, batch) with a fake ephemeris.

Satellites are fixed in ECEF (the fake store ignores time), so the pseudoranges are known exactly
apart from the Earth-rotation term the solver models; clocks and group delays are chosen per satellite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from gnssaug.atmosphere import slant_delay_m
from gnssaug.constants import C_MPS, OMEGA_E_GPS_RADPS
from gnssaug.geodesy import az_el, ecef_from_llh_deg, enu_rotation, llh_from_ecef
from gnssaug.gnss import BAND_FREQ_HZ, BDS, GPS, N_BAND, parse_sv
from gnssaug.obs import ObsEpoch, ObsSeries
from gnssaug.solvers.spp import SppOptions, _epoch_times, solve_epoch, solve_spp
from gnssaug.solvers.types import SolStatus

RX = ecef_from_llh_deg(35.0, 137.0, 50.0)
SVS = ["G02", "G05", "G07", "G13", "G20", "G30", "C08", "C21", "C26", "C33", "C40"]
SAT = np.array(sorted(parse_sv(s) for s in SVS), dtype=np.int16)
CLK_S = np.linspace(-1e-4, 1e-4, SAT.size)
TGD_S = 5e-9
RX_CLK_M = 3000.0
T0_NS = 1_400_000_000 * 10**9
TOL_M = 0.02  # exact data: only the first-order Sagnac approximation and convergence remain


@dataclass
class _States:
    pos_ecef_m: np.ndarray
    clk_s: np.ndarray
    valid: np.ndarray


class FakeEph:
    """Satellites fixed in ECEF over the receiver, constant clocks, one group delay for every slot."""

    def __init__(self):
        llh = llh_from_ecef(RX)
        rot = enu_rotation(llh[0], llh[1])
        rng = np.random.default_rng(4)
        az = np.linspace(0, 2 * np.pi, SAT.size, endpoint=False)
        el = np.radians(rng.uniform(25, 85, SAT.size))
        los = np.stack([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)], axis=1) @ rot
        self.pos = {int(s): RX + 2.2e7 * los[i] for i, s in enumerate(SAT)}
        self.clk = {int(s): CLK_S[i] for i, s in enumerate(SAT)}

    def sat_states(self, sat, t_gpst_ns, dt_s):
        pos = np.array([self.pos.get(int(s), np.full(3, np.nan)) for s in sat]).reshape(-1, 3)
        clk = np.array([self.clk.get(int(s), np.nan) for s in sat])
        return _States(pos, clk, np.isfinite(clk))

    def group_delay_s(self, sat, slot, t_gpst_ns=None):
        return np.full(np.shape(sat), TGD_S)


class _Nav:
    gps_klobuchar_alpha = np.full(4, np.nan)
    gps_klobuchar_beta = np.full(4, np.nan)
    bds_klobuchar_alpha = np.full(4, np.nan)
    bds_klobuchar_beta = np.full(4, np.nan)
    glo_fcn = None


def _epoch(eph: FakeEph, t_ns: int, slots=(0, 1)) -> ObsEpoch:
    n = SAT.size
    pr = np.full((n, N_BAND), np.nan)
    llh = llh_from_ecef(RX)
    _, el_rad = az_el(RX, np.array([eph.pos[int(s)] for s in SAT]))
    _, doy = _epoch_times(np.array([t_ns], dtype=np.int64))
    for i, s in enumerate(SAT):
        sp = eph.pos[int(s)]
        rho = np.linalg.norm(sp - RX) + OMEGA_E_GPS_RADPS * (sp[0] * RX[1] - sp[1] * RX[0]) / C_MPS
        # the solver's own troposphere model at the true position (no ionosphere in the fake data)
        rho += slant_delay_m(llh[0], llh[2], el_rad[i], doy[0])
        for k in slots:
            pr[i, k] = rho + RX_CLK_M - C_MPS * CLK_S[i] + C_MPS * TGD_S
    ep = ObsEpoch.empty(t_ns, SAT)
    return ObsEpoch(t_ns, SAT, pr, ep.cp_cyc, ep.dop_hz, ep.cn0_dbhz, ep.lli, ep.code)


def _opts(**kw):
    # the fake ranges are from RX itself (the antenna's instantaneous position): no tide to take out
    base = dict(systems="GC", elmask_deg=10.0, iono="none", max_exclude=0, init_pos_ecef_m=RX + 1000.0,
                tide_free=False)
    base.update(kw)
    return SppOptions(**base)


def test_solve_spp_series_with_group_delays():
    eph = FakeEph()
    series = ObsSeries.from_epochs([_epoch(eph, T0_NS), _epoch(eph, T0_NS + 10**9)])
    sols, used = solve_spp(series, _Nav(), eph, _opts())
    assert list(sols.status) == [SolStatus.SPP, SolStatus.SPP]
    assert used.all() and (sols.n_sat == SAT.size).all()
    assert np.linalg.norm(sols.pos_ecef_m - RX, axis=1).max() < TOL_M
    assert sols.clk_bias_m[0, 0] == pytest.approx(RX_CLK_M, abs=TOL_M)  # GPS
    assert sols.clk_bias_m[0, 5] == pytest.approx(RX_CLK_M, abs=TOL_M)  # BDS-3
    assert np.isnan(sols.clk_bias_m[0, 1])


def test_iono_free_combination_reduces_to_the_same_range():
    eph = FakeEph()
    ep = _epoch(eph, T0_NS, slots=(0, 1))
    series = ObsSeries.from_epochs([ep])
    sols_if, _ = solve_spp(series, _Nav(), eph, _opts(iono="if"))
    sols_l1, _ = solve_spp(series, _Nav(), eph, _opts(iono="none"))
    # identical code on both bands: the IF combination equals the single-frequency range
    np.testing.assert_allclose(sols_if.pos_ecef_m, sols_l1.pos_ecef_m, atol=1e-3)
    assert BAND_FREQ_HZ[GPS, 1] > 0 and BAND_FREQ_HZ[BDS, 1] > 0


def test_single_epoch_front_end_and_missing_signals():
    eph = FakeEph()
    sol = solve_epoch(_epoch(eph, T0_NS), _Nav(), eph, _opts(systems="G"))
    assert sol.status is SolStatus.SPP and sol.n_sat == 6
    assert sorted(sol.sats) == sorted(int(s) for s in SAT[:6])
    # IF mode without second-frequency code: no usable satellites, a status and a reason
    sol = solve_epoch(_epoch(eph, T0_NS, slots=(0,)), _Nav(), eph, _opts(iono="if"))
    assert sol.status is SolStatus.NONE and "fewer satellites" in sol.reason


def test_glonass_channels_merge_header_over_nav():
    from gnssaug.gnss import GLO_FCN_UNKNOWN
    from gnssaug.solvers.spp import _merge_fcn

    header = np.array([GLO_FCN_UNKNOWN, 3, GLO_FCN_UNKNOWN], dtype=np.int8)
    nav = np.array([-2, 1, GLO_FCN_UNKNOWN], dtype=np.int8)
    np.testing.assert_array_equal(_merge_fcn(header, nav), [-2, 3, GLO_FCN_UNKNOWN])
    assert _merge_fcn(None, nav) is nav and _merge_fcn(header, None) is header


def test_tide_free_positions_are_the_instantaneous_ones_minus_the_tide():
    from gnssaug.tides import solid_tide_ecef_m

    eph = FakeEph()
    series = ObsSeries.from_epochs([_epoch(eph, T0_NS + k * 3_600_000_000_000) for k in range(3)])
    inst, _ = solve_spp(series, _Nav(), eph, _opts())
    free, _ = solve_spp(series, _Nav(), eph, _opts(tide_free=True))
    tide = solid_tide_ecef_m(inst.pos_ecef_m, series.t_gpst_ns)
    assert np.all(np.linalg.norm(tide, axis=1) > 0.01)  # a real displacement, or this proves nothing
    np.testing.assert_allclose(free.pos_ecef_m, inst.pos_ecef_m - tide, atol=1e-6)
