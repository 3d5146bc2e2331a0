"""``gnssaug kernels build|status``: compile the numba kernels ahead of time.

A process that runs kernels just in time pays about 1 s before the first one runs (importing numba,
setting up its CPU target), even from a warm disk cache. ``make install`` therefore runs
``gnssaug kernels build``: a child process, with JIT forced, runs a representative workload through
the command line (simulated stations solved in every mode, and the shared real data sets when they
are present), then every kernel the workload called from Python is compiled with numba's ``pycc``
for exactly the argument types it was called with, into one extension module in
:func:`gnssaug.kernels.aot_dir` (named after the digest of the kernel sources, so an edited kernel
is never served stale). :mod:`gnssaug.kernels` explains how processes use it.

Ahead-of-time entries hold the GIL while they run (``pycc`` wrappers do not release it, unlike the
``nogil`` JIT kernels): a server that runs long kernels in worker threads beside its event loop
should run with ``GNSSAUG_KERNELS=jit``. Command-line solves, which run kernels on their main
thread, lose nothing.

Example::

    gnssaug kernels build      # about 1-3 min; prints each compiled entry
    gnssaug kernels status     # which mode a process would use, and what was compiled
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gnssaug.errors import GnssError


class KernelBuildError(GnssError):
    """The ahead-of-time build could not run (no compiler, numba without pycc ...)."""


def register(subparsers) -> None:
    """Add the ``kernels`` subcommand."""
    p = subparsers.add_parser("kernels", help="compile the numba kernels ahead of time (faster start-up)",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="kernels_command", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="run the workload and compile what it calls")
    build.add_argument("--force", action="store_true", help="rebuild even if a build for these sources exists")
    build.set_defaults(func=run_build)
    status = sub.add_parser("status", help="print the kernel mode and the compiled entries")
    status.set_defaults(func=run_status)


# --- the workload (runs in the child process, JIT forced) ------------------------------------------


def _workload_commands(tmp: Path) -> list[list[str]]:
    """``gnssaug`` command lines covering the solver paths, on simulated and (if present) real data."""
    from gnssaug.datasets.paths import shared_data_dir

    data = shared_data_dir()
    nav = data / "wuhan_wuhn_20250101" / "BRDC00IGS_R_20250010000_01D_MN.rnx.gz"
    if not nav.exists():
        return []
    sim = tmp / "sim"
    a, b = sim / "HB01.obs", sim / "HB02.obs"
    cmds = [["sim", "--stations", "HB01,HB02", "--duration", "60", "-o", str(sim), "--nav", str(nav)]]
    cmds += [["solve", "--mode", mode, "-q", str(a), str(b), str(nav), "-o", str(tmp / f"{mode}.pos")]
             for mode in ("dgnss", "rtk", "static")]
    cmds += [["solve", "--mode", "spp", "-q", str(a), str(nav), "-o", str(tmp / "spp.pos")],
             ["solve", "--mode", "spp", "--iono", "if", "-q", str(a), str(nav), "-o", str(tmp / "if.pos")],
             ["info", str(a)]]
    nagoya = data / "jp_nagoya_static_20240624"
    if nagoya.exists():
        rover, base, nnav = (str(nagoya / n) for n in ("rover.obs", "base.obs", "base.nav"))
        cmds += [["solve", "--mode", "spp", "-q", "--systems", "GC", "--elmask", "15", rover, nnav,
                  "-o", str(tmp / "n_spp.pos")],
                 ["solve", "--mode", "rtk", "-q", "--end", "2024-06-24T08:21:00", rover, base, nnav,
                  "-o", str(tmp / "n_rtk.pos")]]
    tst = data / "hk_tst_20190428"
    if tst.exists():
        cmds.append(["solve", "--mode", "spp", "-q", "--systems", "GC", str(tst / "COM3_190428_124409.obs"),
                     str(tst / "hksc1180.19n"), str(tst / "hksc1180.19b"), "-o", str(tmp / "tst.pos")])
    wuhn = data / "wuhan_wuhn_20250101" / "WUHN00CHN_R_20250010000_01D_30S_MO.crx"
    if wuhn.exists():
        cmds.append(["solve", "--mode", "spp", "-q", "--systems", "GC", "--end", "2025-01-01T01:00:00", str(wuhn),
                     str(nav), "-o", str(tmp / "wuhn.pos")])
    return cmds


def _run_workload(tmp: Path) -> int:
    """Run every workload command in this process; the number run."""
    from gnssaug.cli import main
    from gnssaug.ephemeris.store import warm_up
    from gnssaug.kernels.fanout import warm_up as warm_up_fanout

    warm_up()  # GLONASS and Keplerian states at server start
    warm_up_fanout()  # the caster's batched fan-out, with the argument types the hub passes
    commands = _workload_commands(tmp)
    for argv in commands:
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # what the commands print is not the build's output
            status = main(argv)
        outcome = "ok" if status == 0 else f"FAILED (exit {status}): its kernels stay just in time"
        print(f"  workload: gnssaug {' '.join(argv[:3])} ... {outcome} ({time.perf_counter() - started:.1f} s)",
              flush=True)
    return len(commands)


def _child_main() -> int:
    """The build proper, in a process whose kernels run just in time."""
    from gnssaug.kernels import aot_dir
    from gnssaug.kernels.aot_build import compile_called_kernels

    target = aot_dir()
    with tempfile.TemporaryDirectory(prefix="gnssaug-kernels-") as tmp:
        if _run_workload(Path(tmp)) == 0:
            print("kernels: no workload data (the shared data sets are absent); kernels stay just in time")
            return 0
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
        table = compile_called_kernels(staging, log=lambda line: print(line, flush=True))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    print(f"kernels: {sum(len(v) for v in table['kernels'].values())} entries of {len(table['kernels'])} kernels "
          f"-> {target}")
    return 0


# --- the commands ----------------------------------------------------------------------------------


def run_build(args) -> int:
    """Run ``gnssaug kernels build``: the workload and compile step in a JIT child process."""
    from gnssaug.kernels import AOT_TABLE, aot_dir

    if (aot_dir() / AOT_TABLE).exists() and not args.force:
        print(f"kernels: already built for these sources ({aot_dir()})")
        return 0
    started = time.perf_counter()
    env = {**os.environ, "GNSSAUG_KERNELS": "jit"}
    proc = subprocess.run([sys.executable, "-m", "gnssaug.datasets.kernels_build"], env=env)
    if proc.returncode != 0:
        raise KernelBuildError(f"ahead-of-time kernel build failed (exit {proc.returncode}); kernels stay just in time")
    print(f"kernels: build took {time.perf_counter() - started:.0f} s")
    return 0


def run_status(args) -> int:
    """Run ``gnssaug kernels status``."""
    from gnssaug import kernels

    table_path = kernels.aot_dir() / kernels.AOT_TABLE
    print(f"mode: {kernels.kernel_mode()}")
    if not table_path.exists():
        print(f"no ahead-of-time build for these sources (expected in {kernels.aot_dir()}); run: gnssaug kernels build")
        return 0
    table = json.loads(table_path.read_text())
    print(f"ahead-of-time module: {kernels.aot_dir() / table['library']}")
    for key, entries in sorted(table["kernels"].items()):
        print(f"  {key}: {len(entries)} signature(s)")
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
