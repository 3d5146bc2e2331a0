"""Troposphere term of the double differences (gnssaug.kernels.dd.add_tropo_dd, wet_mapping_many)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gnssaug.kernels.dd import add_tropo_dd, wet_mapping_many


def test_wet_mapping_is_one_at_zenith_and_near_cosecant_above_15_deg():
    el = np.radians([90.0, 45.0, 30.0, 15.0])
    out = np.empty(4)
    wet_mapping_many(el, math.radians(30.5), out)
    assert out[0] == pytest.approx(1.0, abs=1e-6)
    # Niell's wet function stays within 1 % of 1/sin(el) down to 15 deg (Niell 1996 Fig. 3).
    np.testing.assert_allclose(out[1:], 1.0 / np.sin(el[1:]), rtol=0.01)


def test_dd_rows_get_the_mapping_difference_on_every_row_type():
    # Two groups, one frequency: rows (sat 1 vs ref 0) and (sat 3 vs ref 2).
    group = np.array([0, 0, 1, 1], dtype=np.int8)
    ref = np.array([[0], [2]], dtype=np.int64)
    row_sat = np.array([1, 3], dtype=np.int64)
    row_f = np.zeros(2, dtype=np.int64)
    mw = np.array([1.0, 2.5, 1.2, 3.0])
    nx = 5
    x = np.zeros(nx)
    x[4] = 0.02  # relative zenith wet delay [m]
    v = np.array([0.1, 0.2])
    h = np.zeros((2, nx))
    add_tropo_dd(group, row_sat, row_f, 2, ref, mw, 4, x, v, h)
    np.testing.assert_allclose(h[:, 4], [1.5, 1.8])
    np.testing.assert_allclose(v, [0.1 - 1.5 * 0.02, 0.2 - 1.8 * 0.02])
    assert not h[:, :4].any()
