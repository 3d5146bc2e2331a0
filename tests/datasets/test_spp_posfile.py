"""The .pos writer reproduces RTKLIB's layout; the reader reads RTKLIB's and our files."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.datasets.posfile import read_pos, write_pos
from gnssaug.datasets.truth import accuracy, load_llh_point
from gnssaug.errors import FileFormatError
from gnssaug.geodesy import enu_rotation, llh_from_ecef
from gnssaug.solvers.types import SolStatus, SolutionSeries

# RTKLIB's fixed Nagoya solution agrees with the surveyed rover position to about a centimetre.
RTKLIB_FIX_VS_TRUTH_M = 0.03


def test_reads_rtklib_file_and_it_agrees_with_truth(nagoya_dir):
    pos = read_pos(nagoya_dir / "rover_rtk.pos")
    assert len(pos) == 301 and (pos.q == 1).all() and pos.ns[0] == 42
    assert pos.ratio[0] == pytest.approx(12.0)
    truth = load_llh_point(nagoya_dir / "rover_position.txt")
    acc = accuracy(pos.pos_ecef_m, truth.at(pos.t_gpst_ns))
    assert acc.n == 301 and acc.h95_m < RTKLIB_FIX_VS_TRUTH_M and acc.v95_m < RTKLIB_FIX_VS_TRUTH_M


def _signed_sq(v):
    return np.sign(v) * v * v


def test_written_line_matches_rtklib_columns(nagoya_dir, tmp_path):
    src = nagoya_dir / "rover_rtk.pos"
    rtk_line = next(line for line in src.read_text().splitlines() if not line.startswith("%"))
    fields = rtk_line.split()
    pos = read_pos(src)
    sdn, sde, sdu, sdne, sdeu, sdun = (float(v) for v in fields[7:13])
    cov_enu = np.array(
        [[sde**2, _signed_sq(sdne), _signed_sq(sdeu)],
         [_signed_sq(sdne), sdn**2, _signed_sq(sdun)],
         [_signed_sq(sdeu), _signed_sq(sdun), sdu**2]]
    )
    llh = llh_from_ecef(pos.pos_ecef_m[0])
    rot = enu_rotation(llh[0], llh[1])
    sols = SolutionSeries.empty(1)
    sols.t_gpst_ns[0] = pos.t_gpst_ns[0]
    sols.pos_ecef_m[0] = pos.pos_ecef_m[0]
    sols.cov_ecef_m2[0] = rot.T @ cov_enu @ rot
    sols.status[0] = SolStatus.FIX
    sols.n_sat[0] = 42
    sols.ratio[0] = 12.0
    out = tmp_path / "one.pos"
    assert write_pos(out, sols, "llh") == 1
    lines = out.read_text().splitlines()
    ours = lines[-1]
    # identical text up to the ratio column (RTKLIB adds velocity columns after it)
    assert ours == rtk_line[: len(ours)]
    header_rtk = [line for line in src.read_text().splitlines() if line.startswith("%  GPST")][0]
    assert header_rtk.startswith(lines[-2])


def test_round_trip_xyz_and_none_rows_skipped(tmp_path):
    sols = SolutionSeries.empty(3)
    sols.t_gpst_ns[:] = np.array([0, 1, 2]) * 1_000_000_000 + 1_400_000_000 * 1_000_000_000
    sols.pos_ecef_m[[0, 2]] = [[-2267750.2, 5009154.6, 3221294.4], [-2267751.0, 5009155.0, 3221290.0]]
    sols.cov_ecef_m2[[0, 2]] = np.eye(3) * 4.0
    sols.status[[0, 2]] = SolStatus.SPP
    sols.n_sat[[0, 2]] = 9
    for fmt in ("xyz", "llh"):
        path = tmp_path / f"r.{fmt}"
        assert write_pos(path, sols, fmt) == 2
        back = read_pos(path)
        np.testing.assert_array_equal(back.t_gpst_ns, sols.t_gpst_ns[[0, 2]])
        np.testing.assert_allclose(back.pos_ecef_m, sols.pos_ecef_m[[0, 2]], atol=1e-3)
        assert (back.q == 5).all() and (back.ns == 9).all()


def test_nmea_gga_checksum_and_fields(tmp_path):
    sols = SolutionSeries.empty(1)
    sols.t_gpst_ns[0] = 1_403_000_000 * 1_000_000_000
    sols.pos_ecef_m[0] = [-2267750.2, 5009154.6, 3221294.4]
    sols.status[0] = SolStatus.SPP
    sols.n_sat[0] = 12
    sols.dops[0] = [2.0, 1.8, 0.9, 1.5]
    path = tmp_path / "r.nmea"
    write_pos(path, sols, "nmea")
    line = path.read_text().strip()
    body, cs = line[1:].split("*")
    calc = 0
    for ch in body:
        calc ^= ord(ch)
    assert f"{calc:02X}" == cs
    f = body.split(",")
    assert f[0] == "GPGGA" and f[3] == "N" and f[5] == "E" and f[6] == "1" and f[7] == "12" and f[8] == "0.9"
    lat_deg, lon_deg = np.degrees(llh_from_ecef(sols.pos_ecef_m[0])[:2])
    assert float(f[2][:2]) + float(f[2][2:]) / 60 == pytest.approx(lat_deg, abs=1e-8)
    assert float(f[4][:3]) + float(f[4][3:]) / 60 == pytest.approx(lon_deg, abs=1e-8)


def test_bad_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.pos"
    path.write_text("% header\n2024/06/24 08:20:00.000 35.1 136.9 oops 5 9\n")
    with pytest.raises(FileFormatError, match=r"bad\.pos:2"):
        read_pos(path)
