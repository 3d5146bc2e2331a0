"""LAMBDA (gnssaug.kernels.lambda_) against a brute-force integer least-squares search."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gnssaug.kernels.lambda_ import (
    LAMBDA_NOT_POSITIVE_DEFINITE,
    LAMBDA_OK,
    decorrelate,
    lambda_search,
    lambda_search_from,
    lambda_success_rate,
    ld_factor,
)


def _random_problem(rng, n, correlation):
    # A covariance with strong correlation like short-time single-epoch ambiguities.
    g = rng.normal(size=(n, n))
    q = g @ g.T * 0.05 + np.eye(n) * 0.01
    q += correlation * np.outer(np.ones(n), np.ones(n))
    a = rng.normal(scale=3.0, size=n)
    return a, q


def _brute_force(a, q, m, radius):
    qinv = np.linalg.inv(q)
    centre = np.round(a)
    best = []
    for off in itertools.product(range(-radius, radius + 1), repeat=a.size):
        cand = centre + np.array(off)
        r = a - cand
        best.append((float(r @ qinv @ r), cand))
    best.sort(key=lambda t: t[0])
    return best[:m]


def test_ld_factor_reconstructs_q():
    rng = np.random.default_rng(1)
    _, q = _random_problem(rng, 6, 0.5)
    l = np.empty((6, 6))
    d = np.empty(6)
    assert ld_factor(q, l, d)
    np.testing.assert_allclose(l.T @ np.diag(d) @ l, q, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.diag(l), 1.0)
    assert np.allclose(np.triu(l, 1), 0.0)


def test_decorrelation_keeps_the_metric_and_is_unimodular():
    rng = np.random.default_rng(2)
    _, q = _random_problem(rng, 7, 2.0)
    l = np.empty((7, 7))
    d = np.empty(7)
    ld_factor(q, l, d)
    zt = np.eye(7)
    zinv = np.eye(7)
    decorrelate(l, d, zt, zinv)
    z = zt.T
    assert abs(abs(np.linalg.det(z)) - 1.0) < 1e-9
    np.testing.assert_allclose(zinv @ z, np.eye(7), atol=1e-9)
    np.testing.assert_allclose(z, np.round(z))
    np.testing.assert_allclose(z.T @ q @ z, l.T @ np.diag(d) @ l, rtol=1e-9, atol=1e-9)
    # Decorrelation shrinks the spread of conditional variances (the point of the transform).
    assert np.prod(d) == pytest.approx(np.linalg.det(q), rel=1e-9)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_two_best_candidates_match_brute_force(seed, n):
    rng = np.random.default_rng(100 + seed * 7 + n)
    a, q = _random_problem(rng, n, correlation=float(rng.uniform(0.0, 3.0)))
    fixed = np.zeros((n, 2))
    s = np.zeros(2)
    assert lambda_search(a, q, 2, fixed, s) == LAMBDA_OK
    expected = _brute_force(a, q, 2, radius=4 if n <= 3 else 3)
    np.testing.assert_allclose(s, [expected[0][0], expected[1][0]], rtol=1e-8)
    np.testing.assert_array_equal(fixed[:, 0], expected[0][1])
    assert s[0] <= s[1]


def test_large_problem_recovers_true_integers():
    # 30 ambiguities with 0.05-cycle noise: the best candidate is the truth, and well separated.
    rng = np.random.default_rng(7)
    n = 30
    g = rng.normal(size=(n, n))
    # Highly correlated (common-mode 0.5 cycle^2 scaled down) like a converged float filter.
    q = ((g @ g.T) / n * 0.01 + 0.5 * np.ones((n, n))) * 0.05**2
    truth = rng.integers(-50, 50, size=n).astype(float)
    a = truth + np.linalg.cholesky(q) @ rng.normal(size=n)
    fixed = np.zeros((n, 2))
    s = np.zeros(2)
    assert lambda_search(a, q, 2, fixed, s) == LAMBDA_OK
    np.testing.assert_array_equal(fixed[:, 0], truth)
    assert s[1] / s[0] > 3.0
    assert lambda_success_rate(q) > 0.999


def test_not_positive_definite_is_reported():
    q = np.array([[1.0, 2.0], [2.0, 1.0]])
    assert lambda_search(np.zeros(2), q, 2, np.zeros((2, 2)), np.zeros(2)) == LAMBDA_NOT_POSITIVE_DEFINITE


def test_success_rate_falls_with_variance():
    assert lambda_success_rate(np.eye(3) * 0.001) > 0.999
    assert lambda_success_rate(np.eye(3) * 0.25) < 0.5


def test_warm_start_from_a_previous_transform_gives_the_same_answer():
    rng = np.random.default_rng(11)
    n = 12
    a, q = _random_problem(rng, n, 2.0)
    fixed = np.zeros((n, 2))
    s = np.zeros(2)
    zt, zinv = np.eye(n), np.eye(n)
    assert lambda_search_from(a, q, 2, zt, zinv, fixed, s) == LAMBDA_OK
    # Next "epoch": slightly different floats and covariance, started from the last transform.
    a2 = a + rng.normal(scale=0.05, size=n)
    q2 = q * 0.9
    cold_fixed, cold_s = np.zeros((n, 2)), np.zeros(2)
    lambda_search(a2, q2, 2, cold_fixed, cold_s)
    warm_fixed, warm_s = np.zeros((n, 2)), np.zeros(2)
    assert lambda_search_from(a2, q2, 2, zt, zinv, warm_fixed, warm_s) == LAMBDA_OK
    np.testing.assert_array_equal(warm_fixed, cold_fixed)
    np.testing.assert_allclose(warm_s, cold_s, rtol=1e-9)
    np.testing.assert_allclose(zinv @ zt.T, np.eye(n), atol=1e-9)
