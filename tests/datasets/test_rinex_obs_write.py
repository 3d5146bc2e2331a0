"""RINEX 3.04 observation writing: round trips, and files RTKLIB and georinex read."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import rtklib_tool

from gnssaug.datasets.rinex import ObsHeader, read_obs, write_obs
from gnssaug.datasets.rinex.obs_write import ObsWriter, series_obs_types, signal_obs_types
from gnssaug.errors import InvalidInputError
from gnssaug.gnss import N_BAND, parse_sv
from gnssaug.kernels.rinex_text import format_fixed_float
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


def _slice(series: ObsSeries, lo: int, hi: int) -> ObsSeries:
    """Epochs ``lo:hi`` of a series."""
    a, b = int(series.offsets[lo]), int(series.offsets[hi])
    rows = {f: getattr(series, f)[a:b] for f in ("sat", *FIELDS, "lli", "code")}
    return ObsSeries(series.t_gpst_ns[lo:hi], series.offsets[lo : hi + 1] - a, series.flag[lo:hi], **rows)


def _label(line: str) -> str:
    return line[60:].strip()


def _without_run_date(path) -> list[str]:
    return [line for line in Path(path).read_text().splitlines() if _label(line) != "PGM / RUN BY / DATE"]


def test_streamed_blocks_give_the_same_file_as_write_obs(nagoya_written, tmp_path):
    header, series, whole = nagoya_written
    out = tmp_path / "blocks.obs"
    cuts = [0, 1, 7, 300, len(series)]  # blocks of 1, 6, 293 and the rest
    with ObsWriter(out, header, series_obs_types(series)) as writer:
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            writer.write(_slice(series, lo, hi))
    assert _without_run_date(out) == _without_run_date(whole)
    h2, _ = read_obs(out)  # TIME OF LAST OBS was filled in at close
    assert h2.time_last_gpst_ns == series.t_gpst_ns[-1]
    n_sat = next(line for line in _without_run_date(out) if _label(line) == "# OF SATELLITES")
    assert int(n_sat[:6]) == np.unique(series.sat).size


def test_writer_leaves_out_systems_without_types(tmp_path):
    series = _synthetic_series(np.random.default_rng(3))
    out = tmp_path / "bds_only.rnx"
    types = {"C": series_obs_types(series)["C"]}
    with ObsWriter(out, ObsHeader(marker_name="BDS"), types, comments=["only BeiDou"]) as writer:
        writer.write(series)
    header, back = read_obs(out)
    assert set(header.obs_types) == {"C"} and header.file_type == "C"
    keep = np.isin(series.sat, [parse_sv(s) for s in ("C01", "C19", "C59")])
    np.testing.assert_array_equal(back.sat, series.sat[keep])
    np.testing.assert_array_equal(np.diff(back.offsets), [3, 3, 3])
    assert "only BeiDou" in Path(out).read_text().splitlines()[2]


def test_writer_rejects_bad_types_and_blocks_out_of_order(tmp_path):
    with pytest.raises(InvalidInputError, match="'X1'"):
        ObsWriter(tmp_path / "a.rnx", ObsHeader(), {"G": ["C1C", "X1"]})
    with pytest.raises(InvalidInputError, match="'Q'"):
        ObsWriter(tmp_path / "b.rnx", ObsHeader(), {"Q": ["C1C"]})
    series = _synthetic_series(np.random.default_rng(5))
    with ObsWriter(tmp_path / "c.rnx", ObsHeader(), series_obs_types(series)) as writer:
        writer.write(_slice(series, 1, 3))
        with pytest.raises(InvalidInputError, match="out of order"):
            writer.write(_slice(series, 0, 1))


def test_empty_writer_leaves_a_header_with_the_given_first_time(tmp_path):
    t0 = gpst_ns_from_calendar(2025, 1, 1, 2, 0, 0)
    out = tmp_path / "empty.rnx"
    ObsWriter(out, ObsHeader(time_first_gpst_ns=t0), {"C": ["C2I", "L2I"]}).close()
    lines = Path(out).read_text().splitlines()
    assert _label(lines[-1]) == "END OF HEADER"
    assert any(_label(line) == "TIME OF FIRST OBS" and "2025     1     1     2" in line for line in lines)
    assert not any(_label(line) == "TIME OF LAST OBS" for line in lines)


def test_signal_obs_types_lists_every_kind_of_every_mode():
    sat = np.array([parse_sv("G01"), parse_sv("G02"), parse_sv("C19")], dtype=np.int16)
    code = np.zeros((3, N_BAND), dtype=np.uint8)
    code[:, 0] = [ord("C"), ord("C"), ord("I")]
    code[1, 1] = ord("W")
    assert signal_obs_types(sat, code) == {
        "G": ["C1C", "L1C", "D1C", "S1C", "C2W", "L2W", "D2W", "S2W"], "C": ["C2I", "L2I", "D2I", "S2I"],
    }


def test_records_carry_lli_and_signal_strength_and_no_trailing_blanks(tmp_path):
    series = _synthetic_series(np.random.default_rng(11))
    out = tmp_path / "fields.rnx"
    write_obs(out, ObsHeader(), series)
    lines = Path(out).read_text().splitlines()
    record = lines[lines.index(next(line for line in lines if line.startswith(">"))) + 1]
    assert record.startswith("G01") and record == record.rstrip()
    r = 0  # G01 of the first epoch: C1C L1C D1C S1C
    cn0 = float(series.cn0_dbhz[r, 0])
    ssi = str(min(9, max(1, int(cn0 / 6))))
    pr, cp = record[3:19], record[19:35]
    assert pr[:14].strip() == f"{series.pr_m[r, 0]:.3f}" and pr[14:] == " " + ssi
    lli = int(series.lli[r, 0])
    assert cp[14:] == (str(lli) if lli else " ") + ssi


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, "1.000"), (-0.0004, "0.000"), (-12.3456, "-12.346"), (123456789.1234, "123456789.123"),
     (9999999999.9994, "9999999999.999"), (-999999999.9994, "-999999999.999"),
     (np.nan, ""), (1e11, ""), (-1e10, "")],
)
def test_f14_3_fields(value, text):
    buf = np.zeros(14, dtype=np.uint8)
    written = format_fixed_float(value, 3, buf, 0, 14)
    assert buf.tobytes().decode() == text.rjust(14) and written == bool(text)
