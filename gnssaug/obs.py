"""Observation epochs: :class:`ObsEpoch` (one epoch) and :class:`ObsSeries` (many, for files).

Both are structs of numpy arrays, validated once at construction. Missing values are NaN, never
zero. Slots (the second axis, :data:`gnssaug.gnss.N_BAND` wide) follow the constellation's
signal plan in :mod:`gnssaug.gnss`; ``code`` holds the RINEX attribute letter (as its ASCII code,
0 where the slot is empty) of the signal that filled a slot, so ``chr(code)`` gives ``"I"`` for B1I.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gnssaug.errors import InvalidInputError
from gnssaug.gnss import N_BAND, N_SAT, sv_name

#: Array fields per satellite and slot with their dtypes.
OBS_FIELDS = {
    "pr_m": np.float64,
    "cp_cyc": np.float64,
    "dop_hz": np.float32,
    "cn0_dbhz": np.float32,
    "lli": np.uint8,
    "code": np.uint8,
}
#: Loss-of-lock indicator bits (RINEX 3.05 §5.7): bit 0 lost lock, bit 1 half-cycle ambiguity.
LLI_SLIP = 1
LLI_HALF_CYCLE = 2


def _check_rows(name: str, arr: np.ndarray, n: int, dtype) -> None:
    if not isinstance(arr, np.ndarray) or arr.dtype != dtype:
        got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
        raise InvalidInputError(f"{name} must be a numpy array of {np.dtype(dtype)}, got {got}")
    if arr.shape != (n, N_BAND):
        raise InvalidInputError(f"{name} must have shape ({n}, {N_BAND}), got {arr.shape}")


@dataclass(frozen=True)
class ObsEpoch:
    """All observations of one receiver at one epoch.

    Attributes
    ----------
    t_gpst_ns : int
        Receiver time tag, GPST nanoseconds.
    sat : int16[n]
        Global satellite indices, strictly increasing.
    pr_m : float64[n, N_BAND]
        Pseudoranges [m].
    cp_cyc : float64[n, N_BAND]
        Carrier phases [cycles].
    dop_hz : float32[n, N_BAND]
        Doppler [Hz].
    cn0_dbhz : float32[n, N_BAND]
        Carrier-to-noise density [dB-Hz].
    lli : uint8[n, N_BAND]
        Loss-of-lock indicators (RINEX bits, see :data:`LLI_SLIP`).
    code : uint8[n, N_BAND]
        ASCII code of the RINEX attribute letter of each filled slot, 0 where empty.
    flag : int
        RINEX epoch flag (0 OK, 1 power failure since the previous epoch).
    """

    t_gpst_ns: int
    sat: np.ndarray
    pr_m: np.ndarray
    cp_cyc: np.ndarray
    dop_hz: np.ndarray
    cn0_dbhz: np.ndarray
    lli: np.ndarray
    code: np.ndarray
    flag: int = 0

    def __post_init__(self):
        sat = self.sat
        if not isinstance(sat, np.ndarray) or sat.dtype != np.int16 or sat.ndim != 1:
            raise InvalidInputError("sat must be a one-dimensional numpy array of int16")
        n = sat.shape[0]
        for name, dtype in OBS_FIELDS.items():
            _check_rows(name, getattr(self, name), n, dtype)
        if n and (sat[0] < 0 or sat[-1] >= N_SAT or np.any(np.diff(sat) <= 0)):
            raise InvalidInputError("sat must be strictly increasing global satellite indices")
        object.__setattr__(self, "t_gpst_ns", int(self.t_gpst_ns))

    @property
    def n_sat(self) -> int:
        """Number of satellites in the epoch."""
        return int(self.sat.shape[0])

    @classmethod
    def empty(cls, t_gpst_ns: int, sat: np.ndarray) -> ObsEpoch:
        """An epoch for ``sat`` with every observation missing, to be filled by a decoder."""
        sat = np.asarray(sat, dtype=np.int16)
        n = sat.shape[0]
        arrays = {}
        for name, dtype in OBS_FIELDS.items():
            fill = np.nan if np.issubdtype(dtype, np.floating) else 0
            arrays[name] = np.full((n, N_BAND), fill, dtype=dtype)
        return cls(t_gpst_ns, sat, **arrays)

    @classmethod
    def _trusted(cls, t_gpst_ns: int, sat, pr_m, cp_cyc, dop_hz, cn0_dbhz, lli, code, flag: int) -> ObsEpoch:
        """An epoch of arrays known to pass :meth:`__post_init__` (views of a checked series), unchecked.

        ``t_gpst_ns`` and ``flag`` must be Python ints. The checks cost more than the rest of a
        view (about 15 us against 3 us), and a solver takes two views per epoch.
        """
        epoch = object.__new__(cls)
        epoch.__dict__.update(t_gpst_ns=t_gpst_ns, sat=sat, pr_m=pr_m, cp_cyc=cp_cyc, dop_hz=dop_hz,
                              cn0_dbhz=cn0_dbhz, lli=lli, code=code, flag=flag)
        return epoch

    def select(self, mask: np.ndarray) -> ObsEpoch:
        """The epoch restricted to the satellites where ``mask`` (bool[n]) is True."""
        arrays = {name: getattr(self, name)[mask] for name in OBS_FIELDS}
        return ObsEpoch(self.t_gpst_ns, self.sat[mask], flag=self.flag, **arrays)

    def sv_names(self) -> list[str]:
        """Satellite names (``"C07"``) in array order."""
        return [sv_name(int(s)) for s in self.sat]


@dataclass(frozen=True)
class ObsSeries:
    """Many epochs of one receiver, stored as rows (one row per satellite and epoch).

    The rows of epoch ``i`` are ``offsets[i]:offsets[i+1]``; within an epoch they are sorted by
    satellite. :meth:`epoch` returns an :class:`ObsEpoch` view of one epoch without copying; the
    satellite order of all epochs is checked once, at the first view, so ``sat`` and ``offsets``
    must not be modified in place afterwards (the observation arrays may).

    Attributes
    ----------
    t_gpst_ns : int64[n_epoch]
        Epoch time tags, non-decreasing.
    offsets : int64[n_epoch + 1]
        Row ranges of each epoch.
    flag : uint8[n_epoch]
        RINEX epoch flags.
    sat : int16[n_row]
        Global satellite index of each row.
    pr_m, cp_cyc, dop_hz, cn0_dbhz, lli, code : [n_row, N_BAND]
        As in :class:`ObsEpoch`.
    """

    t_gpst_ns: np.ndarray
    offsets: np.ndarray
    flag: np.ndarray
    sat: np.ndarray
    pr_m: np.ndarray
    cp_cyc: np.ndarray
    dop_hz: np.ndarray
    cn0_dbhz: np.ndarray
    lli: np.ndarray
    code: np.ndarray
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        n_epoch = self.t_gpst_ns.shape[0]
        if self.t_gpst_ns.dtype != np.int64 or self.offsets.dtype != np.int64:
            raise InvalidInputError("t_gpst_ns and offsets must be int64")
        if self.offsets.shape != (n_epoch + 1,) or self.flag.shape != (n_epoch,):
            raise InvalidInputError("offsets must have n_epoch + 1 entries and flag n_epoch")
        n_row = self.sat.shape[0]
        if self.sat.dtype != np.int16:
            raise InvalidInputError("sat must be int16")
        if self.offsets[0] != 0 or self.offsets[-1] != n_row or np.any(np.diff(self.offsets) < 0):
            raise InvalidInputError("offsets must rise from 0 to the number of rows")
        for name, dtype in OBS_FIELDS.items():
            _check_rows(name, getattr(self, name), n_row, dtype)

    def __len__(self) -> int:
        return int(self.t_gpst_ns.shape[0])

    @property
    def n_rows(self) -> int:
        """Number of (epoch, satellite) rows."""
        return int(self.sat.shape[0])

    def epoch(self, i: int) -> ObsEpoch:
        """Epoch ``i`` as an :class:`ObsEpoch` (views into this series' arrays).

        Raises
        ------
        InvalidInputError
            The epoch's satellites are not strictly increasing global indices.
        """
        checked = self.__dict__.get("_checked")
        if checked is None:
            checked = self._check_epochs()
        valid, offsets = checked
        if 0 <= i < len(valid) and valid[i]:
            lo, hi = offsets[i], offsets[i + 1]
            return ObsEpoch._trusted(int(self.t_gpst_ns[i]), self.sat[lo:hi], self.pr_m[lo:hi], self.cp_cyc[lo:hi],
                                     self.dop_hz[lo:hi], self.cn0_dbhz[lo:hi], self.lli[lo:hi], self.code[lo:hi],
                                     int(self.flag[i]))
        # An epoch the series-wide check did not pass goes through ObsEpoch's own checks (and errors).
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        arrays = {name: getattr(self, name)[lo:hi] for name in OBS_FIELDS}
        return ObsEpoch(int(self.t_gpst_ns[i]), self.sat[lo:hi], flag=int(self.flag[i]), **arrays)

    def _check_epochs(self) -> tuple[list, list]:
        """Which epochs hold strictly increasing satellites in 0..N_SAT-1, once per series.

        ObsEpoch's checks for all epochs at once (the other ones hold for every row range of a
        series that passed :meth:`__post_init__`), kept with the row offsets as lists for
        :meth:`epoch`. Like the arrays it is derived from, it assumes ``sat`` and ``offsets`` are
        not modified in place.
        """
        sat, offsets = self.sat, self.offsets
        bad = (sat < 0) | (sat >= N_SAT)
        bad[1:] |= sat[1:] <= sat[:-1]
        counts = np.diff(offsets)
        # A first row is not compared with the previous epoch's last one.
        first = offsets[:-1][counts > 0]
        bad[first] = (sat[first] < 0) | (sat[first] >= N_SAT)
        valid = np.ones(len(self), dtype=bool)
        valid[np.repeat(np.arange(len(self)), counts)[bad]] = False
        checked = (valid.tolist(), offsets.tolist())
        object.__setattr__(self, "_checked", checked)
        return checked

    def __iter__(self):
        for i in range(len(self)):
            yield self.epoch(i)

    @classmethod
    def from_epochs(cls, epochs, meta: dict | None = None) -> ObsSeries:
        """Stack a sequence of :class:`ObsEpoch` into a series."""
        epochs = list(epochs)
        counts = np.array([e.n_sat for e in epochs], dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)

        def stack(name, dtype):
            if not epochs:
                return np.zeros((0, N_BAND), dtype=dtype)
            return np.concatenate([getattr(e, name) for e in epochs]).astype(dtype, copy=False)

        return cls(
            t_gpst_ns=np.array([e.t_gpst_ns for e in epochs], dtype=np.int64),
            offsets=offsets,
            flag=np.array([e.flag for e in epochs], dtype=np.uint8),
            sat=np.concatenate([e.sat for e in epochs]).astype(np.int16) if epochs else np.zeros(0, np.int16),
            meta=dict(meta or {}),
            **{name: stack(name, dtype) for name, dtype in OBS_FIELDS.items()},
        )
