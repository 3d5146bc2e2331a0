"""Several observation files of one receiver as one series: consecutive hourly files, decimation.

Reference-station archives (Hong Kong SatRef, IGS) serve hourly files; a rover session that spans
an hour boundary needs two of them as one base. :func:`read_obs_files` reads them in time order
and joins them; an epoch present in two files (a file that ends with the next hour's first epoch)
is kept once, from the earlier file. :func:`decimate` keeps the epochs on a coarser grid (a 1 s
file as the 5 s or 30 s one of the same archive).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from gnssaug.errors import InvalidInputError, UsageError
from gnssaug.obs import OBS_FIELDS, ObsSeries
from gnssaug.time import NS_PER_S


def select_epochs(series: ObsSeries, keep: np.ndarray) -> ObsSeries:
    """The epochs of ``series`` where ``keep`` (bool[n_epoch]) is True, with all their rows."""
    counts = np.diff(series.offsets)
    row_keep = np.repeat(keep, counts)
    offsets = np.concatenate(([0], np.cumsum(counts[keep]))).astype(np.int64)
    arrays = {name: getattr(series, name)[row_keep] for name in OBS_FIELDS}
    return ObsSeries(series.t_gpst_ns[keep], offsets, series.flag[keep], series.sat[row_keep],
                     meta=dict(series.meta), **arrays)


def concat_series(parts: list[ObsSeries]) -> ObsSeries:
    """Join series in time order; epochs not later than the previous part's last are dropped.

    Parameters
    ----------
    parts : list of ObsSeries
        Each with non-decreasing epochs; joined in the order of their first epochs.

    Returns
    -------
    ObsSeries
        ``meta`` of the first part, with ``paths`` listing every part's ``path``.
    """
    parts = sorted((p for p in parts if len(p)), key=lambda p: int(p.t_gpst_ns[0]))
    if not parts:
        raise InvalidInputError("no observation epochs to join")
    kept, last = [], None
    for p in parts:
        if last is not None:
            p = select_epochs(p, p.t_gpst_ns > last)
        if len(p):
            kept.append(p)
            last = int(p.t_gpst_ns[-1])
    sizes = np.array([p.n_rows for p in kept], dtype=np.int64)
    shift = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    offsets = np.concatenate([kept[0].offsets[:1]] + [p.offsets[1:] + s for p, s in zip(kept, shift, strict=True)])
    arrays = {name: np.concatenate([getattr(p, name) for p in kept]) for name in OBS_FIELDS}
    meta = dict(kept[0].meta)
    meta["paths"] = [p.meta.get("path", "") for p in kept]
    return ObsSeries(np.concatenate([p.t_gpst_ns for p in kept]), offsets.astype(np.int64),
                     np.concatenate([p.flag for p in kept]), np.concatenate([p.sat for p in kept]),
                     meta=meta, **arrays)


#: An epoch this close to a grid time is on the grid (u-blox receivers tag a few ms off the second; the
#: RTK engine's pairing tolerance).
GRID_TOL_NS = 25_000_000


def decimate(series: ObsSeries, interval_s: float) -> ObsSeries:
    """The epochs of ``series`` on the ``interval_s`` grid of GPST (whole multiples, within :data:`GRID_TOL_NS`).

    Parameters
    ----------
    series : ObsSeries
    interval_s : float
        Grid step [s], > 0 (5 or 30 for the archive's decimated files).

    Returns
    -------
    ObsSeries
    """
    step_ns = int(round(interval_s * NS_PER_S))
    if step_ns <= 0:
        raise InvalidInputError(f"decimation interval must be > 0 s, got {interval_s}")
    phase = np.mod(series.t_gpst_ns + step_ns // 2, step_ns) - step_ns // 2
    return select_epochs(series, np.abs(phase) <= GRID_TOL_NS)


def read_obs_files(paths, systems: str | None = None, preferred_modes=None):
    """Read observation files of one receiver (e.g. consecutive hourly files) as one series.

    Parameters
    ----------
    paths : sequence of str or Path
        RINEX observation files, any version or packing, in any order.
    systems : str, optional
        System letters to keep.
    preferred_modes : uint8[N_SAT, N_BAND], optional
        Tracking modes to prefer per satellite and slot, in every file (:func:`.obs.read_obs`).

    Returns
    -------
    header : ObsHeader
        The earliest file's, with TIME OF FIRST/LAST OBS of the joined series.
    series : ObsSeries

    Raises
    ------
    UsageError
        When the files are not of one station (their APPROX POSITION XYZ differ by more than 100 m).
    """
    from gnssaug.datasets.rinex.obs import read_obs

    read = [read_obs(p, systems=systems, preferred_modes=preferred_modes) for p in paths]
    read.sort(key=lambda hs: int(hs[1].t_gpst_ns[0]) if len(hs[1]) else 2**62)
    _check_one_station(read)
    series = concat_series([s for _, s in read]) if any(len(s) for _, s in read) else read[0][1]
    header = read[0][0]
    if len(series):
        header = replace(header, time_first_gpst_ns=int(series.t_gpst_ns[0]),
                         time_last_gpst_ns=int(series.t_gpst_ns[-1]))
    return header, series


def _check_one_station(read) -> None:
    pos = [(h.path, h.approx_pos_ecef_m) for h, _ in read if h.approx_pos_ecef_m is not None]
    for path, p in pos[1:]:
        if np.linalg.norm(np.asarray(p) - np.asarray(pos[0][1])) > 100.0:
            raise UsageError(f"{Path(path).name} and {Path(pos[0][0]).name} are not one station (APPROX POSITION "
                             "XYZ more than 100 m apart): several base files must be consecutive files of one "
                             "station")
