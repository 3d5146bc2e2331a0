"""Truth loaders of the shared data sets and the accuracy statistics."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.datasets.truth import (
    WUHN_REFERENCE_ECEF_M,
    accuracy,
    enu_errors,
    load_llh_point,
    load_tst2019_trajectory,
    load_tst2020_static,
    wuhn_reference,
)
from gnssaug.errors import FileFormatError
from gnssaug.geodesy import llh_deg_from_ecef
from gnssaug.time import gpst_ns_from_week_tow


def test_nagoya_points_are_0_99_m_apart(nagoya_dir):
    base = load_llh_point(nagoya_dir / "base_position.txt")
    rover = load_llh_point(nagoya_dir / "rover_position.txt")
    assert np.linalg.norm(base.pos_ecef_m[0] - rover.pos_ecef_m[0]) == pytest.approx(0.99, abs=0.01)
    assert np.isfinite(rover.at(np.array([0, 10**18]))).all()  # static: valid at any time


def test_tst2019_trajectory_matches_epochs_with_tolerance(data_dir):
    truth = load_tst2019_trajectory(data_dir / "hk_tst_20190428" / "groundTruth_TST.csv")
    assert truth.t_gpst_ns.shape[0] == 485
    t = gpst_ns_from_week_tow(2051, np.array([46701.004, 46702.0, 46600.0]))
    got = truth.at(t)
    # 4 ms after the row: interpolated towards the next one (the height moves 1 cm/s there)
    err = llh_deg_from_ecef(got[0]) - np.array([22.30115538, 114.17900033, 6.59589290])
    assert np.all(np.abs(err) <= [1e-7, 1e-7, 1e-3])
    assert np.isfinite(got[1]).all() and np.isnan(got[2]).all()


def test_tst2020_static_window(data_dir):
    truth = load_tst2020_static(data_dir / "hk_tst_20200603" / "groundTruth_TST.csv", gps_week=2108)
    inside = gpst_ns_from_week_tow(2108, 270200.0)
    after = gpst_ns_from_week_tow(2108, 280000.0)
    got = truth.at(np.array([inside, after]))
    assert np.isfinite(got[0]).all() and np.isnan(got[1]).all()


def test_accuracy_statistics_on_known_offsets():
    ref = wuhn_reference().pos_ecef_m[0]
    enu = np.array([[3.0, 4.0, 1.0], [0.0, 0.0, -2.0]])
    # build ECEF points with these ENU offsets, then recover them
    from gnssaug.geodesy import enu_rotation, llh_from_ecef

    llh = llh_from_ecef(ref)
    rot = enu_rotation(llh[0], llh[1])
    pos = ref + enu @ rot
    np.testing.assert_allclose(enu_errors(pos, ref), enu, atol=1e-6)
    acc = accuracy(np.vstack([pos, np.full(3, np.nan)]), WUHN_REFERENCE_ECEF_M)
    assert acc.n == 2
    assert acc.h_rms_m == pytest.approx(np.sqrt(25 / 2))
    assert acc.v_rms_m == pytest.approx(np.sqrt(5 / 2))


def test_bad_truth_file_names_the_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("2051,46701,22.3,114.1,6.5\n2051,46702,x,114.1,6.5\n")
    with pytest.raises(FileFormatError, match=r"t\.csv:2"):
        load_tst2019_trajectory(path)
