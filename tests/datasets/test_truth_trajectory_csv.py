"""``gnssaug evaluate --truth-file`` on CSV trajectories with a header (the simulator's truth files)."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.datasets.evaluate import load_truth_file
from gnssaug.datasets.sim.rovers import write_truth_csv
from gnssaug.errors import FileFormatError
from gnssaug.geodesy import ecef_from_llh_deg

T0_NS = 1_419_732_000_000_000_000


def test_simulator_truth_file_round_trip(tmp_path):
    t = T0_NS + np.arange(3, dtype=np.int64)[::-1] * 1_000_000_000  # written out of order on purpose
    pos = np.array([ecef_from_llh_deg(30.58 + 1e-5 * k, 114.27, 20.0) for k in range(3)])
    path = tmp_path / "car.truth.csv"
    write_truth_csv(path, t, pos)
    truth = load_truth_file(path)
    assert truth.t_gpst_ns.tolist() == sorted(t.tolist())
    np.testing.assert_allclose(truth.at(t), pos, atol=1e-4)


def test_week_tow_and_llh_columns(tmp_path):
    path = tmp_path / "span.csv"
    path.write_text("week,tow,lat_deg,lon_deg,height_m\n2051,46701,22.30115538,114.17900033,6.5959\n"
                    "2051,46702,22.30115530,114.17900034,6.5853\n")
    truth = load_truth_file(path)
    assert truth.t_gpst_ns.shape == (2,)
    np.testing.assert_allclose(truth.pos_ecef_m[0], ecef_from_llh_deg(22.30115538, 114.17900033, 6.5959), atol=1e-6)


def test_unknown_columns_and_bad_rows_are_named(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("time,a,b,c\n1,2,3,4\n")
    with pytest.raises(FileFormatError, match="names no time"):
        load_truth_file(path)
    path.write_text("t_gpst_ns,x_m,y_m,z_m\n1,2,3,4\n2,x,3,4\n")
    with pytest.raises(FileFormatError, match=":3:"):
        load_truth_file(path)
