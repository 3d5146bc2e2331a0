"""Simulator realism against real data: a simulated WUHN versus the real WUHN day (2025-01-01).

A station is simulated at WUHN's position (the WUH2 published point) with the real day's broadcast
ephemerides, at the real file's 30 s sampling, and three statistics are compared with those of
the real Trimble NetR9 file (:mod:`gnssaug.datasets.sim.realism`), per satellite group (GPS,
BDS-2: the receiver tracks no BDS-3 and no Galileo): satellites visible per epoch, spread of the
code-minus-phase multipath combination by elevation bin, and the rate of change of the
geometry-free phase by elevation bin.

Target (issue 5): every ratio simulated / real within a factor of 1.5.

Run: ``.venv/bin/python benchmarks/sim_realism.py [--hours 24] [--seed 1]``
"""

from __future__ import annotations

import argparse
import sys
import time

from gnssaug.datasets.paths import shared_data_dir
from gnssaug.datasets.sim.realism import compare, wuhn_comparison

FACTOR = 1.5


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    sim, real = wuhn_comparison(shared_data_dir(), args.hours, args.seed)
    rows = compare(sim, real, FACTOR)
    print(f"WUHN 2025-01-01, {args.hours:g} h at 30 s, seed {args.seed} ({time.perf_counter() - t0:.1f} s)")
    print(f"{'statistic':<36} {'simulated':>10} {'real':>10} {'ratio':>7}")
    for key, a, b, ratio, ok in rows:
        print(f"{key:<36} {a:10.3f} {b:10.3f} {ratio:7.2f} {'' if ok else '  <-- outside x' + str(FACTOR)}")
    bad = [r for r in rows if not r[4]]
    print(f"{len(rows) - len(bad)}/{len(rows)} statistics within a factor of {FACTOR}")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
