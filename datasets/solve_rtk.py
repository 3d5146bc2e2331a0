"""The differential modes of ``gnssaug solve``: ``dgnss``, ``rtk`` (kinematic) and ``static``.

Each runner reads the base observation file (``--base``), takes the base position from
``--base-pos X,Y,Z`` or ``--base-llh LAT,LON,H`` or else the base file's ``APPROX POSITION XYZ``,
and runs :func:`gnssaug.solvers.rtk.solve_rtk` over the rover epochs already loaded by
:mod:`gnssaug.datasets.solve`. Example::

    gnssaug solve --mode rtk rover.obs base.obs base.nav --base-llh 35.1347077,136.9775779,104.853 \\
        --systems GEC --freqs 2 --elmask 15 --ar continuous -o rover.pos
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from gnssaug.errors import UsageError


def add_arguments(parser) -> None:
    """Add the options of the differential modes to the ``solve`` parser."""
    g = parser.add_argument_group("differential modes (dgnss, rtk, static)")
    g.add_argument("--base-pos", metavar="X,Y,Z", help="base position, ECEF [m] (default: base file header)")
    g.add_argument("--base-llh", metavar="LAT,LON,H", help="base position, latitude/longitude [deg], height [m]")
    g.add_argument("--freqs", type=int, default=2, choices=(1, 2, 3), help="frequencies per satellite (default 2)")
    g.add_argument("--ar", default="continuous", choices=("continuous", "instantaneous", "fix-and-hold", "off"),
                   help="ambiguity resolution strategy (default continuous)")
    g.add_argument("--ratio", type=float, default=3.0, help="ratio-test threshold (default 3)")
    g.add_argument("--max-failure-rate", type=float, default=None,
                   help="also require the bootstrapped failure rate below this (default: 0.001 with "
                        "--ar instantaneous, no bound otherwise)")
    g.add_argument("--combined", action="store_true", help="forward-backward combined solution (post-processing)")
    g.add_argument("--tropo", default="off", choices=("off", "est", "auto"),
                   help="relative zenith wet delay state (RTKLIB est-ztd): off (default), est, or auto (est "
                        "beyond 10 km)")
    g.add_argument("--code-phase-ratio", type=float, default=100.0,
                   help="code to phase standard deviation ratio (RTKLIB stats-eratio1; default 100); larger "
                        "under strong, slowly varying code multipath, which the ionosphere states otherwise "
                        "pass on to the phases")
    g.add_argument("--base-drift", action=argparse.BooleanOptionalAction, default=True,
                   help="carry the base phase forward over the age of differential using its drift between base "
                        "epochs (default on; matters when the base is sparser or later than the rover)")


#: ``--iono`` choice -> :attr:`gnssaug.solvers.rtk.RtkOptions.iono` in the differential modes. A
#: broadcast model is the same at both receivers and cancels in the differences, so ``broadcast``
#: (the default of ``solve``) leaves the choice to the engine's default (estimate beyond 6 km).
RTK_IONO = {"broadcast": None, "none": "off", "est": "est", "auto": "auto"}


def base_position(args, base_header) -> np.ndarray:
    """Base ECEF [m] from ``--base-pos``/``--base-llh`` or the base header's approximate position."""
    if args.base_pos and args.base_llh:
        raise UsageError("give --base-pos or --base-llh, not both")
    if args.base_pos:
        try:
            xyz = np.array([float(v) for v in args.base_pos.split(",")])
        except ValueError:
            raise UsageError(f"--base-pos expects X,Y,Z in metres, got {args.base_pos!r}") from None
        if xyz.shape != (3,) or np.linalg.norm(xyz) < 6.0e6:
            raise UsageError(f"--base-pos {args.base_pos!r} is not an ECEF point near the Earth's surface")
        return xyz
    if args.base_llh:
        from gnssaug.datasets.evaluate import parse_llh

        return parse_llh(args.base_llh)
    approx = getattr(base_header, "approx_pos_ecef_m", None)
    if approx is None or not np.all(np.isfinite(approx)) or np.linalg.norm(approx) < 6.0e6:
        raise UsageError("the base file has no usable APPROX POSITION XYZ; give --base-pos or --base-llh")
    return np.asarray(approx, dtype=np.float64)


def rtk_options_from_args(args, mode: str):
    """:class:`gnssaug.solvers.rtk.RtkOptions` of the command-line arguments."""
    from gnssaug.solvers.rtk import RTK_SYSTEMS, RtkOptions

    systems = "".join(c for c in args.systems if c in RTK_SYSTEMS)
    if not systems:
        raise UsageError(f"--systems {args.systems!r} has none of the RTK systems {RTK_SYSTEMS}")
    iono_arg = getattr(args, "iono", "broadcast")
    if iono_arg not in RTK_IONO:
        raise UsageError(f"--iono {iono_arg} is not available in --mode {mode}: choose one of {', '.join(RTK_IONO)}")
    iono = RTK_IONO[iono_arg] or RtkOptions.iono
    return RtkOptions(
        mode={"rtk": "kinematic", "static": "static", "dgnss": "dgnss"}[mode],
        systems=systems,
        n_freq=args.freqs,
        elmask_deg=args.elmask,
        ar_mode=args.ar,
        ratio_threshold=args.ratio,
        max_failure_rate=args.max_failure_rate,
        iono=iono,
        tropo=getattr(args, "tropo", "off"),
        code_phase_ratio=args.code_phase_ratio,
        base_drift=getattr(args, "base_drift", True),
    ).validated()


def _run(args, inputs, mode: str):
    from gnssaug.datasets.rinex import read_obs
    from gnssaug.solvers.rtk import solve_rtk

    if not args.base:
        raise UsageError(f"--mode {mode} needs the base observation file: --base BASE_OBS")
    options = rtk_options_from_args(args, mode)
    # Read once: solve's pairing check has read the base already with these systems.
    read = getattr(args, "base_read", None)
    base_header, base = read if read is not None else read_obs(args.base, systems=options.systems)
    base_pos = base_position(args, base_header)
    inputs.paths.append(args.base)
    args.pos_header = _header_lines(options, base_pos, args.combined)
    glo_fcn = glonass_channels_of(inputs.header, base_header, inputs.eph)
    if not getattr(args, "quiet", False):
        note = glonass_note(inputs.series, base, glo_fcn, options.systems)
        if note:
            print(f"gnssaug: note: {note}", file=sys.stderr)
    return solve_rtk(inputs.series, base, inputs.eph, base_pos, options, combined=args.combined, glo_fcn=glo_fcn)


def glonass_channels_of(rover_header, base_header, eph) -> np.ndarray:
    """GLONASS frequency channels: the rover header's ``GLONASS SLOT / FRQ #``, else the base's, else the nav's.

    Returns int8[N_SAT] (:func:`gnssaug.solvers.rtk.glonass_channels`).
    """
    from gnssaug.solvers.rtk import glonass_channels

    return glonass_channels(getattr(rover_header, "glo_fcn", None), getattr(base_header, "glo_fcn", None),
                            getattr(eph, "glo_fcn", None))


def glonass_note(rover, base, glo_fcn, systems: str) -> str:
    """The note ``solve`` prints when GLONASS satellites both files observe have no known channel ('' if none)."""
    from gnssaug.gnss import N_SAT, sv_name
    from gnssaug.solvers.rtk import glonass_without_channel

    seen_rover, seen_base = np.zeros(N_SAT, dtype=bool), np.zeros(N_SAT, dtype=bool)
    seen_rover[rover.sat] = True
    seen_base[base.sat] = True
    # satellite tables, not np.intersect1d over every row: no sort of the whole files (and numpy 2.4's
    # plain unique imports numpy.ma, ~18 ms per process)
    both = np.flatnonzero(seen_rover & seen_base)
    missing = glonass_without_channel(both, glo_fcn, systems)
    if missing.shape[0] == 0:
        return ""
    names = " ".join(sv_name(int(s)) for s in missing)
    return (f"GLONASS {names}: no frequency channel in the observation headers (GLONASS SLOT / FRQ #) or the "
            "navigation data; left out")


def _header_lines(options, base_pos, combined: bool) -> dict:
    """RTKLIB-style ``.pos`` header lines of a differential run (``ref pos`` is read by rtkplot)."""
    from gnssaug.geodesy import llh_deg_from_ecef

    lat, lon, h = llh_deg_from_ecef(base_pos)
    lines = {
        "freqs": f"{options.n_freq} per satellite",
        "solution": "Combined" if combined else "Forward",
        "ref pos": f"{lat:14.9f} {lon:14.9f} {h:10.4f}",
        "ionos opt": "OFF (cancels in double differences)",
    }
    if options.mode != "dgnss" and options.iono == "est":
        lines["ionos opt"] = "Estimate STEC"
    elif options.mode != "dgnss" and options.iono == "auto":
        lines["ionos opt"] = f"Estimate STEC beyond {options.iono_auto_km:g} km"
    if options.mode == "kinematic" and options.iono != "est" and options.iono_std_m_per_10km > 0.0:
        weighted = f"Weighted fixed solution ({options.iono_std_m_per_10km:g} m per 10 km)"
        lines["ionos opt"] = weighted if options.iono == "off" else f"{lines['ionos opt']}, else {weighted}"
    if options.mode != "dgnss" and options.tropo != "off":
        est = "Saastamoinen, estimate relative ZWD (Niell wet)"
        lines["tropo opt"] = est if options.tropo == "est" else f"{est} beyond {options.tropo_auto_km:g} km"
    if options.mode != "dgnss":
        lines["amb res"] = options.ar_mode.capitalize()
        lines["val thres"] = f"{options.ratio_threshold:.1f}"
    return lines


def run_dgnss(args, inputs):
    """The ``dgnss`` mode: code differential with carrier-smoothed code (Q = 4)."""
    return _run(args, inputs, "dgnss")


def run_rtk(args, inputs):
    """The ``rtk`` mode: kinematic carrier-phase RTK (Q = 1 fixed, 2 float)."""
    return _run(args, inputs, "rtk")


def run_static(args, inputs):
    """The ``static`` mode: carrier-phase RTK of a static rover (one position state)."""
    return _run(args, inputs, "static")


#: Mode name -> runner, merged into :data:`gnssaug.datasets.solve.MODES`.
MODES = {"dgnss": run_dgnss, "rtk": run_rtk, "static": run_static}
