"""RTK of a low-cost rover driving in a city: ``gnssaug solve --mode rtk`` against RTKLIB ``rnx2rtkp``.

The stand-in for issue 4's hidden check (a moving u-blox rover in a city, a geodetic base a few km
away): the ``car`` rover of :mod:`gnssaug.datasets.sim.urban` (a ZED-F9P-class receiver with a
patch antenna driving a Hankou street grid: street canyons, NLOS reflections, frequent losses of
lock, half-cycle flags, undeclared slips, time tags a few ms off the second) and its base 4.7 km
away, simulated on the WUHN day's broadcast ephemerides.

Both engines run as whole processes on the same files: kinematic, forward, continuous AR (ratio
3; ``--ar instantaneous`` or ``fix-and-hold`` on both instead), 15 deg mask, the same known base
position; ours after a warm-up run. Variants:

- ``dual``: GPS+Galileo+BeiDou, two frequencies (``--freqs 2`` / ``pos1-frequency=l1+2``);
- ``single``: GPS L1 + BDS B1I only (u-blox M8T class: ``--systems GC --freqs 1`` / ``l1``),
  from the same files;
- ``dual-ge`` (not by default): GPS+Galileo only, two frequencies (a rover or base without
  BeiDou; fewer satellites);
- with ``--base-every 5,30``: each again with the base decimated to 5 s / 30 s.

Printed per run: availability (solutions / rover epochs), fix rate (fixed / rover epochs), wrong
fixes (fixed epochs more than 10 cm and 30 cm off the truth in 3-D, as a share of the fixed
epochs), fixed H/V RMS and 95th percentiles, all-epoch H95/V95, time to first fix, wall and CPU
time of each whole process and their ratios. Then the diagnosis of each engine: every wrong-fix
episode (consecutive fixed epochs off by more than 10 cm) with what the data held at its start
(NLOS satellites above the mask and their extra path, arcs started, half-cycle flags and unflagged
phase jumps in the 30 s before), the long float periods (with the same events), and
code outliers (non-fixed epochs more than 5 m off).

What the remaining wrong fixes are (2026-11-22, seeds 1-4, 900 s): the car passes 6 km from the base
at 860 s (``iono_auto_km``), which used to bias every fix after it (fixed: the ambiguities are
re-parametrised when the ionosphere states start); an oracle that removes every truly NLOS satellite
from ambiguity resolution, or its phase from the float, changes nothing; most fixes beyond 10 cm
hold the right integers (DD phase residuals at the truth 0.05-0.2 cycle: the 5-6 km ionosphere)
and come from partial fixing keeping only high satellites, whose geometry maps 2-4 cm of
ionosphere into 0.1-0.2 m of height.

Run: ``.venv/bin/python benchmarks/rtk_urban_vs_rtklib.py [--duration 900] [--seed 1]
[--base-every 5,30] [--folder DIR] [--variants dual,single] [--ar instantaneous]``
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rtk_vs_rtklib import decimated_base, rtklib_conf, timed  # the sibling benchmark (this folder is on sys.path)

from gnssaug.datasets.evaluate import evaluate
from gnssaug.datasets.posfile import read_pos
from gnssaug.datasets.truth import Truth, enu_errors
from gnssaug.geodesy import llh_deg_from_ecef
from gnssaug.gnss import SAT_SYSTEM, SYSTEMS, sv_name

#: A fixed epoch this far off the truth in 3-D holds a wrong integer (correct fixes on a 5 km
#: baseline are within 2-3 cm; one wrong L1 integer moves the position by about a decimetre).
WRONG_FIX_M = 0.10
BADLY_WRONG_FIX_M = 0.30
#: A non-fixed epoch this far off in 3-D: a code outlier (NLOS, multipath) leaking into the float.
CODE_OUTLIER_M = 5.0
#: Float periods at least this long after the first fix are listed [epochs].
LONG_FLOAT_EPOCHS = 30
EVENT_WINDOW_S = 30
ELMASK_DEG = 15.0

VARIANTS = {
    "dual": ("GEC", 2, "l1+2"),
    "single": ("GC", 1, "l1"),
    "dual-ge": ("GE", 2, "l1+2"),
}


@dataclass
class Scenario:
    """A simulated urban pair on disk."""

    folder: Path
    rover: Path
    base: Path
    nav: Path
    base_ecef_m: np.ndarray
    truth: Truth
    log: dict
    n_epochs: int


def simulate(folder: Path, duration_s: float, seed: int, without=()) -> None:
    """Simulate the car and its base into ``folder`` (RINEX, truth, ``car.urban.npz``).

    ``without``: names of :class:`gnssaug.datasets.sim.urban.UrbanEffects` to switch off.
    """
    from gnssaug.datasets.paths import shared_data_file
    from gnssaug.datasets.sim.cli import DEFAULT_NAV
    from gnssaug.datasets.sim.output import build_simulator, write_outputs
    from gnssaug.datasets.sim.urban import UrbanEffects, save_urban_log, urban_base_layout

    nav_path = shared_data_file(*DEFAULT_NAV)
    layout = urban_base_layout()
    sim = build_simulator(layout, ["car"], nav_path, duration_s=duration_s, seed=seed)
    sim.effects = UrbanEffects.without(without)
    (folder / "car.effects.txt").write_text(f"seed {seed}\n{sim.effects}\n")
    write_outputs(sim, folder, layout, nav_path)
    save_urban_log(sim, "car", folder / "car.urban.npz")


def load_scenario(folder: Path) -> Scenario:
    """The files of a simulated urban pair and its truth trajectory."""
    import csv

    from gnssaug.datasets.sim.urban import urban_base_layout

    rows = list(csv.DictReader((folder / "car.truth.csv").open()))
    t = np.array([int(r["t_gpst_ns"]) for r in rows], dtype=np.int64)
    pos = np.array([[float(r["x_m"]), float(r["y_m"]), float(r["z_m"])] for r in rows])
    log = dict(np.load(folder / "car.urban.npz"))
    return Scenario(folder, folder / "car.obs", folder / "BASE.obs", folder / "nav.rnx",
                    urban_base_layout().pos_ecef_m[0], Truth(pos, t_gpst_ns=t, name="car"), log, t.size)


def scenario_series(sc: Scenario, systems: str):
    """Rover and base observations of ``systems``, the ephemerides, base position and truth (in-process runs)."""
    from gnssaug.datasets.rinex import read_obs
    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.ephemeris.store import EphStore

    rover, base = (read_obs(path, systems=systems)[1] for path in (sc.rover, sc.base))
    return rover, base, EphStore(read_nav(sc.nav)), sc.base_ecef_m, sc.truth


def solve_in_process(folder: Path, duration_s: float, seed: int, systems: str, n_freq: int, **options):
    """Simulate the car into ``folder`` and solve it in this process (tests).

    Returns the solutions, the 3-D error of each [m], whether each is fixed, and the baseline
    length at each epoch [m].
    """
    from gnssaug.solvers.rtk import RtkOptions, solve_rtk
    from gnssaug.solvers.types import SolStatus

    simulate(folder, duration_s, seed)
    rover, base, eph, base_pos, truth = scenario_series(load_scenario(folder), systems)
    opts = RtkOptions(systems=systems, n_freq=n_freq, elmask_deg=ELMASK_DEG, **options)
    sols = solve_rtk(rover, base, eph, base_pos, opts)
    # When each position held (the tag less the receiver clock, as the .pos file dates it): the car's
    # tags run 2-6 ms ahead, centimetres at its speed.
    ref = truth.at(sols.time_ns())
    return (sols, np.linalg.norm(sols.pos_ecef_m - ref, axis=1), sols.status == SolStatus.FIX,
            np.linalg.norm(ref - base_pos, axis=1))


def run_pair(sc: Scenario, base: Path, variant: str, tag: str, repeat: int, ar: str = "continuous") -> dict:
    """Both engines on one base file and variant, AR mode ``ar``; returns their .pos files, times and metrics."""
    systems, n_freq, rtk_freq = VARIANTS[variant]
    llh = llh_deg_from_ecef(sc.base_ecef_m)
    conf = sc.folder / f"{tag}.conf"
    conf.write_text(rtklib_conf(llh, systems).replace("l1+2", rtk_freq).replace("=continuous", f"={ar}"))
    ours_pos, theirs_pos = sc.folder / f"{tag}_gnssaug.pos", sc.folder / f"{tag}_rtklib.pos"
    ours = [sys.executable, "-m", "gnssaug", "solve", "--mode", "rtk", str(sc.rover), str(sc.nav), "--base",
            str(base), "--base-pos=" + ",".join(f"{v:.4f}" for v in sc.base_ecef_m), "--systems", systems,
            "--freqs", str(n_freq), "--elmask", f"{ELMASK_DEG:g}", "--ar", ar, "-q", "-o", str(ours_pos)]
    theirs = [shutil.which("rnx2rtkp"), "-k", str(conf), "-o", str(theirs_pos), str(sc.rover), str(base), str(sc.nav)]
    timed(ours)  # warm-up (file cache, JIT cache)
    t_ours, t_theirs = [], []
    for _ in range(repeat):
        t_ours.append(timed(ours))
        t_theirs.append(timed(theirs))
    out = {}
    for label, path, times in (("gnssaug", ours_pos, t_ours), ("rnx2rtkp", theirs_pos, t_theirs)):
        pos = read_pos(path)
        out[label] = {"pos": pos, "wall_s": float(np.median([t[0] for t in times])),
                      "cpu_s": float(np.median([t[1] for t in times])), **metrics(pos, sc.truth, sc.n_epochs)}
    return out


def metrics(pos, truth: Truth, n_epochs: int) -> dict:
    """Availability, fix rate and wrong fixes over the rover epochs, and :func:`evaluate`'s figures."""
    ref = truth.at(pos.t_gpst_ns)
    has = np.isfinite(ref).all(axis=1)
    err3 = np.linalg.norm(pos.pos_ecef_m - ref, axis=1)
    fixed = (pos.q == 1) & has
    n_fix = int(fixed.sum())
    ev = evaluate(pos, truth)
    return {
        "avail": has.sum() / n_epochs, "fix": n_fix / n_epochs, "n_fix": n_fix,
        "wrong10": float(np.sum(err3[fixed] > WRONG_FIX_M) / max(n_fix, 1)),
        "wrong30": float(np.sum(err3[fixed] > BADLY_WRONG_FIX_M) / max(n_fix, 1)),
        "n_wrong10": int(np.sum(err3[fixed] > WRONG_FIX_M)),
        "ev": ev, "err3_m": err3, "ref": ref,
    }


def print_table(title: str, res: dict) -> None:
    print(f"\n== {title}")
    print(f"{'':9} {'avail%':>6} {'fix%':>6} {'wr>10cm':>8} {'wr>30cm':>8} {'fixH':>6} {'fixV':>6} {'fixH95':>6} "
          f"{'fixV95':>6} {'H95':>7} {'V95':>7} {'TTFF':>6} {'wall s':>7} {'cpu s':>6}")
    print(f"{'':9} {'':>6} {'':>6} {'% fixed':>8} {'% fixed':>8} {'cm':>6} {'cm':>6} {'cm':>6} {'cm':>6} {'m':>7} "
          f"{'m':>7} {'s':>6}")
    for label in ("gnssaug", "rnx2rtkp"):
        r = res[label]
        ev = r["ev"]
        print(f"{label:9} {100 * r['avail']:6.1f} {100 * r['fix']:6.1f} {100 * r['wrong10']:8.2f} "
              f"{100 * r['wrong30']:8.2f} {100 * ev.fix_h_rms_m:6.1f} {100 * ev.fix_v_rms_m:6.1f} "
              f"{100 * ev.fix_h95_m:6.1f} {100 * ev.fix_v95_m:6.1f} {ev.h95_m:7.2f} {ev.v95_m:7.2f} "
              f"{ev.ttff_s:6.0f} {r['wall_s']:7.2f} {r['cpu_s']:6.2f}")
    wall = res["rnx2rtkp"]["wall_s"] / res["gnssaug"]["wall_s"]
    cpu = res["rnx2rtkp"]["cpu_s"] / res["gnssaug"]["cpu_s"]
    print(f"time ratio rnx2rtkp/gnssaug: wall {wall:.2f}x, cpu {cpu:.2f}x (>1: gnssaug faster; cpu time is what "
          "a shared machine's load does not inflate)")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index ranges of the True runs of a boolean array."""
    m = np.concatenate(([False], mask, [False])).astype(np.int8)
    d = np.diff(m)
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0], strict=True))


class DataEvents:
    """What the rover file and the urban log hold around an epoch (for the diagnosis)."""

    def __init__(self, sc: Scenario):
        from gnssaug.datasets.rinex import read_obs

        _, self.obs = read_obs(sc.rover, systems="GEC")
        self.t0 = int(sc.truth.t_gpst_ns[0])
        self.log = sc.log
        ep = np.repeat(np.arange(len(self.obs)), np.diff(self.obs.offsets))
        self.t_row_s = np.rint((self.obs.t_gpst_ns[ep] - self.t0) / 1e9).astype(np.int64)
        el = self.log["el_deg"]
        j = np.searchsorted(self.log["sat"], self.obs.sat)
        self.el_row = el[np.clip(self.t_row_s, 0, el.shape[0] - 1), j]
        high = self.el_row >= ELMASK_DEG
        self.arc_start = high & np.any((self.obs.lli & 1) != 0, axis=1)
        self.half = high & np.any((self.obs.lli & 2) != 0, axis=1)

    def nlos_at(self, k: int, systems: str) -> str:
        """The NLOS satellites of ``systems`` above the mask at second ``k``, with extra path and elevation."""
        st, ex, el = self.log["path_state"][k], self.log["extra_path_m"][k], self.log["el_deg"][k]
        mine = np.isin(SAT_SYSTEM[self.log["sat"]], [SYSTEMS.index(c) for c in systems])
        idx = np.nonzero((st == 2) & (el >= ELMASK_DEG) & mine)[0]
        return " ".join(f"{sv_name(int(self.log['sat'][j]))}({ex[j]:.0f}m,{el[j]:.0f}d)" for j in idx) or "-"

    def around(self, k: int, systems: str) -> str:
        """Arcs started and half-cycle flags (satellites of ``systems``) in the window before second ``k``."""
        mine = np.isin(SAT_SYSTEM[self.obs.sat], [SYSTEMS.index(c) for c in systems])
        win = mine & (self.t_row_s > k - EVENT_WINDOW_S) & (self.t_row_s <= k)
        arcs = np.unique(self.obs.sat[win & self.arc_start])
        half = np.unique(self.obs.sat[win & self.half])
        names = lambda s: " ".join(sv_name(int(v)) for v in s) or "-"  # noqa: E731
        lo = max(k - EVENT_WINDOW_S + 1, 0)
        hidden = self.log["hidden_slip"][lo:k + 1] & (self.log["el_deg"][lo:k + 1] >= ELMASK_DEG)
        sat_mine = np.isin(SAT_SYSTEM[self.log["sat"]], [SYSTEMS.index(c) for c in systems])
        jumps = self.log["sat"][hidden.any(axis=0) & sat_mine]
        return (f"new arcs {len(arcs)} [{names(arcs)}]; half-cycle [{names(half)}]; unflagged phase jumps "
                f"[{names(jumps)}]")


def diagnose(label: str, r: dict, systems: str, ev_data: DataEvents, max_rows: int = 12) -> None:
    """Wrong-fix episodes, long float periods and code outliers of one engine's run."""
    pos = r["pos"]
    k_of = np.rint((pos.t_gpst_ns - ev_data.t0) / 1e9).astype(np.int64)
    fixed = pos.q == 1
    err = r["err3_m"]
    enu = enu_errors(pos.pos_ecef_m, r["ref"])
    wrong = fixed & (err > WRONG_FIX_M)
    episodes = _runs(wrong)
    print(f"\n-- {label}: {len(episodes)} wrong-fix episodes ({int(wrong.sum())} epochs > {100 * WRONG_FIX_M:.0f} cm)")
    for a, b in sorted(episodes, key=lambda ab: -(ab[1] - ab[0]))[:max_rows]:
        k = int(k_of[a])
        worst = a + int(np.argmax(err[a:b]))
        print(f"  t={k:5d}s {b - a:4d} ep  max H {np.hypot(*enu[worst, :2]):.2f} V {enu[worst, 2]:+.2f} m  "
              f"ns {pos.ns[a]} ratio {pos.ratio[a]:.1f}  NLOS>15d {ev_data.nlos_at(k, systems)}")
        print(f"          in the {EVENT_WINDOW_S} s before: {ev_data.around(k, systems)}")
    first = int(np.argmax(fixed)) if fixed.any() else len(pos)
    floats = [(a, b) for a, b in _runs(~fixed[first:]) if b - a >= LONG_FLOAT_EPOCHS]
    total = sum(b - a for a, b in floats)
    print(f"  long float periods (>= {LONG_FLOAT_EPOCHS} epochs after the first fix): {len(floats)}, {total} epochs")
    for a, b in sorted(floats, key=lambda ab: -(ab[1] - ab[0]))[:max_rows // 2]:
        k0, k1 = int(k_of[first + a]), int(k_of[first + b - 1])
        n_nlos = np.mean([(ev_data.log["path_state"][k] == 2).sum() for k in range(k0, k1 + 1)])
        print(f"    t={k0:5d}-{k1:5d}s  median 3D err {np.median(err[first + a:first + b]):.2f} m  "
              f"mean NLOS sats {n_nlos:.1f}; in the {EVENT_WINDOW_S} s before: {ev_data.around(k0, systems)}")
    outl = ~fixed & (err > CODE_OUTLIER_M)
    print(f"  code outliers (non-fixed epochs > {CODE_OUTLIER_M:g} m): {int(outl.sum())}"
          + (f", worst {err[outl].max():.1f} m at t={int(k_of[np.argmax(np.where(outl, err, 0))])}s"
             if outl.any() else ""))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=900.0, help="simulated seconds (default 900)")
    parser.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    parser.add_argument("--folder", default=None,
                        help="keep the scenario here; reused when it already holds car.obs (default: a temp dir)")
    parser.add_argument("--resimulate", action="store_true", help="simulate again even if --folder holds a scenario")
    parser.add_argument("--variants", default="dual,single",
                        help="comma-separated: dual, single, dual-ge (default dual,single)")
    parser.add_argument("--base-every", default="", metavar="S[,S...]", help="also with the base decimated (e.g. 5,30)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per side (default 1)")
    parser.add_argument("--no-diagnosis", action="store_true", help="only the tables")
    parser.add_argument("--without", default="", metavar="EFFECT[,EFFECT...]",
                        help="switch urban effects off to see what each costs: canyon, nlos, half_cycle, "
                             "undeclared_slips, tag_offset, code_noise")
    parser.add_argument("--ar", default="continuous", choices=("continuous", "instantaneous", "fix-and-hold"),
                        help="ambiguity resolution of both engines (default continuous)")
    parser.add_argument("--skip-kernels-build", action="store_true", help="do not run gnssaug kernels build first")
    args = parser.parse_args(argv)
    if shutil.which("rnx2rtkp") is None:
        print("rnx2rtkp (RTKLIB) is not installed", file=sys.stderr)
        return 1
    if not args.skip_kernels_build:
        subprocess.run([sys.executable, "-m", "gnssaug", "kernels", "build"], check=False, capture_output=True)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        parser.error(f"unknown variants {bad}; choose from {', '.join(VARIANTS)}")
    everies = [int(v) for v in args.base_every.split(",") if v.strip()]
    with tempfile.TemporaryDirectory(prefix="gnssaug-urban-") as tmp:
        folder = Path(args.folder) if args.folder else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if args.resimulate or not (folder / "car.obs").exists():
            t0 = time.perf_counter()
            simulate(folder, args.duration, args.seed, [w.strip() for w in args.without.split(",") if w.strip()])
            print(f"simulated the car {args.duration:.0f} s at 1 Hz with seed {args.seed} into {folder} "
                  f"in {time.perf_counter() - t0:.0f} s")
        else:
            print(f"reusing the scenario in {folder}")
        print((folder / "car.effects.txt").read_text().strip())
        sc = load_scenario(folder)
        states = sc.log["path_state"][sc.log["el_deg"] >= ELMASK_DEG]
        print(f"car: {sc.n_epochs} epochs; above {ELMASK_DEG:g} deg: direct {100 * np.mean(states == 1):.0f} %, "
              f"NLOS {100 * np.mean(states == 2):.0f} %, blocked {100 * np.mean(states == 0):.0f} % of "
              f"satellite-epochs; base {np.linalg.norm(sc.base_ecef_m - sc.truth.pos_ecef_m[0]) / 1e3:.1f} km away")
        events = None if args.no_diagnosis else DataEvents(sc)
        for every in [1, *everies]:
            base = sc.base if every == 1 else decimated_base(sc.base, folder / f"BASE_{every}s.obs", every)
            for variant in variants:
                tag = f"{variant}_base{every}s"
                res = run_pair(sc, base, variant, tag, args.repeat, args.ar)
                systems, n_freq, rtk_freq = VARIANTS[variant]
                print_table(f"{tag}: systems {systems}, --freqs {n_freq} / {rtk_freq}, --ar {args.ar}, "
                            f"base every {every} s, seed {args.seed}", res)
                if events is not None:
                    for label in ("gnssaug", "rnx2rtkp"):
                        diagnose(label, res[label], systems, events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
