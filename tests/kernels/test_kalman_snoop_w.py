"""The w-test kernel :func:`gnssaug.kernels.kalman.snoop_w` against the dense formula."""

from __future__ import annotations

import numpy as np

from gnssaug.kernels.kalman import ekf_update, snoop_w


def _problem(seed):
    """Two DD blocks (4 and 3 rows, each sharing a reference) on 3 position + 5 other states."""
    rng = np.random.default_rng(seed)
    nx, m = 8, 7
    h = np.zeros((m, nx))
    h[:, :3] = rng.normal(size=(m, 3))
    for i in range(m):
        h[i, 3 + i % 5] = 1.0
    r = np.zeros((m, m))
    for lo, hi in ((0, 4), (4, 7)):
        d = rng.uniform(0.5, 2.0, hi - lo)
        r[lo:hi, lo:hi] = np.diag(d) + rng.uniform(0.5, 2.0)
    p = np.diag(rng.uniform(1.0, 10.0, nx))
    x0 = np.zeros(nx)
    v = rng.normal(size=m)
    v[2] += 30.0  # an outlier on row 2
    return r, v, h, p, x0


def _dense_w(r, v, h, p_post, dx, c):
    e = v - h @ dx
    ri = np.linalg.inv(r)
    cov = r - h @ p_post @ h.T
    return abs(c @ ri @ e) / np.sqrt(c @ ri @ cov @ ri @ c)


def test_snoop_w_matches_the_dense_formula_and_finds_the_outlier():
    r, v, h, p, x0 = _problem(3)
    x, pp = x0.copy(), p.copy()
    act = np.arange(h.shape[1], dtype=np.int64)
    assert ekf_update(x, pp, act, h, v.copy(), r)
    m = v.shape[0]
    w = np.empty(2 * m)
    row = np.empty(2 * m, dtype=np.int64)
    ref = np.empty(2 * m, dtype=bool)
    nc = snoop_w(r, v, h, act, x, x0, pp, w, row, ref)
    assert nc == m + 2  # every row, and one reference alternative per block
    for j in range(nc):
        c = np.zeros(m)
        if ref[j]:
            lo, hi = (0, 4) if row[j] == 0 else (4, 7)
            c[lo:hi] = -1.0
        else:
            c[row[j]] = 1.0
        np.testing.assert_allclose(w[j], _dense_w(r, v, h, pp, x - x0, c), rtol=1e-8)
    best = int(np.argmax(w[:nc]))
    assert not ref[best] and row[best] == 2
