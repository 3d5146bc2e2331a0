"""Fix rates over distance on simulated baselines: simulator realism, and gnssaug against RTKLIB.

Simulates a base at WUHN's position and rover stations 5-70 km to the north-east on the WUHN day
(real broadcast ephemerides, every error model at its default), then

1. runs RTKLIB ``rnx2rtkp`` (kinematic, GPS+BDS, L1+L2, continuous AR; configuration written by
   :func:`gnssaug.datasets.sim.baseline.rtklib_conf`) on each pair and prints the fix rates and the
   95th percentile 3-D error of fixed epochs against the truth. Target (issue 5): at least 90 %
   fixed at 5 km, clearly less at 50-70 km;
2. unless ``--skip-engines``, solves each pair with GPS+Galileo+BeiDou, L1+L2, 15 deg, continuous
   AR, forward, by RTKLIB with ``pos1-ionoopt=brdc`` and ``est-stec`` (configuration of
   ``rtk_vs_rtklib.py``) and by gnssaug with ``RtkOptions.iono`` ``off`` and ``est``, and prints
   the fix rate, time to first fix, fixed horizontal/vertical RMS and the wrong fixes (fixed epochs
   off the truth by more than :data:`WRONG_FIX_H_M` horizontally or :data:`WRONG_FIX_V_M`
   vertically) of each.

With ``--rovers``, each built-in rover (tractor, crane, airport) is also solved against a base 2-3 km
from its working area (RTKLIB kinematic with receiver dynamics, and gnssaug with its defaults, both
GPS+BDS), and the fix rates and errors against the truth trajectory are printed: the rovers'
obstructions and multipath should show.

Run: ``.venv/bin/python benchmarks/sim_baseline_fixrate.py [--duration 1200] [--seed 1] [--distances 5,20,50]``
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gnssaug.datasets.paths import shared_data_file
from gnssaug.datasets.sim.baseline import (
    ROVER_BASES_LLH,
    baseline_layout,
    fix_statistics,
    read_truth_csv,
    rover_statistics,
    run_rnx2rtkp,
)
from gnssaug.datasets.sim.cli import DEFAULT_NAV, DEFAULT_START
from gnssaug.datasets.sim.layout import Layout
from gnssaug.datasets.sim.output import build_simulator, write_outputs
from gnssaug.geodesy import ecef_from_llh_deg
from gnssaug.time import parse_time_arg

#: A fixed epoch this far off the truth carries a wrong integer: correct fixes at 5-50 km are
#: within a centimetre horizontally, and the simulated troposphere left in the double differences
#: moves them vertically by a few centimetres at most; one wrong L1/L2 integer moves them by
#: centimetres to decimetres.
WRONG_FIX_H_M = 0.05
WRONG_FIX_V_M = 0.10


def engine_statistics(pos_ecef_m, fixed, t_ns, n_epochs: int, truth_ecef_m) -> dict:
    """Fix rate (over all simulated epochs), time to first fix, fixed H/V RMS and wrong fixes."""
    from gnssaug.datasets.truth import enu_errors

    enu = enu_errors(pos_ecef_m[fixed], truth_ecef_m)
    h, v = np.hypot(enu[:, 0], enu[:, 1]), np.abs(enu[:, 2])
    first = (t_ns[fixed][0] - t_ns[0]) / 1e9 if fixed.any() else float("nan")
    return {
        "fix_rate": float(fixed.sum() / max(n_epochs, 1)),
        "ttff_s": float(first),
        "h_rms_m": float(np.sqrt(np.mean(h**2))) if h.size else float("nan"),
        "v_rms_m": float(np.sqrt(np.mean(v**2))) if v.size else float("nan"),
        "wrong": int(np.sum((h > WRONG_FIX_H_M) | (v > WRONG_FIX_V_M))),
    }


def run_rtklib_gec(folder: Path, rover: str, base_ecef_m, ionoopt: str) -> tuple[dict, float]:
    """rnx2rtkp with the configuration of ``rtk_vs_rtklib.py``; returns (.pos contents, seconds)."""
    from rtk_vs_rtklib import rtklib_conf  # the sibling benchmark (this folder is on sys.path)

    from gnssaug.datasets.posfile import read_pos
    from gnssaug.geodesy import llh_deg_from_ecef

    conf = folder / f"gec_{ionoopt}.conf"
    conf.write_text(rtklib_conf(llh_deg_from_ecef(base_ecef_m), "GEC", ionoopt=ionoopt))
    out = folder / f"{rover}_{ionoopt}.pos"
    t0 = time.perf_counter()
    subprocess.run([shutil.which("rnx2rtkp"), "-k", str(conf), "-o", str(out), str(folder / f"{rover}.obs"),
                    str(folder / "BASE.obs"), str(folder / "nav.rnx")], check=True, capture_output=True)
    return read_pos(out), time.perf_counter() - t0


def engine_table(folder, layout, distances, n_epochs: int, tropo_modes=("off",), skip_rtklib=False) -> dict:
    """gnssaug (iono off / est, each ``RtkOptions.tropo`` of ``tropo_modes``) and RTKLIB (brdc / est-stec)
    on every pair; prints and returns the figures."""
    from gnssaug.datasets.rinex import read_obs
    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.ephemeris.store import EphStore
    from gnssaug.solvers.rtk import RtkOptions, solve_rtk
    from gnssaug.solvers.types import SolStatus

    folder = Path(folder)
    eph = EphStore(read_nav(folder / "nav.rnx"))
    _, base = read_obs(folder / "BASE.obs", systems="GEC")
    base_ecef = layout.pos_ecef_m[0]
    print("\nGPS+Galileo+BeiDou, L1+L2, 15 deg, continuous AR, forward "
          f"(wrong fix: > {100 * WRONG_FIX_H_M:g} cm H or > {100 * WRONG_FIX_V_M:g} cm V off the truth)")
    print(f"{'baseline':>9} {'engine':>29} {'fix %':>6} {'TTFF s':>7} {'fixH mm':>8} {'fixV mm':>8} "
          f"{'wrong':>6} {'time s':>7}")
    out = {}
    for d_km, name in zip(distances, layout.names[1:], strict=True):
        truth = layout.pos_ecef_m[layout.names.index(name)]
        _, rover = read_obs(folder / f"{name}.obs", systems="GEC")
        rows = []
        for ionoopt in () if skip_rtklib else ("brdc", "est-stec"):
            pos, secs = run_rtklib_gec(folder, name, base_ecef, ionoopt)
            rows.append((f"rnx2rtkp {ionoopt}", pos.pos_ecef_m, pos.q == 1, pos.t_gpst_ns, secs))
        for iono, tropo in [(i, t) for i in ("off", "est") for t in tropo_modes]:
            t0 = time.perf_counter()
            sols = solve_rtk(rover, base, eph, base_ecef, RtkOptions(systems="GEC", iono=iono, tropo=tropo))
            label = f"gnssaug iono={iono}" + (f" trop={tropo}" if tropo_modes != ("off",) else "")
            rows.append((label, sols.pos_ecef_m, sols.status == SolStatus.FIX, sols.t_gpst_ns,
                         time.perf_counter() - t0))
        for label, pos, fixed, t_ns, secs in rows:
            st = engine_statistics(pos, fixed, t_ns, n_epochs, truth)
            out[(d_km, label)] = st
            print(f"{d_km:6.0f} km {label:>29} {100 * st['fix_rate']:6.1f} {st['ttff_s']:7.0f} "
                  f"{1e3 * st['h_rms_m']:8.1f} {1e3 * st['v_rms_m']:8.1f} {st['wrong']:6d} {secs:7.1f}")
    return out


def simulate_pairs(folder, distances_km, duration_s, seed, start=DEFAULT_START):
    """Simulate the base and rover stations into ``folder``; returns (layout, n_epochs)."""
    nav_path = shared_data_file(*DEFAULT_NAV)
    layout = baseline_layout(distances_km)
    sim = build_simulator(layout, (), nav_path, start_gpst_ns=parse_time_arg(start), duration_s=duration_s, seed=seed)
    write_outputs(sim, folder, layout, nav_path)
    return layout, sim.config.n_epochs


def _ours_on_rover(folder, name, base_ecef_m, n_epochs: int, truth: dict) -> dict:
    """gnssaug (GPS+BDS like the RTKLIB run, default options) on a rover against the truth file."""
    from gnssaug.datasets.rinex import read_obs
    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.ephemeris.store import EphStore
    from gnssaug.solvers.rtk import RtkOptions, solve_rtk
    from gnssaug.solvers.types import SolStatus

    _, base = read_obs(f"{folder}/BASE.obs", systems="GC")
    _, rover = read_obs(f"{folder}/{name}.obs", systems="GC")
    sols = solve_rtk(rover, base, EphStore(read_nav(f"{folder}/nav.rnx")), base_ecef_m, RtkOptions(systems="GC"))
    ref = np.array([truth.get(int(round(t / 1e9)) * 1_000_000_000, np.full(3, np.nan)) for t in sols.t_gpst_ns])
    err = np.linalg.norm(sols.pos_ecef_m - ref, axis=1)
    fixed = (sols.status == SolStatus.FIX) & np.isfinite(err)
    flt = (sols.status == SolStatus.FLOAT) & np.isfinite(err)
    return {
        "fix_rate": float(fixed.sum() / max(n_epochs, 1)),
        "fixed_err95_m": float(np.percentile(err[fixed], 95)) if fixed.any() else float("nan"),
        "float_err50_m": float(np.median(err[flt])) if flt.any() else float("nan"),
    }


def rover_table(duration_s, seed, start=DEFAULT_START) -> None:
    """Solve each built-in rover against a base near its working area (RTKLIB and gnssaug), print both."""
    nav_path = shared_data_file(*DEFAULT_NAV)
    print(f"{'rover':>9} {'engine':>9} {'fix rate':>9} {'fixed err95':>12} {'float err50':>12}")
    for name, llh in ROVER_BASES_LLH.items():
        layout = Layout(("BASE",), ecef_from_llh_deg(*llh)[None, :])
        sim = build_simulator(layout, [name], nav_path, start_gpst_ns=parse_time_arg(start), duration_s=duration_s,
                              seed=seed)
        with tempfile.TemporaryDirectory(prefix="gnssaug-rover-") as tmp:
            write_outputs(sim, tmp, layout, nav_path)
            run_rnx2rtkp(tmp, name, base_ecef_m=layout.pos_ecef_m[0], dynamics=True)
            truth = read_truth_csv(f"{tmp}/{name}.truth.csv")
            rows = [("rnx2rtkp", rover_statistics(f"{tmp}/{name}.pos", truth, sim.config.n_epochs)),
                    ("gnssaug", _ours_on_rover(tmp, name, layout.pos_ecef_m[0], sim.config.n_epochs, truth))]
        for label, st in rows:
            print(f"{name:>9} {label:>9} {100 * st['fix_rate']:8.1f}% {100 * st['fixed_err95_m']:9.1f} cm "
                  f"{100 * st['float_err50_m']:9.1f} cm")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distances", default="5,20,50,70", help="rover distances [km]")
    parser.add_argument("--duration", type=float, default=1200.0, help="seconds simulated (default 1200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default=DEFAULT_START, help="first epoch (GPST)")
    parser.add_argument("--rovers", action="store_true", help="also solve the built-in rovers")
    parser.add_argument("--skip-engines", action="store_true",
                        help="only the realism table (RTKLIB GPS+BDS), not gnssaug against RTKLIB")
    parser.add_argument("--tropo", default="off",
                        help="comma-separated RtkOptions.tropo modes of the gnssaug rows (off, est, auto; "
                             "default off)")
    parser.add_argument("--skip-rtklib-engines", action="store_true",
                        help="only gnssaug in the engine table (not rnx2rtkp brdc / est-stec)")
    args = parser.parse_args(argv)
    distances = [float(d) for d in args.distances.split(",")]
    with tempfile.TemporaryDirectory(prefix="gnssaug-sim-") as tmp:
        t0 = time.perf_counter()
        layout, n_epochs = simulate_pairs(tmp, distances, args.duration, args.seed, args.start)
        print(f"simulated {len(layout)} stations x {n_epochs} epochs in {time.perf_counter() - t0:.1f} s")
        print(f"{'baseline':>9} {'fix rate':>9} {'fixed err95':>12} {'solutions':>10}")
        rates = {}
        for d_km, name in zip(distances, layout.names[1:], strict=True):
            sol = run_rnx2rtkp(tmp, name, base_ecef_m=layout.pos_ecef_m[0])
            st = fix_statistics(sol, n_epochs, layout.pos_ecef_m[layout.names.index(name)])
            rates[d_km] = st["fix_rate"]
            print(f"{d_km:7.0f} km {100 * st['fix_rate']:8.1f}% {100 * st['fixed_err95_m']:9.1f} cm "
                  f"{st['solutions']:10d}")
        if not args.skip_engines:
            engine_table(tmp, layout, distances, n_epochs, tuple(args.tropo.split(",")),
                         skip_rtklib=args.skip_rtklib_engines)
    if args.rovers:
        rover_table(args.duration, args.seed, args.start)
    short, long_ = rates[min(rates)], rates[max(rates)]
    ok = short >= 0.9 and long_ < short - 0.15
    print(f"target: >= 90 % at {min(rates):.0f} km and clearly less at {max(rates):.0f} km: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
