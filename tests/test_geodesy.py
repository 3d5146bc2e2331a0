"""Geodesy (gnssaug.geodesy) against pyproj, an independent implementation."""

import numpy as np
import pytest
from pyproj import Transformer

from gnssaug import geodesy


@pytest.fixture(scope="module")
def to_ecef():
    return Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


def test_round_trip_and_pyproj(to_ecef):
    rng = np.random.default_rng(1)
    lat = rng.uniform(-89.9, 89.9, 200)
    lon = rng.uniform(-180, 180, 200)
    h = rng.uniform(-100, 20_000_000, 200)  # up to GNSS orbit altitudes
    xyz = geodesy.ecef_from_llh_deg(lat, lon, h)
    x, y, z = to_ecef.transform(lon, lat, h)
    np.testing.assert_allclose(xyz, np.c_[x, y, z], atol=1e-6)
    back = geodesy.llh_deg_from_ecef(xyz)
    np.testing.assert_allclose(back[:, 0], lat, atol=1e-10)
    np.testing.assert_allclose(back[:, 1], lon, atol=1e-10)
    np.testing.assert_allclose(back[:, 2], h, atol=1e-4)


def test_single_point_shapes_and_wuhan():
    wuh2 = np.array([-2267750.2, 5009154.6, 3221294.4])
    lat, lon, h = geodesy.llh_deg_from_ecef(wuh2)
    assert 30.5 < lat < 30.6 and 114.3 < lon < 114.4 and 0 < h < 100


def test_enu_and_az_el():
    rx = geodesy.ecef_from_llh_deg(30.0, 114.0, 50.0)
    up = geodesy.ecef_from_llh_deg(30.0, 114.0, 20_050_000.0)
    east = rx + geodesy.enu_rotation(np.radians(30), np.radians(114))[0] * 1e6
    az, el = geodesy.az_el(rx, np.vstack([up, east]))
    assert el[0] == pytest.approx(np.pi / 2, abs=1e-9)
    assert az[1] == pytest.approx(np.pi / 2, abs=1e-9) and el[1] == pytest.approx(0, abs=1e-9)
    enu = geodesy.enu_from_ecef_delta(up - rx, rx)
    np.testing.assert_allclose(enu, [0, 0, 20_049_950.0], atol=1e-4)
