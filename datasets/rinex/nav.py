"""RINEX navigation files (2.x, 3.x, 4.x) into :class:`gnssaug.ephemeris.records.NavData`.

Supported: RINEX 2 GPS (``.n``) and GLONASS (``.g``) files; RINEX 3 single-system and mixed files
(``.19b`` BeiDou, ``.20l`` Galileo, IGS merged ``BRDC..._MN.rnx.gz`` with NavIC and SBAS); RINEX
4 ``> EPH`` records of types LNAV, CNAV, CNV2, INAV, FNAV, D1, D2, CNV1, CNV2, CNV3 and FDMA, and
``> ION`` records (GPS and BDS Klobuchar, NeQuick G, BDGIM). SBAS records, RINEX 4 STO/EOP records
and ionosphere records of other systems (QZSS, NavIC Klobuchar) are skipped and counted in
``NavData.skipped`` (never an error).

RINEX 4 records are delimited by their ``>`` lines, and each known record type must have the
number of lines its layout table gives (:data:`V4_RECORD_LINES`); a record with more or fewer lines
(a lost line, two records run together) is skipped with a :class:`NavFileWarning` naming the
file and line, and counted (``"incomplete"`` for too few lines, ``"bad line count"`` for too many).

Layout references: RINEX 2.11 Table A4/A11, RINEX 3.05 Tables A6-A19, RINEX 4.00 Tables A5-A33.
Record epochs (toc) are in the system's own time scale (GPST, GST, BDT; GLONASS: UTC), and are
converted to GPST here. Week numbers for toe and the transmission time are taken from the record
epoch and adjusted to the week nearest to toc (as RTKLIB's ``adjweek``), which makes the
differing week conventions of the week fields irrelevant.

Speed: the numeric fields are cut out by column and converted in one pass; a full IGS merged
daily file (150 000 lines) loads in about a second.
"""

from __future__ import annotations

import gzip
import warnings
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from gnssaug.constants import BDT_WEEK_OFFSET, GST_WEEK_OFFSET, NS_PER_S
from gnssaug.ephemeris import records as rec
from gnssaug.errors import FileFormatError, GnssError
from gnssaug.gnss import BDS, GAL, GLO, GPS, IRN, QZS, SAT_IS_GEO, SYSTEMS, sat_index
from gnssaug.time import BDT_OFFSET_NS, NS_PER_WEEK, gpst_ns_from_calendar

from .compression import unpack_bytes
from .timescale import utc_calendar_to_gpst_ns

__all__ = ["V4_RECORD_LINES", "NavFileWarning", "read_nav", "read_text_lines"]


class NavFileWarning(UserWarning):
    """Issued for a navigation record that was skipped because it is malformed (names file and line)."""


#: Lines after the ``>`` line of each RINEX 4.00 record, by (record type, system, message type),
#: from the record tables of RINEX 4.00 Appendix A: GPS/QZSS LNAV 8, CNAV 9, CNAV-2 10; Galileo
#: I/NAV and F/NAV 8; BDS D1/D2 8, CNAV-1/CNAV-2 10, CNAV-3 9; GLONASS FDMA 5 (the 4 lines of
#: RINEX 3 are accepted too); SBAS 4; NavIC LNAV 8; ION Klobuchar 3, NeQuick G 2, BDGIM 3.
V4_RECORD_LINES: dict[tuple[str, str, str], tuple[int, ...]] = {
    **{("EPH", s, "LNAV"): (8,) for s in "GJI"},
    **{("EPH", s, "CNAV"): (9,) for s in "GJ"},
    **{("EPH", s, "CNV2"): (10,) for s in "GJ"},
    ("EPH", "E", "INAV"): (8,), ("EPH", "E", "FNAV"): (8,),
    ("EPH", "C", "D1"): (8,), ("EPH", "C", "D2"): (8,),
    ("EPH", "C", "CNV1"): (10,), ("EPH", "C", "CNV2"): (10,), ("EPH", "C", "CNV3"): (9,),
    ("EPH", "R", "FDMA"): (5, 4), ("EPH", "S", "SBAS"): (4,),
    **{("ION", s, m): (3,) for s in "GJI" for m in ("LNAV", "CNVX", "CNAV", "CNV2")},
    ("ION", "C", "D1D2"): (3,), ("ION", "C", "CNVX"): (3,), ("ION", "E", "IFNV"): (2,),
}
#: STO (2 lines) and EOP (3 lines) records have one layout whatever the system and message type.
_KIND_LINES = {"STO": (2,), "EOP": (3,)}

#: Width of the raw field table per record (RINEX 4 BDS CNAV records have 39 fields).
_N_RAW = 40
_FIELD = 19
_HALF_WEEK_NS = NS_PER_WEEK // 2

_V2_FILE_SYSTEM = {"N": "G", "G": "R", "H": "S", "L": "E", "E": "E", "C": "C"}
_MSG_TYPE = {name: i for i, name in enumerate(rec.NAV_TYPE_NAMES)}
_LEGACY_TYPE = {"G": "LNAV", "J": "LNAV", "I": "LNAV", "E": "INAV", "C": "D1"}


def read_nav(paths: str | Path | Iterable[str | Path]) -> rec.NavData:
    """Read one or more RINEX navigation files into one :class:`NavData`.

    Parameters
    ----------
    paths : str, Path or list of them
        Plain or gzip-compressed RINEX 2/3/4 navigation files. Records of all files are merged
        and sorted by satellite and toe; ionosphere coefficients come from the first file that
        has them (hourly BDS sets: per hour, from the first file that has that hour).

    Returns
    -------
    NavData

    Raises
    ------
    FileFormatError
        Malformed file; the message names the file and the line.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    parts = list(map(_read_one, map(Path, paths)))  # no comprehension frame: warnings name the caller
    if not parts:
        raise FileFormatError("<none>", None, "no navigation files given")
    kepler = rec.concat_kepler(p.kepler for p in parts)
    glonass = rec.concat_glonass(p.glonass for p in parts)
    kepler = kepler.take(np.lexsort((kepler.ttr_gpst_ns, kepler.toe_gpst_ns, kepler.sat)))
    glonass = glonass.take(np.lexsort((glonass.toe_gpst_ns, glonass.sat)))
    iono = {}
    for name in ("gps_klobuchar_alpha", "gps_klobuchar_beta", "bds_klobuchar_alpha", "bds_klobuchar_beta",
                 "gal_nequick_ai", "bds_bdgim_alpha"):
        iono[name] = next((getattr(p, name) for p in parts if np.all(np.isfinite(getattr(p, name)))),
                          getattr(parts[0], name))
    skipped: dict[str, int] = {}
    for p in parts:
        for k, v in p.skipped.items():
            skipped[k] = skipped.get(k, 0) + v
    leap = next((p.leap_seconds for p in parts if p.leap_seconds >= 0), -1)
    hourly = np.full((24, 8), np.nan)
    for p in parts:  # hours missing from the first files are filled from later ones
        missing = np.isnan(hourly).any(axis=1) & np.isfinite(p.bds_klobuchar_hourly).all(axis=1)
        hourly[missing] = p.bds_klobuchar_hourly[missing]
    return rec.NavData(kepler=kepler, glonass=glonass, glo_fcn=rec.glo_fcn_table(glonass),
                       leap_seconds=leap, skipped=skipped, bds_klobuchar_hourly=hourly, **iono)


# ----------------------------------------------------------------------------------------------
# File level
# ----------------------------------------------------------------------------------------------
def read_text_lines(path: Path) -> list[str]:
    """Lines of a plain or packed text file (gzip, Unix compress ``.Z``, bzip2, zip); unreadable or
    corrupt files raise FileFormatError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(path, None, f"cannot read: {exc.strerror or exc}") from None
    if data[:2] == b"\x1f\x8b":  # gzip, the common case, without the hatanaka import
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:  # (zlib.error: damaged data after a good header)
            raise FileFormatError(path, None, f"cannot decompress: {exc}") from None
    else:
        data = unpack_bytes(data, path)
    return data.decode("ascii", errors="replace").splitlines()


class _Header:
    def __init__(self):
        self.version = 0.0
        self.system = "M"
        self.iono: dict[str, np.ndarray] = {}
        self.bds_hourly = np.full((24, 8), np.nan)
        self.leap_seconds = -1
        self.n_lines = 0


def _header(path: Path, lines: list[str]) -> _Header:
    hdr = _Header()
    if not lines or "RINEX VERSION / TYPE" not in lines[0]:
        raise FileFormatError(path, 1, "not a RINEX file: first line lacks 'RINEX VERSION / TYPE'")
    try:
        hdr.version = float(lines[0][:9])
    except ValueError:
        raise FileFormatError(path, 1, f"cannot read the RINEX version from {lines[0][:9]!r}") from None
    ftype = lines[0][20:21]
    if hdr.version < 3:
        if ftype not in _V2_FILE_SYSTEM:
            raise FileFormatError(path, 1, f"RINEX 2 file type {ftype!r} is not navigation data")
        hdr.system = _V2_FILE_SYSTEM[ftype]
    else:
        # RINEX 3 says 'N'; writers of 3.0x single-system files keep the RINEX 2 letters (G: GLONASS,
        # L: Galileo, H: SBAS, as RTKLIB reads them); every record names its satellite anyway.
        if ftype != "N" and ftype not in _V2_FILE_SYSTEM:
            raise FileFormatError(path, 1, f"RINEX file type {ftype!r} is not navigation data ('N')")
        hdr.system = lines[0][40:41] or "M"
    for i, line in enumerate(lines):
        label = line[60:].strip()
        if label == "END OF HEADER":
            hdr.n_lines = i + 1
            return hdr
        try:
            if label == "IONOSPHERIC CORR":
                key = line[:4].strip()
                values = _floats(line[5:53], 12)
                if key not in hdr.iono:  # merged files repeat BDSA/BDSB per satellite: keep the first
                    hdr.iono[key] = values
                if key in ("BDSA", "BDSB"):
                    _add_hourly(hdr.bds_hourly, key, line[54:55], values)
            elif label in ("ION ALPHA", "ION BETA"):
                hdr.iono["GPSA" if label == "ION ALPHA" else "GPSB"] = _floats(line[2:50], 12)
            elif label == "LEAP SECONDS":
                hdr.leap_seconds = int(line[:6])
        except ValueError as exc:
            raise FileFormatError(path, i + 1, f"bad {label} header line: {exc}") from None
    raise FileFormatError(path, len(lines), "no END OF HEADER line")


def _add_hourly(table: np.ndarray, key: str, mark: str, values: np.ndarray) -> None:
    """Keep a BDSA/BDSB set in ``table`` row by its time mark (hour of day, A-X); first set per hour wins.

    RINEX 3.04 writes the hour in capitals (``A`` = 00h-01h ... ``X`` = 23h-24h); lower case is
    read as the same hour. A blank or other mark (files before 3.04) leaves the table alone.
    """
    hour = ord(mark.upper()) - ord("A") if mark.strip() else -1
    if not 0 <= hour < 24:
        return
    cols = slice(0, 4) if key == "BDSA" else slice(4, 8)
    if np.isnan(table[hour, cols]).all():
        table[hour, cols] = values[:4]


def _floats(text: str, width: int) -> np.ndarray:
    return np.array([_num(text[j:j + width]) for j in range(0, len(text), width)])


def _num(text: str) -> float:
    text = text.strip()
    if not text:
        return np.nan
    return float(text.replace("D", "E").replace("d", "e"))


def _read_one(path: Path) -> rec.NavData:
    lines = read_text_lines(path)
    hdr = _header(path, lines)
    groups, skipped = _split_records(path, lines, hdr)
    raw, meta = _parse_groups(path, groups, hdr)
    kep_rows = [i for i, m in enumerate(meta) if m[0] != "R"]
    glo_rows = [i for i, m in enumerate(meta) if m[0] == "R"]
    kepler = _kepler(raw[kep_rows], [meta[i] for i in kep_rows], skipped)
    glonass = _glonass(raw[glo_rows], [meta[i] for i in glo_rows], skipped)
    iono = _header_iono(hdr.iono)
    for key, values in _v4_iono(path, groups, skipped, hdr.bds_hourly).items():
        iono.setdefault(key, values)
    return rec.NavData(kepler=kepler, glonass=glonass, leap_seconds=hdr.leap_seconds, skipped=skipped,
                       glo_fcn=rec.glo_fcn_table(glonass), bds_klobuchar_hourly=hdr.bds_hourly, **iono)


def _header_iono(iono: dict) -> dict:
    out = {}
    pairs = (("GPSA", "gps_klobuchar_alpha"), ("GPSB", "gps_klobuchar_beta"), ("BDSA", "bds_klobuchar_alpha"),
             ("BDSB", "bds_klobuchar_beta"))
    for key, name in pairs:
        if key in iono:
            out[name] = iono[key][:4]
    if "GAL" in iono:
        out["gal_nequick_ai"] = iono["GAL"][:3]
    return out


# ----------------------------------------------------------------------------------------------
# Records: split the body into groups of lines, one group per record
# ----------------------------------------------------------------------------------------------
class _Group:
    __slots__ = ("line_no", "kind", "sv", "msg", "lines")

    def __init__(self, line_no, kind, sv, msg):
        self.line_no, self.kind, self.sv, self.msg, self.lines = line_no, kind, sv, msg, []


def _split_records(path: Path, lines: list[str], hdr: _Header):
    groups: list[_Group] = []
    skipped: dict[str, int] = {}
    current = None
    v4 = hdr.version >= 4
    for i in range(hdr.n_lines, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        if v4:
            if line[0] == ">":
                parts = line[1:].split()
                if len(parts) < 2:
                    raise FileFormatError(path, i + 1, f"bad RINEX 4 record line {line!r}")
                current = _Group(i + 1, parts[0], parts[1], parts[2] if len(parts) > 2 else "")
                groups.append(current)
                continue
        elif line[:2].strip():  # a record starts with the satellite (col 1 in RINEX 3, cols 1-2 in RINEX 2)
            sv = line[:3] if hdr.version >= 3 else hdr.system + line[:2]
            current = _Group(i + 1, "EPH", sv.replace(" ", "0"), "")
            groups.append(current)
        if current is None:
            raise FileFormatError(path, i + 1, "data line before the first record")
        current.lines.append(line)
    keep = []
    for g in groups:
        reason = _line_count_error(path, g) if v4 else None
        if reason is not None:
            pass  # counted below under its line-count reason
        elif g.kind not in ("EPH", "ION"):
            reason = g.kind
        elif g.kind == "EPH" and (g.sv[0] not in "GREJCI" or g.msg in ("SBAS", "L1NV", "L1OC", "L3OC")
                                  or (v4 and ("EPH", g.sv[0], g.msg) not in V4_RECORD_LINES)):
            # SBAS, and RINEX 4 layouts this reader does not know (4.02 GLONASS CDMA, NavIC L1NV, ...)
            reason = "SBAS" if g.sv[0] == "S" else f"{g.sv[0]} {g.msg}".strip()
        if reason:
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            keep.append(g)
    return keep, skipped


def _line_count_error(path: Path, g: _Group) -> str | None:
    """Why a RINEX 4 record has the wrong number of lines for its type (None if right or unknown)."""
    expected = V4_RECORD_LINES.get((g.kind, g.sv[:1], g.msg), _KIND_LINES.get(g.kind))
    if expected is None or len(g.lines) in expected:
        return None
    reason = "incomplete" if len(g.lines) < expected[0] else "bad line count"
    warnings.warn(f"{path}:{g.line_no}: {g.kind} {g.sv} {g.msg} record has {len(g.lines)} lines, its layout "
                  f"has {expected[0]}; record skipped", NavFileWarning, stacklevel=5)
    return reason


def _parse_groups(path: Path, groups: list[_Group], hdr: _Header):
    """Cut every EPH record into the raw field table float64[n, _N_RAW] (NaN where blank)."""
    eph = [g for g in groups if g.kind == "EPH"]
    v2 = hdr.version < 3
    c0, c1 = (22, 3) if v2 else (23, 4)
    raw = _raw_fields_fast(eph, c0, c1)
    if raw is None:  # a bad number somewhere: the field-by-field reader says where
        raw = np.full((len(eph), _N_RAW), np.nan)
        for r, g in enumerate(eph):
            _raw_fields_of(path, g, c0, c1, raw[r], hdr.version)
    meta = []
    for g in eph:
        try:
            sat_index(SYSTEMS.index(g.sv[0]), int(g.sv[1:]))
        except (ValueError, GnssError):
            raise FileFormatError(path, g.line_no, f"bad satellite name {g.sv!r}") from None
        try:
            epoch = _epoch(g.lines[0], v2)
        except (ValueError, IndexError) as exc:
            raise FileFormatError(path, g.line_no + (1 if hdr.version >= 4 else 0),
                                  f"bad epoch in {g.sv} record: {exc}") from None
        msg = g.msg or _LEGACY_TYPE.get(g.sv[0], "FDMA")
        if g.sv[0] == "C" and not g.msg and int(g.sv[1:]) in (1, 2, 3, 4, 5, 59, 60, 61, 62, 63):
            msg = "D2"
        meta.append((g.sv[0], g.sv, msg, epoch, g.line_no, len(g.lines)))
    return raw, meta


def _raw_fields_fast(eph: list[_Group], c0: int, c1: int) -> np.ndarray | None:
    """The raw field table of all records at once (numpy parses the numbers), None on a bad number.

    Each record's fields (three on its first line from column ``c0``, four per line after from
    ``c1``, 19 characters each) are laid end to end, blank-padded to :data:`_N_RAW` fields, so the
    whole file becomes one fixed-width byte array: a day of multi-system records (14,000) reads in
    a tenth of the time of a Python loop over its 400,000 fields.
    """
    width = _N_RAW * _FIELD
    texts = []
    for g in eph:
        lines = g.lines
        text = lines[0][c0:c0 + 3 * _FIELD].ljust(3 * _FIELD)
        text += "".join(line[c1:c1 + 4 * _FIELD].ljust(4 * _FIELD) for line in lines[1:])
        texts.append(text[:width].ljust(width))
    try:
        block = "".join(texts).replace("D", "E").replace("d", "e").encode("ascii")
        fields = np.frombuffer(block, dtype=f"S{_FIELD}").reshape(len(eph), _N_RAW)
        fields = np.where(np.char.strip(fields) == b"", b"nan", fields)
        return fields.astype(np.float64)
    except (UnicodeEncodeError, ValueError):
        return None


def _raw_fields_of(path: Path, g: _Group, c0: int, c1: int, values: np.ndarray, version: float) -> None:
    """One record's fields into ``values`` (float64[_N_RAW]), naming the line of a bad number."""
    lines = g.lines
    k = 0
    at = 0
    try:
        for j in range(3):
            values[k] = _num(lines[0][c0 + _FIELD * j:c0 + _FIELD * (j + 1)])
            k += 1
        for at in range(1, len(lines)):
            for j in range(4):
                if k < _N_RAW:
                    values[k] = _num(lines[at][c1 + _FIELD * j:c1 + _FIELD * (j + 1)])
                k += 1
    except (ValueError, IndexError) as exc:
        line_no = g.line_no + at + (1 if version >= 4 else 0)
        raise FileFormatError(path, line_no, f"bad number in {g.sv} record: {exc}") from None


def _epoch(line: str, v2: bool):
    if v2:
        yy = int(line[3:5])
        year = yy + (2000 if yy < 80 else 1900)
        fields = (line[6:8], line[9:11], line[12:14], line[15:17])
        sec = float(line[17:22])
    else:
        year = int(line[4:8])
        fields = (line[9:11], line[12:14], line[15:17], line[18:20])
        sec = float(line[21:23])
    month, day, hour, minute = (int(f) for f in fields)
    return year, month, day, hour, minute, int(round(sec * NS_PER_S))


def _epoch_ns(meta) -> np.ndarray:
    if not meta:
        return np.zeros(0, dtype=np.int64)
    e = np.array([m[3] for m in meta], dtype=np.int64)
    return np.asarray(gpst_ns_from_calendar(e[:, 0], e[:, 1], e[:, 2], e[:, 3], e[:, 4], e[:, 5]))


def _near_week(sow, ref_ns):
    """Absolute ns of seconds-of-week ``sow`` in the week that puts it nearest to ``ref_ns``."""
    sow_ns = np.round(np.nan_to_num(sow) * NS_PER_S).astype(np.int64)
    t = (ref_ns // NS_PER_WEEK) * NS_PER_WEEK + sow_ns
    t = np.where(t - ref_ns > _HALF_WEEK_NS, t - NS_PER_WEEK, t)
    return np.where(ref_ns - t > _HALF_WEEK_NS, t + NS_PER_WEEK, t)


# Column of each Keplerian parameter in the raw field table, per layout (RINEX 3.05 Tables A6
# (GPS), A8 (Galileo), A10 (QZSS), A12 (BDS), A18 (NavIC); RINEX 4.00 Tables A5-A28).
_COMMON = {rec.K_AF0: 0, rec.K_AF1: 1, rec.K_AF2: 2, rec.K_CRS: 4, rec.K_DN: 5, rec.K_M0: 6, rec.K_CUC: 7,
           rec.K_E: 8, rec.K_CUS: 9, rec.K_SQRTA: 10, rec.K_CIC: 12, rec.K_OMEGA0: 13, rec.K_CIS: 14,
           rec.K_I0: 15, rec.K_CRC: 16, rec.K_OMEGA: 17, rec.K_OMEGADOT: 18, rec.K_IDOT: 19}
# layout name -> (param column map, iode col, iodc col, health col, ttr col, extra ints)
_LAYOUTS = {
    "LNAV": ({rec.K_ACC_M: 23, rec.K_TGD: 25, rec.K_FIT_H: 28, rec.K_L2_CODES: 20, rec.K_L2P_FLAG: 22},
             3, 26, 24, 27),
    "IRN": ({rec.K_ACC_M: 23, rec.K_TGD: 25}, 3, None, 24, 27),
    "GAL": ({rec.K_ACC_M: 23, rec.K_TGD: 25, rec.K_TGD2: 26}, 3, None, 24, 27),
    "BDS": ({rec.K_ACC_M: 23, rec.K_TGD: 25, rec.K_TGD2: 26}, 3, 28, 24, 27),
    "CNAV": ({rec.K_ADOT: 3, rec.K_DN_DOT: 20, rec.K_TGD: 25, rec.K_ISC_L1CA: 27, rec.K_ISC_L2C: 28,
              rec.K_ISC_L5I5: 29, rec.K_ISC_L5Q5: 30}, None, None, 24, 31),
    "CNV2": ({rec.K_ADOT: 3, rec.K_DN_DOT: 20, rec.K_TGD: 25, rec.K_ISC_L1CA: 27, rec.K_ISC_L2C: 28,
              rec.K_ISC_L5I5: 29, rec.K_ISC_L5Q5: 30}, None, None, 24, 35),
    "BCNV1": ({rec.K_ADOT: 3, rec.K_DN_DOT: 20, rec.K_ISC_B1CD: 27, rec.K_TGD_B1CP: 29, rec.K_TGD_B2AP: 30},
              38, 34, 32, 35),
    "BCNV2": ({rec.K_ADOT: 3, rec.K_DN_DOT: 20, rec.K_ISC_B2AD: 28, rec.K_TGD_B1CP: 29, rec.K_TGD_B2AP: 30},
              38, 34, 32, 35),
    "BCNV3": ({rec.K_ADOT: 3, rec.K_DN_DOT: 20}, None, None, 28, 31),
}
#: Fields that every Keplerian record must have (else it is skipped as "incomplete").
_REQUIRED = (0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)


def _layout(system: str, msg: str) -> str:
    if system == "C":
        return {"CNV1": "BCNV1", "CNV2": "BCNV2", "CNV3": "BCNV3"}.get(msg, "BDS")
    if system == "E":
        return "GAL"
    if system == "I":
        return "IRN"
    return msg if msg in ("CNAV", "CNV2") else "LNAV"


def _kepler(raw: np.ndarray, meta: list, skipped: dict) -> rec.KeplerEphemerides:
    complete = ~np.isnan(raw[:, _REQUIRED]).any(axis=1) if len(meta) else np.zeros(0, bool)
    if np.any(~complete):
        skipped["incomplete"] = skipped.get("incomplete", 0) + int(np.count_nonzero(~complete))
    raw = raw[complete]
    meta = [m for m, ok in zip(meta, complete, strict=True) if ok]
    n = len(meta)
    system = np.array([SYSTEMS.index(m[0]) for m in meta], dtype=np.int64)
    sat = np.array([sat_index(SYSTEMS.index(m[0]), int(m[1][1:])) for m in meta], dtype=np.int16)
    msg_type = np.array([_MSG_TYPE.get(m[2], 0) for m in meta], dtype=np.int8)
    # own time scale = GPST except BDT = GPST - 14 s (GST is GPST to within ns).
    own_offset = np.where(system == BDS, BDT_OFFSET_NS, 0)
    toc_own = _epoch_ns(meta)
    param = np.full((n, rec.N_KEPLER_PARAM), np.nan)
    param[:, [rec.K_AF2, rec.K_ADOT, rec.K_DN_DOT]] = 0.0
    iode = np.full(n, -1, dtype=np.int64)
    iodc = np.full(n, -1, dtype=np.int64)
    health = np.zeros(n, dtype=np.int64)
    ttr_sow = np.full(n, np.nan)
    layouts = np.array([_layout(m[0], m[2]) for m in meta], dtype=object)
    for name, (cols, c_iode, c_iodc, c_health, c_ttr) in _LAYOUTS.items():
        rows = np.flatnonzero(layouts == name)
        if rows.size == 0:
            continue
        for k, c in {**_COMMON, **cols}.items():
            param[rows, k] = raw[rows, c]
        param[rows, rec.K_AF2] = np.nan_to_num(param[rows, rec.K_AF2])
        if c_iode is not None:
            iode[rows] = np.nan_to_num(raw[rows, c_iode], nan=-1)
        if c_iodc is not None:
            iodc[rows] = np.nan_to_num(raw[rows, c_iodc], nan=-1)
        health[rows] = np.nan_to_num(raw[rows, c_health])
        ttr_sow[rows] = raw[rows, c_ttr]
    # CNAV (GPS/QZSS) has no toe field: toe = toc (IS-GPS-200 §30.3.3.1.1.1, t_oe = t_oc).
    toe_sow = np.where(np.isin(layouts, ("CNAV", "CNV2")), np.nan, raw[:, 11])
    toe_own = np.where(np.isnan(toe_sow), toc_own, _near_week(toe_sow, toc_own))
    ttr_own = np.where(np.isnan(ttr_sow), toe_own, _near_week(ttr_sow, toc_own))
    # GPS fit interval: RINEX gives hours; QZSS gives a flag (0: 2 h, 1: more than 2 h).
    fit = param[:, rec.K_FIT_H]
    param[:, rec.K_FIT_H] = np.where(system == QZS, np.where(fit == 0, 2.0, 4.0), fit)
    data_source = np.where(system == GAL, np.nan_to_num(raw[:, 20]), 0).astype(np.int64)
    # RINEX 2/3 name no message type: a Galileo record is F/NAV when its data source says so.
    fnav = (system == GAL) & ((data_source & (rec.GAL_SRC_FNAV_E5A | rec.GAL_SRC_CLK_E5A)) != 0)
    msg_type = np.where(fnav, rec.NAV_FNAV, msg_type).astype(np.int8)
    week_offset = np.select([system == GAL, system == BDS], [GST_WEEK_OFFSET, BDT_WEEK_OFFSET], 0)
    return rec.KeplerEphemerides(
        sat=sat, msg_type=msg_type, toe_gpst_ns=toe_own - own_offset, toc_gpst_ns=toc_own - own_offset,
        ttr_gpst_ns=ttr_own - own_offset, week=toe_own // NS_PER_WEEK - week_offset,
        toe_s=(toe_own % NS_PER_WEEK) / NS_PER_S, toc_s=(toc_own % NS_PER_WEEK) / NS_PER_S, param=param,
        iode=iode, iodc=iodc, health=health, data_source=data_source, is_geo=SAT_IS_GEO[sat] & (system == BDS),
    )


def _glonass(raw: np.ndarray, meta: list, skipped: dict) -> rec.GlonassEphemerides:
    required = (0, 1, 3, 4, 5, 7, 8, 9, 11, 12, 13)
    complete = ~np.isnan(raw[:, required]).any(axis=1) if len(meta) else np.zeros(0, bool)
    if np.any(~complete):
        skipped["incomplete"] = skipped.get("incomplete", 0) + int(np.count_nonzero(~complete))
    raw = raw[complete]
    meta = [m for m, ok in zip(meta, complete, strict=True) if ok]
    sat = np.array([sat_index(GLO, int(m[1][1:])) for m in meta], dtype=np.int16)
    utc_ns = _epoch_ns(meta)
    tb_s = ((utc_ns // NS_PER_S + 3 * 3600) % 86400).astype(np.float64)
    # RINEX 3.05 GLONASS line 4 (status, L1/L2 delay, URAI, health flags) is optional; 0.999999999999E+09
    # marks "not known" in the status field.
    delta_tau = raw[:, 16] if raw.shape[0] else np.zeros(0)
    delta_tau = np.where(np.abs(delta_tau) > 1.0, np.nan, delta_tau)
    return rec.GlonassEphemerides(
        sat=sat, toe_gpst_ns=utc_calendar_to_gpst_ns(utc_ns), tb_s=tb_s, tk_s=np.mod(raw[:, 2], 86400.0),
        pos_m=raw[:, [3, 7, 11]] * 1e3, vel_mps=raw[:, [4, 8, 12]] * 1e3, acc_mps2=raw[:, [5, 9, 13]] * 1e3,
        tau_n_s=-raw[:, 0], gamma_n=raw[:, 1], delta_tau_n_s=delta_tau,
        fcn=np.nan_to_num(raw[:, 10]).astype(np.int8), health=np.nan_to_num(raw[:, 6]).astype(np.int32),
        age_d=np.nan_to_num(raw[:, 14]).astype(np.int32), iode=(tb_s // 900).astype(np.int32),
        acc_m=np.full(sat.shape[0], np.nan),
    )


def _ion_hour(line: str) -> int | None:
    """Hour of the epoch of a RINEX 4 ION record's first line (4X, I4, 5(1X, I2.2)); None if unreadable."""
    try:
        hour = int(line[16:18])
    except ValueError:
        return None
    return hour if 0 <= hour < 24 else None


def _v4_iono(path: Path, groups: list[_Group], skipped: dict, bds_hourly: np.ndarray) -> dict:
    """Ionosphere coefficients from RINEX 4 ``> ION`` records (the first of each kind).

    GPS Klobuchar from GPS records only (QZSS and NavIC broadcast regional sets of their own),
    BDS Klobuchar from ``D1D2``, BDGIM from BDS ``CNVX``, NeQuick G from Galileo ``IFNV``; other
    ION records are counted in ``skipped``. Every BDS Klobuchar record also fills the row of
    ``bds_hourly`` of its epoch's hour (BDT), as RINEX 3.04 header time marks do; the first set of
    an hour is kept.
    """
    out: dict[str, np.ndarray] = {}
    for g in groups:
        if g.kind != "ION":
            continue
        try:
            vals = [_num(g.lines[0][23 + _FIELD * j:23 + _FIELD * (j + 1)]) for j in range(3)]
            for ln in g.lines[1:]:
                vals += [_num(ln[4 + _FIELD * j:4 + _FIELD * (j + 1)]) for j in range(4)]
        except (ValueError, IndexError) as exc:
            raise FileFormatError(path, g.line_no, f"bad number in ION record: {exc}") from None
        vals = np.array(vals + [np.nan] * 8)
        system = g.sv[0]
        if system == "G" and g.msg in ("LNAV", "CNAV", "CNV2", "CNVX"):
            out.setdefault("gps_klobuchar_alpha", vals[:4])
            out.setdefault("gps_klobuchar_beta", vals[4:8])
        elif system == "C" and g.msg == "D1D2":
            out.setdefault("bds_klobuchar_alpha", vals[:4])
            out.setdefault("bds_klobuchar_beta", vals[4:8])
            hour = _ion_hour(g.lines[0])
            if hour is not None and np.isnan(bds_hourly[hour]).all():
                bds_hourly[hour] = vals[:8]
        elif system == "C" and g.msg == "CNVX":
            out.setdefault("bds_bdgim_alpha", vals[:9])
        elif system == "E":
            out.setdefault("gal_nequick_ai", vals[:3])
        else:
            key = f"ION {system} {g.msg}"
            skipped[key] = skipped.get(key, 0) + 1
    return out


# Systems handled, for documentation and the tests.
READ_SYSTEMS = (GPS, GLO, GAL, QZS, BDS, IRN)
