"""The header of a RINEX observation file: :class:`ObsHeader` and its reader.

Follows RINEX 3.05 §5.2 / Table A2 (and RINEX 4.01, RINEX 2.11 Table A1 for the older labels).
Only the records the project uses are kept; the others are skipped. Labels are read from columns
61-80 of each line. Skipped on purpose: ``SYS / PHASE SHIFT`` (the corrections it lists are
already applied to the phases, §5.10) and ``GLONASS COD/PHS/BIS`` (code-phase biases a solver
may apply later); RINEX 4 records such as ``DOI`` or ``STATION INFORMATION``.
System letters and the time system name are read case-insensitively (some writers use lower case).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gnssaug.errors import FileFormatError, GnssError
from gnssaug.gnss import GLO_FCN_UNKNOWN, N_SAT, SYSTEMS, parse_sv, system_index
from gnssaug.time import BDT_OFFSET_NS, datetime_from_gpst_ns, gpst_ns_from_calendar, leap_seconds_at_utc

#: Time systems of TIME OF FIRST OBS and what to add to a tag in that system to get GPST [ns],
#: except GLO (UTC(SU) + 3 h, needs leap seconds) and UTC, handled by :func:`to_gpst_ns`.
_SCALE_TO_GPST_NS = {"GPS": 0, "GAL": 0, "QZS": 0, "IRN": 0, "BDT": -BDT_OFFSET_NS}
#: The time system of a single-system file without TIME SYSTEM (RINEX 3.05 §5.2.7).
_DEFAULT_TIME_SYSTEM = {"G": "GPS", "R": "GLO", "E": "GAL", "C": "BDT", "J": "QZS", "I": "IRN", "S": "GPS"}
_GLO_MINUS_UTC_NS = 3 * 3600 * 10**9


@dataclass
class ObsHeader:
    """The parts of a RINEX observation header gnssaug uses.

    Attributes
    ----------
    version : float
        RINEX format version (2.11, 3.04, 4.01 ...).
    marker_name, receiver_type, antenna_type : str
        MARKER NAME, REC # / TYPE / VERS (type), ANT # / TYPE (type), stripped.
    approx_pos_ecef_m : float64[3] or None
        APPROX POSITION XYZ [m], None when absent or all zero.
    antenna_delta_hen_m : float64[3]
        ANTENNA: DELTA H/E/N [m] (zeros when absent).
    interval_s : float or None
        INTERVAL [s].
    obs_types : dict[str, list[str]]
        System letter -> observation codes in file order (RINEX 3 codes; a RINEX 2 file lists
        its two-character types under every system it declares, see ``file_types``).
    glo_fcn : int8[N_SAT]
        GLONASS frequency channel per global satellite index from GLONASS SLOT / FRQ #,
        :data:`gnssaug.gnss.GLO_FCN_UNKNOWN` elsewhere.
    time_first_gpst_ns, time_last_gpst_ns : int or None
        TIME OF FIRST / LAST OBS converted to GPST [ns].
    leap_seconds : int or None
        LEAP SECONDS (GPS - UTC) when given.
    time_system : str
        Time system of the epoch tags (``"GPS"``, ``"BDT"``, ``"GAL"``, ``"GLO"`` ...).
    path : str
        The file the header was read from (empty for a header built in memory).
    file_type : str
        The satellite system letter of RINEX VERSION / TYPE (``"M"`` for mixed).
    scale_factors : dict[str, dict[str, int]]
        SYS / SCALE FACTOR (RINEX 3.05 Table A2): system letter -> code -> factor the stored
        values were multiplied by (1, 10, 100 or 1000); the reader divides by it.
    """

    version: float = 3.04
    marker_name: str = ""
    receiver_type: str = ""
    antenna_type: str = ""
    approx_pos_ecef_m: np.ndarray | None = None
    antenna_delta_hen_m: np.ndarray = field(default_factory=lambda: np.zeros(3))
    interval_s: float | None = None
    obs_types: dict[str, list[str]] = field(default_factory=dict)
    glo_fcn: np.ndarray = field(default_factory=lambda: np.full(N_SAT, GLO_FCN_UNKNOWN, dtype=np.int8))
    time_first_gpst_ns: int | None = None
    time_last_gpst_ns: int | None = None
    leap_seconds: int | None = None
    time_system: str = "GPS"
    path: str = ""
    file_type: str = "M"
    scale_factors: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Number of header lines (the first data line is ``n_lines + 1``, 1-based).
    n_lines: int = 0


def seconds_to_ns(text: str) -> int:
    """Integer nanoseconds of a seconds field such as ``" 33.9970000"``, exactly (no float rounding).

    Blanks inside the field are ignored, as Fortran formatted input does (``" 0 .0000000"``).
    """
    text = text.replace(" ", "")
    whole, _, frac = text.partition(".")
    if not (whole or frac) or not (whole or "0").lstrip("-").isdigit() or (frac and not frac.isdigit()):
        raise ValueError(f"not a seconds value: {text!r}")
    return int(whole or 0) * 10**9 + int((frac + "000000000")[:9])


def to_gpst_ns(t_ns, time_system: str, leap_s: int | None = None):
    """GPST of epoch tags read as if they were GPST calendar fields in ``time_system``.

    ``t_ns`` is an int or int64 array; GLONASS time and UTC need the GPS - UTC leap seconds, taken
    from the header when given, else from :data:`gnssaug.time.LEAP_SECONDS` at the first tag.
    """
    if time_system in _SCALE_TO_GPST_NS:
        return t_ns + _SCALE_TO_GPST_NS[time_system]
    if time_system not in ("GLO", "UTC"):
        raise GnssError(f"unknown time system {time_system!r}")
    utc_ns = t_ns - _GLO_MINUS_UTC_NS if time_system == "GLO" else t_ns
    if leap_s is None:
        leap_s = leap_seconds_at_utc(datetime_from_gpst_ns(int(np.min(utc_ns))))
    return utc_ns + leap_s * 10**9


def _floats(path, lineno, text, n):
    try:
        values = [float(v) for v in text.split()[:n]]
    except ValueError:
        raise FileFormatError(path, lineno, f"cannot read {n} numbers from {text.strip()!r}") from None
    if len(values) != n:
        raise FileFormatError(path, lineno, f"expected {n} numbers in {text.strip()!r}")
    return values


def _time_tokens(body: str) -> tuple[list[str], str]:
    """The number tokens and the time system of a TIME OF FIRST/LAST OBS body.

    The layout is 5I6, F13.7, 5X, A3 (Table A2); it is read as blank-separated tokens because
    writers make the seconds field a column wider or narrower, which shifts what follows, and
    Fortran readers ignore blanks inside a number (``0 .0000000``), so the seconds are the join
    of the tokens after the fifth.
    """
    tokens = body.split()
    system = tokens.pop() if tokens and tokens[-1].isalpha() else ""
    return tokens, system


class _HeaderReader:
    """State while reading header lines (continuation records need the previous line)."""

    def __init__(self, path: str):
        self.h = ObsHeader(path=path)
        self.path = path
        self.pending_sys = ""  # system of a SYS / # / OBS TYPES record still expecting codes
        self.pending_n = 0
        self.pending_scale: tuple[str, int, int] | None = None  # a SYS / SCALE FACTOR record expecting codes
        self.v2_types: list[str] = []
        self.v2_n = 0
        self.time_first_fields = None
        self.time_last_fields = None

    def fail(self, lineno, message):
        raise FileFormatError(self.path, lineno, message)

    def line(self, lineno: int, line: str) -> None:
        label = line[60:80].strip()
        body = line[:60]
        handler = _HANDLERS.get(label)
        if handler is not None:
            handler(self, lineno, body)

    def version_type(self, lineno, body):
        try:
            self.h.version = float(body[:9])
        except ValueError:
            self.fail(lineno, f"cannot read the RINEX version from {body[:9]!r}")
        if body[20:21] not in ("O", "o"):
            self.fail(lineno, f"not an observation file (file type {body[20:21]!r})")
        self.h.file_type = (body[40:41].strip() or "G").upper()

    def marker(self, lineno, body):
        self.h.marker_name = body.strip()

    def receiver(self, lineno, body):
        self.h.receiver_type = body[20:40].strip()

    def antenna(self, lineno, body):
        self.h.antenna_type = body[20:40].strip()

    def approx_pos(self, lineno, body):
        xyz = np.array(_floats(self.path, lineno, body, 3))
        self.h.approx_pos_ecef_m = None if not np.any(xyz) else xyz

    def delta_hen(self, lineno, body):
        self.h.antenna_delta_hen_m = np.array(_floats(self.path, lineno, body, 3))

    def interval(self, lineno, body):
        value = _floats(self.path, lineno, body, 1)[0]
        self.h.interval_s = value if value > 0 else None

    def leap(self, lineno, body):
        try:
            self.h.leap_seconds = int(body[:6])
        except ValueError:
            self.fail(lineno, f"cannot read LEAP SECONDS from {body[:6]!r}")

    def sys_obs_types(self, lineno, body):
        # A1, 2X, I3, 13(1X, A3); continuation lines leave the system and count blank.
        letter = body[0:1].strip().upper()
        if letter:
            try:
                system_index(letter)
                n = int(body[3:6])
            except (GnssError, ValueError):
                self.fail(lineno, f"bad SYS / # / OBS TYPES record {body.strip()!r}")
            self.pending_sys, self.pending_n = letter, n
            self.h.obs_types[letter] = []
        elif not self.pending_sys:
            self.fail(lineno, "SYS / # / OBS TYPES continuation without a system")
        codes = self.h.obs_types[self.pending_sys]
        codes.extend(body[7:60].split()[: self.pending_n - len(codes)])

    def scale_factor(self, lineno, body):
        # A1, 1X, I4, 2X, I2, 12(1X, A3); continuation lines leave system, factor and count blank.
        # A blank or zero count means every type of the system (RINEX 3.05 Table A2).
        letter = body[0:1].strip().upper()
        if letter:
            try:
                system_index(letter)
                factor = int(body[2:6])
                n = int(body[8:10].strip() or 0)
            except (GnssError, ValueError):
                self.fail(lineno, f"bad SYS / SCALE FACTOR record {body.strip()!r}")
            if factor not in (1, 10, 100, 1000):
                self.fail(lineno, f"SYS / SCALE FACTOR {factor} is not 1, 10, 100 or 1000")
            self.pending_scale = (letter, factor, n)
            if n == 0:
                for code in self.h.obs_types.get(letter, []):
                    self.h.scale_factors.setdefault(letter, {})[code] = factor
        elif self.pending_scale is None:
            self.fail(lineno, "SYS / SCALE FACTOR continuation without a system")
        letter, factor, _ = self.pending_scale
        for code in body[10:58].split():
            self.h.scale_factors.setdefault(letter, {})[code] = factor

    def v2_obs_types(self, lineno, body):
        # I6, 9(4X, A2); continuation lines leave the count blank.
        if body[:6].strip():
            try:
                self.v2_n = int(body[:6])
            except ValueError:
                self.fail(lineno, f"bad # / TYPES OF OBSERV record {body.strip()!r}")
            self.v2_types = []
        self.v2_types.extend(body[6:60].split()[: self.v2_n - len(self.v2_types)])

    def glo_slots(self, lineno, body):
        # I3, 1X, 8(A1, I2.2, 1X, I2, 1X); continuation lines leave the count blank.
        for k in range(8):
            item = body[4 + 7 * k : 11 + 7 * k]
            if not item.strip():
                continue
            try:
                sat = parse_sv(item[:3].upper())
                fcn = int(item[3:])
            except (GnssError, ValueError):
                self.fail(lineno, f"bad GLONASS SLOT / FRQ # entry {item!r}")
            if sat is not None and -7 <= fcn <= 13:
                self.h.glo_fcn[sat] = fcn

    def time_first(self, lineno, body):
        self.time_first_fields = (lineno, body)

    def time_last(self, lineno, body):
        self.time_last_fields = (lineno, body)

    def _time(self, fields):
        if fields is None:
            return None
        lineno, body = fields
        tokens = _time_tokens(body)[0]
        try:
            y, mo, d, hh, mm = (int(v) for v in tokens[:5])
            sec_ns = seconds_to_ns("".join(tokens[5:]))
        except (ValueError, IndexError):
            self.fail(lineno, f"cannot read a time from {body.strip()!r}")
        t = int(gpst_ns_from_calendar(y, mo, d, hh, mm, sec_ns))
        return int(to_gpst_ns(t, self.h.time_system, self.h.leap_seconds))

    def finish(self, n_lines: int) -> ObsHeader:
        h = self.h
        h.n_lines = n_lines
        if h.version < 3 and self.v2_types:
            letters = SYSTEMS if h.file_type == "M" else h.file_type
            h.obs_types = {s: list(self.v2_types) for s in letters if s in SYSTEMS}
        if not h.obs_types:
            self.fail(n_lines, "the header declares no observation types")
        scale = ""
        if self.time_first_fields is not None:
            scale = _time_tokens(self.time_first_fields[1])[1]
        h.time_system = scale.upper() or _DEFAULT_TIME_SYSTEM.get(h.file_type, "GPS")
        if h.time_system not in _SCALE_TO_GPST_NS and h.time_system not in ("GLO", "UTC"):
            self.fail(self.time_first_fields[0], f"unknown time system {h.time_system!r}")
        h.time_first_gpst_ns = self._time(self.time_first_fields)
        h.time_last_gpst_ns = self._time(self.time_last_fields)
        return h


_HANDLERS = {
    "RINEX VERSION / TYPE": _HeaderReader.version_type,
    "MARKER NAME": _HeaderReader.marker,
    "REC # / TYPE / VERS": _HeaderReader.receiver,
    "ANT # / TYPE": _HeaderReader.antenna,
    "APPROX POSITION XYZ": _HeaderReader.approx_pos,
    "ANTENNA: DELTA H/E/N": _HeaderReader.delta_hen,
    "INTERVAL": _HeaderReader.interval,
    "LEAP SECONDS": _HeaderReader.leap,
    "SYS / # / OBS TYPES": _HeaderReader.sys_obs_types,
    "# / TYPES OF OBSERV": _HeaderReader.v2_obs_types,
    "GLONASS SLOT / FRQ #": _HeaderReader.glo_slots,
    "SYS / SCALE FACTOR": _HeaderReader.scale_factor,
    "TIME OF FIRST OBS": _HeaderReader.time_first,
    "TIME OF LAST OBS": _HeaderReader.time_last,
}


def parse_obs_header(path: str, lines: list[str]) -> ObsHeader:
    """Read the header from the first lines of a file (``lines`` may extend past the header).

    Parameters
    ----------
    path : str
        The file name, for error messages.
    lines : list of str
        Lines of the file without end-of-line characters.

    Returns
    -------
    ObsHeader

    Raises
    ------
    FileFormatError
        When the first line is not an observation RINEX VERSION / TYPE record, a record cannot be
        read, or END OF HEADER is missing.
    """
    reader = _HeaderReader(path)
    if not lines or lines[0][60:80].strip() != "RINEX VERSION / TYPE":
        raise FileFormatError(path, 1, "not a RINEX file: the first line is not RINEX VERSION / TYPE")
    for i, line in enumerate(lines):
        if line[60:80].strip() == "END OF HEADER":
            return reader.finish(i + 1)
        reader.line(i + 1, line)
    raise FileFormatError(path, len(lines), "END OF HEADER is missing (truncated header?)")

