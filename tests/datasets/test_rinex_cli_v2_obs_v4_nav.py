"""``gnssaug info`` and ``gnssaug solve --mode spp`` end to end on a RINEX 2.11 obs and a RINEX 4 nav file.

Neither layout exists in the shared data, so both are written here from the Nagoya files: 31 epochs
of the rover as RINEX 2.11 (GPS + GLONASS, satellite lists continued past 12, two record lines per
satellite) and the mixed ``base.nav`` as RINEX 4.00 (``> EPH`` records, GLONASS with the 4.00
fifth line, header ionosphere corrections moved to ``> ION`` records). The solution must be the
one the RINEX 3 originals give.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from gnssaug.cli import main
from gnssaug.datasets.posfile import read_pos
from gnssaug.datasets.rinex import read_obs
from gnssaug.datasets.truth import accuracy, load_llh_point
from gnssaug.gnss import GLO, GPS, SAT_SYSTEM, sv_name
from gnssaug.time import datetime_from_gpst_ns

WINDOW = ("--start", "2024-06-24T08:21:00", "--end", "2024-06-24T08:21:30")
V2_TYPES = ("C1", "L1", "D1", "S1", "P2", "L2")  # slot 0 (any mode), slot 1 when tracked as P(Y)/P


def _f14(value, lli=0):
    if not np.isfinite(value):
        return " " * 16
    return f"{value:14.3f}{lli if lli else ' '} "


def _write_rinex211(path, header, series, first, last):
    """A RINEX 2.11 file (Table A1/A2) of epochs ``first..last`` of GPS and GLONASS."""
    t_first = datetime_from_gpst_ns(int(series.t_gpst_ns[first]))
    x, y, z = header.approx_pos_ecef_m
    lines = [
        "     2.11           OBSERVATION DATA    M (MIXED)".ljust(60) + "RINEX VERSION / TYPE",
        "gnssaug tests".ljust(60) + "PGM / RUN BY / DATE",
        "NAGOYA2".ljust(60) + "MARKER NAME",
        f"{x:14.4f}{y:14.4f}{z:14.4f}".ljust(60) + "APPROX POSITION XYZ",
        "        0.0000        0.0000        0.0000".ljust(60) + "ANTENNA: DELTA H/E/N",
        ("     6" + "".join(f"    {t}" for t in V2_TYPES)).ljust(60) + "# / TYPES OF OBSERV",
        t_first.strftime("  %Y    %m    %d    %H    %M   %S.0000000     GPS").ljust(60) + "TIME OF FIRST OBS",
        "".ljust(60) + "END OF HEADER",
    ]
    for k in range(first, last + 1):
        rows = np.arange(series.offsets[k], series.offsets[k + 1])
        rows = rows[np.isin(SAT_SYSTEM[series.sat[rows]], (GPS, GLO))]
        names = [sv_name(int(s)) for s in series.sat[rows]]
        t = datetime_from_gpst_ns(int(series.t_gpst_ns[k]))
        head = t.strftime(" %y %m %d %H %M") + f"{t.second + t.microsecond / 1e6:11.7f}  0{len(names):3d}"
        for j in range(0, len(names), 12):
            lines.append((head if j == 0 else " " * 32) + "".join(names[j:j + 12]))
        for r in rows:
            precise = ord("W") if SAT_SYSTEM[series.sat[r]] == GPS else ord("P")
            two = series.code[r, 1] == precise
            vals = [series.pr_m[r, 0], series.cp_cyc[r, 0], series.dop_hz[r, 0], series.cn0_dbhz[r, 0],
                    series.pr_m[r, 1] if two else np.nan, series.cp_cyc[r, 1] if two else np.nan]
            lli = [0, series.lli[r, 0], 0, 0, 0, series.lli[r, 1] if two else 0]
            fields = [_f14(float(v), int(f)) for v, f in zip(vals, lli, strict=True)]
            lines += ["".join(fields[:5]).rstrip(), "".join(fields[5:]).rstrip()]
    path.write_text("\n".join(lines) + "\n")


def _write_rinex4_nav(path, v3_path):
    """``v3_path`` (RINEX 3 mixed nav) rewritten as RINEX 4.00 (Tables A5-A19, ION records)."""
    lines = v3_path.read_text().splitlines()
    end = next(i for i, line in enumerate(lines) if "END OF HEADER" in line)
    iono = {line[:4].strip(): line[5:53] for line in lines[:end] if line[60:].strip() == "IONOSPHERIC CORR"}
    out = ["     4.00           N: GNSS NAV DATA    M: MIXED".ljust(60) + "RINEX VERSION / TYPE",
           "gnssaug tests".ljust(60) + "PGM / RUN BY / DATE",
           *[line for line in lines[:end] if line[60:].strip() == "LEAP SECONDS"],
           "".ljust(60) + "END OF HEADER"]

    def d19(text, width=12):
        cells = (text[j:j + width] for j in range(0, len(text), width))
        return "".join(f"{float(c): .12E}" for c in cells if c.strip())

    epoch = "    2024 06 24 00 00 00"
    if "GPSA" in iono:
        values = d19(iono["GPSA"]) + d19(iono["GPSB"])
        out += ["> ION G01 LNAV", epoch + values[:57], "    " + values[57:133], "    " + values[133:] + f"{1.0: .12E}"]
    if "GAL" in iono:
        out += ["> ION E01 IFNV", epoch + d19(iono["GAL"])[:57], "    " + f"{0.0: .12E}"]
    i = end + 1
    while i < len(lines):
        sv = lines[i][:3]
        n = 4 if sv[0] in "RS" else 8
        record = lines[i:i + n]
        if sv[0] == "E":
            source = int(float(record[5][23:42]))
            msg = "FNAV" if source & 2 else "INAV"
        elif sv[0] == "C":
            msg = "D2" if int(sv[1:]) <= 5 or int(sv[1:]) >= 59 else "D1"
        else:
            msg = {"R": "FDMA", "S": "SBAS"}.get(sv[0], "LNAV")
        if sv[0] == "R":  # RINEX 4.00 adds status, L1/L2 delay difference, URAI and health flags
            record = record + ["    " + f"{0.0: .12E}" * 4]
        out += [f"> EPH {sv} {msg}", *record]
        i += n
    path.write_text("\n".join(out) + "\n")


@pytest.fixture(scope="module")
def v2_v4_files(nagoya_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("v2v4")
    header, series = read_obs(nagoya_dir / "rover.obs", systems="GR")
    first = int(np.flatnonzero(series.t_gpst_ns == series.t_gpst_ns[0] + 60 * 10**9)[0])
    obs = folder / "nago1760.24o"
    _write_rinex211(obs, header, series, first, first + 30)
    nav = folder / "BASE00JPN_R_20241760000_01H_MN.rnx"
    _write_rinex4_nav(nav, nagoya_dir / "base.nav")
    return obs, nav


def test_info_on_rinex211_obs_and_rinex4_nav(v2_v4_files, capsys):
    obs, nav = v2_v4_files
    assert main(["info", str(obs), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["rinex_version"] == 2.11 and info["n_epochs"] == 31 and info["n_missing_epochs"] == 0
    assert set(info["systems"]) == {"G", "R"} and info["systems"]["R"]["n_satellites"] >= 5
    assert main(["info", str(nav), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "navigation" and info["skipped"] == {}
    assert set(info["systems"]) == {"G", "R", "E", "C", "J"}
    assert main(["info", str(nav)]) == 0
    text = capsys.readouterr().out
    assert "C BeiDou: 32 records, 32 satellites" in text and "skipped" not in text


def test_solve_spp_on_rinex211_obs_and_rinex4_nav(v2_v4_files, nagoya_dir, tmp_path):
    obs, nav = v2_v4_files
    ours = tmp_path / "v2v4.pos"
    assert main(["solve", "--mode", "spp", str(obs), str(nav), "-o", str(ours), "--systems", "GR", "-q",
                 *WINDOW]) == 0
    ref = tmp_path / "v3v3.pos"
    assert main(["solve", "--mode", "spp", str(nagoya_dir / "rover.obs"), str(nagoya_dir / "base.nav"),
                 "-o", str(ref), "--systems", "GR", "-q", *WINDOW]) == 0
    a, b = read_pos(ours), read_pos(ref)
    assert len(a) == len(b) == 31 and (a.q == 5).all()
    np.testing.assert_array_equal(a.t_gpst_ns, b.t_gpst_ns)
    # same observations (F14.3 both ways) and the same ephemerides and ionosphere: the same fixes
    np.testing.assert_allclose(a.pos_ecef_m, b.pos_ecef_m, rtol=0, atol=1e-3)
    acc = accuracy(a.pos_ecef_m, load_llh_point(nagoya_dir / "rover_position.txt").at(a.t_gpst_ns))
    assert acc.h95_m < 5.0 and acc.v95_m < 5.0


def test_header_only_obs_file_info_and_solve(nagoya_dir, tmp_path, capsys):
    lines = (nagoya_dir / "rover.obs").read_text().splitlines()
    end = next(i for i, line in enumerate(lines) if "END OF HEADER" in line)
    path = tmp_path / "header_only.obs"
    path.write_text("\n".join(lines[:end + 1]) + "\n")
    assert main(["info", str(path)]) == 0
    assert "epochs          0 (no observation records: the file holds a header only)" in capsys.readouterr().out
    assert main(["solve", "--mode", "spp", str(path), str(nagoya_dir / "base.nav"), "-o", str(tmp_path / "x.pos")]) == 2
    err = capsys.readouterr().err
    assert "header_only.obs: no observation epochs" in err and "Traceback" not in err
