"""Broadcast orbits and clocks against precise products over the whole WUHN day (2025-01-01).

Tolerances are what broadcast ephemerides deliver by design, not what this data set gives:

- Orbit 3D RMS (broadcast APC vs SP3 centre of mass, so including the antenna offset of up to
  ~2.5 m, mostly radial): GPS and Galileo < 3 m (1-2 m class broadcast orbits plus the offset);
  BeiDou MEO/IGSO < 5 m; BeiDou GEO < 10 m (their broadcast along/cross-track errors are several
  metres, and the precise GEO orbits themselves are metre-level); GLONASS < 10 m (integrated
  state vectors over +-15 min, 3-5 m class).
- Clock RMS after removing the per-epoch mean of each clock group: GPS and Galileo < 1.5 m
  (their broadcast clocks are at the 0.2-0.5 m level), BeiDou < 3 m (BDS-2 0.5-2 m, plus
  TGD/DCB-convention biases per satellite), GLONASS < 5 m (inter-frequency biases differ per
  satellite and are not modelled).
- The constant part of the difference is radial: |mean radial| < 3 m for every group (the CoM-APC
  offsets), and along/cross-track RMS stay below the 3D tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.datasets.orbit_check import GROUPS, compare_broadcast_precise, rac_components
from gnssaug.datasets.rinex.nav import read_nav
from gnssaug.datasets.sp3 import read_sp3

NAV = "BRDC00IGS_R_20250010000_01D_MN.rnx.gz"
PRODUCTS = ("WUM0MGXFIN_20250010000_01D_05M_ORB.SP3", "COD0MGXFIN_20250010000_01D_05M_ORB.SP3")
ORBIT_3D_MAX_M = {"GPS": 3.0, "GAL": 3.0, "GLO": 10.0, "BDS-2 GEO": 10.0, "BDS-3 GEO": 10.0,
                  "BDS-2 IGSO": 5.0, "BDS-2 MEO": 5.0, "BDS-3 IGSO": 5.0, "BDS-3 MEO": 5.0}
CLOCK_MAX_M = {"GPS": 1.5, "GAL": 1.5, "GLO": 5.0}
BDS_CLOCK_MAX_M = 3.0
RADIAL_MEAN_MAX_M = 3.0


@pytest.fixture(scope="module")
def nav(wuhn_dir):
    return read_nav(wuhn_dir / NAV)


@pytest.mark.parametrize("product", PRODUCTS)
def test_broadcast_vs_precise(nav, wuhn_dir, product):
    cmp = compare_broadcast_precise(nav, read_sp3(wuhn_dir / product))
    summary = cmp.summary()
    for name in ("GPS", "GLO", "GAL", "BDS-2 IGSO", "BDS-2 MEO", "BDS-3 IGSO", "BDS-3 MEO"):
        assert name in summary, f"{product}: no {name} satellites compared"
        # at least 20 h of the day per satellite on average (5-min epochs)
        assert summary[name]["rows"] >= 240 * summary[name]["sats"], (product, name, summary[name])
    for name, s in summary.items():
        assert s["orbit_3d_rms_m"] < ORBIT_3D_MAX_M[name], (product, name, s)
        assert abs(s["radial_mean_m"]) < RADIAL_MEAN_MAX_M, (product, name, s)
        assert s["clock_rms_m"] < CLOCK_MAX_M.get(name, BDS_CLOCK_MAX_M), (product, name, s)
    # every BeiDou orbit type the product has is covered; WUM has the BDS-2 GEOs
    if product.startswith("WUM"):
        assert summary["BDS-2 GEO"]["sats"] == 5


def test_no_single_epoch_is_far_off(nav, wuhn_dir):
    """Every row within 50 m: evaluating 14 s (GPST-BDT) or 18 s
    (leap seconds) off puts MEO satellites ~50-70 km away, far outside the tolerances above."""
    sp3 = read_sp3(wuhn_dir / PRODUCTS[0])
    cmp = compare_broadcast_precise(nav, sp3)
    assert set(np.unique(cmp.group)) <= set(range(len(GROUPS)))
    assert np.nanmax(np.linalg.norm(cmp.d_rac_m, axis=1)) < 50.0


def test_rac_axes():
    pos = np.array([[7e6, 0.0, 0.0]])
    vel = np.array([[0.0, 7.5e3, 0.0]])
    d = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(rac_components(d, pos, vel), [[1.0, 2.0, 3.0]])
