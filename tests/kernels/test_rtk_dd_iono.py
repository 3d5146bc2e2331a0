"""Ionosphere terms of the double differences (gnssaug.kernels.dd.add_iono_dd).

A synthetic epoch whose single differences carry only a dispersive delay ``+mu_f I`` on code and
``-mu_f I`` on phase: with the true ionosphere states in ``x`` the innovations must vanish, and the
design rows must hold the partials of the DD model.
"""

from __future__ import annotations

import numpy as np

from gnssaug.constants import C_MPS
from gnssaug.kernels.dd import ROW_CODE, ROW_PHASE, add_iono_dd, form_dd, select_references

N_GROUP = 6


def _epoch():
    rng = np.random.default_rng(4)
    n, nf = 6, 2
    group = np.array([0, 0, 0, 4, 4, 4], dtype=np.int8)  # GPS and BDS-2: two reference satellites
    lam = np.empty((n, nf))
    lam[:3] = C_MPS / np.array([1575.42e6, 1227.60e6])
    lam[3:] = C_MPS / np.array([1561.098e6, 1207.14e6])
    el = np.radians(rng.uniform(15.0, 85.0, n))
    los = rng.normal(size=(n, 3))
    los /= np.linalg.norm(los, axis=1)[:, None]
    ion_state = np.arange(n, dtype=np.int64) + 3
    x = np.zeros(3 + n + n * nf)  # position, ionosphere, ambiguities (zero: phase rows without them)
    x[ion_state] = rng.normal(0.0, 0.2, n)  # single-difference slant delays on 1575.42 MHz [m]
    mu = (1575.42e6 * lam / C_MPS) ** 2
    return group, lam, el, los, ion_state, x, mu


def _rows(sign, row_type):
    group, lam, el, los, ion_state, x, mu = _epoch()
    n, nf = lam.shape
    ok = np.ones((n, nf), dtype=bool)
    ref = np.empty((N_GROUP, nf), dtype=np.int64)
    select_references(group, el, ok, N_GROUP, ref)
    res_m = sign * mu * x[ion_state][:, None]  # the SD observation minus the modelled range
    m = n * nf
    v, h, r = np.zeros(m), np.zeros((m, x.shape[0])), np.zeros((m, m))
    rows, fs = np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64)
    amb = (3 + n + np.arange(n * nf, dtype=np.int64)).reshape(n, nf)
    nv = form_dd(group, los, res_m, np.ones((n, nf)), lam, amb, np.zeros_like(x), ok, ref, row_type, v, h, r, rows, fs)
    before = v[:nv].copy()
    add_iono_dd(group, rows, fs, nv, ref, ion_state, sign * mu, x, v, h)
    return before, v[:nv], h[:nv], rows[:nv], fs[:nv], ref, group, ion_state, mu


def test_code_rows_lose_their_ionosphere_with_the_true_states():
    before, after, h, rows, fs, ref, group, ion_state, mu = _rows(+1.0, ROW_CODE)
    assert np.abs(before).max() > 0.01  # the ionosphere was in the double differences
    np.testing.assert_allclose(after, 0.0, atol=1e-12)
    for k in range(rows.shape[0]):
        i, f = rows[k], fs[k]
        j = ref[group[i], f]
        assert h[k, ion_state[i]] == mu[i, f]
        assert h[k, ion_state[j]] == -mu[j, f]


def test_phase_rows_take_the_opposite_sign():
    before, after, h, rows, fs, ref, group, ion_state, mu = _rows(-1.0, ROW_PHASE)
    assert np.abs(before).max() > 0.01
    np.testing.assert_allclose(after, 0.0, atol=1e-12)
    i, f = rows[0], fs[0]
    # Phase advance: a larger ionosphere at satellite i lowers its DD phase.
    assert h[0, ion_state[i]] == -mu[i, f] < 0.0
