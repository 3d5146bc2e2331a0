"""Extended Kalman filter measurement update on a subset of the state.

The RTK state is large (position plus one ambiguity per satellite and frequency) but each epoch
touches only the position and the ambiguities of the satellites in view; the update works on that
subset (as RTKLIB's ``filter()`` does) so its cost follows the satellites seen, not the state size.
Standard EKF equations (Brown and Hwang, Introduction to Random Signals and Applied Kalman
Filtering, 4th ed., §7.1) with the Joseph-form covariance update for numerical symmetry.
"""

from __future__ import annotations

import numpy as np

from gnssaug.kernels import kernel


@kernel
def ekf_update(x, p, act, h, v, r):
    """Measurement update of ``x``/``p`` in place, restricted to the states ``act``.

    Parameters
    ----------
    x : float64[nx]
        State.
    p : float64[nx, nx]
        State covariance.
    act : int64[k]
        Indices of the states the measurements depend on (others keep their values; their
        cross-covariance with ``act`` is left unchanged).
    h : float64[m, nx]
        Design matrix (full state width; only the ``act`` columns are read).
    v : float64[m]
        Innovations ``y - h(x)``.
    r : float64[m, m]
        Measurement covariance.

    Returns
    -------
    bool
        False if the innovation covariance is not positive definite (nothing is changed).
    """
    k = act.shape[0]
    m = v.shape[0]
    ha = np.empty((m, k))
    pa = np.empty((k, k))
    for a in range(k):
        for b in range(k):
            pa[a, b] = p[act[a], act[b]]
        for i in range(m):
            ha[i, a] = h[i, act[a]]
    hp = ha @ pa
    s = hp @ ha.T + r
    # Cholesky of the innovation covariance; a failed pivot means the update is ill-posed.
    for i in range(m):
        if not s[i, i] > 0.0:
            return False
    try:
        lo = np.linalg.cholesky(s)
    except Exception:  # numba raises on a non-positive-definite matrix
        return False
    # K^T = S^-1 H P  (solve with the Cholesky factor twice).
    y = np.linalg.solve(lo, hp)
    kt = np.linalg.solve(lo.T, y)
    dx = kt.T @ v
    ikh = -kt.T @ ha
    for a in range(k):
        ikh[a, a] += 1.0
    kk = kt.T
    pn = ikh @ pa @ ikh.T + kk @ r @ kk.T
    for a in range(k):
        x[act[a]] += dx[a]
        for b in range(k):
            p[act[a], act[b]] = 0.5 * (pn[a, b] + pn[b, a])
    return True
