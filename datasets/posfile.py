"""RTKLIB ``.pos`` solution files (write and read) and NMEA GGA output.

The writer reproduces RTKLIB 2.4.3's ``outsol`` layout column for column (``%`` header lines, the
column header line, fixed-width fields separated by one space) so that RTKLIB's tools (rtkplot,
pos2kml) and scripts written for them read our files. Formats:

- ``llh``: ``GPST  latitude(deg) longitude(deg) height(m) Q ns sdn sde sdu sdne sdeu sdun age ratio``
  (signed square roots of the ENU covariance, like RTKLIB's ``sqvar``).
- ``xyz``: ``GPST  x-ecef(m) y-ecef(m) z-ecef(m) Q ns sdx sdy sdz sdxy sdyz sdzx age ratio``.
- ``nmea``: ``$GPGGA`` sentences (NMEA 0183 v4.10 GGA), UTC time tags.

Q is RTKLIB's quality flag: 1 fix, 2 float, 4 DGNSS, 5 single (:attr:`SolStatus.pos_q`).

The reader accepts ours and RTKLIB's files (llh or xyz; time as calendar GPST or week/TOW; extra
velocity columns are ignored) and returns arrays for evaluation against truth.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gnssaug import __version__
from gnssaug.errors import FileFormatError, UsageError
from gnssaug.geodesy import ecef_from_llh, enu_rotation, llh_from_ecef
from gnssaug.solvers.types import SolStatus, SolutionSeries
from gnssaug.time import (
    NS_PER_S,
    datetime_from_gpst_ns,
    gpst_ns_from_calendar,
    gpst_ns_from_week_tow,
    gpst_ns_to_utc,
    leap_seconds_at_utc,
    week_tow,
)

FORMATS = ("llh", "xyz", "nmea")

_LLH_COLUMNS = (
    "%  GPST                  latitude(deg) longitude(deg)  height(m)   Q  ns   sdn(m)   sde(m)   sdu(m)"
    "  sdne(m)  sdeu(m)  sdun(m) age(s)  ratio"
)
_XYZ_COLUMNS = (
    "%  GPST                      x-ecef(m)      y-ecef(m)      z-ecef(m)   Q  ns   sdx(m)   sdy(m)   sdz(m)"
    "  sdxy(m)  sdyz(m)  sdzx(m) age(s)  ratio"
)
_Q_LEGEND = "% (lat/lon/height=WGS84/ellipsoidal,Q=1:fix,2:float,3:sbas,4:dgps,5:single,6:ppp,ns=# of satellites)"
_XYZ_LEGEND = "% (x/y/z-ecef=WGS84,Q=1:fix,2:float,3:sbas,4:dgps,5:single,6:ppp,ns=# of satellites)"
# GGA quality indicator per SolStatus (NMEA 0183: 1 GPS fix, 2 DGPS, 4 RTK fixed, 5 RTK float).
_GGA_QUALITY = {SolStatus.NONE: 0, SolStatus.SPP: 1, SolStatus.DGNSS: 2, SolStatus.FLOAT: 5, SolStatus.FIX: 4}


def _gpst_text(t_gpst_ns: int) -> str:
    """``2024/06/24 08:20:00.000`` (RTKLIB ``time2str`` with 3 decimals), rounded to the millisecond."""
    t = datetime_from_gpst_ns(int(t_gpst_ns) + 500_000)
    return t.strftime("%Y/%m/%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def _sqvar(v: np.ndarray) -> np.ndarray:
    """RTKLIB ``sqvar``: the signed square root of (co)variances (elementwise)."""
    root = np.sqrt(np.abs(v))
    return np.where(v < 0, -root, root)


def _position_columns(fmt: str, pos_ecef_m: np.ndarray, cov_ecef_m2: np.ndarray):
    """The three position columns and six signed standard deviations of every line (float64[n, 3], [n, 6])."""
    if fmt == "llh":
        llh = llh_from_ecef(pos_ecef_m).reshape(-1, 3)
        rot = np.array([enu_rotation(lat, lon) for lat, lon in llh[:, :2].tolist()]).reshape(-1, 3, 3)
        c = rot @ cov_ecef_m2 @ rot.transpose(0, 2, 1)
        # RTKLIB outsol: sdn sde sdu sdne sdeu sdun of the ENU covariance
        sd = _sqvar(np.stack([c[:, 1, 1], c[:, 0, 0], c[:, 2, 2], c[:, 1, 0], c[:, 0, 2], c[:, 2, 1]], -1))
        return np.column_stack([np.degrees(llh[:, 0]), np.degrees(llh[:, 1]), llh[:, 2]]), sd
    c = cov_ecef_m2
    sd = _sqvar(np.stack([c[:, 0, 0], c[:, 1, 1], c[:, 2, 2], c[:, 0, 1], c[:, 1, 2], c[:, 2, 0]], -1))
    return pos_ecef_m, sd


def header_lines(
    fmt: str, inputs: Sequence[str], t_first_ns: int | None, t_last_ns: int | None, options: dict[str, str]
) -> list[str]:
    """The ``%`` header lines of a ``.pos`` file (RTKLIB ``outsolhead`` layout).

    ``options`` maps the RTKLIB header labels (``"pos mode"``, ``"elev mask"``, ``"ionos opt"`` ...)
    to their text.
    """
    lines = [f"% program   : gnssaug ver.{__version__}"]
    lines += [f"% inp file  : {p}" for p in inputs]
    for label, t in (("obs start", t_first_ns), ("obs end  ", t_last_ns)):
        if t is not None:
            week, tow = week_tow(int(t))
            lines.append(f"% {label} : {_gpst_text(t)[:21]} GPST (week{week:04d} {tow:8.1f}s)")
    lines += [f"% {label:<10}: {text}" for label, text in options.items()]
    lines.append("%")
    if fmt == "llh":
        lines += [_Q_LEGEND, _LLH_COLUMNS]
    else:
        lines += [_XYZ_LEGEND, _XYZ_COLUMNS]
    return lines


#: Position column format per .pos layout (RTKLIB outsol: %14.9f degrees and %10.4f m, or %14.4f m).
_POSITION_TEXT = {"llh": "{:14.9f} {:14.9f} {:10.4f}", "xyz": "{:14.4f} {:14.4f} {:14.4f}"}


def _solution_lines(fmt: str, sols: SolutionSeries, rows: np.ndarray) -> list[str]:
    """The solution lines of ``rows`` (positions and deviations computed for all rows at once)."""
    if rows.size == 0:
        return []
    pos, sd = _position_columns(fmt, sols.pos_ecef_m[rows], sols.cov_ecef_m2[rows])
    line = "{} " + _POSITION_TEXT[fmt] + " {:3d} {:3d}" + " {:8.4f}" * 6 + " {:6.2f} {:6.1f}"
    q = [SolStatus(int(s)).pos_q for s in sols.status[rows]]
    return [line.format(_gpst_text(t), *p, qi, ns, *d, age, ratio)
            for t, p, qi, ns, d, age, ratio in zip(sols.time_ns()[rows].tolist(), pos.tolist(), q,
                                                    sols.n_sat[rows].tolist(), sd.tolist(),
                                                    sols.age_s[rows].tolist(), sols.ratio[rows].tolist(), strict=True)]


def _nmea_checksum(body: str) -> str:
    cs = 0
    for ch in body:
        cs ^= ord(ch)
    return f"{cs:02X}"


def gga_sentence(t_gpst_ns: int, pos_ecef_m, status: SolStatus, n_sat: int, hdop: float, age_s: float) -> str:
    """One ``$GPGGA`` sentence (NMEA 0183 GGA; UTC time, ellipsoidal height with geoid separation 0)."""
    utc = gpst_ns_to_utc(int(t_gpst_ns))
    llh = llh_from_ecef(np.asarray(pos_ecef_m, dtype=np.float64))
    lat, lon = np.degrees(llh[0]), np.degrees(llh[1])
    lat_d, lon_d = int(abs(lat)), int(abs(lon))
    lat_m, lon_m = (abs(lat) - lat_d) * 60.0, (abs(lon) - lon_d) * 60.0
    hms = utc.strftime("%H%M%S.") + f"{utc.microsecond // 10000:02d}"
    age = f"{age_s:.1f}" if status >= SolStatus.DGNSS else ""
    hdop_text = f"{hdop:.1f}" if np.isfinite(hdop) else ""
    body = (
        f"GPGGA,{hms},{lat_d:02d}{lat_m:010.7f},{'N' if lat >= 0 else 'S'},{lon_d:03d}{lon_m:010.7f},"
        f"{'E' if lon >= 0 else 'W'},{_GGA_QUALITY[status]},{min(n_sat, 99):02d},{hdop_text},{llh[2]:.3f},M,0.000,M,"
        f"{age},"
    )
    return f"${body}*{_nmea_checksum(body)}"


def write_pos(
    path: str | Path,
    sols: SolutionSeries,
    fmt: str = "llh",
    inputs: Sequence[str] = (),
    options: dict[str, str] | None = None,
) -> int:
    """Write solutions to a ``.pos`` (llh, xyz) or NMEA file; epochs without a solution are skipped.

    Each line is dated when its position held: the time tag minus the receiver clock bias
    (:meth:`SolutionSeries.time_ns`), as RTKLIB dates its solutions; for a receiver steered to GPS
    time that is the tag, for a u-blox rover a few milliseconds from it.

    Parameters
    ----------
    path : str or Path
        Output file.
    sols : SolutionSeries
        Solutions; rows with status NONE are not written (RTKLIB does the same).
    fmt : {"llh", "xyz", "nmea"}
    inputs : sequence of str
        Input file names for the header.
    options : dict, optional
        Header option lines (label -> text), e.g. ``{"pos mode": "Single"}``.

    Returns
    -------
    int
        Number of solution lines written.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    ok = np.flatnonzero(sols.status != SolStatus.NONE)
    out = []
    if fmt != "nmea":
        t0 = int(sols.t_gpst_ns[0]) if len(sols) else None
        t1 = int(sols.t_gpst_ns[-1]) if len(sols) else None
        out += header_lines(fmt, inputs, t0, t1, options or {})
        out += _solution_lines(fmt, sols, ok)
    else:
        times_ns = sols.time_ns()
        for i in ok:
            out.append(gga_sentence(int(times_ns[i]), sols.pos_ecef_m[i], SolStatus(int(sols.status[i])),
                                    int(sols.n_sat[i]), float(sols.dops[i, 2]), float(sols.age_s[i])))
    Path(path).write_text("\n".join(out) + "\n")
    return len(ok)


@dataclass
class PosFile:
    """Solutions read from a ``.pos`` file.

    Attributes
    ----------
    t_gpst_ns : int64[n]
    pos_ecef_m : float64[n, 3]
    llh_deg : float64[n, 3]
        Latitude [deg], longitude [deg], ellipsoidal height [m].
    q : int8[n]
        RTKLIB quality flag (1 fix, 2 float, 4 DGNSS, 5 single).
    ns : int16[n]
    ratio : float64[n]
    header : list[str]
        The ``%`` lines.
    """

    t_gpst_ns: np.ndarray
    pos_ecef_m: np.ndarray
    llh_deg: np.ndarray
    q: np.ndarray
    ns: np.ndarray
    ratio: np.ndarray
    header: list

    def __len__(self) -> int:
        return int(self.t_gpst_ns.shape[0])


def _parse_time(fields: list[str], path, line_no) -> tuple[int, int]:
    """(t_gpst_ns, number of fields used) of a data line: ``Y/M/D h:m:s`` or ``week tow``."""
    if "/" in fields[0]:
        y, mo, d = (int(v) for v in fields[0].split("/"))
        h, mi, s = fields[1].split(":")
        sec = _dt.timedelta(seconds=float(s))
        ns = int(sec.total_seconds() * 1e3 + 0.5) * 1_000_000
        return int(gpst_ns_from_calendar(y, mo, d, int(h), int(mi), ns)), 2
    if fields[0].isdigit():
        return int(gpst_ns_from_week_tow(int(fields[0]), float(fields[1]))), 2
    raise FileFormatError(path, line_no, f"cannot read a GPST time from {' '.join(fields[:2])!r}")


def _utc_to_gpst_ns(t_utc_ns: np.ndarray) -> np.ndarray:
    """GPST [ns] of UTC instants counted like GPST (ns since 1980-01-06 00:00 UTC), plus GPS - UTC of each.

    The leap second in force is looked up at the UTC instant itself: looked up as if it were GPST,
    the first GPS - UTC seconds after a leap second took the old value (one second early).
    """
    leap_s = np.array([leap_seconds_at_utc(datetime_from_gpst_ns(int(t))) for t in t_utc_ns[[0, -1]]])
    if leap_s[0] == leap_s[1]:
        return t_utc_ns + int(leap_s[0]) * NS_PER_S
    return np.array([t + leap_seconds_at_utc(datetime_from_gpst_ns(int(t))) * NS_PER_S for t in t_utc_ns],
                    dtype=np.int64)


def read_pos(path: str | Path) -> PosFile:
    """Read an RTKLIB-style ``.pos`` file (ours or RTKLIB's; llh or xyz; GPST, or UTC / JST time tags
    as RTKLIB's ``out-timesys=utc`` writes them, converted to GPST with the leap-second table).

    Raises
    ------
    FileFormatError
        On a data line that cannot be read, naming the file and line.
    """
    header, times, coords, q, ns, ratio = [], [], [], [], [], []
    is_xyz, time_zone_h = None, None
    with open(path, encoding="ascii", errors="replace") as fh:
        for line_no, line in enumerate(fh, 1):
            if line.startswith("%"):
                header.append(line.rstrip("\n"))
                if "GPST" not in line and ("UTC" in line or "JST" in line) and ("latitude" in line or "ecef" in line):
                    time_zone_h = 9 if "JST" in line else 0  # RTKLIB out-timesys=utc (JST: UTC + 9 h)
                if "x-ecef" in line:
                    is_xyz = True
                elif "latitude" in line:
                    is_xyz = False
                continue
            fields = line.split()
            if not fields:
                continue
            try:
                t_ns, used = _parse_time(fields, path, line_no)
                c = [float(v) for v in fields[used:used + 3]]
                qi, nsi = int(fields[used + 3]), int(fields[used + 4])
                ri = float(fields[used + 12]) if len(fields) > used + 12 else 0.0
            except (ValueError, IndexError) as exc:
                raise FileFormatError(path, line_no, f"bad solution line ({exc})") from None
            times.append(t_ns)
            coords.append(c)
            q.append(qi)
            ns.append(nsi)
            ratio.append(ri)
    if time_zone_h is not None and times:
        times = _utc_to_gpst_ns(np.array(times, dtype=np.int64) - time_zone_h * 3600 * NS_PER_S)
    coords_arr = np.array(coords, dtype=np.float64).reshape(-1, 3)
    if is_xyz:
        ecef = coords_arr
        llh = llh_from_ecef(ecef) if len(ecef) else np.zeros((0, 3))
        llh_deg = np.column_stack([np.degrees(llh[:, 0]), np.degrees(llh[:, 1]), llh[:, 2]]) if len(ecef) else llh
    else:
        llh_deg = coords_arr
        rad = np.column_stack([np.radians(llh_deg[:, 0]), np.radians(llh_deg[:, 1]), llh_deg[:, 2]])
        ecef = ecef_from_llh(rad) if len(rad) else np.zeros((0, 3))
    return PosFile(
        t_gpst_ns=np.array(times, dtype=np.int64),
        pos_ecef_m=ecef,
        llh_deg=llh_deg,
        q=np.array(q, dtype=np.int8),
        ns=np.array(ns, dtype=np.int16),
        ratio=np.array(ratio, dtype=np.float64),
        header=header,
    )
