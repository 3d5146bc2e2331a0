"""RINEX 2.11 observation files and packed files (gzip, Hatanaka) read like their RINEX 3 / plain twins."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import hatanaka
import numpy as np
import pytest

from gnssaug.datasets.rinex import read_obs
from gnssaug.datasets.rinex.obs_codes import v2_to_v3
from gnssaug.gnss import GLO, GPS, parse_sv

DATA = Path(__file__).resolve().parents[1] / "data"
FLOAT_FIELDS = ("pr_m", "cp_cyc", "dop_hz", "cn0_dbhz")


def _assert_same_series(a, b, fields=FLOAT_FIELDS + ("lli", "code")):
    np.testing.assert_array_equal(a.t_gpst_ns, b.t_gpst_ns)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    np.testing.assert_array_equal(a.sat, b.sat)
    for name in fields:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.fixture(scope="module")
def v2_and_v3(nagoya_dir):
    """rinex211_convbin_nagoya.rnx is RTKLIB convbin's RINEX 2.11 copy of the first 2 s of rover.obs."""
    _, v2 = read_obs(DATA / "rinex211_convbin_nagoya.rnx")
    _, v3 = read_obs(nagoya_dir / "rover.obs", systems="GRE")
    return v2, v3


def test_rinex2_values_equal_rinex3_source(v2_and_v3):
    v2, v3 = v2_and_v3
    assert len(v2) == 2
    np.testing.assert_array_equal(v2.t_gpst_ns, v3.t_gpst_ns[:2])
    n = int(v2.offsets[-1])
    np.testing.assert_array_equal(v2.sat, v3.sat[:n])
    for name in FLOAT_FIELDS:
        np.testing.assert_array_equal(getattr(v2, name), getattr(v3, name)[:n], err_msg=name)


def test_rinex2_codes_map_to_rinex3_modes(v2_and_v3):
    v2, v3 = v2_and_v3
    r = int(np.flatnonzero(v2.sat == parse_sv("G11"))[0])
    # L1 from C1 (C/A), L2 from P2/L2 (W), L5 undefined in 2.11 (X).
    assert [chr(c) for c in v2.code[r, :3]] == ["C", "W", "X"]
    assert v2_to_v3(GPS, "L2", ["C1", "L1", "C2", "L2"]) == "L2L"
    assert v2_to_v3(GPS, "L2", ["C1", "L1", "P2", "L2"]) == "L2W"
    assert v2_to_v3(GLO, "L1", ["P1", "L1"]) == "L1P"
    assert v2_to_v3(GPS, "LA", []) is None


@pytest.mark.parametrize("name", ["rinex304_tiny.rnx", "rinex211_convbin_nagoya.rnx"])
@pytest.mark.parametrize("packing", ["gz", "none", "bz2"])
def test_hatanaka_and_gzip_read_like_plain(tmp_path, name, packing):
    plain = DATA / name
    _, expected = read_obs(plain)
    packed = tmp_path / (name + ".packed")
    packed.write_bytes(hatanaka.compress(plain.read_bytes(), compression=packing))
    _, got = read_obs(packed)
    _assert_same_series(got, expected)


def test_gzip_of_plain_text(tmp_path):
    plain = DATA / "rinex304_tiny.rnx"
    packed = tmp_path / "tiny.rnx.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    _assert_same_series(read_obs(packed)[1], read_obs(plain)[1])


def test_crlf_line_ends(tmp_path):
    plain = DATA / "rinex304_tiny.rnx"
    crlf = tmp_path / "crlf.rnx"
    crlf.write_bytes(plain.read_bytes().replace(b"\n", b"\r\n"))
    _assert_same_series(read_obs(crlf)[1], read_obs(plain)[1])


def test_truncated_rinex2_epoch_is_skipped(tmp_path):
    lines = (DATA / "rinex211_convbin_nagoya.rnx").read_text().splitlines()
    cut = tmp_path / "truncated2.rnx"
    cut.write_text("\n".join(lines[:-10]) + "\n")
    with pytest.warns(UserWarning, match=r"truncated2.rnx:\d+: .*truncated"):
        _, s = read_obs(cut)
    assert len(s) == 1


def test_rinex4_header_reads_like_rinex3(tmp_path):
    # RINEX 4.01 keeps the 3.05 data records (RINEX 4.01 §5.3); only the version differs here.
    plain = DATA / "rinex304_tiny.rnx"
    v4 = tmp_path / "tiny_v401.rnx"
    v4.write_text(plain.read_text().replace("     3.04           OBSERVATION", "     4.01           OBSERVATION", 1))
    header, series = read_obs(v4)
    assert header.version == 4.01
    _assert_same_series(series, read_obs(plain)[1])


def test_rinex2_event_and_cycle_slip_records_are_skipped(tmp_path):
    lines = (DATA / "rinex211_convbin_nagoya.rnx").read_text().splitlines()
    second = next(i for i, line in enumerate(lines) if line.startswith(" 24 06 24 08 20 01.0000000"))
    first_sat_record = lines[20:24]  # E04 of the first epoch: 17 types on 4 lines
    extra = [
        "                            4  1",
        "EVENT RECORD WITH ONE HEADER LINE                           COMMENT",
        " 24 06 24 08 20 00.5000000  6  1E04",
        *first_sat_record,
    ]
    path = tmp_path / "events2.rnx"
    path.write_text("\n".join(lines[:second] + extra + lines[second:]) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, got = read_obs(path)
    _assert_same_series(got, read_obs(DATA / "rinex211_convbin_nagoya.rnx")[1])
