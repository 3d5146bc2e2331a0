"""Reading RINEX files whatever their packing: plain, gzip/Z/bz2/zip, Hatanaka (``.crx``, ``.yyd``)."""

from __future__ import annotations

from pathlib import Path

from gnssaug.errors import FileFormatError

_GZIP, _COMPRESS, _BZIP2, _ZIP = b"\x1f\x8b", b"\x1f\x9d", b"BZh", b"PK\x03\x04"


def is_packed(data: bytes) -> bool:
    """True for gzip/Z/bz2/zip data or Compact RINEX (Hatanaka) text."""
    if data[:2] in (_GZIP, _COMPRESS) or data[:3] == _BZIP2 or data[:4] == _ZIP:
        return True
    return b"COMPACT RINEX FORMAT" in data[:80] or b"CRINEX VERS" in data[:80]


def read_rinex_bytes(path: str | Path) -> bytes:
    """The plain RINEX text of a file as bytes, decompressed in memory when packed.

    Uses the ``hatanaka`` package (crx2rnx and the common compressors) only for packed files,
    so plain files are read with no copy beyond the file read itself.

    Raises
    ------
    FileFormatError
        When packed data cannot be decompressed (corrupt or truncated archive).
    """
    return unpack_bytes(Path(path).read_bytes(), path)


def unpack_bytes(data: bytes, path: str | Path) -> bytes:
    """``data`` decompressed when packed (gzip/Z/bz2/zip, Hatanaka), else as is; ``path`` names it in errors."""
    if not is_packed(data):
        return data
    import hatanaka  # imported here: plain files do not need it

    try:
        return hatanaka.decompress(data)
    except Exception as exc:  # the package raises OSError, ValueError, zlib/bz2 errors, ...
        raise FileFormatError(path, None, f"cannot decompress: {exc}") from None


def rinex_file_type(path: str | Path) -> str:
    """What a RINEX file holds, from its first line: ``"O"`` observations, ``"N"`` navigation (any
    system: N, G, B, L, ... ), ``"M"`` meteorological data, ``"?"`` otherwise (not RINEX, unreadable).

    Reads only the start of the file (gzip is inflated as a stream); Hatanaka files are observations.
    """
    import gzip
    import zlib

    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
        if head[:2] == _GZIP:
            with gzip.open(path, "rb") as fh:
                head = fh.read(4096)
        elif is_packed(head) and b"COMPACT RINEX" not in head[:80] and b"CRINEX" not in head[:80]:
            head = unpack_bytes(path.read_bytes(), path)[:4096]
    except (OSError, EOFError, zlib.error, FileFormatError):  # zlib.error: gzip header intact, data damaged
        return "?"
    first = head.split(b"\n", 1)[0].decode("ascii", errors="replace")
    if "COMPACT RINEX" in first or "CRINEX" in first:
        return "O"
    if "RINEX VERSION / TYPE" not in first:
        return "?"
    kind = first[20:21].upper()
    if kind == "O" or "OBSERVATION" in first.upper():
        return "O"
    if kind == "M" and "METEOROLOGICAL" in first.upper():
        return "M"
    if "NAV" in first.upper() or kind in "NGBLHJIPC":
        return "N"
    return "?"
