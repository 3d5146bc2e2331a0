"""``gnssaug solve``: positions from RINEX files into an RTKLIB-style ``.pos`` file; ``gnssaug demo``.

``solve`` dispatches on ``--mode`` through :data:`MODES` (mode name -> runner); a runner receives the
parsed arguments and the loaded inputs and returns a :class:`~gnssaug.solvers.types.SolutionSeries`.
Adding a mode (dgnss, rtk, static) is one function and one dictionary entry.

Example::

    gnssaug solve --mode spp rover.obs base.nav -o rover.pos --systems GC --elmask 15
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from gnssaug.errors import UsageError

#: Header labels of the .pos file for each ``--iono`` choice (RTKLIB wording).
_IONO_TEXT = {"broadcast": "Broadcast", "if": "Iono-Free LC", "none": "OFF"}
_SYSTEM_TEXT = {"G": "GPS", "R": "GLONASS", "E": "Galileo", "J": "QZSS", "C": "BDS"}


#: Ephemeris validity half-windows [s] of the differential modes, by system index: BeiDou records
#: up to 6 h from toe as RTKLIB 2.4.3 (``MAXDTOE_CMP``) instead of the store's 1 h. Hourly BDS uploads
#: make an hourly nav file of the previous hour (toe 02:00 BDT for a rover at 03:02) miss the 1 h
#: window; the broadcast orbit error that grows with the age (metres) is scaled by baseline/range
#: (~2e-4 at 4.5 km) in the double differences, and the satellite clock cancels. The store picks the
#: nearest toe, so epochs a record serves within 1 h are served by the same record as before.
DIFFERENTIAL_WINDOWS_S = {4: 21600.0}


@dataclass
class Inputs:
    """What every mode reads: rover observations, navigation data and the ephemeris store."""

    header: object
    series: object
    nav: object
    eph: object
    paths: list
    notes: list = field(default_factory=list)


def _progress_printer(label: str):
    """A ``progress(done, total)`` callback printing one updating percentage line on stderr."""
    if not sys.stderr.isatty():
        last = [-1]

        def quiet(done, total):
            pct = 100 * done // max(total, 1)
            if pct // 25 != last[0] // 25:
                print(f"{label}: {pct}%", file=sys.stderr, flush=True)
                last[0] = pct

        return quiet

    def show(done, total):
        end = "\n" if done >= total else ""
        print(f"\r{label}: {100 * done // max(total, 1):3d}% ({done}/{total} epochs)", end=end, file=sys.stderr,
              flush=True)

    return show


#: Epochs tagged this little after ``--end`` still belong to it (receivers that tag a few ms off the
#: second; the RTK engine's pairing tolerance).
_END_GRACE_NS = 25_000_000


def slice_epochs(series, t0_ns: int | None, t1_ns: int | None):
    """The epochs of ``series`` within ``[t0_ns, t1_ns + 25 ms]`` (``--start``/``--end``; None: open).

    Raises
    ------
    UsageError
        When no epoch is left.
    """
    from gnssaug.obs import OBS_FIELDS, ObsSeries

    if t0_ns is None and t1_ns is None:
        return series
    t = series.t_gpst_ns
    keep = np.ones(len(series), bool)
    if t0_ns is not None:
        keep &= t >= t0_ns
    if t1_ns is not None:
        keep &= t <= t1_ns + _END_GRACE_NS  # --end 03:05:30 keeps a u-blox epoch tagged 03:05:30.004
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        raise UsageError("no epochs between --start and --end")
    e0, e1 = int(idx[0]), int(idx[-1]) + 1
    r0, r1 = int(series.offsets[e0]), int(series.offsets[e1])
    arrays = {name: getattr(series, name)[r0:r1] for name in OBS_FIELDS}
    return ObsSeries(series.t_gpst_ns[e0:e1], series.offsets[e0:e1 + 1] - r0, series.flag[e0:e1],
                     series.sat[r0:r1], meta=dict(series.meta), **arrays)


def load_inputs(rover: str, nav_paths: list[str], systems: str | None, start: str | None, end: str | None,
                used_systems: str | None = None, windows_s: dict | None = None) -> Inputs:
    """Read the rover observations (restricted to ``systems`` and the time window) and the nav files.

    The navigation files must serve some epoch of the systems the mode uses (``used_systems``,
    default ``systems``): else a :class:`UsageError` names the files and spans; systems served in part
    or not at all are listed in ``Inputs.notes``. ``windows_s`` (system index -> s) widens the
    ephemeris store's validity half-windows (:data:`DIFFERENTIAL_WINDOWS_S`).
    """
    from gnssaug.datasets.pairing import check_nav_coverage, nav_coverage
    from gnssaug.datasets.rinex import read_obs
    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.ephemeris.store import EphStore
    from gnssaug.gnss import SAT_SYSTEM, SYSTEMS
    from gnssaug.time import parse_time_arg

    header, series = read_obs(rover, systems=systems)
    if len(series) == 0:
        raise UsageError(f"{rover}: no observation epochs" + (f" of systems {systems}" if systems else "")
                         + " (a header-only file, or every epoch unreadable)")
    t0 = parse_time_arg(start) if start else None
    t1 = parse_time_arg(end) if end else None
    series = slice_epochs(series, t0, t1)
    nav = read_nav(nav_paths)
    # bincount, not np.unique: numpy 2.4's plain unique imports numpy.ma (~18 ms per process)
    observed = {int(v) for v in np.flatnonzero(np.bincount(SAT_SYSTEM[series.sat.astype(np.int64)]))}
    used = used_systems or systems or SYSTEMS
    coverage = nav_coverage(nav, series.t_gpst_ns, used, observed, windows_s)
    notes = check_nav_coverage(coverage, series.t_gpst_ns, nav_paths)
    if windows_s:
        notes += wider_window_notes(coverage, nav_coverage(nav, series.t_gpst_ns, used, observed), windows_s)
    return Inputs(header, series, nav, EphStore(nav, windows_s=windows_s), [rover, *nav_paths], notes)


def wider_window_notes(coverage: list, default: list, windows_s: dict) -> list[str]:
    """Notes for the systems whose ephemerides serve more epochs through the widened validity windows.

    Parameters
    ----------
    coverage, default : list of (system name, first_ns, last_ns, epochs served)
        :func:`gnssaug.datasets.pairing.nav_coverage` with ``windows_s`` and with the store's defaults.
    windows_s : dict
        System index -> validity half-window [s] (:data:`DIFFERENTIAL_WINDOWS_S`).

    Returns
    -------
    list of str
        One note per such system, naming the epochs only the wider window serves.
    """
    from gnssaug.ephemeris.store import DEFAULT_WINDOWS_S
    from gnssaug.gnss import SYSTEM_NAMES

    notes = []
    for (name, *_, n_wide), (_, *_, n_default) in zip(coverage, default, strict=True):
        if n_wide > n_default:
            s = SYSTEM_NAMES.index(name)
            notes.append(f"{name} ephemerides up to {windows_s[s] / 3600:g} h from their toe serve "
                         f"{n_wide - n_default} epochs that the {DEFAULT_WINDOWS_S[s] / 3600:g} h limit of "
                         "single-point positioning leaves out (differential modes: orbit errors cancel over the "
                         "baseline)")
    return notes


def _iono_taus(text: str):
    """``--iono-tau``: one correlation time [s], a comma-separated list, or ``grid`` (``IONO_TAU_GRID_S``)."""
    from gnssaug.solvers.spp import IONO_TAU_GRID_S

    if text.strip().lower() == "grid":
        return IONO_TAU_GRID_S
    try:
        taus = tuple(float(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, a comma-separated list or 'grid', got {text!r}") from None
    if not all(np.isfinite(taus)) or min(taus) < 0.0:
        raise argparse.ArgumentTypeError(f"correlation times must be finite and >= 0 s, got {text!r}")
    return taus[0] if len(taus) == 1 else taus


def spp_options_from_args(args, header):
    """:class:`SppOptions` of the command-line arguments."""
    from gnssaug.solvers.spp import SppOptions

    if args.iono not in _IONO_TEXT:
        raise UsageError(f"--iono {args.iono} is for --mode rtk/static; spp takes {', '.join(_IONO_TEXT)}")
    init = getattr(header, "approx_pos_ecef_m", None)
    return SppOptions(
        systems=args.systems,
        elmask_deg=args.elmask,
        iono=args.iono,
        klobuchar=args.klobuchar,
        use_cn0=args.cn0_weight,
        max_exclude=args.max_exclude,
        iono_scale_sigma=args.iono_scale_sigma,
        iono_grad_sigma=args.iono_grad_sigma,
        iono_structure=args.iono_structure,
        iono_tau_s=args.iono_tau,
        tide_free=args.tide_free,
        init_pos_ecef_m=None if init is None else np.asarray(init, dtype=np.float64),
    )


def run_spp(args, inputs: Inputs):
    """The ``spp`` mode: single-point positioning of every rover epoch."""
    from gnssaug.solvers.spp import solve_spp

    options = spp_options_from_args(args, inputs.header)
    progress = _progress_printer("spp") if not args.quiet else None
    sols, _ = solve_spp(inputs.series, inputs.nav, inputs.eph, options, glo_fcn=inputs.header.glo_fcn,
                        progress=progress)
    return sols


#: Solution modes of ``gnssaug solve``: name -> runner(args, inputs) -> SolutionSeries.
MODES = {"spp": run_spp}


def _add_differential_modes() -> None:
    from gnssaug.datasets import solve_rtk

    MODES.update(solve_rtk.MODES)


_add_differential_modes()
#: RTKLIB "pos mode" header text per mode.
MODE_TEXT = {"spp": "Single", "dgnss": "DGPS/DGNSS", "rtk": "Kinematic", "static": "Static"}


def skip_numba_blas_probe() -> bool:
    """Spare a process that needs no numba BLAS the ~0.5 s scipy import numba does to look for one.

    When its CPU target first loads (the first kernel call, even from the cache), numba imports
    ``numba.np.arraymath``, whose module body calls ``ensure_blas()`` = ``import scipy.linalg.cython_blas``:
    all of scipy.linalg and, through its array-API layer, every lazy numpy submodule (f2py, testing ...).
    The answer only picks ``np.dot``'s code path when a kernel is *compiled*; the SPP path has no
    ``np.dot``/``np.linalg`` (no kernel has) and loads its kernels from the cache. So the probe is made to fail cheaply
    (numba then uses its loop fallback) and the block is lifted at once: a later ``np.linalg`` kernel
    still imports scipy through its own ``ensure_lapack()`` call. Returns whether the probe was skipped.
    """
    from gnssaug.kernels import kernel_mode

    if kernel_mode() == "aot" or "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return False  # ahead-of-time kernels: numba is not imported at all
    sys.modules["scipy.linalg.cython_blas"] = None  # "import" raises ImportError without importing scipy
    try:
        import numba.np.arraymath  # noqa: F401  (runs the probe now, while it is blocked)
    finally:
        del sys.modules["scipy.linalg.cython_blas"]
    return True


def _take_base_from_positionals(args) -> None:
    """Differential modes: ``ROVER_OBS BASE_OBS [BASE_OBS...] NAV...`` unless the base came with ``--base``.

    The observation files after the rover are the base (several: consecutive files of one station,
    joined in time); the rest are navigation files. A file of the wrong kind is named in the error.
    """
    from pathlib import Path

    from gnssaug.datasets.rinex.compression import rinex_file_type

    if args.base:
        args.nav = _navigation_files(args.nav, [rinex_file_type(p) for p in args.nav])
        return
    if len(args.nav) < 2:
        raise UsageError(f"--mode {args.mode} needs ROVER_OBS BASE_OBS NAV... (or --base BASE_OBS)")
    kinds = [rinex_file_type(p) for p in args.nav]
    n_base = next((k for k, kind in enumerate(kinds) if kind != "O"), len(kinds))
    if n_base == 0:
        what = {"N": "a navigation file", "M": "a meteorological file"}.get(kinds[0], "not a RINEX observation file")
        if not Path(args.nav[0]).exists():
            what = "a file that does not exist"
        raise UsageError(f"{args.nav[0]} is {what}, but the base observation file comes right after the rover: "
                         f"gnssaug solve --mode {args.mode} ROVER_OBS BASE_OBS NAV...")
    if n_base == len(kinds):
        raise UsageError(f"no navigation file after the base observation file(s) {', '.join(args.nav)}")
    bases = args.nav[:n_base]
    args.base = bases[0] if len(bases) == 1 else bases
    args.nav = _navigation_files(args.nav[n_base:], kinds[n_base:])


def _navigation_files(paths: list[str], kinds: list[str]) -> list[str]:
    """The navigation files among ``paths``: meteorological files are left out with a note, an
    observation file there is an error (base files come right after the rover)."""
    navs = []
    for path, kind in zip(paths, kinds, strict=True):
        if kind == "M":
            print(f"gnssaug: note: {path} is a meteorological file, not used", file=sys.stderr)
        elif kind == "O":
            raise UsageError(f"{path} is an observation file among the navigation files (differential modes: "
                             "ROVER_OBS BASE_OBS [BASE_OBS...] NAV...; spp: ROVER_OBS NAV...)")
        else:
            navs.append(path)
    return navs


def check_output_file(path: str, option: str = "-o") -> None:
    """Raise a :class:`UsageError` before any long work when ``path`` cannot be written: its folder does
    not exist, it is a folder, or there is no permission (``option`` names the argument in the message)."""
    import os
    from pathlib import Path

    out = Path(path)
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise UsageError(f"{option} {path} is a folder; give a file name")
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"{option} {path}: no permission to write there")


def _base_paths(base) -> list[str]:
    return [str(b) for b in base] if isinstance(base, list | tuple) else [str(base)]


def _check_pair(args, inputs: Inputs) -> None:
    """Differential modes: read the base, say what the pair shares, stop with a clear error when nothing.

    The base is read preferring, per satellite and slot, the tracking mode the rover mostly used
    (:func:`gnssaug.datasets.rinex.obs_codes.tracking_modes`), the usual ranking where the base lacks
    it: a geodetic base's L2C pairs a u-blox rover's L2C rather than its L2 P(Y).
    Prints (unless ``--quiet``) the systems, both files' spans and intervals, the epochs matched,
    the signals and tracking modes matched per system and a warning per signal still differenced
    across tracking modes (:mod:`gnssaug.datasets.pairing`); the report is kept in
    ``args.pair_report`` and the base as read (header, series) in ``args.base_read``.
    """
    from gnssaug.datasets.pairing import check_pair, pair_report
    from gnssaug.datasets.rinex import read_obs
    from gnssaug.datasets.rinex.obs_codes import tracking_modes
    from gnssaug.datasets.solve_rtk import rtk_options_from_args

    options = rtk_options_from_args(args, args.mode)
    bases = _base_paths(args.base)
    _refuse_rover_as_base(args.rover, bases)
    base_header, base = read_obs(args.base, systems=options.systems, preferred_modes=tracking_modes(inputs.series))
    _refuse_same_observations(args.rover, bases, inputs, base_header, base)
    report = pair_report(inputs.series, base, options.systems, options.n_freq, options.max_age_s,
                         (inputs.header.version, base_header.version))
    check_pair(report, args.rover, ", ".join(bases), options.max_age_s)
    args.pair_report = report
    args.base_read = (base_header, base)  # (the engine's driver takes it: one read of the base)
    if not args.quiet:
        _print_pair(args, options, bases, report, base.t_gpst_ns, inputs.series.t_gpst_ns)


def _refuse_rover_as_base(rover: str, bases: list[str]) -> None:
    """The same path as rover and base (a typo in a long command line) is an error."""
    from pathlib import Path

    rover_path = Path(rover).resolve()
    if any(Path(b).resolve() == rover_path for b in bases):
        raise UsageError(f"{rover} is given as both the rover and the base")


def _refuse_same_observations(rover: str, bases: list[str], inputs: Inputs, base_header, base) -> None:
    """A copy of the rover file as the base (same position, same epochs) is an error: the baseline is zero
    and every double difference cancels, which looks like a perfect fix."""
    rover_pos = getattr(inputs.header, "approx_pos_ecef_m", None)
    base_pos = getattr(base_header, "approx_pos_ecef_m", None)
    if (rover_pos is not None and base_pos is not None and np.linalg.norm(rover_pos - base_pos) < 0.01
            and inputs.series.n_rows == base.n_rows and np.array_equal(inputs.series.t_gpst_ns, base.t_gpst_ns)):
        raise UsageError(f"{rover} and {', '.join(bases)} hold the same observations: the base file was given "
                         "as the rover")


def _print_pair(args, options, bases: list[str], report, base_t_ns: np.ndarray, rover_t_ns: np.ndarray) -> None:
    """What ``solve`` says before a differential run: a swapped-files warning, the setup line, the pair report."""
    from pathlib import Path

    from gnssaug.datasets.pairing import off_second_ms, systems_text

    base_off_ms, rover_off_ms = off_second_ms(base_t_ns), off_second_ms(rover_t_ns)
    # Reference stations tag epochs on the whole second, u-blox rovers a few ms off it.
    if base_off_ms > 1.0 and rover_off_ms < 0.1:
        print(f"gnssaug: warning: the base epochs are tagged {base_off_ms:.0f} ms off the whole second and the "
              "rover's on it (a reference station tags on it): are the rover and base files swapped?",
              file=sys.stderr)
    n_files = f" ({len(bases)} files joined in time)" if len(bases) > 1 else ""
    print(f"{args.mode}: systems {systems_text(options.systems)}, {options.n_freq} frequencies, elevation mask "
          f"{options.elmask_deg:g} deg; base {', '.join(Path(b).name for b in bases)}{n_files}", file=sys.stderr)
    for line in report.lines():
        print(f"  {line}", file=sys.stderr)
    for line in report.mode_warnings():
        print(f"gnssaug: warning: {line}", file=sys.stderr)


def _summary(args, sols, n_written: int, seconds: float) -> str:
    """One line: epochs solved per solution status, where they went, time and speed."""
    from gnssaug.solvers.types import SolStatus

    status = np.asarray(sols.status)
    counts = [(name.lower(), int(np.count_nonzero(status == int(SolStatus[name]))))
              for name in ("FIX", "FLOAT", "DGNSS", "SPP")]
    parts = ", ".join(f"{n} {name}" for name, n in counts if n)
    rate = len(sols) / seconds if seconds > 0 else float("nan")
    return (f"{args.mode}: {n_written} of {len(sols)} epochs solved" + (f" ({parts})" if parts else "")
            + f" -> {args.out} ({seconds:.1f} s, {rate:.0f} epochs/s)")


def _rtk_systems() -> str:
    from gnssaug.solvers.rtk import RTK_SYSTEMS

    return RTK_SYSTEMS


def run_solve(args) -> int:
    """Run ``gnssaug solve``."""
    from gnssaug.datasets.posfile import write_pos

    if args.mode not in MODES:
        raise UsageError(f"mode {args.mode!r} is not available; choose one of {', '.join(MODES)}")
    check_output_file(args.out)
    skip_numba_blas_probe()  # no solver kernel uses np.dot/np.linalg (tests/kernels/test_no_blas_kernels.py)
    if args.mode != "spp":
        _take_base_from_positionals(args)
    else:
        from gnssaug.datasets.rinex.compression import rinex_file_type

        args.nav = _navigation_files(args.nav, [rinex_file_type(p) for p in args.nav])
    started = time.perf_counter()
    used = args.systems if args.mode == "spp" else "".join(c for c in args.systems if c in _rtk_systems())
    inputs = load_inputs(args.rover, args.nav, args.systems, args.start, args.end, used,
                         None if args.mode == "spp" else DIFFERENTIAL_WINDOWS_S)
    for note in [] if args.quiet else inputs.notes:
        print(f"gnssaug: note: {note}", file=sys.stderr)
    if args.mode != "spp":
        _check_pair(args, inputs)
    sols = MODES[args.mode](args, inputs)
    # A runner appends the base it read; several base files are listed one per line.
    inputs.paths = [p for item in inputs.paths for p in _base_paths(item)]
    options = {
        "pos mode": MODE_TEXT.get(args.mode, args.mode),
        "elev mask": f"{args.elmask:.1f} deg",
        "ionos opt": _IONO_TEXT.get(args.iono, args.iono),  # the differential modes put their own text
        "tropo opt": "Saastamoinen",
        "ephemeris": "Broadcast",
        "navi sys": " ".join(_SYSTEM_TEXT.get(c, c) for c in args.systems),
    }
    options.update(getattr(args, "pos_header", {}))  # mode-specific lines (e.g. "ref pos" of the base)
    n = write_pos(args.out, sols, args.format, inputs=inputs.paths, options=options)
    if not args.quiet:
        print(_summary(args, sols, n, time.perf_counter() - started), file=sys.stderr)
    return 0


def run_demo(args) -> int:
    """Run ``gnssaug demo``: SPP of the Nagoya rover with its broadcast navigation, scored against truth."""
    from gnssaug.datasets.paths import shared_data_file
    from gnssaug.datasets.truth import accuracy, load_llh_point
    from gnssaug.solvers.spp import SppOptions, solve_spp

    folder = shared_data_file("jp_nagoya_static_20240624")
    started = time.perf_counter()
    inputs = load_inputs(str(folder / "rover.obs"), [str(folder / "base.nav")], "GC", None, None)
    options = SppOptions(systems="GC", elmask_deg=15.0)
    sols, _ = solve_spp(inputs.series, inputs.nav, inputs.eph, options, glo_fcn=inputs.header.glo_fcn)
    truth = load_llh_point(folder / "rover_position.txt")
    acc = accuracy(sols.pos_ecef_m, truth.at(sols.t_gpst_ns))
    n_ok = int(np.count_nonzero(sols.status))
    has_bds = bool(np.isfinite(inputs.nav.bds_klobuchar_alpha).all())
    model = "BDS Klobuchar for BeiDou" if has_bds else "GPS Klobuchar for all: the file has no BDS coefficients"
    print(f"gnssaug demo: single-point positioning, GPS + BeiDou, 15 deg mask ({model})")
    print(f"  data     : {folder} (rover.obs, base.nav)")
    print(f"  solutions: {n_ok} of {len(sols)} epochs")
    print(f"  accuracy : {acc}")
    print(f"  time     : {time.perf_counter() - started:.1f} s")
    return 0


def register(subparsers) -> None:
    """Add ``solve`` and ``demo`` to the ``gnssaug`` parser."""
    p = subparsers.add_parser("solve", help="positions from RINEX files into a .pos file",
                              description=__doc__.splitlines()[0])
    p.add_argument("--mode", default="spp", help=f"solution mode ({', '.join(MODE_TEXT)}; default spp)")
    p.add_argument("rover", help="rover RINEX observation file (.obs/.rnx/.crx, optionally compressed)")
    p.add_argument("nav", nargs="+", metavar="[BASE_OBS] NAV",
                   help="differential modes: the base observation file (unless --base is given), then the RINEX "
                        "navigation file(s); spp: the navigation file(s)")
    p.add_argument("-o", "--out", required=True, help="output solution file")
    p.add_argument("--base", help="base station observation file (differential modes)")
    p.add_argument("--systems", default="GREJC",
                   help="systems to use, RINEX letters (default GREJC); differential modes take G R E J C, "
                        "GLONASS (R) with float ambiguities only")
    p.add_argument("--elmask", type=float, default=15.0, help="elevation mask [deg] (default 15)")
    p.add_argument("--format", choices=("llh", "xyz", "nmea"), default="llh", help="output format (default llh)")
    p.add_argument("--iono", choices=("broadcast", "if", "none", "est", "auto"), default="broadcast",
                   help="ionosphere. spp: broadcast Klobuchar (GPS/BDS), if (dual-frequency iono-free) or none; "
                        "rtk/static: est estimates a single-difference slant ionosphere per satellite (long "
                        "baselines), auto does beyond 6 km (what broadcast means there), none never "
                        "(default broadcast)")
    p.add_argument("--klobuchar", choices=("per-system", "gps", "bds"), default="per-system",
                   help="which broadcast Klobuchar model serves which satellites (default per-system)")
    p.add_argument("--cn0-weight", action="store_true", help="weight by C/N0 as well as elevation")
    p.add_argument("--max-exclude", type=int, default=1, help="satellites RAIM may exclude per epoch (default 1)")
    p.add_argument("--iono-scale-sigma", type=float, default=1.0,
                   help="prior sigma of the per-epoch Klobuchar scale error, estimated (0: off; default 1)")
    p.add_argument("--iono-grad-sigma", type=float, default=0.5,
                   help="prior sigma [m/deg] of the north gradient of the Klobuchar error (0: off; default 0.5)")
    p.add_argument("--iono-structure", action=argparse.BooleanOptionalAction, default=True,
                   help="estimate a latitude gradient and curvature of the Klobuchar error, priors scaled to the "
                        "ionosphere's size (default on; --no-iono-structure: a fixed-prior gradient only; see "
                        "SppOptions.iono_structure)")
    p.add_argument("--iono-tau", type=_iono_taus, default=None, metavar="SECONDS[,SECONDS...]|grid",
                   help="correlation time of the ionosphere gradient/curvature carried between epochs (0: "
                        "epoch-wise; default 1800 with the structure, else 0); several values or 'grid' "
                        "(5/10/20/40/80 min): a filter bank that picks the correlation time from the data "
                        "(see SppOptions.iono_tau_s)")
    p.add_argument("--tide-free", action=argparse.BooleanOptionalAction, default=True,
                   help="spp: report conventional tide-free positions, the solid Earth tide taken out as in "
                        "published coordinates (default on; --no-tide-free: the antenna's instantaneous position)")
    p.add_argument("--start", help="first epoch (ISO 8601 GPST or WEEK:TOW)")
    p.add_argument("--end", help="last epoch (ISO 8601 GPST or WEEK:TOW)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    from gnssaug.datasets.solve_rtk import add_arguments as _add_differential_arguments

    _add_differential_arguments(p)
    p.set_defaults(func=run_solve)
    d = subparsers.add_parser("demo", help="single-point positioning demo on the Nagoya data, scored against truth")
    d.set_defaults(func=run_demo)
