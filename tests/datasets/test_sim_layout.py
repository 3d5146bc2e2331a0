"""Station layouts: the synthetic Hubei network and CSV/TOML layout files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from gnssaug.datasets.sim.errors import LayoutError
from gnssaug.datasets.sim.layout import hubei91, read_layout, write_stations_csv


def test_hubei91_has_91_stations_on_a_45_to_50_km_mesh():
    layout = hubei91()
    assert len(layout) == 91
    dist_m, _ = cKDTree(layout.pos_ecef_m).query(layout.pos_ecef_m, k=2)
    nearest_km = dist_m[:, 1] / 1e3
    assert 45.0 <= np.median(nearest_km) <= 50.0
    assert nearest_km.max() < 55.0


def test_hubei91_covers_the_province_with_plain_and_mountain_heights():
    llh = hubei91().llh_deg
    assert 29.1 <= llh[:, 0].min() and llh[:, 0].max() <= 33.3
    assert 108.4 <= llh[:, 1].min() and llh[:, 1].max() <= 116.1
    east = llh[:, 1] > 113.0
    west = llh[:, 1] < 110.5
    assert np.median(llh[east, 2]) < 100.0
    assert llh[west, 2].max() > 1000.0


def test_csv_llh_and_ecef_and_toml_give_the_same_points(tmp_path):
    llh_csv = tmp_path / "a.csv"
    llh_csv.write_text("name,lat_deg,lon_deg,height_m\nAAAA,30.5,114.3,25.0\nBBBB,31.0,112.0,300\n")
    a = read_layout(llh_csv)
    out = tmp_path / "stations.csv"
    write_stations_csv(out, a)
    b = read_layout(out)  # has x_m,y_m,z_m and the llh fields: llh is read first
    xyz_csv = tmp_path / "b.csv"
    rows = "\n".join(f"{n},{p[0]},{p[1]},{p[2]}" for n, p in zip(a.names, a.pos_ecef_m, strict=True))
    xyz_csv.write_text("name,x_m,y_m,z_m\n" + rows + "\n")
    c = read_layout(xyz_csv)
    toml = tmp_path / "c.toml"
    xyz_lines = "".join(f"{k}_m = {float(v)!r}\n" for k, v in zip("xyz", a.pos_ecef_m[1], strict=True))
    toml.write_text(
        '[[station]]\nname = "AAAA"\nlat_deg = 30.5\nlon_deg = 114.3\nheight_m = 25.0\n'
        '[[station]]\nname = "BBBB"\n' + xyz_lines
    )
    d = read_layout(toml)
    for other in (b, c, d):
        assert other.names == ("AAAA", "BBBB")
        np.testing.assert_allclose(other.pos_ecef_m, a.pos_ecef_m, atol=1e-3)
    np.testing.assert_allclose(a.llh_deg[0], [30.5, 114.3, 25.0], atol=1e-8)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,lat_deg,lon_deg\nA,30,114\n", "need fields"),
        ("name,lat_deg,lon_deg,height_m\nA,thirty,114,0\n", "b.csv:2: field 'lat_deg' is not a number"),
        ("name,lat_deg,lon_deg,height_m\nA,30,114,0\nA,31,114,0\n", "b.csv:3: duplicate station name"),
        ("name,x_m,y_m,z_m\nA,1,2,3\n", "not near the Earth"),
        ("name,lat_deg,lon_deg,height_m\n", "no stations"),
    ],
)
def test_bad_layout_files_name_file_line_and_field(tmp_path, text, message):
    path = tmp_path / "b.csv"
    path.write_text(text)
    with pytest.raises(LayoutError, match=message):
        read_layout(path)
