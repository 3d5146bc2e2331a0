"""LAMBDA integer least squares: LD factorisation, Z-transform decorrelation and MLAMBDA search.

The float ambiguities ``a`` with covariance ``Q`` are decorrelated by an integer unimodular
transform ``z = Z^T a`` (Teunissen 1995, "The least-squares ambiguity decorrelation adjustment",
J. Geodesy 70), and the integer vectors nearest in the metric of ``Q_z = Z^T Q Z`` are found by the
modified search with shrinking ellipsoid (Chang, Yang and Zhou 2005, "MLAMBDA: a modified LAMBDA
method for integer least-squares estimation", J. Geodesy 79, Algorithms 3.1-3.3 and 4.1).

Conventions: ``Q = L^T diag(D) L`` with ``L`` unit lower triangular (row ``i`` holds the
conditional dependence of ambiguity ``i`` on those after it), as in the MLAMBDA paper.
"""

from __future__ import annotations

import math

import numpy as np

from gnssaug.kernels import kernel

#: Status codes returned by :func:`lambda_search`.
LAMBDA_OK = 0
LAMBDA_NOT_POSITIVE_DEFINITE = 1
LAMBDA_SEARCH_LIMIT = 2

# Iteration cap of the search loop (RTKLIB uses 10 000): a well-posed, decorrelated problem needs a
# few loops per ambiguity; a poorly determined float solution (metre-level ambiguity sigmas) would
# otherwise search for seconds and could not pass the ratio test anyway.
_MAX_SEARCH_LOOPS = 100_000


@kernel
def ld_factor(q, l_out, d_out):
    """Factorise ``q = L^T diag(d) L`` (float64[n, n] symmetric positive definite).

    Returns False if ``q`` is not positive definite. ``l_out`` (float64[n, n]) and ``d_out``
    (float64[n]) are overwritten.
    """
    n = q.shape[0]
    a = q.copy()
    for i in range(n):
        for j in range(n):
            l_out[i, j] = 0.0
    for i in range(n - 1, -1, -1):
        d_out[i] = a[i, i]
        if not d_out[i] > 0.0:
            return False
        s = math.sqrt(d_out[i])
        for j in range(i + 1):
            l_out[i, j] = a[i, j] / s
        for j in range(i):
            for k in range(j + 1):
                a[j, k] -= l_out[i, k] * l_out[i, j]
        for j in range(i + 1):
            l_out[i, j] /= l_out[i, i]
    return True


@kernel
def _gauss(l, zt, zinv, i, j):
    # Integer Gauss transformation zeroing the integer part of L[i, j] (MLAMBDA Algorithm 2.1):
    # Z <- Z G with G = I - mu e_i e_j^T, so Z^-1 <- (I + mu e_i e_j^T) Z^-1. Z is kept transposed
    # (``zt``) so that both updates run along rows.
    mu = round(l[i, j])
    if mu != 0.0:
        n = l.shape[0]
        for k in range(i, n):
            l[k, j] -= mu * l[k, i]
        for k in range(n):
            zt[j, k] -= mu * zt[i, k]
            zinv[i, k] += mu * zinv[j, k]


@kernel
def _permute(l, d, j, delta, zt, zinv):
    # Swap ambiguities j and j+1 and update the factors (MLAMBDA Algorithm 2.2).
    n = l.shape[0]
    eta = d[j] / delta
    lam = d[j + 1] * l[j + 1, j] / delta
    d[j] = eta * d[j + 1]
    d[j + 1] = delta
    for k in range(j):
        a0 = l[j, k]
        a1 = l[j + 1, k]
        l[j, k] = -l[j + 1, j] * a0 + a1
        l[j + 1, k] = eta * a0 + lam * a1
    l[j + 1, j] = lam
    for k in range(j + 2, n):
        t = l[k, j]
        l[k, j] = l[k, j + 1]
        l[k, j + 1] = t
    for k in range(n):
        t = zt[j, k]
        zt[j, k] = zt[j + 1, k]
        zt[j + 1, k] = t
        t = zinv[j, k]
        zinv[j, k] = zinv[j + 1, k]
        zinv[j + 1, k] = t


@kernel
def decorrelate(l, d, zt, zinv):
    """Reduce ``L``/``d`` in place by integer Gauss transforms and permutations (MLAMBDA Alg. 3.1).

    ``zt`` and ``zinv`` (float64[n, n]) must hold the identity on entry; on exit they hold the
    transpose of the unimodular ``Z`` and its (integer) inverse, so that the decorrelated
    ambiguities are ``Z^T a = zt @ a`` with covariance ``L^T diag(d) L``, and ``a = Z^-T z``.
    """
    n = l.shape[0]
    j = n - 2
    k = n - 2
    while j >= 0:
        if j <= k:
            for i in range(j + 1, n):
                _gauss(l, zt, zinv, i, j)
        delta = d[j] + l[j + 1, j] * l[j + 1, j] * d[j + 1]
        if delta + 1e-6 < d[j + 1]:
            _permute(l, d, j, delta, zt, zinv)
            k = j
            j = n - 2
        else:
            j -= 1


@kernel
def _sgn(x):
    return -1.0 if x <= 0.0 else 1.0


@kernel
def search(l, d, zs, m, zn_out, s_out):
    """Find the ``m`` integer vectors nearest to ``zs`` in the metric ``L^T diag(d) L``.

    Depth-first search with a shrinking ellipsoid (MLAMBDA Algorithm 4.1). ``zn_out``
    (float64[n, m]) receives the candidates as columns and ``s_out`` (float64[m]) their squared
    distances, sorted ascending. Returns the number of loops, or -1 if the loop cap was hit.
    """
    n = l.shape[0]
    s_mat = np.zeros((n, n))
    dist = np.zeros(n)
    zb = np.zeros(n)
    z = np.zeros(n)
    step = np.zeros(n)
    nn = 0
    imax = 0
    maxdist = np.inf
    k = n - 1
    zb[k] = zs[k]
    z[k] = round(zb[k])
    y = zb[k] - z[k]
    step[k] = _sgn(y)
    loops = 0
    while loops < _MAX_SEARCH_LOOPS:
        loops += 1
        newdist = dist[k] + y * y / d[k]
        if newdist < maxdist:
            if k != 0:
                k -= 1
                dist[k] = newdist
                for i in range(k + 1):
                    s_mat[k, i] = s_mat[k + 1, i] + (z[k + 1] - zb[k + 1]) * l[k + 1, i]
                zb[k] = zs[k] + s_mat[k, k]
                z[k] = round(zb[k])
                y = zb[k] - z[k]
                step[k] = _sgn(y)
            else:
                if nn < m:
                    if nn == 0 or newdist > s_out[imax]:
                        imax = nn
                    for i in range(n):
                        zn_out[i, nn] = z[i]
                    s_out[nn] = newdist
                    nn += 1
                    if nn == m:
                        maxdist = s_out[imax]
                else:
                    if newdist < s_out[imax]:
                        for i in range(n):
                            zn_out[i, imax] = z[i]
                        s_out[imax] = newdist
                        imax = 0
                        for i in range(m):
                            if s_out[imax] < s_out[i]:
                                imax = i
                    maxdist = s_out[imax]
                z[0] += step[0]
                y = zb[0] - z[0]
                step[0] = -step[0] - _sgn(step[0])
        else:
            if k == n - 1:
                break
            k += 1
            z[k] += step[k]
            y = zb[k] - z[k]
            step[k] = -step[k] - _sgn(step[k])
    # Insertion sort of the m candidates by distance.
    for i in range(1, nn):
        j = i
        while j > 0 and s_out[j - 1] > s_out[j]:
            t = s_out[j]
            s_out[j] = s_out[j - 1]
            s_out[j - 1] = t
            for r in range(n):
                t = zn_out[r, j]
                zn_out[r, j] = zn_out[r, j - 1]
                zn_out[r, j - 1] = t
            j -= 1
    if loops >= _MAX_SEARCH_LOOPS:
        return -1
    return loops


@kernel
def _sparse_left_product(s, b, out):
    """``out = s @ b`` for a sparse ``s`` (the integer Z transforms), skipping its zeros; no BLAS in kernels.

    Parameters
    ----------
    s : float64[n, k]
    b : float64[k, m]
    out : float64[n, m]
        Overwritten.
    """
    n, k_max = s.shape
    m = b.shape[1]
    for i in range(n):
        for j in range(m):
            out[i, j] = 0.0
        for k in range(k_max):
            w = s[i, k]
            if w != 0.0:
                for j in range(m):
                    out[i, j] += w * b[k, j]


@kernel
def lambda_search_from(a_cyc, q_cyc2, m, zt, zinv, fixed_out, s_out):
    """:func:`lambda_search` starting the decorrelation from a known transform.

    The decorrelating transform changes little from one epoch to the next when the set of
    ambiguities is the same, so starting from the previous epoch's ``Z`` leaves the reduction
    little to do. Any unimodular start gives the same integer least-squares solution.

    Parameters
    ----------
    a_cyc, q_cyc2, m, fixed_out, s_out
        As :func:`lambda_search`.
    zt, zinv : float64[n, n]
        ``Z0^T`` and ``Z0^-1`` of a unimodular start (identity for none); updated in place to
        the final transform, to be passed to the next call.
    """
    n = a_cyc.shape[0]
    # q0 = Z0^T Q Z0 = Z0^T (Z0^T Q)^T (Q symmetric), skipping the zeros of the sparse integer Z0.
    tmp = np.empty((n, n))
    _sparse_left_product(zt, q_cyc2, tmp)
    q0 = np.empty((n, n))
    _sparse_left_product(zt, tmp.T, q0)
    l = np.empty((n, n))
    d = np.empty(n)
    if not ld_factor(q0, l, d):
        return LAMBDA_NOT_POSITIVE_DEFINITE
    decorrelate(l, d, zt, zinv)
    zs = np.zeros(n)
    for i in range(n):
        for k in range(n):
            zs[i] += zt[i, k] * a_cyc[k]
    zn = np.zeros((n, m))
    if search(l, d, zs, m, zn, s_out) < 0:
        return LAMBDA_SEARCH_LIMIT
    # Back to the original ambiguities: a = Z^-T z (integer matrices, integer result).
    _sparse_left_product(zinv.T, zn, fixed_out)
    for i in range(n):
        for j in range(m):
            fixed_out[i, j] = round(fixed_out[i, j])
    return LAMBDA_OK


@kernel
def lambda_search(a_cyc, q_cyc2, m, fixed_out, s_out):
    """Integer least-squares estimates of float ambiguities: the ``m`` best candidates.

    Parameters
    ----------
    a_cyc : float64[n]
        Float ambiguities [cycles].
    q_cyc2 : float64[n, n]
        Their covariance [cycles^2], symmetric positive definite.
    m : int
        Number of candidates (2 for the ratio test).
    fixed_out : float64[n, m]
        Receives the integer candidates (columns), best first.
    s_out : float64[m]
        Receives their squared distances ``(a - N)^T Q^-1 (a - N)``, ascending.

    Returns
    -------
    int
        :data:`LAMBDA_OK`, :data:`LAMBDA_NOT_POSITIVE_DEFINITE` or :data:`LAMBDA_SEARCH_LIMIT`.

    Notes
    -----
    Teunissen (1995) decorrelation with the MLAMBDA reduction and search (Chang et al. 2005).
    """
    n = a_cyc.shape[0]
    return lambda_search_from(a_cyc, q_cyc2, m, np.eye(n), np.eye(n), fixed_out, s_out)


@kernel
def bootstrap_success_rate(d):
    """Success rate of integer bootstrapping on decorrelated conditional variances ``d`` [cycles^2].

    ``P = prod_i (2 Phi(1 / (2 sqrt(d_i))) - 1)`` (Teunissen 1998, "Success probability of integer
    GPS ambiguity rounding and bootstrapping", J. Geodesy 72); a sharp lower bound of the
    integer least-squares success rate, used for the fixed-failure-rate threshold.
    """
    p = 1.0
    for i in range(d.shape[0]):
        p *= math.erf(1.0 / (2.0 * math.sqrt(2.0 * d[i])))
    return p


@kernel
def lambda_success_rate(q_cyc2):
    """Bootstrapped success rate (see :func:`bootstrap_success_rate`) of a float covariance.

    Returns 0 when ``q_cyc2`` is not positive definite.
    """
    n = q_cyc2.shape[0]
    l = np.empty((n, n))
    d = np.empty(n)
    if not ld_factor(q_cyc2, l, d):
        return 0.0
    decorrelate(l, d, np.eye(n), np.eye(n))
    return bootstrap_success_rate(d)
