"""RINEX 3.05 / 4.00 observation header records and quirks, against the plain ``rinex304_tiny.rnx``.

``rinex305_header_records_crlf.rnx`` is ``rinex304_tiny.rnx`` rewritten with CRLF line ends,
``SYS / PHASE SHIFT`` (with a continued satellite list), ``GLONASS COD/PHS/BIS``, ``GLONASS SLOT /
FRQ #`` over two lines, ``SYS / SCALE FACTOR`` (GPS L1C/C1C x10, every BDS type x10, values
multiplied accordingly), receiver clock offsets on the epoch lines and a flag 1 (power failure)
third epoch. ``glonass_time_leap_second.rnx`` is in GLONASS time across the 2016-12-31 leap second,
with a tag inside it (02:59:60 GLONASS time). ``shifted_time_of_first_obs_junk_epoch.rnx`` and
``rinex211_blank_in_seconds.rnx`` hold writer mistakes seen in the wild (a 14-column seconds field,
a junk ``>`` line, ``G 7`` for G07, a blank inside a seconds field, 60 s meaning the next minute).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from gnssaug.datasets.rinex import ObsFileWarning, read_obs
from gnssaug.errors import FileFormatError
from gnssaug.gnss import GPS, SAT_SYSTEM, parse_sv
from gnssaug.time import gpst_ns_from_calendar

DATA = Path(__file__).resolve().parents[1] / "data"
TINY = DATA / "rinex304_tiny.rnx"
#: Tolerances for values divided by a scale factor: far below the F14.3 resolution of 1e-3.
SCALED_ATOL = {"pr_m": 1e-6, "cp_cyc": 1e-6, "dop_hz": 1e-3, "cn0_dbhz": 1e-3}


def _read_quietly(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_obs(path)


def _assert_same(a, b, atol=None):
    for name in ("t_gpst_ns", "offsets", "sat", "lli", "code"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("pr_m", "cp_cyc", "dop_hz", "cn0_dbhz"):
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=name)
        np.testing.assert_allclose(x, y, rtol=0, atol=(atol or {}).get(name, 0), err_msg=name)


def _tiny_variant(tmp_path, name, edit):
    lines = TINY.read_text().splitlines()
    path = tmp_path / name
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def test_header_records_scale_factors_clock_offset_and_crlf():
    header, got = _read_quietly(DATA / "rinex305_header_records_crlf.rnx")
    _, ref = _read_quietly(TINY)
    assert header.version == 3.05
    assert header.scale_factors["G"] == {"L1C": 10, "C1C": 10} and header.scale_factors["C"]["S6I"] == 10
    assert got.flag.tolist() == [0, 0, 1]
    _assert_same(got, ref, SCALED_ATOL)
    # the unscaled GPS L2W pseudorange is untouched, bit for bit
    gps = SAT_SYSTEM[got.sat] == GPS
    np.testing.assert_array_equal(got.pr_m[gps, 1], ref.pr_m[gps, 1])
    assert [int(header.glo_fcn[parse_sv(f"R{p:02d}")]) for p in (1, 2, 8, 9, 10)] == [1, -4, 6, -2, -7]


def test_scale_factor_that_is_not_a_power_of_ten_is_a_clear_error(tmp_path):
    def edit(lines):
        at = lines.index(next(line for line in lines if "END OF HEADER" in line))
        return lines[:at] + ["G    7  1 C1C".ljust(60) + "SYS / SCALE FACTOR"] + lines[at:]

    with pytest.raises(FileFormatError, match=r"bad_scale\.rnx:16: SYS / SCALE FACTOR 7 is not"):
        read_obs(_tiny_variant(tmp_path, "bad_scale.rnx", edit))


def test_rinex400_header_lines(tmp_path):
    def edit(lines):
        at = lines.index(next(line for line in lines if "END OF HEADER" in line))
        extra = [
            "10.1234/abcd".ljust(60) + "DOI",
            "CC BY 4.0".ljust(60) + "LICENSE OF USE",
            "https://example.org/station".ljust(60) + "STATION INFORMATION",
        ]
        first = "     4.00           OBSERVATION DATA    M".ljust(60) + "RINEX VERSION / TYPE"
        return [first] + lines[1:at] + extra + lines[at:]

    header, got = _read_quietly(_tiny_variant(tmp_path, "v400_header.rnx", edit))
    assert header.version == 4.0
    _assert_same(got, _read_quietly(TINY)[1])


def test_lower_case_system_letters_and_time_system(tmp_path):
    def edit(lines):
        out = []
        for line in lines:
            if line.endswith("SYS / # / OBS TYPES") and line[0] != " ":
                line = line[0].lower() + line[1:]
            elif line.endswith("TIME OF FIRST OBS"):
                line = line.replace("GPS", "gps")
            elif line[:1] in "GC" and line[1:3].isdigit():
                line = line[0].lower() + line[1:]
            out.append(line)
        return out

    header, got = _read_quietly(_tiny_variant(tmp_path, "lower_case.rnx", edit))
    assert sorted(header.obs_types) == ["C", "G"] and header.time_system == "GPS"
    _assert_same(got, _read_quietly(TINY)[1])


def test_glonass_time_across_a_leap_second():
    _, s = _read_quietly(DATA / "glonass_time_leap_second.rnx")
    # 2017-01-01 02:59:59 GLONASS time = 2016-12-31 23:59:59 UTC = 2017-01-01 00:00:16 GPST (GPS - UTC 17 s);
    # 02:59:60 is the leap second itself, 03:00:00 comes after it with GPS - UTC 18 s.
    t0 = int(gpst_ns_from_calendar(2017, 1, 1, 0, 0, 16 * 10**9))
    assert (s.t_gpst_ns - t0).tolist() == [0, 10**9, 2 * 10**9, 3 * 10**9]


def test_header_only_v4_file_reads_empty(tmp_path):
    def edit(lines):
        at = lines.index(next(line for line in lines if "END OF HEADER" in line))
        return ["     4.00           OBSERVATION DATA    M".ljust(60) + "RINEX VERSION / TYPE"] + lines[1:at + 1]

    header, s = _read_quietly(_tiny_variant(tmp_path, "header_only.rnx", edit))
    assert len(s) == 0 and header.time_first_gpst_ns is not None


def test_missing_end_of_header_in_v4_file(tmp_path):
    def edit(lines):
        return [line for line in lines if "END OF HEADER" not in line]

    with pytest.raises(FileFormatError, match=r"no_end\.rnx:\d+: END OF HEADER is missing"):
        read_obs(_tiny_variant(tmp_path, "no_end.rnx", edit))


def test_shifted_time_of_first_obs_junk_epoch_line_and_blank_in_satellite_name():
    with pytest.warns(ObsFileWarning, match=r"shifted_time_of_first_obs_junk_epoch\.rnx:9: cannot read the epoch"):
        header, s = read_obs(DATA / "shifted_time_of_first_obs_junk_epoch.rnx")
    t0 = int(gpst_ns_from_calendar(2021, 7, 9, 10, 20, 0))
    assert header.time_system == "GPS" and header.time_first_gpst_ns == t0
    assert (s.t_gpst_ns - t0).tolist() == [0, 10**9]
    assert s.sat[s.offsets[1]:].tolist() == [parse_sv("G07"), parse_sv("G12")]  # "G 7" is G07
    assert s.pr_m[s.offsets[1], 0] == 22345678.912


def test_blank_inside_seconds_and_sixty_seconds_in_gps_time():
    header, s = _read_quietly(DATA / "rinex211_blank_in_seconds.rnx")
    t0 = int(gpst_ns_from_calendar(2021, 7, 9, 10, 20, 0))
    assert header.time_first_gpst_ns == t0
    assert (s.t_gpst_ns - t0).tolist() == [0, 60 * 10**9]  # "60.0000000" is 10:21:00
    assert np.diff(s.offsets).tolist() == [2, 1]


def test_fortran_overflow_asterisks_are_a_missing_value(tmp_path):
    def edit(lines):
        i = next(k for k, line in enumerate(lines) if line.startswith("G07"))
        lines[i] = lines[i][:19] + "*" * 14 + lines[i][33:]  # the C1C field of G07, first epoch
        return lines

    _, got = _read_quietly(_tiny_variant(tmp_path, "overflow_stars.rnx", edit))
    _, ref = _read_quietly(TINY)
    g07 = int(np.flatnonzero(got.sat[:got.offsets[1]] == parse_sv("G07"))[0])
    assert np.isnan(got.pr_m[g07, 0]) and got.cp_cyc[g07, 0] == ref.cp_cyc[g07, 0]
    assert len(got) == len(ref)  # the epoch is kept


def test_asterisks_mixed_with_digits_are_still_an_error(tmp_path):
    def edit(lines):
        i = next(k for k, line in enumerate(lines) if line.startswith("G07"))
        lines[i] = lines[i][:19] + "  1234567**.123" + lines[i][34:]
        return lines

    with pytest.warns(ObsFileWarning, match=r"mixed_stars\.rnx:19: an observation field is not a number"):
        _, got = read_obs(_tiny_variant(tmp_path, "mixed_stars.rnx", edit))
    assert len(got) == 2


@pytest.mark.parametrize("changed", [False, True])
def test_event_with_observation_types_in_rinex3(tmp_path, changed):
    def edit(lines):
        types = [line for line in lines if line.endswith("SYS / # / OBS TYPES") and line.startswith("C")]
        if changed:
            types = ["C    4 C2I L2I D2I S2I".ljust(60) + "SYS / # / OBS TYPES"]
        second = next(i for i, line in enumerate(lines) if line.startswith("> 2024 06 24 08 20  1.0"))
        return lines[:second] + [f">                              4{len(types):3d}", *types] + lines[second:]

    path = _tiny_variant(tmp_path, "event_types.rnx", edit)
    if changed:
        with pytest.raises(FileFormatError, match=r"event_types\.rnx:23: an event record changes the observation "
                                                  r"types of system\(s\) C"):
            read_obs(path)
    else:
        _assert_same(_read_quietly(path)[1], _read_quietly(TINY)[1])
