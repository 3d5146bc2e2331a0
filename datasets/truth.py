"""Reference positions ("truth") of the shared data sets, and accuracy statistics against them.

Loaders return a :class:`Truth`: either a static point (optionally valid only within a time window)
or a trajectory sampled at GPST epochs. :meth:`Truth.at` matches solution epochs to it.

- Nagoya (``rover_position.txt``, ``base_position.txt``): one line ``lat_deg lon_deg h_m``.
- TST 2019 (``groundTruth_TST.csv``): NovAtel SPAN trajectory, rows ``GPS week, TOW, lat, lon, h``.
- TST 2020 (``groundTruth_TST.csv``): rows ``TOW, TOW, lat, lon, h`` of a static point (the first
  2.6 min of the rover file); the GPS week comes from the caller (the observation file).
- WUHN: the published coordinate of the co-located IGS station WUH2, a metre-level reference.

Files a user hands to ``gnssaug evaluate`` (CSV with a header, NovAtel Inertial Explorer exports, week-less
TOW rows) are read by :func:`gnssaug.datasets.truth_formats.load_truth_table`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gnssaug.errors import FileFormatError, InvalidInputError
from gnssaug.geodesy import ecef_from_llh_deg, llh_from_ecef
from gnssaug.time import NS_PER_S, gpst_ns_from_week_tow

#: WUH2 (co-located with WUHN) ECEF [m]; single-point solutions of WUHN land within a few metres.
WUHN_REFERENCE_ECEF_M = np.array([-2267750.2, 5009154.6, 3221294.4])


@dataclass
class Truth:
    """Reference positions.

    Attributes
    ----------
    pos_ecef_m : float64[n, 3]
        Reference positions (one row for a static point).
    t_gpst_ns : int64[n] or None
        Epochs of a trajectory; None for a static point.
    valid_from_ns, valid_to_ns : int or None
        For a static point, the time window where it applies (None: always).
    name : str
    """

    pos_ecef_m: np.ndarray
    t_gpst_ns: np.ndarray | None = None
    valid_from_ns: int | None = None
    valid_to_ns: int | None = None
    name: str = ""

    def at(self, t_gpst_ns: np.ndarray, tolerance_ns: int = 100_000_000) -> np.ndarray:
        """Reference position at each epoch (float64[m, 3]); NaN rows where there is none.

        A trajectory is interpolated linearly between the two reference epochs around each epoch
        when they are at most :data:`MAX_INTERPOLATION_GAP` reference intervals apart (a 5/10 Hz
        rover against a 1 Hz SPAN trajectory; a u-blox tag 4 ms off the second is 4 cm of a car
        at 10 m/s); otherwise the nearest reference epoch within ``tolerance_ns`` is used.
        """
        t = np.asarray(t_gpst_ns, dtype=np.int64)
        out = np.full((t.shape[0], 3), np.nan)
        if self.t_gpst_ns is None:
            ok = np.ones(t.shape[0], bool)
            if self.valid_from_ns is not None:
                ok &= t >= self.valid_from_ns
            if self.valid_to_ns is not None:
                ok &= t <= self.valid_to_ns
            out[ok] = self.pos_ecef_m[0]
            return out
        ref = self.t_gpst_ns
        if ref.shape[0] == 0:
            return out
        j = np.clip(np.searchsorted(ref, t), 1, ref.shape[0] - 1) if ref.shape[0] > 1 else np.zeros_like(t)
        left = np.where(np.abs(ref[j - 1] - t) <= np.abs(ref[j] - t), j - 1, j) if ref.shape[0] > 1 else j
        ok = np.abs(ref[left] - t) <= tolerance_ns
        out[ok] = self.pos_ecef_m[left[ok]]
        if ref.shape[0] > 1:
            self._interpolate(t, j, out)
        return out

    def _interpolate(self, t: np.ndarray, j: np.ndarray, out: np.ndarray) -> None:
        """Overwrite ``out`` rows strictly between two close reference epochs with the linear interpolation."""
        ref = self.t_gpst_ns
        gap = ref[j] - ref[j - 1]
        step = np.median(np.diff(ref))
        inside = (ref[j - 1] < t) & (t < ref[j]) & (gap > 0) & (gap <= MAX_INTERPOLATION_GAP * step)
        if not inside.any():
            return
        w = ((t[inside] - ref[j - 1][inside]) / gap[inside])[:, None]
        out[inside] = (1.0 - w) * self.pos_ecef_m[j[inside] - 1] + w * self.pos_ecef_m[j[inside]]


#: A trajectory is interpolated between reference epochs at most this many median intervals apart.
MAX_INTERPOLATION_GAP = 1.5


def _read_rows(path: Path, n_cols: int) -> np.ndarray:
    rows = []
    for line_no, line in enumerate(Path(path).read_text().splitlines(), 1):
        text = line.replace(",", " ").split()
        if not text:
            continue
        try:
            values = [float(v) for v in text[:n_cols]]
        except ValueError:
            if line_no == 1:
                continue  # a column header line
            raise FileFormatError(path, line_no, f"expected {n_cols} numbers, got {line.strip()!r}") from None
        if len(values) != n_cols:
            raise FileFormatError(path, line_no, f"expected {n_cols} numbers, got {len(values)}")
        rows.append(values)
    if not rows:
        raise FileFormatError(path, None, "no reference positions in the file")
    return np.array(rows)


def load_llh_point(path: str | Path) -> Truth:
    """A static point from a ``lat_deg lon_deg h_m`` file (the Nagoya position files)."""
    row = _read_rows(Path(path), 3)[0]
    return Truth(ecef_from_llh_deg(row[0], row[1], row[2]).reshape(1, 3), name=Path(path).name)


def load_tst2019_trajectory(path: str | Path) -> Truth:
    """The TST 2019 SPAN trajectory: rows ``week, tow_s, lat_deg, lon_deg, h_m``."""
    rows = _read_rows(Path(path), 5)
    t = gpst_ns_from_week_tow(rows[:, 0].astype(np.int64), rows[:, 1])
    order = np.argsort(t, kind="stable")
    pos = np.atleast_2d(ecef_from_llh_deg(rows[:, 2], rows[:, 3], rows[:, 4]))
    return Truth(pos[order], t_gpst_ns=np.asarray(t)[order], name=Path(path).name)


def load_tst2020_static(path: str | Path, gps_week: int) -> Truth:
    """The TST 2020 static point, valid over the TOW span of its rows (``tow, tow, lat, lon, h``).

    Parameters
    ----------
    path : str or Path
    gps_week : int
        GPS week of the observations (the file holds only TOWs).
    """
    rows = _read_rows(Path(path), 5)
    if np.ptp(rows[:, 2]) > 1e-7 or np.ptp(rows[:, 3]) > 1e-7:
        raise InvalidInputError(f"{path}: the reference point moves; expected a static point")
    t0 = int(gpst_ns_from_week_tow(gps_week, rows[:, 0].min()))
    t1 = int(gpst_ns_from_week_tow(gps_week, rows[:, 0].max()))
    pos = ecef_from_llh_deg(rows[0, 2], rows[0, 3], rows[0, 4]).reshape(1, 3)
    return Truth(pos, valid_from_ns=t0, valid_to_ns=t1 + NS_PER_S // 2, name=Path(path).name)


def wuhn_reference() -> Truth:
    """The WUHN metre-level reference (WUH2 published coordinate)."""
    return Truth(WUHN_REFERENCE_ECEF_M.reshape(1, 3), name="WUH2")


@dataclass
class Accuracy:
    """Horizontal and vertical error statistics [m] of the epochs that have both solution and truth."""

    n: int
    h_rms_m: float
    v_rms_m: float
    h95_m: float
    v95_m: float

    def __str__(self) -> str:
        return (f"n={self.n} H RMS {self.h_rms_m:.2f} m, V RMS {self.v_rms_m:.2f} m, "
                f"H95 {self.h95_m:.2f} m, V95 {self.v95_m:.2f} m")


def enu_errors(pos_ecef_m: np.ndarray, ref_ecef_m: np.ndarray) -> np.ndarray:
    """East/north/up errors (float64[n, 3]) of positions against references (rows or one point).

    Each error is expressed in the local frame of its reference point; NaN rows propagate.
    """
    pos = np.atleast_2d(np.asarray(pos_ecef_m, dtype=np.float64))
    ref = np.broadcast_to(np.atleast_2d(np.asarray(ref_ecef_m, dtype=np.float64)), pos.shape)
    safe_ref = np.where(np.isfinite(ref), ref, WUHN_REFERENCE_ECEF_M)  # any point: NaN rows stay NaN
    llh = np.atleast_2d(llh_from_ecef(np.ascontiguousarray(safe_ref)))
    sp, cp = np.sin(llh[:, 0]), np.cos(llh[:, 0])
    sl, cl = np.sin(llh[:, 1]), np.cos(llh[:, 1])
    d = pos - ref
    east = -sl * d[:, 0] + cl * d[:, 1]
    north = -sp * cl * d[:, 0] - sp * sl * d[:, 1] + cp * d[:, 2]
    up = cp * cl * d[:, 0] + cp * sl * d[:, 1] + sp * d[:, 2]
    return np.column_stack([east, north, up])


def accuracy(pos_ecef_m: np.ndarray, ref_ecef_m: np.ndarray) -> Accuracy:
    """RMS and 95th percentile of horizontal and vertical errors over rows with both values."""
    enu = enu_errors(pos_ecef_m, ref_ecef_m)
    enu = enu[np.isfinite(enu).all(axis=1)]
    if enu.shape[0] == 0:
        return Accuracy(0, np.nan, np.nan, np.nan, np.nan)
    h = np.hypot(enu[:, 0], enu[:, 1])
    v = np.abs(enu[:, 2])
    return Accuracy(
        n=int(enu.shape[0]),
        h_rms_m=float(np.sqrt(np.mean(h**2))),
        v_rms_m=float(np.sqrt(np.mean(v**2))),
        h95_m=float(np.percentile(h, 95)),
        v95_m=float(np.percentile(v, 95)),
    )
