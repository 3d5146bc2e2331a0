"""RINEX 3.04 observation writing: round trips, and files RTKLIB and georinex read."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import rtklib_tool

from gnssaug.datasets.rinex import ObsHeader, read_obs, write_obs
from gnssaug.gnss import N_BAND, parse_sv
from gnssaug.obs import ObsSeries
from gnssaug.time import gpst_ns_from_calendar

DATA = Path(__file__).resolve().parents[1] / "data"
#: RINEX writes F14.3: a value comes back within half a unit of the third decimal.
RINEX_RESOLUTION = 0.001
FIELDS = ("pr_m", "cp_cyc", "dop_hz", "cn0_dbhz")


def _assert_round_trip(a: ObsSeries, b: ObsSeries, atol: float = 0.0):
    np.testing.assert_array_equal(a.t_gpst_ns, b.t_gpst_ns)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    np.testing.assert_array_equal(a.sat, b.sat)
    np.testing.assert_array_equal(a.flag, b.flag)
    np.testing.assert_array_equal(a.code, b.code)
    np.testing.assert_array_equal(a.lli, b.lli)
    for name in FIELDS:
        x, y = getattr(a, name).astype(np.float64), getattr(b, name).astype(np.float64)
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=name)
        np.testing.assert_allclose(x, y, rtol=0, atol=atol, err_msg=name)


@pytest.fixture(scope="module")
def nagoya_written(nagoya_dir, tmp_path_factory):
    header, series = read_obs(nagoya_dir / "rover.obs")
    out = tmp_path_factory.mktemp("write") / "rover_gnssaug.obs"
    write_obs(out, header, series)
    return header, series, out


def test_nagoya_round_trip_is_exact(nagoya_written):
    header, series, out = nagoya_written
    h2, s2 = read_obs(out)
    # Values came from F14.3 text, so they come back bit for bit.
    _assert_round_trip(series, s2)
    assert h2.version == 3.04 and h2.marker_name == header.marker_name
    np.testing.assert_array_equal(h2.glo_fcn, header.glo_fcn)
    np.testing.assert_array_equal(h2.approx_pos_ecef_m, header.approx_pos_ecef_m)
    assert h2.time_first_gpst_ns == series.t_gpst_ns[0] and h2.time_last_gpst_ns == series.t_gpst_ns[-1]
    assert h2.interval_s == 1.0 and h2.leap_seconds == 18
    assert "X1" not in h2.obs_types["G"] and h2.obs_types["C"][:2] == ["C2I", "L2I"]


def _synthetic_series(rng) -> ObsSeries:
    """Three epochs (u-blox-like tags off the second) of GPS, GLONASS and BDS with odd values."""
    sats = np.array([parse_sv(s) for s in ("G01", "G32", "R07", "C01", "C19", "C59")], dtype=np.int16)
    n_epoch, n = 3, sats.size
    t0 = gpst_ns_from_calendar(2024, 1, 2, 3, 4, 5_004_000_000)
    shape = (n_epoch * n, N_BAND)
    pr = rng.uniform(2.0e7, 4.0e7, shape)
    cp = rng.uniform(-1.0e9, 2.2e8, shape)  # negative phases happen after receiver resets
    dop = rng.uniform(-5000, 5000, shape).astype(np.float32)
    cn0 = rng.uniform(20, 55, shape).astype(np.float32)
    is_bds = np.arange(shape[0]) % n >= 3
    code = np.zeros(shape, dtype=np.uint8)
    code[:, 0] = np.where(is_bds, ord("I"), ord("C"))  # GPS L1 C/A, GLONASS G1 C/A, BDS B1I
    code[is_bds, 1] = ord("I")  # BDS B3I
    empty = code == 0
    for arr in (pr, cp, dop, cn0):
        arr[empty] = np.nan
    pr[4, 0] = np.nan  # phase without pseudorange
    dop[5, 1] = np.nan
    lli = np.where(code != 0, rng.integers(0, 4, shape), 0).astype(np.uint8)
    lli[np.isnan(cp)] = 0
    return ObsSeries(
        t_gpst_ns=(t0 + np.arange(n_epoch) * 10**9).astype(np.int64),
        offsets=np.arange(0, n * n_epoch + 1, n, dtype=np.int64),
        flag=np.array([0, 1, 0], dtype=np.uint8),
        sat=np.tile(sats, n_epoch),
        pr_m=pr, cp_cyc=cp, dop_hz=dop, cn0_dbhz=cn0, lli=lli, code=code,
    )


def test_synthetic_round_trip_within_resolution(tmp_path):
    series = _synthetic_series(np.random.default_rng(7))
    out = tmp_path / "synthetic.rnx"
    write_obs(out, ObsHeader(marker_name="SIM1"), series)
    header, back = read_obs(out)
    _assert_round_trip(series, back, atol=RINEX_RESOLUTION / 2 * (1 + 1e-6))
    assert header.marker_name == "SIM1"
    assert back.t_gpst_ns[0] % 10**9 == 4_000_000  # the 4 ms tag offset survives


def test_written_file_reads_in_georinex(tmp_path):
    georinex = pytest.importorskip("georinex")
    _, series = read_obs(DATA / "rinex304_tiny.rnx")
    out = tmp_path / "tiny_written.rnx"
    write_obs(out, ObsHeader(), series)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = georinex.load(out)
    assert ds.time.size == 3
    assert float(ds["C2I"].sel(sv="C01").values[0]) == 36842422.530
    assert float(ds["L1C"].sel(sv="G05").values[2]) == 108205556.594


def _rnx2rtkp(tool, obs, nav, out):
    subprocess.run([tool, "-p", "0", "-o", str(out), str(obs), str(nav)], check=True, capture_output=True, timeout=120)
    return [line for line in Path(out).read_text().splitlines() if not line.startswith("%")]


@pytest.mark.rtklib
def test_rnx2rtkp_solves_written_file_like_the_original(nagoya_dir, nagoya_written, tmp_path):
    tool = rtklib_tool("rnx2rtkp")
    _, series, out = nagoya_written
    nav = nagoya_dir / "base.nav"
    ours = _rnx2rtkp(tool, out, nav, tmp_path / "written.pos")
    original = _rnx2rtkp(tool, nagoya_dir / "rover.obs", nav, tmp_path / "original.pos")
    assert len(ours) >= len(series) - 1  # a single-point solution for (nearly) every epoch
    assert ours == original


def test_wuhn_day_round_trip_is_exact(wuhn_dir, tmp_path):
    # RINEX 3.01 Hatanaka input (trimmed lines, ".000" Dopplers, GLONASS P code on G2) -> 3.04 text.
    header, series = read_obs(wuhn_dir / "WUHN00CHN_R_20250010000_01D_30S_MO.crx")
    out = tmp_path / "wuhn.rnx"
    write_obs(out, header, series)
    _, back = read_obs(out)
    _assert_round_trip(series, back)


@pytest.mark.rtklib
def test_convbin_reads_written_file(tmp_path):
    tool = rtklib_tool("convbin")
    _, series = read_obs(DATA / "rinex304_tiny.rnx")
    ours = tmp_path / "tiny_written.rnx"
    write_obs(ours, ObsHeader(), series)
    converted = tmp_path / "tiny_convbin.obs"
    subprocess.run([tool, "-r", "rinex", "-v", "3.04", "-od", "-os", "-o", str(converted), str(ours)],
                   check=True, capture_output=True, timeout=60)
    _, back = read_obs(converted)
    np.testing.assert_array_equal(back.t_gpst_ns, series.t_gpst_ns)
    np.testing.assert_array_equal(back.sat, series.sat)
    for name in ("pr_m", "cp_cyc"):
        np.testing.assert_array_equal(getattr(back, name), getattr(series, name))
