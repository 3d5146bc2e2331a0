"""The base of a differential pair read in the rover's tracking modes (issue 4).

A geodetic base holding GPS L2 P(Y) (C2W/L2W) and L2C (C2L/L2L) against a u-blox rover that tracks
L2C only: the base is read preferring, per satellite and slot, the mode the rover tracks, the usual
ranking where the base lacks it, and the pairing report names the modes paired and warns where they
still differ. Small RINEX files are written by the tests; the Nagoya pair checks the whole solve.
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest

from gnssaug.cli import main
from gnssaug.datasets import faults
from gnssaug.datasets.pairing import pair_report
from gnssaug.datasets.rinex import read_obs
from gnssaug.datasets.rinex.obs_codes import tracking_modes
from gnssaug.errors import InvalidInputError
from gnssaug.gnss import N_BAND, N_SAT, parse_sv

HEADER_304 = """\
     3.04           OBSERVATION DATA    M                   RINEX VERSION / TYPE
gnssaug tests                           20261122 000000 UTC PGM / RUN BY / DATE
{marker:<60s}MARKER NAME
 -3817680.9841  3562840.0688  3650158.4543                  APPROX POSITION XYZ
{types}     1.000                                                  INTERVAL
  2024     6    24     8    20    0.0000000     GPS         TIME OF FIRST OBS
                                                            END OF HEADER
"""
#: Value of each code at epoch 0: pseudoranges and phases differ per mode, so the mode that
#: filled a slot can be told from its value.
VALUES = {
    "C1C": 20_000_000.0, "L1C": 105_000_000.0, "C1X": 20_000_000.5, "L1X": 105_000_000.25,
    "C2W": 20_000_003.0, "L2W": 82_000_000.0, "C2L": 20_000_003.5, "L2L": 82_000_000.25,
    "C2X": 20_000_003.75, "L2X": 82_000_000.5, "C1W": 20_000_000.25, "L1W": 105_000_000.75,
    "C1L": 20_000_000.125, "L1L": 105_000_000.125,
    "C1": 20_000_000.0, "L1": 105_000_000.0, "P2": 20_000_003.0, "L2": 82_000_000.0, "C2": 20_000_003.5,
}
T0_NS = 1403166000 * 10**9  # 2024-06-24 08:20:00 GPST, the epochs written below


def _types_lines(types: dict[str, list[str]]) -> str:
    out = ""
    for letter, codes in types.items():
        for k in range(0, len(codes), 13):
            head = f"{letter}  {len(codes):3d}" if k == 0 else " " * 6
            out += f"{head}{''.join(f' {c:3s}' for c in codes[k:k + 13]):<54s}SYS / # / OBS TYPES\n"
    return out


def _field(value) -> str:
    return " " * 16 if value is None else f"{value:14.3f}  "


def write_rnx3(path, types: dict[str, list[str]], sats: dict[str, list[str]], n_epoch: int = 3,
               missing=(), marker="TEST"):
    """A RINEX 3.04 file: each satellite of ``sats`` reports its listed codes (``VALUES`` + epoch
    offsets); ``missing`` holds (epoch, sv, code) left blank."""
    text = HEADER_304.format(marker=marker, types=_types_lines(types))
    for e in range(n_epoch):
        text += f"> 2024 06 24 08 20 {e:10.7f}  0{len(sats):3d}\n"
        for sv, codes in sats.items():
            vals = [VALUES[c] + e + int(sv[1:]) if c in codes and (e, sv, c) not in missing else None
                    for c in types[sv[0]]]
            text += sv + "".join(_field(v) for v in vals).rstrip() + "\n"
    path.write_text(text)
    return path


def _slot(series, sv: str, slot: int, epoch: int = 0):
    """(mode letter, pseudorange, phase) in a slot of a satellite at an epoch."""
    lo, hi = series.offsets[epoch], series.offsets[epoch + 1]
    r = lo + int(np.flatnonzero(series.sat[lo:hi] == parse_sv(sv))[0])
    return chr(series.code[r, slot]) if series.code[r, slot] else "", series.pr_m[r, slot], series.cp_cyc[r, slot]


GPS_BOTH = {"G": ["C1C", "L1C", "C2W", "L2W", "C2L", "L2L"]}
GPS_L2C = {"G": ["C1C", "L1C", "C2L", "L2L"]}
GPS_L2W = {"G": ["C1C", "L1C", "C2W", "L2W"]}
ALL_BOTH = ["C1C", "L1C", "C2W", "L2W", "C2L", "L2L"]


@pytest.fixture()
def geodetic_base(tmp_path):
    return write_rnx3(tmp_path / "base.rnx", GPS_BOTH, {"G01": ALL_BOTH, "G02": ALL_BOTH}, marker="BASE")


def test_base_follows_an_l2c_only_rover(tmp_path, geodetic_base):
    rover_path = write_rnx3(tmp_path / "rover.rnx", GPS_L2C, {"G01": GPS_L2C["G"], "G02": GPS_L2C["G"]})
    _, rover = read_obs(rover_path)
    modes = tracking_modes(rover)
    assert chr(modes[parse_sv("G01"), 1]) == "L" and chr(modes[parse_sv("G01"), 0]) == "C"
    _, usual = read_obs(geodetic_base)
    _, base = read_obs(geodetic_base, preferred_modes=modes)
    assert _slot(usual, "G01", 1) == ("W", VALUES["C2W"] + 1, VALUES["L2W"] + 1)
    for e in range(3):  # pseudorange, phase, Doppler/C/N0 slots all from L2C
        assert _slot(base, "G02", 1, e) == ("L", VALUES["C2L"] + e + 2, VALUES["L2L"] + e + 2)
    assert _slot(base, "G01", 0) == _slot(usual, "G01", 0)  # L1 C/A: nothing to change
    report = pair_report(rover, base, "G", 2, 30.0)
    l2 = next(s for s in report.signals if s["freq"] == "L2")
    assert l2["modes"] == [("L2L", "L2L", 6)] and report.mode_warnings() == []
    assert any(re.search(r"GPS +L2 +L2L +2\.0 satellites", line) for line in report.lines())


def test_base_without_l2c_keeps_l2w_and_warns_once(tmp_path):
    base_path = write_rnx3(tmp_path / "base.rnx", GPS_L2W, {"G01": GPS_L2W["G"], "G02": GPS_L2W["G"]})
    rover_path = write_rnx3(tmp_path / "rover.rnx", GPS_L2C, {"G01": GPS_L2C["G"], "G02": GPS_L2C["G"]})
    _, rover = read_obs(rover_path)
    _, base = read_obs(base_path, preferred_modes=tracking_modes(rover))
    assert _slot(base, "G01", 1)[0] == "W"
    report = pair_report(rover, base, "G", 2, 30.0)
    assert report.mode_warnings() == ["GPS L2: rover L2L, base L2W (differenced across tracking modes)"]
    assert any("rover L2L <-> base L2W" in line for line in report.lines())


def test_rover_with_both_modes_changes_nothing(tmp_path, geodetic_base):
    rover_path = write_rnx3(tmp_path / "rover.rnx", GPS_BOTH, {"G01": ALL_BOTH, "G02": ALL_BOTH})
    _, rover = read_obs(rover_path)
    _, usual = read_obs(geodetic_base)
    _, base = read_obs(geodetic_base, preferred_modes=tracking_modes(rover))
    for name in ("pr_m", "cp_cyc", "dop_hz", "cn0_dbhz", "lli", "code"):
        np.testing.assert_array_equal(getattr(base, name), getattr(usual, name))
    assert _slot(base, "G01", 1)[0] == "W"


def test_per_satellite_preference_and_per_epoch_fallback(tmp_path):
    # The rover tracks L2C on G01 only (G02 as an old satellite: L2 P(Y) only); the base lacks
    # G01's L2L at epoch 1 (the usual ranking fills that epoch).
    rover_path = write_rnx3(tmp_path / "rover.rnx", GPS_BOTH,
                            {"G01": ["C1C", "L1C", "C2L", "L2L"], "G02": ["C1C", "L1C", "C2W", "L2W"]})
    base_path = write_rnx3(tmp_path / "base.rnx", GPS_BOTH, {"G01": ALL_BOTH, "G02": ALL_BOTH},
                           missing=[(1, "G01", "C2L"), (1, "G01", "L2L")])
    _, rover = read_obs(rover_path)
    _, base = read_obs(base_path, preferred_modes=tracking_modes(rover))
    assert [_slot(base, "G01", 1, e)[0] for e in range(3)] == ["L", "W", "L"]
    assert [_slot(base, "G02", 1, e)[0] for e in range(3)] == ["W", "W", "W"]
    report = pair_report(rover, base, "G", 2, 30.0)
    assert report.mode_warnings() == ["GPS L2: rover L2L, base L2W (differenced across tracking modes on 17 % of "
                                      "its 6 satellite-epochs)"]


def test_base_without_the_rovers_mode_takes_one_of_the_same_signal(tmp_path):
    """A Trimble-style base reports L2C as L2X (M+L): it pairs a u-blox L2L better than L2W does."""
    types = {"G": ["C1C", "L1C", "C2W", "L2W", "C2X", "L2X"]}
    base_path = write_rnx3(tmp_path / "base.rnx", types, {"G01": types["G"]})
    rover_path = write_rnx3(tmp_path / "rover.rnx", GPS_L2C, {"G01": GPS_L2C["G"]})
    _, rover = read_obs(rover_path)
    _, base = read_obs(base_path, preferred_modes=tracking_modes(rover))
    assert _slot(base, "G01", 1) == ("X", VALUES["C2X"] + 1, VALUES["L2X"] + 1)
    assert pair_report(rover, base, "G", 2, 30.0).mode_warnings() == [
        "GPS L2: rover L2L, base L2X (differenced across tracking modes of one signal)"]
    # GPS L1: a rover tracking the L1C pilot (L1L) against a base of C/A, P(Y) and L1C (L1X): L1X,
    # not the C/A code the usual ranking puts first.
    l1 = {"G": ["C1C", "L1C", "C1W", "L1W", "C1X", "L1X"]}
    base_l1 = write_rnx3(tmp_path / "base_l1.rnx", l1, {"G03": l1["G"]})
    rover_l1 = write_rnx3(tmp_path / "rover_l1.rnx", {"G": ["C1L", "L1L"]}, {"G03": ["C1L", "L1L"]})
    _, base = read_obs(base_l1, preferred_modes=tracking_modes(read_obs(rover_l1)[1]))
    assert _slot(base, "G03", 0) == ("X", VALUES["C1X"] + 3, VALUES["L1X"] + 3)


def test_a_mode_without_phase_in_the_base_is_not_preferred(tmp_path):
    # C2L without L2L: taking it would leave the slot without a phase; the base keeps L2W.
    types = {"G": ["C1C", "L1C", "C2W", "L2W", "C2L"]}
    base_path = write_rnx3(tmp_path / "base.rnx", types, {"G01": types["G"]})
    rover_path = write_rnx3(tmp_path / "rover.rnx", GPS_L2C, {"G01": GPS_L2C["G"]})
    _, rover = read_obs(rover_path)
    _, base = read_obs(base_path, preferred_modes=tracking_modes(rover))
    assert _slot(base, "G01", 1) == ("W", VALUES["C2W"] + 1, VALUES["L2W"] + 1)


def test_galileo_e1_c_and_x(tmp_path):
    both = ["C1C", "L1C", "C1X", "L1X"]
    base_path = write_rnx3(tmp_path / "base.rnx", {"E": both}, {"E11": both, "E12": both})
    rover_path = write_rnx3(tmp_path / "rover.rnx", {"E": ["C1X", "L1X"]}, {"E11": ["C1X", "L1X"],
                                                                            "E12": ["C1X", "L1X"]})
    _, rover = read_obs(rover_path)
    _, usual = read_obs(base_path)
    _, base = read_obs(base_path, preferred_modes=tracking_modes(rover))
    assert _slot(usual, "E11", 0)[0] == "C"
    assert _slot(base, "E11", 0) == ("X", VALUES["C1X"] + 11, VALUES["L1X"] + 11)
    only_c = write_rnx3(tmp_path / "base_c.rnx", {"E": ["C1C", "L1C"]}, {"E11": ["C1C", "L1C"]})
    _, base_c = read_obs(only_c, preferred_modes=tracking_modes(rover))
    assert pair_report(rover, base_c, "E", 1, 30.0).mode_warnings() == [
        "Galileo E1: rover L1X, base L1C (differenced across tracking modes of one signal)"]


def test_rinex2_base_keeps_its_implied_modes(tmp_path):
    """RINEX 2 ``C2`` is L2C code but ``L2`` is the P(Y) phase when the file has ``P2``: the L2C
    code alone must not take the slot from the phase; the warning says the modes differ."""
    records = [("     2.11           OBSERVATION DATA    G (GPS)", "RINEX VERSION / TYPE"),
               ("BASE", "MARKER NAME"), (" -3817680.9841  3562840.0688  3650158.4543", "APPROX POSITION XYZ"),
               ("     5    C1    L1    P2    L2    C2", "# / TYPES OF OBSERV"), ("", "END OF HEADER")]
    text = "".join(f"{body:<60s}{label}\n" for body, label in records)
    for e in range(3):
        text += f" 24 06 24 08 20{e:11.7f}  0  1G01\n"
        text += "".join(_field(VALUES[c] + e + 1) for c in ("C1", "L1", "P2", "L2", "C2")) + "\n"
    base_path = tmp_path / "base.24o"
    base_path.write_text(text)
    rover_path = write_rnx3(tmp_path / "rover.rnx", GPS_L2C, {"G01": GPS_L2C["G"]})
    hr, rover = read_obs(rover_path)
    hb, base = read_obs(base_path, preferred_modes=tracking_modes(rover))
    assert _slot(base, "G01", 1) == ("W", VALUES["P2"] + 1, VALUES["L2"] + 1)
    assert pair_report(rover, base, "G", 2, 30.0, (hr.version, hb.version)).mode_warnings() == [
        "GPS L2: rover L2L, base L2W (RINEX 2) (differenced across tracking modes)"]


def test_several_base_files_all_follow_the_rover(tmp_path):
    first = write_rnx3(tmp_path / "b1.rnx", GPS_BOTH, {"G01": ALL_BOTH}, n_epoch=2)
    second = tmp_path / "b2.rnx"
    second.write_text(first.read_text().replace("08 20  0.0000000  0", "08 20  2.0000000  0")
                      .replace("08 20  1.0000000  0", "08 20  3.0000000  0"))
    rover_path = write_rnx3(tmp_path / "rover.rnx", GPS_L2C, {"G01": GPS_L2C["G"]}, n_epoch=4)
    _, rover = read_obs(rover_path)
    _, base = read_obs([second, first], preferred_modes=tracking_modes(rover))
    assert len(base) == 4 and all(_slot(base, "G01", 1, e)[0] == "L" for e in range(4))


def test_tracking_modes_of_absent_satellites_and_bad_input(tmp_path, geodetic_base):
    rover_path = write_rnx3(tmp_path / "rover.rnx", GPS_L2C, {"G01": GPS_L2C["G"]})
    _, rover = read_obs(rover_path)
    modes = tracking_modes(rover)
    assert modes.shape == (N_SAT, N_BAND) and modes.dtype == np.uint8
    assert chr(modes[parse_sv("G07"), 1]) == "L"  # absent: its system's mode
    assert modes[parse_sv("E11")].sum() == 0 and modes[parse_sv("G01"), 2] == 0
    with pytest.raises(InvalidInputError, match="preferred_modes must be uint8"):
        read_obs(geodetic_base, preferred_modes=np.zeros((N_SAT, N_BAND), dtype=np.int64))


def test_default_reading_of_nagoya_is_unchanged(nagoya_dir):
    """Both Nagoya files hold L2W and L2L: the rover's modes are the base's usual ones."""
    _, rover = read_obs(nagoya_dir / "rover.obs")
    _, usual = read_obs(nagoya_dir / "base.obs")
    _, base = read_obs(nagoya_dir / "base.obs", preferred_modes=tracking_modes(rover))
    for name in ("pr_m", "cp_cyc", "dop_hz", "cn0_dbhz", "lli", "code", "sat", "offsets", "t_gpst_ns"):
        np.testing.assert_array_equal(getattr(base, name), getattr(usual, name), err_msg=name)
    r = int(np.flatnonzero(usual.sat == parse_sv("G05"))[0])
    assert chr(usual.code[r, 1]) == "W"  # L2 P(Y) ranks first, as before


def _solve_nagoya(nagoya_dir, rover, out, capsys):
    base_llh = ",".join((nagoya_dir / "base_position.txt").read_text().split())
    assert main(["solve", "--mode", "rtk", str(rover), str(nagoya_dir / "base.obs"), str(nagoya_dir / "base.nav"),
                 "--systems", "GEC", "--base-llh", base_llh, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["evaluate", str(out), "--truth-file", str(nagoya_dir / "rover_position.txt")]) == 0
    text = buf.getvalue()
    fix = float(re.search(r"fixed \d+ \(([\d.]+) %\)", text).group(1))
    h, v = (float(x) for x in re.search(r"fixed: H RMS ([\d.]+) mm +V RMS ([\d.]+) mm", text).groups())
    return err, fix, h, v


def test_nagoya_l2c_rover_pairs_l2c_and_keeps_the_fix(nagoya_dir, tmp_path, capsys):
    """The Nagoya rover cut to L2C (its C2W/L2W types renamed away): the base gives L2L too."""
    rover = tmp_path / "l2c.obs"
    rover.write_bytes(faults.keep_only_tracking_mode((nagoya_dir / "rover.obs").read_bytes(), "G", "2", "W"))
    err, fix, h_mm, v_mm = _solve_nagoya(nagoya_dir, rover, tmp_path / "l2c.pos", capsys)
    # The base lacks L2L on a few satellite-epochs (<1 %): the rest is L2L with L2L.
    assert re.search(r"GPS +L2 +L2L >99 %, rover L2L <-> base L2W <1 %", err), err
    assert "GPS L2: rover L2L, base L2W (differenced across tracking modes on <1 %" in err
    # Measured 100 % fixed, H 1.0 / V 1.2 mm (before: L2L against L2W, 100 %, 0.8 / 1.2 mm); a
    # 0.99 m baseline of one receiver model, so the bias of the cross-mode pair was small.
    assert fix == 100.0 and h_mm < 3.0 and v_mm < 4.0


def test_nagoya_solve_prints_the_paired_modes(nagoya_dir, tmp_path, capsys):
    err, fix, h_mm, v_mm = _solve_nagoya(nagoya_dir, nagoya_dir / "rover.obs", tmp_path / "n.pos", capsys)
    assert re.search(r"GPS +L1 +L1C ", err) and re.search(r"Galileo +E1 +L1C ", err)
    assert re.search(r"BDS-3 +B3I +L6I ", err) and re.search(r"GPS +L2 +L2W 99 %", err)
    # Measured 100 % fixed, H 1.0 / V 1.3 mm, the .pos identical to the reading without preference.
    assert fix == 100.0 and h_mm < 3.0 and v_mm < 4.0
