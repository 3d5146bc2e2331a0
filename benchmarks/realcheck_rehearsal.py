"""Rehearsal of the hidden real-data RTK check: a low-cost rover in a city, a geodetic base a few km away.

The check will run ``gnssaug solve --mode rtk ROVER BASE NAV... -o OUT.pos``, ``gnssaug evaluate OUT.pos
--truth-file groundTruth_TST.csv`` and ``rnx2rtkp`` on the same files. The rover we have (the TST 2020
u-blox F9P, RINEX 3.02 by RTKCONV demo5, epochs tagged x.004 s) lacks its base, HKSC; this script
simulates HKSC at the rover's times from the real HKSC navigation files (``gnssaug sim``), writes the
base in every shape the SatRef archive serves (:func:`gnssaug.datasets.realcheck.build_variants`: RINEX
3.02 with ``C1I``, 3.04, 2.11, Hatanaka, gzip, 5 s and 30 s files, two hourly files), and runs ours and
``rnx2rtkp`` (kinematic, forward, GPS+Galileo+BeiDou, L1+L2, 15 deg, continuous AR, ratio 3, the base
at its header position) on each, as whole processes, ours after a warm-up. Also: the rover at 5 and 10
Hz against a 1 Hz base (a static rover at the TST truth point simulated at 10 Hz with the base), and
the 2019 M8T rover (GPS L1 + BDS B1I) against an HKSC base of 2019-04-28 with ``--freqs 2``.

The simulated base's atmosphere is not the real one: positions are metres off and mostly float, so
this measures the plumbing (file shapes, signal and epoch matching, messages, speed), not accuracy.

Columns: rover epochs paired with a base epoch / all; double-difference signals per paired epoch
(before the elevation mask; :mod:`gnssaug.datasets.pairing`); solution availability (share of rover
epochs with a Q=1/2 solution) ours and RTKLIB's; wall time of each process and ours/RTKLIB.

Run: ``.venv/bin/python benchmarks/realcheck_rehearsal.py [--folder DIR] [--only NAME,...]``

Result (2026-11-22, 2 shared cores; TST 2020 rover 986 epochs, HKSC simulated from the hour c+d navs)::

    variant                      paired  DD/ep avail ours  RTKLIB  t ours  RTKLIB  ratio ours ep/s
    3.04 (ours)                 986/986   18.2     100.0%   11.2%   6.78s   2.04s   3.32       145
    3.02 C1I                    986/986   18.2     100.0%   11.2%   4.32s   1.34s   3.23       228
    3.04 with C1I               986/986   18.2     100.0%   11.2%   3.56s   1.00s   3.56       277
    .crx                        986/986   18.2     100.0%   11.2%   4.34s   1.55s   2.80       227
    .crx.gz                     986/986   18.2     100.0%   11.2%   3.90s   1.95s   2.00       253
    .rnx.gz                     986/986   18.2     100.0%   11.2%   4.38s   1.51s   2.90       225
    .20o.gz (3.02)              986/986   18.2     100.0%   11.2%   4.91s   1.52s   3.22       201
    2.11 C1 L1 P2 L2            986/986   18.2     100.0%   11.2%   5.10s   1.26s   4.06       193
    2.11 .20d                   986/986   18.2     100.0%   11.2%   5.13s   1.64s   3.13       192
    2.11 convbin G+E            986/986   10.4     100.0%   11.3%   3.16s   0.94s   3.36       312
    5 s                         986/986   18.2     100.0%   11.2%   4.15s   1.22s   3.40       238
    30 s                        986/986   18.2     100.0%   11.2%   3.26s   1.19s   2.73       302
    two files                   986/986   18.2     100.0%    nan%   4.07s    nans    nan       242  n/a (one base)
    rover 10 Hz / base 1 Hz   3000/3000   62.0     100.0%  100.0%   8.07s  15.30s   0.53       372
    rover 5 Hz / base 1 Hz    1500/1500   62.0     100.0%  100.0%   5.73s  11.21s   0.51       262
    M8T 2019 GC --freqs 2     1760/1760    6.3      97.4%   27.8%   7.15s   2.38s   3.01       246

Every shape pairs the same 18.2 double differences per epoch (the "3.04 with C1I" row was 13.4 before
BDS C1I was read as B1I in 3.03+ files). On the real urban rovers ours is 2-4x slower than rnx2rtkp
(engine time per epoch: outlier rejection, LAMBDA and the AOT kernel dispatch's argument matching,
~0.9 s of 56k calls on TST), 0.5x on the static 5/10 Hz rover; rnx2rtkp outputs a solution for only
11 % of TST epochs with this synthetic base. The M8T row was 1.0 % before the engine stopped keeping
a NaN position after one bad epoch (commit 973a00c, found here).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rtk_vs_rtklib import rtklib_conf  # noqa: E402  (the same rnx2rtkp options as the RTK benchmark)

from gnssaug.datasets.pairing import pair_report  # noqa: E402
from gnssaug.datasets.paths import shared_data_file  # noqa: E402
from gnssaug.datasets.posfile import read_pos  # noqa: E402
from gnssaug.datasets.realcheck import Variant, build_variants, merged_nav, write_decimated  # noqa: E402
from gnssaug.datasets.rinex import read_obs  # noqa: E402
from gnssaug.geodesy import llh_deg_from_ecef  # noqa: E402

GNSSAUG = [sys.executable, "-m", "gnssaug"]
HKSC_CSV = "name,lat_deg,lon_deg,height_m\nHKSC,22.3224,114.1412,20.0\n"
#: The TST 2020 static truth point as a simulated rover (for the 5/10 Hz rover rows).
TSTR_ROW = "TSTR,22.299915404,114.177707462,4.89\n"


def sim(folder: Path, nav: Path, start: str, duration_s: float, rate_hz: float = 1.0, with_rover: bool = False):
    """Simulate HKSC (and a static rover TSTR at the TST point) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    layout = folder / "layout.csv"
    layout.write_text(HKSC_CSV + (TSTR_ROW if with_rover else ""))
    subprocess.run([*GNSSAUG, "sim", "--layout", str(layout), "--nav", str(nav), "--start", start, "--duration",
                    str(duration_s), "--rate", str(rate_hz), "-o", str(folder)], check=True, capture_output=True)
    return folder


def availability(pos_path: Path, n_rover: int) -> float:
    """Share of rover epochs with a fixed or float solution in a .pos file."""
    if not pos_path.exists():
        return float("nan")
    pos = read_pos(pos_path)
    return float(np.count_nonzero(np.isin(pos.q, (1, 2)))) / max(n_rover, 1)


def run_ours(rover: Path, bases: list[Path], navs: list[Path], out: Path, systems: str, freqs: int):
    cmd = [*GNSSAUG, "solve", "--mode", "rtk", str(rover), *map(str, bases), *map(str, navs), "--systems", systems,
           "--freqs", str(freqs), "-o", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return wall, proc.stderr.strip().splitlines()[-1]
    return wall, ""


def run_rtklib(rover: Path, bases: list[Path], navs: list[Path], out: Path, systems: str, freqs: int):
    exe = shutil.which("rnx2rtkp")
    if exe is None or len(bases) != 1:
        return float("nan"), "n/a (one base file only)" if exe else "rnx2rtkp not installed"
    header, _ = read_obs(bases[0], systems=systems)
    conf = out.with_suffix(".conf")
    text = rtklib_conf(llh_deg_from_ecef(header.approx_pos_ecef_m), systems)
    if freqs == 1:
        text = text.replace("=l1+2", "=l1")
    conf.write_text(text)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")  # crx2rnx
    t0 = time.perf_counter()
    proc = subprocess.run([exe, "-k", str(conf), "-o", str(out), str(rover), str(bases[0]), *map(str, navs)],
                          capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    return wall, "" if proc.returncode == 0 else f"rnx2rtkp exit {proc.returncode}"


def row(name: str, rover: Path, v: Variant, navs: list[Path], folder: Path, systems: str = "GEC", freqs: int = 2):
    """Run both on one variant; returns the table row (dict)."""
    systems = "".join(c for c in systems if c in v.systems)
    hr, r = read_obs(rover, systems=systems)
    hb, b = read_obs(v.paths if len(v.paths) > 1 else v.paths[0], systems=systems)
    rep = pair_report(r, b, systems, freqs, 30.0, (hr.version, hb.version))
    tag = "".join(c if c.isalnum() else "_" for c in name)
    ours_pos, rtk_pos = folder / f"{tag}.pos", folder / f"{tag}_rtklib.pos"
    t_ours, err_ours = run_ours(rover, v.paths, navs, ours_pos, systems, freqs)
    t_rtk, err_rtk = run_rtklib(rover, v.paths, navs, rtk_pos, systems, freqs)
    dd = rep.dd_per_epoch[np.isfinite(rep.dd_per_epoch)]
    return {
        "name": name, "matched": f"{rep.n_matched}/{rep.n_rover}", "dd": float(dd.mean()) if dd.size else 0.0,
        "ours": availability(ours_pos, len(r)) if not err_ours else float("nan"),
        "rtklib": availability(rtk_pos, len(r)) if not err_rtk else float("nan"),
        "t_ours": t_ours, "t_rtk": t_rtk, "eps": len(r) / t_ours, "note": err_ours or err_rtk,
    }


def print_table(rows: list[dict]) -> None:
    print(f"\n{'variant':24s} {'paired':>10s} {'DD/ep':>6s} {'avail ours':>10s} {'RTKLIB':>7s} {'t ours':>7s} "
          f"{'RTKLIB':>7s} {'ratio':>6s} {'ours ep/s':>9s}  note")
    for r in rows:
        ratio = r["t_ours"] / r["t_rtk"] if np.isfinite(r["t_rtk"]) else float("nan")
        print(f"{r['name']:24s} {r['matched']:>10s} {r['dd']:6.1f} {100 * r['ours']:9.1f}% {100 * r['rtklib']:6.1f}% "
              f"{r['t_ours']:6.2f}s {r['t_rtk']:6.2f}s {ratio:6.2f} {r['eps']:9.0f}  {r['note']}")


def rate_rows(folder: Path, nav: Path, navs: list[Path]) -> list[dict]:
    """A static rover at 10 Hz and 5 Hz against a 1 Hz base (simulated together at 10 Hz)."""
    out = []
    sim_dir = sim(folder / "sim10", nav, "2020-06-03T03:05:00", 300, rate_hz=10, with_rover=True)
    base_1hz = write_decimated(sim_dir / "HKSC.obs", folder / "HKSC_1hz.obs", 1.0)
    rover5 = write_decimated(sim_dir / "TSTR.obs", folder / "TSTR_5hz.obs", 0.2)
    for name, rover in (("rover 10 Hz / base 1 Hz", sim_dir / "TSTR.obs"), ("rover 5 Hz / base 1 Hz", rover5)):
        out.append(row(name, rover, Variant(name, [base_1hz]), navs, folder))
    return out


def m8t_row(folder: Path) -> dict:
    """The 2019 M8T rover (GPS L1 + BDS B1I) against a simulated HKSC of 2019-04-28, --freqs 2."""
    d = shared_data_file("hk_tst_20190428")
    navs = [d / "hksc1180.19n", d / "hksc1180.19b"]
    nav = merged_nav(navs, folder / "mixed2019.nav")
    sim_dir = sim(folder / "sim2019", nav, "2019-04-28T12:44:00", 1800)
    return row("M8T 2019 GC --freqs 2", d / "COM3_190428_124409.obs", Variant("m8t", [sim_dir / "HKSC.obs"]), navs,
               folder, systems="GC")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--folder", help="work folder (default: a temporary one, removed at the end)")
    p.add_argument("--only", help="comma-separated variant names (default: all)")
    args = p.parse_args(argv)
    tmp = None if args.folder else tempfile.TemporaryDirectory(prefix="realcheck_")
    folder = Path(args.folder or tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    data = shared_data_file("hk_tst_20200603")
    rover = data / "2020_06_03_TST_03.obs"
    navs = [data / f"hksc155{h}.20{s}" for h in "cd" for s in "nbl"]
    t0 = time.perf_counter()
    nav = merged_nav(navs, folder / "mixed2020.nav")
    base = sim(folder / "sim", nav, "2020-06-03T03:02:00", 1000) / "HKSC.obs"
    variants = build_variants(base, folder / "variants")
    print(f"built {len(variants)} base variants in {time.perf_counter() - t0:.1f} s under {folder}")
    run_ours(rover, [base], navs, folder / "warmup.pos", "GEC", 2)  # file cache, kernel cache
    wanted = set(args.only.split(",")) if args.only else None
    rows = [row(v.name, rover, v, navs, folder) for v in variants if wanted is None or v.name in wanted]
    if wanted is None:
        rows += rate_rows(folder, nav, navs)
        rows.append(m8t_row(folder))
    print_table(rows)
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
