"""RINEX 2.11 observation files with every layout oddity the 2.11 spec allows (§5.3, Tables A1/A2).

``rinex211_mixed_events.rnx`` and ``rinex211_mixed_clean.rnx`` hold the same three epochs of a
synthetic GPS + GLONASS receiver with 10 observation types (continuation of ``# / TYPES OF
OBSERV``, two record lines per satellite) and 14 satellites (continuation of the satellite list).
The odd file also has: GPS satellites with a blank system letter (2.11: blank means GPS), a
receiver clock offset on the epoch line, a blank line between epochs, event records with flags
2, 3, 4 and 5 carrying header lines (one with a blank time), a flag 6 cycle-slip record, a
satellite whose second record line is empty (all five of its fields blank) and an epoch with
flag 1 (power failure). Both must read to the same series.
"""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import ncompress
import numpy as np
import pytest

from gnssaug.datasets.rinex import ObsFileWarning, read_obs
from gnssaug.errors import FileFormatError
from gnssaug.gnss import GLO, GPS, band_slot, parse_sv
from gnssaug.time import gpst_ns_from_calendar

DATA = Path(__file__).resolve().parents[1] / "data"
ODD = DATA / "rinex211_mixed_events.rnx"
CLEAN = DATA / "rinex211_mixed_clean.rnx"
FIELDS = ("t_gpst_ns", "offsets", "flag", "sat", "pr_m", "cp_cyc", "dop_hz", "cn0_dbhz", "lli", "code")


def _read_quietly(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_obs(path)


def _assert_same(a, b):
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_odd_file_reads_like_the_clean_one():
    header, odd = _read_quietly(ODD)
    _, clean = _read_quietly(CLEAN)
    _assert_same(odd, clean)
    assert header.version == 2.11 and header.obs_types["G"][-1] == "P1" and len(header.obs_types["G"]) == 10


def test_values_flags_and_blank_letters():
    _, s = _read_quietly(ODD)
    assert len(s) == 3 and s.flag.tolist() == [0, 0, 1]  # flag 1 (power failure) epochs are data
    assert np.diff(s.offsets).tolist() == [14, 14, 14]
    t0 = int(gpst_ns_from_calendar(2024, 6, 24, 8, 20, 0))
    assert s.t_gpst_ns.tolist() == [t0, t0 + 10**9, t0 + 2 * 10**9]
    e0 = s.epoch(0)
    g05 = int(np.flatnonzero(e0.sat == parse_sv("G05"))[0])  # written " 5" in the satellite list
    l1, l2 = band_slot(GPS, "1", "C"), band_slot(GPS, "2", "W")
    assert e0.pr_m[g05, l1] == 20500000.0 and e0.pr_m[g05, l2] == 20500002.5
    assert e0.cp_cyc[g05, l1] == 107728228.690 and e0.dop_hz[g05, l1] == np.float32(-815.0)
    assert chr(e0.code[g05, l1]) == "C" and chr(e0.code[g05, l2]) == "W"  # C1 -> 1C, P2/L2 -> 2W
    e1 = s.epoch(1)
    r07 = int(np.flatnonzero(e1.sat == parse_sv("R07"))[0])  # its second record line is empty
    g1 = band_slot(GLO, "1", "C")
    # pseudorange 2e7 m + 7e5 (PRN 7) + 1e6 (GLONASS) + 123 (epoch 1)
    assert np.isnan(e1.cn0_dbhz[r07, g1]) and e1.pr_m[r07, g1] == 21700123.0
    e2 = s.epoch(2)
    g05 = int(np.flatnonzero(e2.sat == parse_sv("G05"))[0])
    assert e2.lli[g05, l1] == 1


@pytest.mark.parametrize("packing", ["Z", "gz"])
def test_unix_compress_and_gzip_names(tmp_path, packing):
    data = ODD.read_bytes()
    packed = ncompress.compress(data) if packing == "Z" else gzip.compress(data)  # the Unix compress .Z
    path = tmp_path / f"odd1750.24o.{packing}"
    path.write_bytes(packed)
    _assert_same(_read_quietly(path)[1], _read_quietly(CLEAN)[1])


def test_event_changing_observation_types_is_a_clear_error(tmp_path):
    lines = ODD.read_text().splitlines()
    at = lines.index("                            4  2")
    lines[at + 1] = "     2    C1    L1                                          # / TYPES OF OBSERV"
    path = tmp_path / "types_change.rnx"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match=rf"types_change\.rnx:{at + 2}: an event record changes the observation"):
        read_obs(path)


def test_event_repeating_the_observation_types_is_fine(tmp_path):
    lines = ODD.read_text().splitlines()
    at = lines.index("                            4  2")
    types = [line for line in lines if line.endswith("# / TYPES OF OBSERV")]
    lines[at:at + 3] = ["                            4  2", *types]
    path = tmp_path / "types_repeat.rnx"
    path.write_text("\n".join(lines) + "\n")
    _assert_same(_read_quietly(path)[1], _read_quietly(CLEAN)[1])


def test_satellite_list_cut_short_skips_the_epoch(tmp_path):
    lines = ODD.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(" 24 06 24 08 20  1.0000000"))
    lines[first + 1] = ""  # the continuation of the satellite list is lost
    path = tmp_path / "sat_list_short.rnx"
    path.write_text("\n".join(lines) + "\n")
    with pytest.warns(ObsFileWarning, match=rf"sat_list_short\.rnx:{first + 1}: cannot read the epoch line") as got:
        _, s = read_obs(path)
    assert len(got) == 1  # the reader resynchronises on the next epoch line without a warning per line
    clean = _read_quietly(CLEAN)[1]
    assert s.t_gpst_ns.tolist() == clean.t_gpst_ns[[0, 2]].tolist()
