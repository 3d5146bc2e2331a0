"""RTK speed and quality: ``gnssaug solve --mode rtk`` against RTKLIB ``rnx2rtkp``, whole processes.

Both run kinematic, forward, on the same files with the same systems, two frequencies, 15 deg mask,
continuous ambiguity resolution with ratio 3, broadcast ephemerides and the same known base
position. The ahead-of-time kernels are built first if missing (``gnssaug kernels build``, what
``make install`` does); ours then runs once as a warm-up (file cache) before timing. Each side is timed as a whole
process (start-up, file reading, solving, writing), ``--repeat`` times, alternating; the medians of
wall time and of CPU time (user + system of the child) are reported: the machine may be shared, and
CPU time is what load does not inflate. Quality of both ``.pos`` files comes from
:func:`gnssaug.datasets.evaluate.evaluate` against the truth.

Inputs:

- ``nagoya``: the real Septentrio pair (0.99 m baseline, 5 min at 1 Hz), GPS+Galileo+BeiDou, truth
  from ``rover_position.txt``; the base at its truth position. That truth is the mean of the
  RTKLIB 2.4.3 b34 solution shipped with the data (``rover_rtk.pos``: GPS+GLONASS+Galileo+QZSS+BDS,
  instantaneous AR) rounded to 1e-8 deg (0.9 mm east, 1.1 mm north), so sub-millimetre offsets of
  either side mostly measure the signal choice against RTKLIB's, not accuracy: see the bias/scatter
  split printed under the table. RTKLIB's ``L1+2`` gives BDS-3 satellites B1I only (they do not
  broadcast B2I); gnssaug uses B1I+B3I for them.
- ``nagoya-C`` (``--nagoya-systems``, default ``GEC,C``): the same pair with BeiDou alone
  (BDS-2 and BDS-3, each with its own reference satellite). A set with ``R`` (e.g. ``GREC``) adds
  GLONASS G1/G2 on both sides with float ambiguities only (RTKLIB ``pos2-gloarmode=off``).
- ``--epoch-cost SYS[,SYS...]``: in-process per-epoch time of the engine on the Nagoya pair for
  each system set (e.g. ``GEC,GREC``: what GLONASS adds, its orbits being RK4-integrated), and the
  share of it spent in the satellite states.
- ``nagoya-base<S>s`` (``--base-every S[,S...]``): the same pair with the base decimated to the
  epochs whose second is a multiple of S (what reference networks publish: 5 s, 30 s files), both
  sides forward: each rover epoch with the latest base epoch not newer than it (age of
  differential up to S - 1 s).
- ``sim``: the network simulator (real WUHN-day broadcast ephemerides, every error model on): a base
  and a rover ``--sim-distance`` km apart for ``--sim-duration`` s at 1 Hz, GPS+Galileo+BeiDou; with
  ``--base-every``, also with its base decimated.

Run: ``.venv/bin/python benchmarks/rtk_vs_rtklib.py [--repeat 3] [--sim-duration 3600] [--skip-sim]
[--base-every 5,30]``
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gnssaug.datasets.evaluate import evaluate
from gnssaug.datasets.paths import shared_data_file
from gnssaug.datasets.posfile import read_pos
from gnssaug.datasets.truth import Truth, load_llh_point
from gnssaug.geodesy import llh_deg_from_ecef

#: RTKLIB ``pos1-navsys`` bits (``SYS_GPS`` 1, ``SYS_GLO`` 4, ``SYS_GAL`` 8, ``SYS_QZS`` 16, ``SYS_CMP`` 32).
_NAVSYS = {"G": 1, "R": 4, "E": 8, "J": 16, "C": 32}


def rtklib_conf(base_llh_deg, systems: str, ionoopt: str = "brdc") -> str:
    """rnx2rtkp options matching ``gnssaug solve --mode rtk`` defaults.

    ``ionoopt`` is RTKLIB's ``pos1-ionoopt``: ``brdc`` (cancels in the double differences) or
    ``est-stec`` (a slant ionosphere state per satellite, for long baselines).
    """
    opts = {
        "pos1-posmode": "kinematic",
        "pos1-frequency": "l1+2",
        "pos1-soltype": "forward",
        "pos1-elmask": "15",
        "pos1-dynamics": "off",
        "pos1-tidecorr": "off",
        "pos1-ionoopt": ionoopt,
        "pos1-tropopt": "saas",
        "pos1-sateph": "brdc",
        "pos1-navsys": str(sum(_NAVSYS[c] for c in systems)),
        "pos2-armode": "continuous",
        "pos2-gloarmode": "off",  # GLONASS ambiguities float, as gnssaug (FLOAT_ONLY_SYSTEMS)
        "pos2-bdsarmode": "on",
        "pos2-arthres": "3",
        "out-solformat": "llh",
        "out-outstat": "off",
        "ant2-postype": "llh",
        "ant2-pos1": f"{base_llh_deg[0]:.9f}",
        "ant2-pos2": f"{base_llh_deg[1]:.9f}",
        "ant2-pos3": f"{base_llh_deg[2]:.4f}",
    }
    return "".join(f"{k:<20}={v}\n" for k, v in opts.items())


def timed(cmd: list[str]) -> tuple[float, float]:
    """Run a command; returns (wall [s], child CPU user+system [s]). Raises on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr[-800:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def compare(name, rover, base, navs, base_ecef_m, truth: Truth, systems, folder: Path, repeat: int,
            reference: Path | None = None) -> dict:
    """Run both sides on one input and print the comparison.

    ``reference``: the ``.pos`` file the truth was derived from (its fixed-epoch mean, unrounded),
    to print the errors against that mean too (see :func:`print_unrounded_reference`).
    """
    llh = llh_deg_from_ecef(base_ecef_m)
    conf = folder / f"{name}.conf"
    conf.write_text(rtklib_conf(llh, systems))
    ours_pos, theirs_pos = folder / f"{name}_gnssaug.pos", folder / f"{name}_rtklib.pos"
    ours = [sys.executable, "-m", "gnssaug", "solve", "--mode", "rtk", str(rover), *map(str, navs), "--base",
            str(base), "--base-pos=" + ",".join(f"{v:.4f}" for v in base_ecef_m), "--systems", systems, "--freqs", "2",
            "--elmask", "15", "--ar", "continuous", "-q", "-o", str(ours_pos)]
    theirs = [shutil.which("rnx2rtkp"), "-k", str(conf), "-o", str(theirs_pos), str(rover), str(base),
              *map(str, navs)]
    timed(ours)  # warm-up: file cache (and the JIT cache when a kernel runs just in time)
    t_ours, t_theirs = [], []
    for _ in range(repeat):
        t_ours.append(timed(ours))
        t_theirs.append(timed(theirs))
    ev_ours = evaluate(read_pos(ours_pos), truth)
    ev_theirs = evaluate(read_pos(theirs_pos), truth)
    n = max(ev_ours.n_epochs, ev_theirs.n_epochs)
    wall_o = statistics.median(t[0] for t in t_ours)
    cpu_o = statistics.median(t[1] for t in t_ours)
    wall_r = statistics.median(t[0] for t in t_theirs)
    cpu_r = statistics.median(t[1] for t in t_theirs)
    print(f"\n== {name}: {n} epochs, systems {systems}, L1+L2, 15 deg, continuous AR (median of {repeat})")
    print(f"{'':10} {'wall s':>7} {'cpu s':>7} {'ep/s wall':>10} {'ep/s cpu':>9} {'fix %':>6} {'TTFF s':>7} "
          f"{'fixH mm':>8} {'fixV mm':>8} {'fixH95':>7} {'fixV95':>7} {'H95 mm':>7} {'V95 mm':>7}")
    for label, wall, cpu, ev in (("gnssaug", wall_o, cpu_o, ev_ours), ("rnx2rtkp", wall_r, cpu_r, ev_theirs)):
        print(f"{label:10} {wall:7.2f} {cpu:7.2f} {n / wall:10.1f} {n / cpu:9.1f} {100 * ev.fix_rate:6.1f} "
              f"{ev.ttff_s:7.1f} {1e3 * ev.fix_h_rms_m:8.2f} {1e3 * ev.fix_v_rms_m:8.2f} {1e3 * ev.fix_h95_m:7.1f} "
              f"{1e3 * ev.fix_v95_m:7.1f} {1e3 * ev.h95_m:7.1f} {1e3 * ev.v95_m:7.1f}")
    print(f"speed ratio gnssaug/rnx2rtkp: wall {wall_r / wall_o:.2f}x, cpu {cpu_r / cpu_o:.2f}x (>1: gnssaug faster)")
    print_fixed_breakdown(read_pos(ours_pos), read_pos(theirs_pos), truth)
    if reference is not None:
        print_unrounded_reference(read_pos(ours_pos), read_pos(theirs_pos), read_pos(reference), truth)
    return {"ours": ev_ours, "rtklib": ev_theirs, "cpu_ratio": cpu_r / cpu_o, "wall_ratio": wall_r / wall_o}


def print_fixed_breakdown(ours, theirs, truth: Truth) -> None:
    """Fixed-epoch errors split into bias and scatter, and over the epochs both sides fixed.

    A fixed-epoch RMS mixes a constant offset (multipath of a static antenna averaged over the
    session, the truth's own error) with the epoch-to-epoch scatter; and two solvers that fix
    different epochs are judged on different sets. Both splits are printed to read the table right.
    """
    from gnssaug.datasets.truth import enu_errors

    t_common, i_o, i_t = np.intersect1d(ours.t_gpst_ns, theirs.t_gpst_ns, return_indices=True)
    ref = truth.at(t_common)
    both = (ours.q[i_o] == 1) & (theirs.q[i_t] == 1) & np.isfinite(ref).all(axis=1)
    if not both.any():
        return
    print(f"fixed by both ({both.sum()} epochs): ENU mean / std, H RMS, H95, V95 [mm]")
    for label, pos, idx in (("gnssaug", ours, i_o), ("rnx2rtkp", theirs, i_t)):
        enu = 1e3 * enu_errors(pos.pos_ecef_m[idx][both], ref[both])
        h = np.hypot(enu[:, 0], enu[:, 1])
        mean, std = enu.mean(axis=0), enu.std(axis=0)
        print(f"{label:10} mean {mean[0]:6.2f} {mean[1]:6.2f} {mean[2]:6.2f}  std {std[0]:5.2f} {std[1]:5.2f} "
              f"{std[2]:5.2f}  H RMS {np.sqrt(np.mean(h**2)):6.2f}  H95 {np.percentile(h, 95):6.1f}  "
              f"V95 {np.percentile(np.abs(enu[:, 2]), 95):6.1f}")


def print_unrounded_reference(ours, theirs, reference, truth: Truth) -> None:
    """Fixed-epoch H/V RMS against the unrounded mean of the solution the truth was derived from.

    Nagoya's ``rover_position.txt`` is the mean of the fixed epochs of ``rover_rtk.pos`` rounded to
    1e-8 deg, a step of 1.1 mm north and 0.9 mm east at 35 deg latitude: the rounding alone moves
    the truth by up to half a step, as much as the sub-millimetre differences being compared. The
    same errors against the mean itself show what the rounding contributes.
    """
    from gnssaug.datasets.truth import enu_errors

    fixed = reference.q == 1
    if not fixed.any():
        return
    mean_ecef_m = reference.pos_ecef_m[fixed].mean(axis=0)
    shift = 1e3 * enu_errors(truth.at(reference.t_gpst_ns[fixed][:1]), mean_ecef_m)[0]
    print(f"against the unrounded reference (mean of {fixed.sum()} fixed epochs of the reference solution; the "
          f"rounded truth is {shift[0]:+.2f} E {shift[1]:+.2f} N {shift[2]:+.2f} U mm from it):")
    for label, pos in (("gnssaug", ours), ("rnx2rtkp", theirs)):
        sel = pos.q == 1
        enu = 1e3 * enu_errors(pos.pos_ecef_m[sel], mean_ecef_m)
        h = np.hypot(enu[:, 0], enu[:, 1])
        mean = enu.mean(axis=0)
        print(f"{label:10} fixed H RMS {np.sqrt(np.mean(h**2)):5.2f}  V RMS {np.sqrt(np.mean(enu[:, 2] ** 2)):5.2f}  "
              f"mean {mean[0]:6.2f} {mean[1]:6.2f} {mean[2]:6.2f}")


class _TimedStates:
    """A satellite-state source that adds up the time spent in ``sat_states``."""

    def __init__(self, inner):
        self.inner = inner
        self.glo_fcn = getattr(inner, "glo_fcn", None)
        self.seconds = 0.0

    def sat_states(self, *args, **kwargs):
        t0 = time.perf_counter()
        out = self.inner.sat_states(*args, **kwargs)
        self.seconds += time.perf_counter() - t0
        return out


def epoch_cost(nagoya: Path, system_sets: list[str], rounds: int) -> None:
    """Per-epoch engine time on the Nagoya pair per system set, in-process, alternated ``rounds`` times.

    Prints, per set, the minimum and median over rounds of the mean time of ``RtkEngine.step`` per
    epoch, and of the part of it in ``sat_states``. The first round of each set is a warm-up.
    """
    from gnssaug.datasets.rinex import read_obs
    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.ephemeris.store import EphStore
    from gnssaug.solvers.rtk import RtkEngine, RtkOptions, match_base_epochs

    eph = EphStore(read_nav(nagoya / "base.nav"))
    _, rover = read_obs(nagoya / "rover.obs")
    _, base = read_obs(nagoya / "base.obs")
    base_ecef = load_llh_point(nagoya / "base_position.txt").pos_ecef_m[0]
    pairs = match_base_epochs(rover.t_gpst_ns, base.t_gpst_ns, 30.0)
    epochs = [(rover.epoch(k), base.epoch(pairs[k])) for k in range(len(rover))]
    step_ms = {s: [] for s in system_sets}
    states_ms = {s: [] for s in system_sets}
    for r in range(rounds + 1):
        for systems in system_sets:
            source = _TimedStates(eph)
            engine = RtkEngine(source, base_ecef, RtkOptions(systems=systems))
            t0 = time.process_time()
            for rov, bas in epochs:
                engine.step(rov, bas)
            if r:  # (round 0 warms up)
                step_ms[systems].append(1e3 * (time.process_time() - t0) / len(epochs))
                states_ms[systems].append(1e3 * source.seconds / len(epochs))
    print(f"\n== per-epoch engine time on the Nagoya pair ({len(epochs)} epochs, CPU time, {rounds} alternated rounds)")
    print(f"{'systems':8} {'step min ms':>12} {'step median':>12} {'sat_states min':>15} {'sat_states median':>18}")
    for systems in system_sets:
        print(f"{systems:8} {min(step_ms[systems]):12.3f} {statistics.median(step_ms[systems]):12.3f} "
              f"{min(states_ms[systems]):15.3f} {statistics.median(states_ms[systems]):18.3f}")


def decimated_base(src: Path, dst: Path, every_s: int) -> Path:
    """Copy of a RINEX 3 observation file with only the epochs whose second is a multiple of ``every_s``."""
    header, sep, body = src.read_text().partition("END OF HEADER")
    head_end, _, records = body.partition("\n")
    blocks = records.split("\n>")
    blocks[0] = blocks[0].removeprefix(">")
    kept = [b for b in blocks if b.strip() and int(float(b[18:29])) % every_s == 0]
    dst.write_text(header + sep + head_end + "\n" + "".join(">" + b.rstrip("\n") + "\n" for b in kept))
    return dst


def simulate(folder: Path, distance_km: float, duration_s: float, seed: int):
    """Simulate a base and one rover; returns (rover, base, nav, base ECEF, rover truth ECEF)."""
    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.datasets.sim.baseline import baseline_layout
    from gnssaug.datasets.sim.cli import DEFAULT_NAV, DEFAULT_START
    from gnssaug.datasets.sim.engine import SimConfig, Simulator
    from gnssaug.datasets.sim.output import receivers_for, write_outputs
    from gnssaug.datasets.sim.satellites import BroadcastSource
    from gnssaug.time import parse_time_arg

    nav_path = shared_data_file(*DEFAULT_NAV)
    source = BroadcastSource(read_nav(nav_path))
    layout = baseline_layout([distance_km])
    cfg = SimConfig(start_gpst_ns=parse_time_arg(DEFAULT_START), duration_s=duration_s, seed=seed)
    sim = Simulator(cfg, receivers_for(layout), source.sat, source, source.group_delays_m(source.sat))
    write_outputs(sim, folder, layout, nav_path)
    rover = layout.names[1]
    return (folder / f"{rover}.obs", folder / "BASE.obs", folder / "nav.rnx", layout.pos_ecef_m[0],
            layout.pos_ecef_m[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side (default 3)")
    parser.add_argument("--sim-duration", type=float, default=3600.0, help="simulated seconds (default 3600)")
    parser.add_argument("--sim-distance", type=float, default=5.0, help="simulated baseline [km] (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-sim", action="store_true", help="only the Nagoya pair")
    parser.add_argument("--nagoya-systems", default="GEC,C", metavar="SYS[,SYS...]",
                        help="system sets run on the Nagoya pair (default GEC,C: GPS+Galileo+BeiDou, then BeiDou "
                             "alone, BDS-2+BDS-3)")
    parser.add_argument("--base-every", default="", metavar="S[,S...]",
                        help="also Nagoya with the base decimated to every S seconds (e.g. 5,30)")
    parser.add_argument("--epoch-cost", default="", metavar="SYS[,SYS...]",
                        help="only the in-process per-epoch engine time on Nagoya per system set (e.g. GEC,GREC)")
    parser.add_argument("--epoch-cost-rounds", type=int, default=7, help="alternated rounds of --epoch-cost")
    args = parser.parse_args(argv)
    if args.epoch_cost:
        epoch_cost(shared_data_file("jp_nagoya_static_20240624"), args.epoch_cost.split(","), args.epoch_cost_rounds)
        return 0
    if shutil.which("rnx2rtkp") is None:
        print("rnx2rtkp (RTKLIB) is not installed", file=sys.stderr)
        return 1
    # the ahead-of-time kernels of these sources, as make install builds them (quick when built)
    subprocess.run([sys.executable, "-m", "gnssaug", "kernels", "build"], check=False)
    mode = subprocess.run([sys.executable, "-m", "gnssaug", "kernels", "status"], capture_output=True, text=True)
    print(f"kernels: {mode.stdout.split()[1] if mode.stdout.startswith('mode:') else '?'}")
    everies = [int(v) for v in args.base_every.split(",") if v.strip()]
    nagoya = shared_data_file("jp_nagoya_static_20240624")
    base_ecef = load_llh_point(nagoya / "base_position.txt").pos_ecef_m[0]
    with tempfile.TemporaryDirectory(prefix="gnssaug-rtkbench-") as tmp:
        tmp = Path(tmp)
        for systems in args.nagoya_systems.split(","):
            compare("nagoya" if systems == "GEC" else f"nagoya-{systems}", nagoya / "rover.obs", nagoya / "base.obs",
                    [nagoya / "base.nav"], base_ecef, load_llh_point(nagoya / "rover_position.txt"), systems, tmp,
                    args.repeat, reference=nagoya / "rover_rtk.pos")
        for every in everies:
            base = decimated_base(nagoya / "base.obs", tmp / f"base_{every}s.obs", every)
            compare(f"nagoya-base{every}s", nagoya / "rover.obs", base, [nagoya / "base.nav"], base_ecef,
                    load_llh_point(nagoya / "rover_position.txt"), "GEC", tmp, args.repeat)
        if not args.skip_sim:
            t0 = time.perf_counter()
            rover, base, nav, base_ecef, truth_ecef = simulate(tmp, args.sim_distance, args.sim_duration, args.seed)
            print(f"\nsimulated {args.sim_duration:.0f} s at 1 Hz, {args.sim_distance:g} km baseline, "
                  f"in {time.perf_counter() - t0:.0f} s")
            sim_truth = Truth(np.asarray(truth_ecef).reshape(1, 3), name="sim")
            compare(f"sim{args.sim_distance:g}km", rover, base, [nav], base_ecef, sim_truth, "GEC", tmp, args.repeat)
            for every in everies:
                sparse = decimated_base(base, tmp / f"sim_base_{every}s.obs", every)
                compare(f"sim{args.sim_distance:g}km-base{every}s", rover, sparse, [nav], base_ecef, sim_truth, "GEC",
                        tmp, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
