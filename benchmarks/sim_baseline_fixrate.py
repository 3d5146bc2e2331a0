"""Simulator realism against an independent engine: RTKLIB fix rates at 5, 20, 50 and 70 km.

Simulates a base at WUHN's position and rover stations 5-70 km to the north-east on the WUHN day
(real broadcast ephemerides, every error model at its default), then runs RTKLIB ``rnx2rtkp``
(kinematic, GPS+BDS, L1+L2, continuous AR; configuration written by
:func:`gnssaug.datasets.sim.baseline.rtklib_conf`) on each pair and prints the fix rates and the 95th
percentile 3-D error of fixed epochs against the truth.

Target (issue 5): at least 90 % fixed at 5 km, clearly less at 50-70 km.

With ``--rovers``, each built-in rover (tractor, crane, airport) is also solved against a base 2-3 km
from its working area (RTKLIB kinematic with receiver dynamics), and its fix rate and errors against
the truth trajectory are printed: the rovers' obstructions and multipath should show.

Run: ``.venv/bin/python benchmarks/sim_baseline_fixrate.py [--duration 1200] [--seed 1]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

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


def simulate_pairs(folder, distances_km, duration_s, seed, start=DEFAULT_START):
    """Simulate the base and rover stations into ``folder``; returns (layout, n_epochs)."""
    nav_path = shared_data_file(*DEFAULT_NAV)
    layout = baseline_layout(distances_km)
    sim = build_simulator(layout, (), nav_path, start_gpst_ns=parse_time_arg(start), duration_s=duration_s, seed=seed)
    write_outputs(sim, folder, layout, nav_path)
    return layout, sim.config.n_epochs


def rover_table(duration_s, seed, start=DEFAULT_START) -> None:
    """Solve each built-in rover against a base near its working area and print the statistics."""
    nav_path = shared_data_file(*DEFAULT_NAV)
    print(f"{'rover':>9} {'fix rate':>9} {'fixed err95':>12} {'float err50':>12}")
    for name, llh in ROVER_BASES_LLH.items():
        layout = Layout(("BASE",), ecef_from_llh_deg(*llh)[None, :])
        sim = build_simulator(layout, [name], nav_path, start_gpst_ns=parse_time_arg(start), duration_s=duration_s,
                              seed=seed)
        with tempfile.TemporaryDirectory(prefix="gnssaug-rover-") as tmp:
            write_outputs(sim, tmp, layout, nav_path)
            run_rnx2rtkp(tmp, name, base_ecef_m=layout.pos_ecef_m[0], dynamics=True)
            st = rover_statistics(f"{tmp}/{name}.pos", read_truth_csv(f"{tmp}/{name}.truth.csv"), sim.config.n_epochs)
        print(f"{name:>9} {100 * st['fix_rate']:8.1f}% {100 * st['fixed_err95_m']:9.1f} cm "
              f"{100 * st['float_err50_m']:9.1f} cm")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distances", default="5,20,50,70", help="rover distances [km]")
    parser.add_argument("--duration", type=float, default=1200.0, help="seconds simulated (default 1200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default=DEFAULT_START, help="first epoch (GPST)")
    parser.add_argument("--rovers", action="store_true", help="also solve the built-in rovers")
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
    if args.rovers:
        rover_table(args.duration, args.seed, args.start)
    short, long_ = rates[min(rates)], rates[max(rates)]
    ok = short >= 0.9 and long_ < short - 0.15
    print(f"target: >= 90 % at {min(rates):.0f} km and clearly less at {max(rates):.0f} km: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
