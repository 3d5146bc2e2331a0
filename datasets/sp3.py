"""SP3-c/d precise orbit files and their interpolation.

``read_sp3`` returns :class:`Sp3Orbits`: positions [m] and clocks [s] per epoch and satellite, with
NaN where the file marks a value as missing (position 0.000000, clock 999999.999999; SP3-d §2),
and Lagrange interpolation of positions at arbitrary times.

Reference: SP3-d (Hilla, 2016) and SP3-c (Hilla, 2010) format descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gnssaug.constants import NS_PER_S
from gnssaug.datasets.rinex.nav import read_text_lines
from gnssaug.errors import FileFormatError, InvalidInputError, UnknownSatelliteError
from gnssaug.gnss import parse_sv
from gnssaug.time import BDT_OFFSET_NS, gpst_ns_from_calendar

__all__ = ["Sp3Orbits", "read_sp3"]

_BAD_CLOCK_US = 999999.0
#: Lagrange interpolation order (number of points - 1): 10, centred on the query (IGS practice
#: for 5-15 min orbits; millimetre-level at 5 min spacing).
LAGRANGE_ORDER = 10


@dataclass(frozen=True)
class Sp3Orbits:
    """Precise orbits and clocks.

    Attributes
    ----------
    sat : int16[m]
        Satellites (global index), sorted.
    t_gpst_ns : int64[e]
        Epochs (GPST ns), increasing.
    pos_ecef_m : float64[e, m, 3]
        Centre-of-mass positions in the file's frame (e.g. IGS20) [m]; NaN where missing.
    clk_s : float64[e, m]
        Satellite clocks [s]; NaN where missing.
    frame : str
        Coordinate frame label of the header (``"IGS20"``).
    agency : str
        Producing agency of the header.
    """

    sat: np.ndarray
    t_gpst_ns: np.ndarray
    pos_ecef_m: np.ndarray
    clk_s: np.ndarray
    frame: str = ""
    agency: str = ""

    def column(self, sat) -> np.ndarray:
        """Column of each satellite in the arrays, -1 where the file has no such satellite."""
        sat = np.asarray(sat, dtype=np.int16)
        i = np.clip(np.searchsorted(self.sat, sat), 0, max(self.sat.size - 1, 0))
        return np.where((self.sat.size > 0) & (self.sat[i] == sat), i, -1)

    def position_at(self, sat, t_gpst_ns, order: int = LAGRANGE_ORDER) -> np.ndarray:
        """Lagrange-interpolated positions [m] at arbitrary times.

        Parameters
        ----------
        sat : int16[n]
        t_gpst_ns : int64 or int64[n]
        order : int
            Polynomial order (``order + 1`` epochs centred on each query).

        Returns
        -------
        float64[n, 3]
            NaN outside the file's time span, for unknown satellites, or when an epoch of the
            interpolation window is missing.
        """
        sat = np.atleast_1d(np.asarray(sat, dtype=np.int16))
        t = np.broadcast_to(np.asarray(t_gpst_ns, dtype=np.int64), sat.shape)
        e = self.t_gpst_ns.size
        npt = order + 1
        if e < npt:
            raise InvalidInputError(f"{e} epochs are too few for order-{order} interpolation")
        col = self.column(sat)
        i = np.searchsorted(self.t_gpst_ns, t)  # first epoch >= t
        start = np.clip(i - npt // 2, 0, e - npt)
        idx = start[:, None] + np.arange(npt)  # (n, npt)
        tt = (self.t_gpst_ns[idx] - t[:, None]) / NS_PER_S  # seconds relative to query
        # Lagrange basis at the query (t = 0): l_j = prod_{k != j} (0 - t_k) / (t_j - t_k)
        basis = np.ones((sat.size, npt))
        for j in range(npt):
            for k in range(npt):
                if k != j:
                    basis[:, j] *= -tt[:, k] / (tt[:, j] - tt[:, k])
        pts = self.pos_ecef_m[idx, np.maximum(col, 0)[:, None]]  # (n, npt, 3)
        out = np.einsum("nj,njk->nk", basis, pts)
        outside = (t < self.t_gpst_ns[0]) | (t > self.t_gpst_ns[-1]) | (col < 0)
        out[outside] = np.nan
        return out

    def clock_at(self, sat, t_gpst_ns) -> np.ndarray:
        """Clocks [s] at arbitrary times by linear interpolation between neighbouring epochs."""
        sat = np.atleast_1d(np.asarray(sat, dtype=np.int16))
        t = np.broadcast_to(np.asarray(t_gpst_ns, dtype=np.int64), sat.shape)
        col = self.column(sat)
        i = np.clip(np.searchsorted(self.t_gpst_ns, t), 1, self.t_gpst_ns.size - 1)
        t0, t1 = self.t_gpst_ns[i - 1], self.t_gpst_ns[i]
        w = (t - t0) / (t1 - t0)
        c = np.maximum(col, 0)
        out = self.clk_s[i - 1, c] * (1 - w) + self.clk_s[i, c] * w
        out[(t < self.t_gpst_ns[0]) | (t > self.t_gpst_ns[-1]) | (col < 0)] = np.nan
        return out


def read_sp3(path: str | Path) -> Sp3Orbits:
    """Read an SP3-c or SP3-d file (plain or gzip).

    Returns
    -------
    Sp3Orbits
        Times converted to GPST from the header time system (GPS, GAL, BDT, UTC).

    Raises
    ------
    FileFormatError
        Malformed file, with file and line.
    """
    path = Path(path)
    lines = read_text_lines(path)
    if not lines or not lines[0].startswith("#") or lines[0][1:2] not in "cd":
        raise FileFormatError(path, 1, "not an SP3-c/d file (first line must start with #c or #d)")
    frame, agency = lines[0][46:51].strip(), lines[0][55:60].strip()
    time_system = "GPS"
    for line in lines[:40]:
        if line.startswith("%c") and line[9:12].strip() and line[9:12] != "ccc":
            time_system = line[9:12].strip()
            break
    offsets = {"GPS": 0, "GAL": 0, "BDT": -BDT_OFFSET_NS}
    if time_system not in offsets:
        raise FileFormatError(path, None, f"time system {time_system!r} is not supported (GPS, GAL, BDT)")
    epochs: list[int] = []
    rows: list[tuple[int, str, str]] = []  # (epoch index, sv, line)
    for no, line in enumerate(lines, start=1):
        if line.startswith("*"):
            try:
                y, mo, d, h, mi = (int(v) for v in line[3:31].split()[:5])
                sec = float(line[3:31].split()[5])
            except (ValueError, IndexError):
                raise FileFormatError(path, no, f"bad epoch line {line!r}") from None
            epochs.append(int(gpst_ns_from_calendar(y, mo, d, h, mi, int(round(sec * NS_PER_S)))))
        elif line.startswith("P") and epochs:
            rows.append((len(epochs) - 1, line[1:4], line, no))
    if not epochs:
        raise FileFormatError(path, None, "no epochs")
    names = sorted({r[1] for r in rows})
    sats = []
    for name in names:
        try:
            sats.append(parse_sv(name))
        except UnknownSatelliteError:
            sats.append(-1)
    sats = np.array(sats, dtype=np.int16)
    keep_names = [n for n, s in zip(names, sats, strict=True) if s >= 0]
    order = np.argsort(sats[sats >= 0])
    sat = sats[sats >= 0][order]
    column = {n: int(np.flatnonzero(order == k)[0]) for k, n in enumerate(keep_names)}
    pos = np.full((len(epochs), sat.size, 3), np.nan)
    clk = np.full((len(epochs), sat.size), np.nan)
    for e, name, line, no in rows:
        c = column.get(name)
        if c is None:
            continue
        try:
            xyz = [float(line[4 + 14 * j:18 + 14 * j]) for j in range(3)]
            clock = float(line[46:60]) if line[46:60].strip() else _BAD_CLOCK_US
        except ValueError:
            raise FileFormatError(path, no, f"bad number in position record {line[:60]!r}") from None
        if any(v != 0.0 for v in xyz):
            pos[e, c] = np.array(xyz) * 1e3
        if abs(clock) < _BAD_CLOCK_US:
            clk[e, c] = clock * 1e-6
    t = np.array(epochs, dtype=np.int64) + offsets[time_system]
    return Sp3Orbits(sat=sat, t_gpst_ns=t, pos_ecef_m=pos, clk_s=clk, frame=frame, agency=agency)
