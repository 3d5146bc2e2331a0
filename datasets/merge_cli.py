"""``gnssaug merge``: join observation files of one receiver into one RINEX 3.04 file, optionally decimated.

For a base station whose archive serves hourly files (SatRef, IGS) when a session spans several of
them, or a 1 s file wanted as 5 s or 30 s. ``gnssaug solve`` also takes several base files directly
(``ROVER BASE1 BASE2 NAV...``); this command writes the joined file for other tools (``rnx2rtkp``
takes one base file). Example::

    gnssaug merge HKSC00HKG_R_20201550200_01H_01S_MO.crx.gz HKSC00HKG_R_20201550300_01H_01S_MO.crx.gz \\
        --interval 5 -o hksc_0200_0400_5s.obs
"""

from __future__ import annotations

import sys

from gnssaug.errors import UsageError


def run(args) -> int:
    """Run ``gnssaug merge``."""
    from dataclasses import replace

    from gnssaug.datasets.rinex import read_obs, write_obs
    from gnssaug.datasets.rinex.merge import decimate
    from gnssaug.datasets.solve import check_output_file, slice_epochs
    from gnssaug.time import isoformat_gpst, parse_time_arg

    check_output_file(args.out)  # before reading hours of files
    header, series = read_obs(list(args.files), systems=args.systems)
    # (--end keeps epochs tagged a few ms after it, as solve does)
    series = slice_epochs(series, parse_time_arg(args.start) if args.start else None,
                          parse_time_arg(args.end) if args.end else None)
    if args.interval is not None:  # --interval 0 is an error, not "no decimation"
        series = decimate(series, args.interval)
        header = replace(header, interval_s=args.interval)
    if len(series) == 0:
        raise UsageError("no epochs left to write (check --start/--end/--interval)")
    write_obs(args.out, header, series)
    print(f"merge: {len(series)} epochs {isoformat_gpst(int(series.t_gpst_ns[0]))} - "
          f"{isoformat_gpst(int(series.t_gpst_ns[-1]))} GPST from {len(args.files)} file(s) -> {args.out}",
          file=sys.stderr)
    return 0


def register(subparsers) -> None:
    """Add ``merge`` to the ``gnssaug`` parser."""
    p = subparsers.add_parser("merge", help="join observation files of one receiver (hourly files), optionally "
                                            "decimated, into one RINEX 3.04 file",
                              description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="+", help="RINEX observation files (any version, .crx/.gz accepted), any order")
    p.add_argument("-o", "--out", required=True, help="output RINEX 3.04 observation file")
    p.add_argument("--interval", type=float, help="keep only epochs on this grid [s] (e.g. 5 or 30)")
    p.add_argument("--systems", help="systems to keep, RINEX letters (default all)")
    p.add_argument("--start", help="first epoch (ISO 8601 GPST or WEEK:TOW)")
    p.add_argument("--end", help="last epoch (ISO 8601 GPST or WEEK:TOW)")
    p.set_defaults(func=run)
