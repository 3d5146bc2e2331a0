"""``gnssaug sim``: simulate a reference network and rovers into RINEX files with truth.

Example::

    gnssaug sim --layout hubei91 --rovers tractor,crane,airport --start 2025-01-01T02:00:00 \\
        --duration 3600 --rate 1 --seed 1 -o out/sim
    gnssaug sim --layout car-base --rovers car --duration 1200 --seed 1 -o out/urban
"""

from __future__ import annotations

import argparse
import json

from gnssaug.errors import UsageError

DEFAULT_NAV = ("wuhan_wuhn_20250101", "BRDC00IGS_R_20250010000_01D_MN.rnx.gz")
DEFAULT_START = "2025-01-01T02:00:00"


def register(subparsers) -> None:
    """Add the ``sim`` subcommand."""
    p = subparsers.add_parser(
        "sim",
        help="simulate GPS/Galileo/BeiDou observations of a station network and rovers",
        description="Simulate realistic observations (RINEX 3.04) of a reference network and rovers from "
        "real broadcast ephemerides, with truth files. The built-in hubei91 layout is synthetic.",
    )
    p.add_argument("--layout", default="hubei91",
                   help="hubei91, car-base (the urban car's base station), none, or a CSV/TOML layout file "
                        "(default hubei91)")
    p.add_argument("--stations", default="", help="only these stations of the layout (comma-separated)")
    p.add_argument("--rovers", default="",
                   help="built-in rovers, comma-separated: tractor,crane,airport,car (car: a u-blox rover "
                        "driving in Hankou; use with --layout car-base)")
    p.add_argument("--nav", default=None, help="RINEX navigation file (default: the WUHN day's IGS merged nav)")
    p.add_argument("--start", default=DEFAULT_START, help=f"first epoch, ISO 8601 GPST (default {DEFAULT_START})")
    p.add_argument("--duration", type=float, default=3600.0, help="seconds (default 3600)")
    p.add_argument("--rate", type=float, default=1.0, help="epochs per second (default 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    for model in ("iono", "tropo", "orbit-errors", "noise", "multipath", "slips", "biases"):
        p.add_argument(f"--no-{model}", action="store_true", help=f"switch the {model} model off")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.set_defaults(func=run)


def build_simulation(args):
    """The simulator, layout and nav path for parsed arguments (shared with scripts)."""
    from dataclasses import replace

    from gnssaug.datasets.paths import shared_data_file
    from gnssaug.datasets.sim.engine import SimConfig
    from gnssaug.datasets.sim.layout import resolve_layout
    from gnssaug.datasets.sim.output import build_simulator
    from gnssaug.time import parse_time_arg

    if args.duration <= 0 or args.rate <= 0:
        raise UsageError("--duration and --rate must be positive")
    if args.layout == "car-base":
        from gnssaug.datasets.sim.urban import urban_base_layout

        layout = urban_base_layout()
    else:
        layout = resolve_layout(args.layout) if args.layout != "none" else None
    if layout is not None and args.stations:
        layout = layout.subset([s.strip() for s in args.stations.split(",") if s.strip()])
    rovers = [r.strip() for r in args.rovers.split(",") if r.strip()]
    nav_path = args.nav or shared_data_file(*DEFAULT_NAV)
    cfg = SimConfig(start_gpst_ns=parse_time_arg(args.start), duration_s=args.duration, rate_hz=args.rate,
                    seed=args.seed)
    cfg = replace(
        cfg,
        iono=replace(cfg.iono, enabled=not args.no_iono),
        tropo=replace(cfg.tropo, enabled=not args.no_tropo),
        orbit_clock=replace(cfg.orbit_clock, enabled=not args.no_orbit_errors),
        noise=not args.no_noise, multipath=not args.no_multipath, slips=not args.no_slips,
        sat_bias_sigma_m=0.0 if args.no_biases else cfg.sat_bias_sigma_m,
    )
    sim = build_simulator(layout, rovers, nav_path, cfg, biases=not args.no_biases)
    return sim, layout, nav_path


def run(args) -> int:
    """Run ``gnssaug sim``."""
    from gnssaug.datasets.sim.output import write_outputs

    sim, layout, nav_path = build_simulation(args)
    summary = write_outputs(sim, args.output, layout, nav_path)
    print(json.dumps({k: summary[k] for k in ("epochs", "satellites", "rows", "simulate_s", "write_s")}))
    print(f"{len(summary['receivers'])} receivers written to {args.output}")
    return 0


def parse(argv) -> argparse.Namespace:
    """Parse ``gnssaug sim`` arguments alone (for scripts and tests)."""
    parser = argparse.ArgumentParser(prog="gnssaug")
    register(parser.add_subparsers())
    return parser.parse_args(["sim", *argv])
