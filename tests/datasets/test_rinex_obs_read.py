"""RINEX observation reading: header records, slots and codes, quirks of the shared files, defect files."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from gnssaug.datasets.rinex import ObsFileWarning, read_obs, read_obs_header
from gnssaug.errors import FileFormatError
from gnssaug.gnss import BDS, GLO_FCN_UNKNOWN, SAT_SYSTEM, SYSTEMS, parse_sv
from gnssaug.time import gpst_ns_from_calendar

DATA = Path(__file__).resolve().parents[1] / "data"
S = 10**9


def _row(series, epoch, sv):
    lo, hi = series.offsets[epoch], series.offsets[epoch + 1]
    hits = np.flatnonzero(series.sat[lo:hi] == parse_sv(sv))
    assert hits.size == 1, f"{sv} not in epoch {epoch}"
    return lo + hits[0]


def _read_quiet(path, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = read_obs(path, **kw)
    return out, [str(w.message) for w in caught if issubclass(w.category, ObsFileWarning)]


@pytest.fixture(scope="module")
def nagoya_rover(nagoya_dir):
    return read_obs(nagoya_dir / "rover.obs")


def test_nagoya_header(nagoya_rover):
    h, _ = nagoya_rover
    assert h.version == 3.04
    assert h.marker_name == "SEPT"
    assert h.receiver_type == "SEPT MOSAIC-X5"
    np.testing.assert_array_equal(h.approx_pos_ecef_m, [-3817680.9841, 3562840.0688, 3650158.4543])
    assert h.interval_s == 1.0
    assert h.leap_seconds == 18
    assert h.time_system == "GPS"
    # The SYS / # / OBS TYPES continuation line completes GPS to 17 codes, X1 included.
    assert len(h.obs_types["G"]) == 17 and h.obs_types["G"][0] == "X1" and h.obs_types["G"][-1] == "S5Q"
    assert h.glo_fcn[parse_sv("R01")] == 1 and h.glo_fcn[parse_sv("R02")] == -4
    assert h.glo_fcn[parse_sv("R05")] == GLO_FCN_UNKNOWN
    assert h.time_first_gpst_ns == gpst_ns_from_calendar(2024, 6, 24, 8, 20, 0)
    assert h.time_last_gpst_ns == gpst_ns_from_calendar(2024, 6, 24, 8, 25, 0)


def test_nagoya_values_of_first_epoch(nagoya_rover):
    _, s = nagoya_rover
    assert len(s) == 301
    assert s.t_gpst_ns[0] == gpst_ns_from_calendar(2024, 6, 24, 8, 20, 0)
    assert np.all(np.diff(s.t_gpst_ns) == S)
    r = _row(s, 0, "C01")
    # C01 line: C2I 36842422.530, L2I 191848164.080 (LLI 0, SSI 7), D2I 161.587, S2I 44.438,
    # then C7I 36842420.234 in the B2I slot; X1 (9.000) is skipped.
    assert s.pr_m[r, 0] == 36842422.530 and s.cp_cyc[r, 0] == 191848164.080
    assert s.dop_hz[r, 0] == np.float32(161.587) and s.cn0_dbhz[r, 0] == np.float32(44.438)
    assert chr(s.code[r, 0]) == "I" and s.lli[r, 0] == 0
    assert s.pr_m[r, 2] == 36842420.234 and chr(s.code[r, 2]) == "I"
    assert not np.any(s.pr_m == 9.0)
    bds = np.unique(s.sat[SAT_SYSTEM[s.sat] == BDS])
    assert 25 <= bds.size <= 26 and parse_sv("C59") in bds and parse_sv("C60") in bds


def test_sorted_satellites_and_slot_preference(nagoya_rover):
    _, s = nagoya_rover
    for i in (0, 150, 300):
        ep = s.epoch(i)
        assert np.all(np.diff(ep.sat) > 0)
    # GPS L2 has C2W and C2L: W ranks first, so a satellite with both keeps W with its own phase.
    r = _row(s, 0, "G05")
    assert chr(s.code[r, 1]) == "W"
    assert s.pr_m[r, 1] == 20590787.352


def test_systems_filter(nagoya_dir):
    _, s = read_obs(nagoya_dir / "rover.obs", systems="C")
    assert set(SYSTEMS[k] for k in SAT_SYSTEM[s.sat]) == {"C"}


def test_tst2019_ublox_tags_kept_exactly(data_dir):
    h, s = read_obs(data_dir / "hk_tst_20190428" / "COM3_190428_124409.obs")
    assert h.version == 3.03
    assert s.t_gpst_ns[0] == gpst_ns_from_calendar(2019, 4, 28, 12, 44, 33_997_000_000)
    assert s.t_gpst_ns[0] == h.time_first_gpst_ns
    assert s.t_gpst_ns[-1] == h.time_last_gpst_ns
    # G19 at the first epoch: pseudorange, no phase but an LLI digit, Doppler -964.165.
    r = _row(s, 0, "G19")
    assert s.pr_m[r, 0] == 19761890.586 and np.isnan(s.cp_cyc[r, 0]) and s.dop_hz[r, 0] == np.float32(-964.165)


def test_tst2020_rinex302_bds_b1i_label(data_dir):
    h, s = read_obs(data_dir / "hk_tst_20200603" / "2020_06_03_TST_03.obs")
    assert h.version == 3.02 and h.obs_types["C"][0] == "C1I"
    r = _row(s, 0, "C23")
    assert s.pr_m[r, 0] == 24699514.992 and chr(s.code[r, 0]) == "I"


def test_wuhn_crx_mixed_despite_gps_header(wuhn_dir):
    h, s = read_obs(wuhn_dir / "WUHN00CHN_R_20250010000_01D_30S_MO.crx")
    assert h.file_type == "G" and h.version == 3.01
    systems = {SYSTEMS[k] for k in SAT_SYSTEM[np.unique(s.sat)]}
    assert systems == {"G", "R", "C"}  # Galileo declared but empty
    assert s.t_gpst_ns[0] == gpst_ns_from_calendar(2025, 1, 1, 0, 0, 30 * S)
    assert s.t_gpst_ns[-1] == gpst_ns_from_calendar(2025, 1, 2, 0, 0, 0)
    np.testing.assert_allclose(h.antenna_delta_hen_m, [2.3612, -0.0022, -0.0094])
    # Doppler written as ".000" on L2 is missing, not zero.
    assert not np.any(s.dop_hz == 0.0)
    r = _row(s, 0, "G10")
    assert s.pr_m[r, 0] == 20264062.969 and np.isnan(s.dop_hz[r, 1])


def test_header_only(nagoya_dir):
    h = read_obs_header(nagoya_dir / "base.obs")
    assert h.marker_name and h.n_lines > 30


# ---- tiny defect files -------------------------------------------------------------------------


def test_tiny_reference_file():
    (h, s), warned = _read_quiet(DATA / "rinex304_tiny.rnx")
    assert warned == []
    assert len(s) == 3 and s.n_rows == 12
    np.testing.assert_array_equal(s.t_gpst_ns - s.t_gpst_ns[0], [0, S, 2 * S])


def test_truncated_epochs_are_skipped_with_warning():
    (_, s), warned = _read_quiet(DATA / "truncated_epoch.rnx")
    assert len(s) == 1 and s.n_rows == 4
    assert any("truncated_epoch.rnx:22" in w and "truncated" in w for w in warned)
    assert any("truncated_epoch.rnx:26" in w for w in warned)


def test_bad_field_skips_its_epoch():
    (_, s), warned = _read_quiet(DATA / "bad_field.rnx")
    assert len(s) == 2 and s.t_gpst_ns[1] - s.t_gpst_ns[0] == 2 * S
    assert len(warned) == 1 and "bad_field.rnx:23" in warned[0]


def test_event_and_cycle_slip_records_are_skipped():
    (_, s), warned = _read_quiet(DATA / "event_flags.rnx")
    assert warned == []
    assert len(s) == 3
    np.testing.assert_array_equal(s.flag, [0, 1, 0])


def test_duplicate_satellite_keeps_first_record():
    (_, s), warned = _read_quiet(DATA / "duplicate_satellite.rnx")
    assert len(s) == 2 and s.offsets[1] == 4
    assert len(warned) == 1 and "twice" in warned[0]


def test_bdt_time_system_converted_to_gpst():
    h, s = read_obs(DATA / "bdt_time_system.rnx")
    assert h.time_system == "BDT"
    assert s.t_gpst_ns[0] == gpst_ns_from_calendar(2024, 6, 24, 8, 20, 14 * S)
    assert h.time_first_gpst_ns == s.t_gpst_ns[0]


@pytest.mark.parametrize(
    ("name", "line", "words"),
    [
        ("blank.rnx", 1, "not a RINEX file"),
        ("bad_header.rnx", 10, "SYS / # / OBS TYPES"),
        ("missing_end_of_header.rnx", 9, "END OF HEADER"),
    ],
)
def test_broken_headers_raise_file_format_error(name, line, words):
    with pytest.raises(FileFormatError) as info:
        read_obs(DATA / name)
    assert info.value.line == line and words in str(info.value) and name in str(info.value)


def test_corrupt_gzip_raises_file_format_error(tmp_path):
    bad = tmp_path / "corrupt.rnx.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(FileFormatError, match="decompress"):
        read_obs(bad)


def test_glonass_and_utc_time_systems():
    from gnssaug.datasets.rinex.obs_header import to_gpst_ns

    utc = gpst_ns_from_calendar(2024, 6, 24, 8, 20, 0)  # the calendar fields read as UTC
    gpst = gpst_ns_from_calendar(2024, 6, 24, 8, 20, 18 * S)  # GPS - UTC = 18 s in 2024
    assert to_gpst_ns(utc, "UTC", 18) == gpst
    assert to_gpst_ns(utc + 3 * 3600 * S, "GLO", None) == gpst  # GLONASST = UTC + 3 h, leap from table
    assert to_gpst_ns(utc, "GAL") == utc


def test_epochs_out_of_order_are_sorted():
    (_, s), warned = _read_quiet(DATA / "epochs_out_of_order.rnx")
    (_, ref), _ = _read_quiet(DATA / "rinex304_tiny.rnx")
    assert len(warned) == 1 and "time order" in warned[0]
    np.testing.assert_array_equal(s.t_gpst_ns, ref.t_gpst_ns)
    np.testing.assert_array_equal(s.sat, ref.sat)
    np.testing.assert_array_equal(s.pr_m, ref.pr_m)
