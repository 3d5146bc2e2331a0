"""Independent peer: our MSM7 stream of the Nagoya base, converted back by RTKLIB convbin, equals the input,
and RTKLIB rnx2rtkp gives the same RTK solution from the round-tripped base as from the original."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from conftest import rtklib_tool

from gnssaug.cli import main
from gnssaug.gnss import BDS, GAL, GPS, SAT_SYSTEM, SYSTEMS, sat_freq_hz
from gnssaug.rtcm.msm import MS_TO_M

pytestmark = [pytest.mark.rtklib, pytest.mark.slow]
C = 299_792_458.0
RINEX_STEP = 0.001  # F14.3: RINEX values are rounded to 0.001 (m, cycles, Hz, dB-Hz)
#: MSM7 half-LSB (RTCM 10403.3 DF405, DF406, DF404) plus the RINEX rounding of both files.
TOL_PR_M = 2.0**-30 * MS_TO_M + RINEX_STEP
TOL_CP_M = 2.0**-32 * MS_TO_M
TOL_RATE_MPS = 0.5e-4
TOL_CN0_DBHZ = 0.125 + 2.0**-5 + RINEX_STEP  # RTKLIB keeps SNR in 0.25 dB-Hz steps; DF408 in 1/16


@pytest.fixture(scope="module")
def convbin_roundtrip(nagoya_dir, tmp_path_factory):
    convbin = rtklib_tool("convbin")
    tmp = tmp_path_factory.mktemp("convbin")
    stream = tmp / "base.rtcm3"
    assert main(["rtcm", "encode", str(nagoya_dir / "base.obs"), "-o", str(stream), "--msm", "7",
                 "--station-id", "12", "--messages", "1006(10),1033(10),1230(10),MSM(1)"]) == 0
    out = tmp / "cb.obs"
    subprocess.run([convbin, "-r", "rtcm3", "-tr", "2024/06/24", "08:20:00", "-od", "-os", "-f", "5", "-v", "3.04",
                    "-o", str(out), str(stream)], check=True, capture_output=True)
    return out


def test_convbin_gives_back_the_input(nagoya_dir, convbin_roundtrip):
    from gnssaug.datasets.rinex.obs import read_obs

    h1, s1 = read_obs(nagoya_dir / "base.obs")
    _, s2 = read_obs(convbin_roundtrip)
    assert np.array_equal(s1.t_gpst_ns, s2.t_gpst_ns)
    compared = dict.fromkeys((GPS, GAL, BDS), 0)
    for i in range(0, len(s1), 7):
        a, b = s1.epoch(i), s2.epoch(i)
        assert np.array_equal(a.sat, b.sat)
        lam = C / sat_freq_hz(a.sat, h1.glo_fcn)
        for system in compared:
            r = SAT_SYSTEM[a.sat] == system
            pr_a, pr_b = a.pr_m[r], b.pr_m[r]
            cp_a, cp_b = a.cp_cyc[r] * lam[r], b.cp_cyc[r] * lam[r]
            rate_a, rate_b = -a.dop_hz[r] * lam[r], -b.dop_hz[r] * lam[r]
            # every signal present in the input is present after the round trip
            for x, y in ((pr_a, pr_b), (cp_a, cp_b), (a.cn0_dbhz[r], b.cn0_dbhz[r])):
                assert np.array_equal(np.isfinite(x), np.isfinite(y)), SYSTEMS[system]
            ok = np.isfinite(pr_a)
            assert np.all(np.abs(pr_a - pr_b)[ok] <= TOL_PR_M)
            ok = np.isfinite(cp_a)
            assert np.all(np.abs(cp_a - cp_b)[ok] <= TOL_CP_M + RINEX_STEP * lam[r][ok])
            ok = np.isfinite(rate_a) & np.isfinite(rate_b)
            assert np.all(np.abs(rate_a - rate_b)[ok] <= TOL_RATE_MPS + 2 * RINEX_STEP * lam[r][ok])
            ok = np.isfinite(a.cn0_dbhz[r])
            assert np.all(np.abs(a.cn0_dbhz[r] - b.cn0_dbhz[r])[ok] <= TOL_CN0_DBHZ)
            compared[system] += int(np.isfinite(pr_a).sum())
    assert all(n > 100 for n in compared.values())


def _solutions(path):
    rows = [line.split() for line in path.read_text().splitlines() if line and not line.startswith("%")]
    return np.array([[float(v) for v in row[:6]] for row in rows])  # week, tow, lat, lon, h, Q


def test_rnx2rtkp_same_solution_from_roundtripped_base(nagoya_dir, convbin_roundtrip, tmp_path):
    rnx2rtkp = rtklib_tool("rnx2rtkp")
    base_llh = (nagoya_dir / "base_position.txt").read_text().split()
    common = [rnx2rtkp, "-p", "2", "-f", "2", "-m", "15", "-sys", "G,R,E,J,C", "-l", *base_llh[:3],
              "-te", "2024/06/24", "08:21:00"]
    for name, base in (("orig", nagoya_dir / "base.obs"), ("rt", convbin_roundtrip)):
        subprocess.run([*common, "-o", str(tmp_path / f"{name}.pos"), str(nagoya_dir / "rover.obs"), str(base),
                        str(nagoya_dir / "base.nav")], check=True, capture_output=True)
    orig, rt = _solutions(tmp_path / "orig.pos"), _solutions(tmp_path / "rt.pos")
    assert len(orig) == len(rt) > 50
    assert np.array_equal(orig[:, :2], rt[:, :2])
    assert np.array_equal(orig[:, 5], rt[:, 5]) and (orig[:, 5] == 1).mean() > 0.9  # same status, mostly fixed
    # same positions to the printed resolution: 1e-9 deg (0.1 mm) and 0.1 mm of height
    assert np.max(np.abs(orig[:, 2:4] - rt[:, 2:4])) <= 1e-9 and np.max(np.abs(orig[:, 4] - rt[:, 4])) <= 1e-4


def test_convbin_reads_our_legacy_1004_1012(nagoya_dir, tmp_path):
    """The legacy messages for older rovers: convbin gives back L1/L2 of GPS and GLONASS."""
    from gnssaug.datasets.rinex.obs import read_obs

    convbin = rtklib_tool("convbin")
    stream = tmp_path / "legacy.rtcm3"
    assert main(["rtcm", "encode", str(nagoya_dir / "base.obs"), str(nagoya_dir / "base.nav"), "-o", str(stream),
                 "--messages", "1006(10),1004(1),1012(1),1020(60)"]) == 0
    out = tmp_path / "lg.obs"
    subprocess.run([convbin, "-r", "rtcm3", "-tr", "2024/06/24", "08:20:00", "-f", "2", "-v", "3.04", "-o", str(out),
                    str(stream)], check=True, capture_output=True)
    h1, s1 = read_obs(nagoya_dir / "base.obs")
    _, s2 = read_obs(out)
    assert np.array_equal(s1.t_gpst_ns, s2.t_gpst_ns)
    n = 0
    for i in range(0, len(s1), 30):
        a, b = s1.epoch(i), s2.epoch(i)
        keep = np.isin(a.sat, b.sat) & np.isin(SAT_SYSTEM[a.sat], (0, 1))
        a = a.select(keep)
        b = b.select(np.isin(b.sat, a.sat))
        assert np.array_equal(a.sat, b.sat) and a.n_sat > 15
        lam = C / sat_freq_hz(a.sat, h1.glo_fcn)
        for k in (0, 1):  # DF011/DF017 0.02 m and DF012/DF018 0.5 mm steps, plus RINEX rounding
            ok = np.isfinite(a.pr_m[:, k])
            assert np.array_equal(ok, np.isfinite(b.pr_m[:, k]))
            assert np.all(np.abs(a.pr_m[:, k] - b.pr_m[:, k])[ok] <= 0.01 + RINEX_STEP)
            ok = np.isfinite(a.cp_cyc[:, k])
            d = np.abs(a.cp_cyc[:, k] - b.cp_cyc[:, k]) * lam[:, k]
            assert np.all(d[ok] <= 0.00025 + RINEX_STEP * lam[ok, k])
            n += int(ok.sum())
    assert n > 100
