"""Extended Kalman filter measurement update on a subset of the state, without BLAS.

The RTK state is large (position plus one ambiguity per satellite and frequency) but each epoch
touches only the position and the ambiguities of the satellites in view; the update works on that
subset (as RTKLIB's ``filter()`` does) so its cost follows the satellites seen, not the state size.

Double differences are correlated only within a (group, frequency, type) block that shares a
reference satellite, so the measurement covariance is block diagonal. Each block is whitened with
its Cholesky factor, after which the rows are independent with unit variance and are applied as
sequential scalar updates (Bierman, Factorization Methods for Discrete Sequential Estimation (1977),
§II.2; Brown and Hwang, Introduction to Random Signals and Applied Kalman Filtering, 4th ed.,
§7.1). This is algebraically the batch EKF update, costs O(m k^2) instead of O(m^2 k + m^3),
and uses plain loops: multithreaded BLAS on matrices of this size is slower than loops, badly so
on a busy machine.
"""

from __future__ import annotations

import math

import numpy as np

from gnssaug.kernels import kernel


@kernel
def cholesky_lower(a, out):
    """Lower Cholesky factor of a symmetric positive definite ``a`` (float64[n, n]) into ``out``.

    Returns False (``out`` partly written) if ``a`` is not positive definite.
    """
    n = a.shape[0]
    for j in range(n):
        s = a[j, j]
        for c in range(j):
            s -= out[j, c] * out[j, c]
        if not s > 0.0:
            return False
        d = math.sqrt(s)
        out[j, j] = d
        for i in range(j + 1, n):
            t = a[i, j]
            for c in range(j):
                t -= out[i, c] * out[j, c]
            out[i, j] = t / d
        for i in range(j):
            out[i, j] = 0.0
    return True


@kernel
def cholesky_solve(a, b):
    """Solve ``a X = b`` for symmetric positive definite ``a`` (float64[n, n]); ``b`` is [n] or [n, r].

    Returns the solution (same shape as ``b``), NaN-filled if ``a`` is not positive definite.
    """
    n = a.shape[0]
    lo = np.empty((n, n))
    b2 = b.reshape((n, -1))
    r = b2.shape[1]
    x = np.empty((n, r))
    if not cholesky_lower(a, lo):
        x[:] = np.nan
        return x.reshape(b.shape)
    for c in range(r):
        for i in range(n):
            s = b2[i, c]
            for j in range(i):
                s -= lo[i, j] * x[j, c]
            x[i, c] = s / lo[i, i]
        for i in range(n - 1, -1, -1):
            s = x[i, c]
            for j in range(i + 1, n):
                s -= lo[j, i] * x[j, c]
            x[i, c] = s / lo[i, i]
    return x.reshape(b.shape)


@kernel
def block_end(r, start):
    """End (exclusive) of the covariance block of ``r`` (float64[m, m]) that starts at row ``start``:
    the run of rows each correlated with the previous one (double differences sharing a reference)."""
    m = r.shape[0]
    end = start + 1
    while end < m and r[end, end - 1] != 0.0:
        end += 1
    return end


@kernel
def whiten_blocks(r, v, h, cols, v_out, h_out):
    """Whiten block-diagonal measurements: ``L_b^-1 v`` and ``L_b^-1 H[:, cols]`` per block.

    Blocks are the runs of rows whose covariance entries with the previous row are non-zero
    (double differences sharing a reference satellite).

    Parameters
    ----------
    r : float64[m, m]
        Block-diagonal measurement covariance.
    v : float64[m]
    h : float64[m, nx]
    cols : int64[k]
        Columns of ``h`` to keep.
    v_out : float64[m]
    h_out : float64[m, k]

    Returns
    -------
    bool
        False if a block is not positive definite.
    """
    m = v.shape[0]
    k = cols.shape[0]
    start = 0
    while start < m:
        end = block_end(r, start)
        nb = end - start
        lo = np.empty((nb, nb))
        if not cholesky_lower(r[start:end, start:end], lo):
            return False
        for i in range(nb):
            s = v[start + i]
            for j in range(i):
                s -= lo[i, j] * v_out[start + j]
            v_out[start + i] = s / lo[i, i]
            for c in range(k):
                t = h[start + i, cols[c]]
                for j in range(i):
                    t -= lo[i, j] * h_out[start + j, c]
                h_out[start + i, c] = t / lo[i, i]
        start = end
    return True


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
        Indices of the states to update (others keep their values and their cross-covariance
        with ``act``, which is only right when they are uncorrelated with ``act``: the RTK engine
        passes every state in use, as RTKLIB's ``filter()`` does). The first three are the
        position: rows that touch only them are compressed to three equivalent rows.
    h : float64[m, nx]
        Design matrix (full state width; only the ``act`` columns are read).
    v : float64[m]
        Innovations ``y - h(x)`` at the prior state.
    r : float64[m, m]
        Measurement covariance, block diagonal (see :func:`whiten_blocks`).

    Returns
    -------
    bool
        False if the measurement or innovation covariance is not positive definite (nothing is
        changed then).
    """
    k = act.shape[0]
    m = v.shape[0]
    vw = np.empty(m)
    hw = np.empty((m, k))
    if not whiten_blocks(r, v, h, act, vw, hw):
        return False
    pa = np.empty((k, k))
    for a in range(k):
        for b in range(k):
            pa[a, b] = p[act[a], act[b]]
    dx = np.zeros(k)
    ph = np.empty(k)
    nz = np.empty(k, dtype=np.int64)
    # Rows that touch only the first three states (code rows: position) carry information
    # A = H3^T H3 and H3^T v; three rows U (A = U^T U) with innovations U^-T H3^T v carry the same,
    # so they replace them all (three rank-one updates instead of one per code row).
    pos_only = np.zeros(m, dtype=np.bool_)
    info = np.zeros((3, 3))
    rhs = np.zeros(3)
    n_pos = 0
    if k >= 3:
        for i in range(m):
            only = True
            for c in range(3, k):
                if hw[i, c] != 0.0:
                    only = False
                    break
            if only:
                pos_only[i] = True
                n_pos += 1
                for a in range(3):
                    rhs[a] += hw[i, a] * vw[i]
                    for b in range(3):
                        info[a, b] += hw[i, a] * hw[i, b]
    rows_h = np.zeros((3, k))
    rows_v = np.zeros(3)
    n_extra = 0
    if n_pos >= 3:
        lo = np.empty((3, 3))
        if cholesky_lower(info, lo):
            # U = lo^T; innovations y' = lo^-1 rhs.
            for a in range(3):
                t = rhs[a]
                for b in range(a):
                    t -= lo[a, b] * rows_v[b]
                rows_v[a] = t / lo[a, a]
                for b in range(3):
                    rows_h[a, b] = lo[b, a]
            n_extra = 3
        else:
            pos_only[:] = False
    else:
        pos_only[:] = False
    for i in range(n_extra + m):
        if i < n_extra:
            row = rows_h[i]
            inno = rows_v[i]
        else:
            if pos_only[i - n_extra]:
                continue
            row = hw[i - n_extra]
            inno = vw[i - n_extra]
        n_nz = 0
        for c in range(k):
            if row[c] != 0.0:
                nz[n_nz] = c
                n_nz += 1
        # Innovation of this row at the current (sequentially updated) state.
        for q in range(n_nz):
            inno -= row[nz[q]] * dx[nz[q]]
        for a in range(k):
            t = 0.0
            for q in range(n_nz):
                t += pa[a, nz[q]] * row[nz[q]]
            ph[a] = t
        s_inno = 1.0
        for q in range(n_nz):
            s_inno += row[nz[q]] * ph[nz[q]]
        if not s_inno > 0.0:
            return False
        # Full-row rank-one downdate: contiguous (vectorised) rows beat a mirrored half update.
        for a in range(k):
            g = ph[a] / s_inno
            dx[a] += g * inno
            if g != 0.0:
                for b in range(k):
                    pa[a, b] -= g * ph[b]
    for a in range(k):
        x[act[a]] += dx[a]
        for b in range(k):
            p[act[a], act[b]] = 0.5 * (pa[a, b] + pa[b, a])
    return True


@kernel
def snoop_w(r, v, h, cols, x, x0, p, w_out, row_out, ref_out):
    """Baarda w-test statistics of the single-difference outlier alternatives of an EKF update.

    Post-fit residuals ``e = v - H (x - x0)`` have covariance ``R - H P H^T`` (``P`` the updated
    covariance). For an alternative ``c`` (an outlier of size ``c`` in the measurements),
    ``w = c^T R^-1 e / sqrt(c^T R^-1 c - g^T P g)`` with ``g = H^T R^-1 c`` is standard normal
    without it (Teunissen 2006, "Testing theory", §4.2). The alternatives are one row (a satellite
    of a double-difference block) and minus every row of a block of two or more rows (its
    reference satellite). Blocks as :func:`whiten_blocks` finds them. Not testable (``w = 0``):
    an alternative that the other rows leave less than 1e-3 of its own weight to check.

    Parameters
    ----------
    r : float64[m, m]
        Block-diagonal measurement covariance.
    v : float64[m]
        Innovations at the prior state ``x0``.
    h : float64[m, nx]
        Design matrix.
    cols : int64[k]
        The states the rows touch.
    x, x0 : float64[nx]
        Updated and prior state.
    p : float64[nx, nx]
        Updated covariance.
    w_out : float64[2m]
        Receives ``|w|`` of each alternative.
    row_out : int64[2m]
        Receives the row of a one-row alternative, the first row of a block's.
    ref_out : bool[2m]
        Receives True for a block (reference) alternative.

    Returns
    -------
    int
        Number of alternatives written, -1 if a block of ``r`` is not positive definite.
    """
    m = v.shape[0]
    k = cols.shape[0]
    e = np.empty(m)
    for i in range(m):
        t = v[i]
        for c in range(k):
            t -= h[i, cols[c]] * (x[cols[c]] - x0[cols[c]])
        e[i] = t
    pa = np.empty((k, k))
    for a in range(k):
        for b in range(k):
            pa[a, b] = p[cols[a], cols[b]]
    g = np.empty(k)
    nz = np.empty(k, dtype=np.int64)
    nc = 0
    start = 0
    while start < m:
        end = block_end(r, start)
        nb = end - start
        ri = cholesky_solve(np.ascontiguousarray(r[start:end, start:end]), np.eye(nb))
        if np.isnan(ri[0, 0]):
            return -1
        # Rows of R^-1 H and R^-1 e in this block: g of one-row alternatives.
        yh = np.zeros((nb, k))
        re = np.zeros(nb)
        for i in range(nb):
            for j in range(nb):
                rij = ri[i, j]
                re[i] += rij * e[start + j]
                for c in range(k):
                    yh[i, c] += rij * h[start + j, cols[c]]
        n_alt = nb + 1 if nb >= 2 else nb
        for alt in range(n_alt):
            if alt < nb:
                num = re[alt]
                full = ri[alt, alt]
                for c in range(k):
                    g[c] = yh[alt, c]
            else:
                num = 0.0
                full = 0.0
                for c in range(k):
                    g[c] = 0.0
                for i in range(nb):
                    num -= re[i]
                    for j in range(nb):
                        full += ri[i, j]
                    for c in range(k):
                        g[c] -= yh[i, c]
            # g is sparse (a code row touches the position only): the quadratic form on its support.
            n_nz = 0
            for c in range(k):
                if g[c] != 0.0:
                    nz[n_nz] = c
                    n_nz += 1
            quad = 0.0
            for qa in range(n_nz):
                t = 0.0
                for qb in range(n_nz):
                    t += pa[nz[qa], nz[qb]] * g[nz[qb]]
                quad += g[nz[qa]] * t
            den = full - quad
            w_out[nc] = abs(num) / math.sqrt(den) if den > 1e-3 * full else 0.0
            row_out[nc] = start + alt if alt < nb else start
            ref_out[nc] = alt >= nb
            nc += 1
        start = end
    return nc
