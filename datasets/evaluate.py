"""``gnssaug evaluate``: fix rate, accuracy and time to first fix of a ``.pos`` file against truth.

Statistics are over the epochs of the file that have a reference position: horizontal and vertical
RMS and 95th percentiles over all epochs and over fixed epochs (Q = 1), fix rate overall and after
the first fix, and the time to first fix from the first epoch of the file. ``--plot`` draws the
east/north/up errors over time coloured by solution status (needs matplotlib).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gnssaug.errors import FileFormatError, UsageError
from gnssaug.time import NS_PER_S

if TYPE_CHECKING:
    from gnssaug.datasets.posfile import PosFile
    from gnssaug.datasets.truth import Truth

# The .pos reader and truth loaders pull in numba (geodesy kernels): they are imported when a
# function runs, so that building the command-line parser stays light.

#: Colours and labels per RTKLIB Q flag (as rtkplot draws them).
_Q_STYLE = {1: ("tab:green", "fix"), 2: ("tab:orange", "float"), 4: ("tab:blue", "DGNSS"), 5: ("tab:red", "single")}


@dataclass
class Evaluation:
    """Quality figures of a solution file against truth (lengths in metres, times in seconds).

    Attributes
    ----------
    n_epochs : int
        Solution epochs with a reference position.
    n_fixed : int
    fix_rate : float
        Fixed / all epochs (0..1).
    fix_rate_after_first : float
        Fixed / epochs from the first fix on.
    ttff_s : float
        First fixed epoch minus first epoch [s] (NaN without a fix).
    h_rms_m, v_rms_m, h95_m, v95_m : float
        Over all epochs.
    fix_h_rms_m, fix_v_rms_m, fix_h95_m, fix_v95_m : float
        Over fixed epochs (NaN without a fix).
    """

    n_epochs: int
    n_fixed: int
    fix_rate: float
    fix_rate_after_first: float
    ttff_s: float
    h_rms_m: float
    v_rms_m: float
    h95_m: float
    v95_m: float
    fix_h_rms_m: float
    fix_v_rms_m: float
    fix_h95_m: float
    fix_v95_m: float

    def report(self) -> str:
        """Human-readable summary (millimetres for the errors)."""
        return "\n".join(
            [
                f"epochs {self.n_epochs}, fixed {self.n_fixed} ({100 * self.fix_rate:.1f} %), "
                f"after first fix {100 * self.fix_rate_after_first:.1f} %, time to first fix {self.ttff_s:.1f} s",
                f"all:   H RMS {1e3 * self.h_rms_m:.1f} mm  V RMS {1e3 * self.v_rms_m:.1f} mm  "
                f"H95 {1e3 * self.h95_m:.1f} mm  V95 {1e3 * self.v95_m:.1f} mm",
                f"fixed: H RMS {1e3 * self.fix_h_rms_m:.1f} mm  V RMS {1e3 * self.fix_v_rms_m:.1f} mm  "
                f"H95 {1e3 * self.fix_h95_m:.1f} mm  V95 {1e3 * self.fix_v95_m:.1f} mm",
            ]
        )


def evaluate(pos: PosFile, truth: Truth) -> Evaluation:
    """Compare solutions with reference positions.

    Parameters
    ----------
    pos : PosFile
        Solutions (from :func:`gnssaug.datasets.posfile.read_pos`).
    truth : Truth
        Reference positions.

    Returns
    -------
    Evaluation
    """
    from gnssaug.datasets.truth import accuracy

    ref = truth.at(pos.t_gpst_ns)
    has = np.isfinite(ref).all(axis=1) & np.isfinite(pos.pos_ecef_m).all(axis=1)
    t = pos.t_gpst_ns[has]
    q = pos.q[has]
    fixed = q == 1
    all_acc = accuracy(pos.pos_ecef_m[has], ref[has])
    fix_acc = accuracy(pos.pos_ecef_m[has][fixed], ref[has][fixed])
    n = int(has.sum())
    if fixed.any():
        first = int(np.argmax(fixed))
        ttff = (t[first] - t[0]) / NS_PER_S
        after = float(fixed[first:].mean())
    else:
        ttff, after = float("nan"), 0.0
    return Evaluation(
        n_epochs=n,
        n_fixed=int(fixed.sum()),
        fix_rate=float(fixed.mean()) if n else 0.0,
        fix_rate_after_first=after,
        ttff_s=float(ttff),
        h_rms_m=all_acc.h_rms_m,
        v_rms_m=all_acc.v_rms_m,
        h95_m=all_acc.h95_m,
        v95_m=all_acc.v95_m,
        fix_h_rms_m=fix_acc.h_rms_m,
        fix_v_rms_m=fix_acc.v_rms_m,
        fix_h95_m=fix_acc.h95_m,
        fix_v95_m=fix_acc.v95_m,
    )


def parse_llh(text: str) -> np.ndarray:
    """ECEF [m] of ``"LAT,LON,H"`` (degrees, degrees, metres); UsageError on a malformed value."""
    from gnssaug.geodesy import ecef_from_llh_deg

    try:
        lat, lon, h = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"expected LAT,LON,H in degrees and metres, got {text!r}") from None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 360.0):
        raise UsageError(f"latitude/longitude out of range in {text!r}")
    return ecef_from_llh_deg(lat, lon, h)


def load_truth_file(path: str | Path, t_ref_ns: np.ndarray | None = None) -> Truth:
    """Reference from a file: a ``.pos`` trajectory, or any layout of
    :data:`gnssaug.datasets.truth_formats.LAYOUTS` (a ``lat lon h`` point, ``week tow lat lon h`` or
    week-less ``tow tow lat lon h`` rows, CSV or NovAtel/UrbanNav exports with a header).

    Parameters
    ----------
    path : str or Path
    t_ref_ns : int64[m] or None
        Epochs of the solutions to evaluate (GPST ns): the GPS week of week-less TOW rows.
    """
    from gnssaug.datasets.posfile import read_pos
    from gnssaug.datasets.truth import Truth
    from gnssaug.datasets.truth_formats import load_truth_table

    path = Path(path)
    if path.suffix.lower() == ".pos":
        ref = read_pos(path)
        if len(ref.t_gpst_ns) == 0:
            raise FileFormatError(path, None, "no reference positions in the file")
        return Truth(ref.pos_ecef_m, t_gpst_ns=ref.t_gpst_ns, name=path.name)
    return load_truth_table(path, t_ref_ns)


def _span(t_gpst_ns: np.ndarray) -> str:
    from gnssaug.time import isoformat_gpst, week_tow

    if len(t_gpst_ns) == 0:
        return "no epochs"
    t0, t1 = int(np.min(t_gpst_ns)), int(np.max(t_gpst_ns))
    (week0, tow0_s), (week1, tow1_s) = week_tow(t0), week_tow(t1)
    if week0 != week1:  # across a Saturday/Sunday rollover the TOW restarts at 0
        weeks = f"week {week0} TOW {tow0_s:.0f} s - week {week1} TOW {tow1_s:.0f} s"
    else:
        weeks = f"week {week0}, TOW {tow0_s:.0f}-{tow1_s:.0f} s"
    return f"{isoformat_gpst(t0)} - {isoformat_gpst(t1)} GPST ({weeks})"


def truth_span_text(truth: Truth) -> str:
    """What a reference covers, in words: a point (and its validity window) or a trajectory's span."""
    if truth.t_gpst_ns is None:
        window = [t for t in (truth.valid_from_ns, truth.valid_to_ns) if t is not None]
        return "a static point" + (f" valid {_span(np.array(window))}" if window else " at every epoch")
    return f"{len(truth.t_gpst_ns)} epochs {_span(truth.t_gpst_ns)}"


def plot_errors(pos: PosFile, truth: Truth, out_png: str | Path) -> None:
    """Draw east/north/up errors over time, coloured by solution status, into a PNG file."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib (pip install 'gnssaug[plot]')") from None
    from gnssaug.datasets.truth import enu_errors

    ref = truth.at(pos.t_gpst_ns)
    enu = enu_errors(pos.pos_ecef_m, ref)
    t_s = (pos.t_gpst_ns - pos.t_gpst_ns[0]) / NS_PER_S
    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(9, 7))
    for k, (ax, name) in enumerate(zip(axes, ("east", "north", "up"), strict=True)):
        for q, (colour, label) in _Q_STYLE.items():
            sel = pos.q == q
            if sel.any():
                ax.plot(t_s[sel], 1e3 * enu[sel, k], ".", ms=3, color=colour, label=label)
        ax.set_ylabel(f"{name} error [mm]")
        ax.grid(True, alpha=0.3)
    axes[0].legend(loc="upper right", ncol=4, fontsize=8)
    axes[-1].set_xlabel("time since first epoch [s]")
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def run(args) -> int:
    """Entry point of ``gnssaug evaluate``."""
    from gnssaug.datasets.posfile import read_pos
    from gnssaug.datasets.truth import Truth

    if (args.truth_llh is None) == (args.truth_file is None):
        raise UsageError("give exactly one of --truth-llh LAT,LON,H or --truth-file FILE")
    pos = read_pos(args.pos)
    if len(pos) == 0:
        raise UsageError(f"{args.pos}: no solutions to evaluate")
    if args.truth_llh is not None:
        truth = Truth(parse_llh(args.truth_llh).reshape(1, 3), name="--truth-llh")
    else:
        truth = load_truth_file(args.truth_file, pos.t_gpst_ns)
    result = evaluate(pos, truth)
    if result.n_epochs == 0:
        raise UsageError(f"no solution epoch has a reference position: solutions {_span(pos.t_gpst_ns)}, truth "
                         f"{truth_span_text(truth)}")
    print(f"truth: {truth.name}, {truth_span_text(truth)}; {result.n_epochs} of {len(pos)} solution epochs "
          "compared")
    print(result.report())
    if args.plot:
        plot_errors(pos, truth, args.plot)
        print(f"plot written to {args.plot}")
    return 0


def register(subparsers) -> None:
    """Add ``evaluate`` to the ``gnssaug`` parser."""
    p = subparsers.add_parser(
        "evaluate",
        help="fix rate, accuracy and time to first fix of a .pos file against truth",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("pos", help="solution file (.pos, ours or RTKLIB's)")
    p.add_argument("--truth-llh", metavar="LAT,LON,H", help="static truth: latitude, longitude [deg], height [m]")
    p.add_argument("--truth-file", metavar="FILE",
                   help="truth file: .pos trajectory, 'lat lon h', rows 'week tow lat lon h' or week-less 'tow "
                        "[tow] lat lon h' (the week from the .pos), or a CSV / NovAtel Inertial Explorer export "
                        "with a header (GPS week+seconds or UTC time; lat/lon in degrees or D M S; H-Ell)")
    p.add_argument("--plot", metavar="FILE.png", help="draw the errors over time, coloured by status")
    p.set_defaults(func=run)
