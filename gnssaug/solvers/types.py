"""Types shared by every solver: :class:`SolStatus`, :class:`Solution`, the :class:`BaseStation` interface.

A solver never raises for "not enough data": it returns a :class:`Solution` with status
:attr:`SolStatus.NONE` and a ``reason``. Positions are ECEF metres (WGS-84 / the broadcast frame).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from gnssaug.constants import C_MPS
from gnssaug.gnss import N_CLOCK_GROUPS
from gnssaug.obs import ObsEpoch


class SolStatus(enum.IntEnum):
    """Quality of a solution, best last (so ``max`` picks the best)."""

    NONE = 0  #: no solution; ``Solution.reason`` says why
    SPP = 1  #: single point positioning (code only, broadcast corrections)
    DGNSS = 2  #: code differential against a base station
    FLOAT = 3  #: carrier-phase RTK, float ambiguities
    FIX = 4  #: carrier-phase RTK, fixed ambiguities

    @property
    def pos_q(self) -> int:
        """RTKLIB ``.pos`` quality flag: 1 fix, 2 float, 4 DGNSS, 5 single, 0 none."""
        return _POS_Q[self]


_POS_Q = {SolStatus.NONE: 0, SolStatus.SPP: 5, SolStatus.DGNSS: 4, SolStatus.FLOAT: 2, SolStatus.FIX: 1}


def _nan3() -> np.ndarray:
    return np.full(3, np.nan)


def _nan33() -> np.ndarray:
    return np.full((3, 3), np.nan)


def _nan_clk() -> np.ndarray:
    return np.full(N_CLOCK_GROUPS, np.nan)


def _nan_dops() -> np.ndarray:
    return np.full(4, np.nan)


@dataclass
class Solution:
    """One epoch's position solution.

    Attributes
    ----------
    t_gpst_ns : int
        Epoch: the receiver time tag of the observations, GPST ns (:attr:`time_ns` is when the
        position held: the tag minus the receiver clock bias).
    pos_ecef_m : float64[3]
        Position [m]; NaN when ``status`` is NONE.
    cov_ecef_m2 : float64[3, 3]
        Position covariance [m^2] (ECEF).
    status : SolStatus
    n_sat : int
        Satellites used in the solution.
    sats : int16[n_sat]
        Global indices of the satellites used.
    ratio : float
        Ambiguity validation ratio (RTK with FIX/FLOAT), 0 otherwise.
    age_s : float
        Age of the differential corrections [s] (0 for SPP).
    clk_bias_m : float64[N_CLOCK_GROUPS]
        Receiver clock bias per clock group of :data:`gnssaug.gnss.CLOCK_GROUPS` [m]; NaN where the
        group had no satellite.
    dops : float64[4]
        GDOP, PDOP, HDOP, VDOP.
    vel_ecef_mps : float64[3] or None
        Velocity [m/s] when estimated.
    reason : str
        Why the status is what it is (empty for a normal solution), e.g. ``"3 satellites < 4"``.
    n_excluded : int
        Satellites excluded by fault detection (RAIM).
    """

    t_gpst_ns: int
    pos_ecef_m: np.ndarray = field(default_factory=_nan3)
    cov_ecef_m2: np.ndarray = field(default_factory=_nan33)
    status: SolStatus = SolStatus.NONE
    n_sat: int = 0
    sats: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    ratio: float = 0.0
    age_s: float = 0.0
    clk_bias_m: np.ndarray = field(default_factory=_nan_clk)
    dops: np.ndarray = field(default_factory=_nan_dops)
    vel_ecef_mps: np.ndarray | None = None
    reason: str = ""
    n_excluded: int = 0

    @property
    def ok(self) -> bool:
        """True when the solution holds a position."""
        return self.status != SolStatus.NONE

    @property
    def time_ns(self) -> int:
        """When the position held, GPST ns: the time tag minus the receiver clock bias.

        The antenna position a solution gives is the one at the instant of measurement, which a
        receiver with a free-running clock (u-blox: milliseconds off) tags late or early by its
        clock bias; RTKLIB dates its solutions the same way (``pntpos``). The tag itself is
        ``t_gpst_ns``. See :func:`solution_time_ns`.
        """
        return int(solution_time_ns(np.array([self.t_gpst_ns]), self.clk_bias_m[None, :])[0])


def solution_time_ns(t_gpst_ns: np.ndarray, clk_bias_m: np.ndarray) -> np.ndarray:
    """Time tags minus the receiver clock bias: when each solution's position held (int64[n], GPST ns).

    Parameters
    ----------
    t_gpst_ns : int64[n]
        Receiver time tags.
    clk_bias_m : float64[n, N_CLOCK_GROUPS]
        Receiver clock bias per clock group [m]; the GPS group's is used, else the first group
        that has one (the groups differ by inter-system biases of nanoseconds), else none.
    """
    clk = np.asarray(clk_bias_m, dtype=np.float64)
    finite = np.isfinite(clk)
    first = np.where(finite.any(axis=1), np.argmax(finite, axis=1), 0)
    ref_m = clk[np.arange(clk.shape[0]), first]
    shift_ns = np.where(np.isfinite(ref_m), np.round(ref_m / C_MPS * 1e9), 0.0).astype(np.int64)
    return np.asarray(t_gpst_ns, dtype=np.int64) - shift_ns


@runtime_checkable
class BaseStation(Protocol):
    """A reference station as the differential solvers see it: a position and a source of epochs.

    Implemented by file replays (RINEX base files) and by live station ingest alike.
    """

    @property
    def pos_ecef_m(self) -> np.ndarray:
        """Antenna reference position, ECEF [m] (float64[3])."""
        ...

    def epochs(self) -> Iterator[ObsEpoch]:
        """Observation epochs in time order."""
        ...

    def epoch_at(self, t_gpst_ns: int, tolerance_ns: int) -> ObsEpoch | None:
        """The epoch nearest ``t_gpst_ns`` within ``tolerance_ns``, or None."""
        ...


@dataclass
class SolutionSeries:
    """Solutions of many epochs as arrays (what batch solvers return and ``.pos`` writers take).

    Attributes
    ----------
    t_gpst_ns : int64[n]
    pos_ecef_m : float64[n, 3]
        NaN rows where ``status`` is NONE.
    cov_ecef_m2 : float64[n, 3, 3]
    status : uint8[n]
        :class:`SolStatus` values.
    n_sat : int16[n]
    ratio, age_s : float64[n]
    clk_bias_m : float64[n, N_CLOCK_GROUPS]
    dops : float64[n, 4]
        GDOP, PDOP, HDOP, VDOP.
    n_excluded : int16[n]
        Satellites excluded by RAIM.
    reason : list[str]
        Per epoch, empty for normal solutions.
    """

    t_gpst_ns: np.ndarray
    pos_ecef_m: np.ndarray
    cov_ecef_m2: np.ndarray
    status: np.ndarray
    n_sat: np.ndarray
    ratio: np.ndarray
    age_s: np.ndarray
    clk_bias_m: np.ndarray
    dops: np.ndarray
    n_excluded: np.ndarray
    reason: list

    def __len__(self) -> int:
        return int(self.t_gpst_ns.shape[0])

    def time_ns(self) -> np.ndarray:
        """When each position held (int64[n], GPST ns): tags minus receiver clock (:func:`solution_time_ns`)."""
        return solution_time_ns(self.t_gpst_ns, self.clk_bias_m)

    @classmethod
    def empty(cls, n: int) -> SolutionSeries:
        """``n`` epochs without solutions (status NONE, NaN positions), to be filled in place."""
        return cls(
            t_gpst_ns=np.zeros(n, np.int64),
            pos_ecef_m=np.full((n, 3), np.nan),
            cov_ecef_m2=np.full((n, 3, 3), np.nan),
            status=np.zeros(n, np.uint8),
            n_sat=np.zeros(n, np.int16),
            ratio=np.zeros(n),
            age_s=np.zeros(n),
            clk_bias_m=np.full((n, N_CLOCK_GROUPS), np.nan),
            dops=np.full((n, 4), np.nan),
            n_excluded=np.zeros(n, np.int16),
            reason=[""] * n,
        )

    @classmethod
    def from_solutions(cls, sols) -> SolutionSeries:
        """Stack a sequence of :class:`Solution`."""
        sols = list(sols)
        out = cls.empty(len(sols))
        for i, s in enumerate(sols):
            out.t_gpst_ns[i] = s.t_gpst_ns
            out.pos_ecef_m[i] = s.pos_ecef_m
            out.cov_ecef_m2[i] = s.cov_ecef_m2
            out.status[i] = int(s.status)
            out.n_sat[i] = s.n_sat
            out.ratio[i] = s.ratio
            out.age_s[i] = s.age_s
            out.clk_bias_m[i] = s.clk_bias_m
            out.dops[i] = s.dops
            out.n_excluded[i] = s.n_excluded
            out.reason[i] = s.reason
        return out

    def solution(self, i: int) -> Solution:
        """Epoch ``i`` as a :class:`Solution` (without the satellite list)."""
        return Solution(
            t_gpst_ns=int(self.t_gpst_ns[i]),
            pos_ecef_m=self.pos_ecef_m[i].copy(),
            cov_ecef_m2=self.cov_ecef_m2[i].copy(),
            status=SolStatus(int(self.status[i])),
            n_sat=int(self.n_sat[i]),
            ratio=float(self.ratio[i]),
            age_s=float(self.age_s[i]),
            clk_bias_m=self.clk_bias_m[i].copy(),
            dops=self.dops[i].copy(),
            reason=self.reason[i],
            n_excluded=int(self.n_excluded[i]),
        )
