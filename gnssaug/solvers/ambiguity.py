"""Integer ambiguity resolution for RTK: LAMBDA with ratio test, failure-rate threshold and partial fixing.

The float double-difference (DD) ambiguities of the filter are fixed with LAMBDA
(:mod:`gnssaug.kernels.lambda_`) and validated by the ratio test (second-best over best squared
distance, Euclidean-weighted by ``Q_b^-1``; threshold 3 as in RTKLIB) and, optionally, by a bound on
the failure rate (bootstrapped success rate, Teunissen 1998). When validation fails, partial
ambiguity resolution drops the least reliable satellites (in the caller's order; the RTK engine puts
ambiguities not yet validated by a fix first, then lowest elevation) and tries again (Teunissen,
de Jonge and Tiberius 1999, "Performance of the LAMBDA method for fast GPS ambiguity resolution";
the elevation order follows RTKLIB-demo5's ``manage_amb_LAMBDA``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnssaug.kernels.dd import dd_ambiguity_cov, fixed_position
from gnssaug.kernels.lambda_ import LAMBDA_OK, lambda_search_from, lambda_success_rate


class TransformCache:
    """The last LAMBDA decorrelating transform and the ambiguity set it belongs to.

    Consecutive epochs usually resolve the same DD ambiguities; starting the decorrelation from the
    previous transform leaves little to do (:func:`gnssaug.kernels.lambda_.lambda_search_from`).
    """

    def __init__(self):
        self._key = None
        self._zt = None
        self._zinv = None

    def start(self, amb_i, amb_j):
        """``(Z^T, Z^-1)`` to start from: the stored one for the same set, else the identity."""
        key = (amb_i.tobytes(), amb_j.tobytes())
        if key == self._key:
            return self._zt.copy(), self._zinv.copy()
        n = amb_i.shape[0]
        return np.eye(n), np.eye(n)

    def store(self, amb_i, amb_j, zt, zinv) -> None:
        """Remember the transform found for this set."""
        self._key = (amb_i.tobytes(), amb_j.tobytes())
        self._zt = zt
        self._zinv = zinv


@dataclass
class ArResult:
    """Outcome of one ambiguity-resolution attempt.

    Attributes
    ----------
    fixed : bool
        True when a validated integer set was found.
    ratio : float
        Ratio-test value of the accepted (or last tried) set; 0 when none was tried.
    pos_ecef_m : float64[3]
        Fixed position [m] (NaN when not fixed).
    cov_ecef_m2 : float64[3, 3]
        Its covariance [m^2].
    amb_i, amb_j : int64[nb]
        State indices of the fixed DD ambiguities (satellite, reference).
    b_fix_cyc : float64[nb]
        The fixed DD integers [cycles].
    n_dropped : int
        Satellites dropped by partial ambiguity resolution.
    """

    fixed: bool
    ratio: float
    pos_ecef_m: np.ndarray
    cov_ecef_m2: np.ndarray
    amb_i: np.ndarray
    amb_j: np.ndarray
    b_fix_cyc: np.ndarray
    n_dropped: int = 0


def _not_fixed(ratio: float = 0.0, n_dropped: int = 0) -> ArResult:
    empty = np.zeros(0, np.int64)
    return ArResult(False, ratio, np.full(3, np.nan), np.full((3, 3), np.nan), empty, empty, np.zeros(0), n_dropped)


def try_fix(x, p, amb_i, amb_j, ratio_threshold: float, max_failure_rate: float | None,
            transforms: TransformCache | None = None) -> tuple[ArResult, float]:
    """One LAMBDA attempt on the DD ambiguities ``x[amb_i] - x[amb_j]``.

    Returns the result and the ratio (second-best / best squared distance).
    """
    nb = amb_i.shape[0]
    b = np.empty(nb)
    qb = np.empty((nb, nb))
    qab = np.empty((3, nb))
    dd_ambiguity_cov(x, p, amb_i, amb_j, b, qb, qab)
    cand = np.zeros((nb, 2))
    s = np.zeros(2)
    zt, zinv = transforms.start(amb_i, amb_j) if transforms is not None else (np.eye(nb), np.eye(nb))
    if lambda_search_from(b, qb, 2, zt, zinv, cand, s) != LAMBDA_OK:
        return _not_fixed(), 0.0
    if transforms is not None:
        transforms.store(amb_i, amb_j, zt, zinv)
    ratio = float(s[1] / s[0]) if s[0] > 0.0 else 999.9
    ratio = min(ratio, 999.9)
    if ratio < ratio_threshold:
        return _not_fixed(ratio), ratio
    if max_failure_rate is not None and 1.0 - lambda_success_rate(qb) > max_failure_rate:
        return _not_fixed(ratio), ratio
    pos = np.empty(3)
    cov = np.empty((3, 3))
    b_fix = cand[:, 0].copy()  # (read only by fixed_position)
    fixed_position(x, p, b, b_fix, qb, qab, pos, cov)
    return ArResult(True, ratio, pos, cov, amb_i, amb_j, b_fix), ratio


def resolve(
    x,
    p,
    amb_i,
    amb_j,
    drop_key,
    drop_sat,
    ratio_threshold: float = 3.0,
    max_failure_rate: float | None = None,
    partial: bool = True,
    min_ambiguities: int = 4,
    max_drops: int = 8,
    transforms: TransformCache | None = None,
) -> ArResult:
    """Fix DD ambiguities, dropping the least reliable satellites until validation passes.

    Parameters
    ----------
    x, p : float64[nx], float64[nx, nx]
        Float state and covariance.
    amb_i, amb_j : int64[nb]
        State indices of each candidate DD ambiguity and of its reference.
    drop_key : float64[nb], or a callable returning it
        Reliability of each DD ambiguity's satellite (lower is dropped first), e.g. elevation plus
        a bonus for a long lock. A callable is called only when a satellite is to be dropped (most
        epochs fix the full set and never need the order).
    drop_sat : int64[nb]
        Satellite of each DD ambiguity: all of a satellite's frequencies are dropped together.
    ratio_threshold : float
        Minimum ratio (RTKLIB default 3).
    max_failure_rate : float or None
        When set, also require ``1 - P_success(bootstrap) <= max_failure_rate``.
    partial : bool
        Drop satellites and retry when the full set fails.
    min_ambiguities : int
        Do not try with fewer DD ambiguities.
    max_drops : int
        Most satellites to drop.
    transforms : TransformCache, optional
        Carries the decorrelating transform from one call (epoch) to the next.

    Returns
    -------
    ArResult
    """
    best_ratio = 0.0
    dropped = 0
    if amb_i.shape[0] < min_ambiguities:
        return _not_fixed(best_ratio, dropped)
    # The full set first, without copies (no satellite dropped yet).
    result, ratio = try_fix(x, p, amb_i, amb_j, ratio_threshold, max_failure_rate, transforms)
    best_ratio = ratio
    if result.fixed or not partial or max_drops <= 0:
        return result if result.fixed else _not_fixed(best_ratio, dropped)
    keep = np.ones(amb_i.shape[0], dtype=bool)
    sats_by_key = _drop_sequence(drop_key() if callable(drop_key) else drop_key, drop_sat)
    while True:
        if dropped >= max_drops or dropped >= sats_by_key.shape[0]:
            return _not_fixed(best_ratio, dropped)
        keep &= drop_sat != sats_by_key[dropped]
        dropped += 1
        if np.count_nonzero(keep) < min_ambiguities:
            return _not_fixed(best_ratio, dropped)
        result, ratio = try_fix(x, p, amb_i[keep], amb_j[keep], ratio_threshold, max_failure_rate, transforms)
        best_ratio = max(best_ratio, ratio)
        if result.fixed:
            result.n_dropped = dropped
            return result


def _drop_sequence(drop_key, drop_sat):
    """Satellites in order of increasing reliability (first occurrence in the sorted keys), int64[k]."""
    order = np.unique(drop_sat[np.argsort(drop_key, kind="stable")], return_index=True)
    return order[0][np.argsort(order[1])]
