"""Simulator speed: the 91-station Hubei network for one hour at 1 Hz (issue 5: under 2 minutes).

Times, after a warm-up that compiles the kernels: (1) simulation alone (the epoch stream a replay
harness consumes), (2) simulation plus the RINEX files of every station (``gnssaug sim``'s path).
CPU time of this process is reported next to wall time: the simulator is single-threaded, so CPU
time is its cost on one core, whatever else the machine is running.

The RINEX writer (:func:`gnssaug.datasets.rinex.write_obs`, the one writer the simulator streams
through) is also timed alone on one station-hour, as CPU seconds and MB/s.

Run: ``.venv/bin/python benchmarks/sim_speed.py [--duration 3600] [--stations 91]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from gnssaug.datasets.paths import shared_data_file
from gnssaug.datasets.rinex import ObsHeader, write_obs
from gnssaug.datasets.rinex.nav import read_nav
from gnssaug.datasets.sim.cli import DEFAULT_NAV, DEFAULT_START
from gnssaug.datasets.sim.engine import SimConfig, Simulator
from gnssaug.datasets.sim.layout import hubei91
from gnssaug.datasets.sim.output import receivers_for, write_outputs
from gnssaug.datasets.sim.satellites import BroadcastSource
from gnssaug.time import parse_time_arg

BUDGET_S = 120.0


def _clock():
    return time.process_time(), time.perf_counter()


def _since(start):
    cpu, wall = _clock()
    return cpu - start[0], wall - start[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3600.0)
    parser.add_argument("--stations", type=int, default=91)
    args = parser.parse_args(argv)
    source = BroadcastSource(read_nav(shared_data_file(*DEFAULT_NAV)))
    layout = hubei91()
    layout = layout.subset(layout.names[: args.stations])

    def simulator(duration_s):
        cfg = SimConfig(start_gpst_ns=parse_time_arg(DEFAULT_START), duration_s=duration_s, seed=1)
        return Simulator(cfg, receivers_for(layout), source.sat, source, source.group_delays_m(source.sat))

    for _ in simulator(120.0).blocks():  # warm-up: kernels compiled or loaded from the cache
        pass
    start = _clock()
    rows = sum(int(b.visible.sum()) for _, obs in simulator(args.duration).blocks() for b in obs.values())
    cpu_sim, wall_sim = _since(start)
    print(f"{len(layout)} stations x {args.duration:.0f} s at 1 Hz: {rows / 1e6:.1f} M satellite rows")
    print(f"  simulate only      : {cpu_sim:6.1f} s CPU ({wall_sim:6.1f} s wall)")
    with tempfile.TemporaryDirectory(prefix="gnssaug-sim-") as tmp:
        start = _clock()
        summary = write_outputs(simulator(args.duration), tmp, layout, None)
        cpu_all, wall_all = _since(start)
        print(f"  simulate + RINEX   : {cpu_all:6.1f} s CPU ({wall_all:6.1f} s wall), "
              f"{sum(p.stat().st_size for p in __import__('pathlib').Path(tmp).glob('*.obs')) / 1e9:.2f} GB")
        one = Simulator(SimConfig(start_gpst_ns=parse_time_arg(DEFAULT_START), duration_s=args.duration, seed=1),
                        receivers_for(layout.subset(layout.names[:1])), source.sat, source).run()
        series = next(iter(one.values()))
        header = ObsHeader(marker_name="G", approx_pos_ecef_m=layout.pos_ecef_m[0])
        write_obs(f"{tmp}/g.obs", header, series)  # warm-up
        start = _clock()
        write_obs(f"{tmp}/g.obs", header, series)
        cpu_g, _ = _since(start)
        size_mb = os.path.getsize(f"{tmp}/g.obs") / 1e6
        print(f"  one station-hour RINEX: write_obs {cpu_g:.2f} s CPU ({size_mb / max(cpu_g, 1e-9):.0f} MB/s)")
    del summary
    ok = cpu_sim < BUDGET_S
    print(f"target: simulation under {BUDGET_S:.0f} s on one core: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
