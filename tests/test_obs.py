"""ObsEpoch / ObsSeries validation and views (gnssaug.obs)."""

import numpy as np
import pytest

from gnssaug.errors import InvalidInputError
from gnssaug.obs import ObsEpoch, ObsSeries


def _epoch(t, sats):
    e = ObsEpoch.empty(t, np.array(sats, dtype=np.int16))
    e.pr_m[:, 0] = 2.0e7 + np.arange(len(sats))
    return e


def test_empty_epoch_is_all_missing():
    e = ObsEpoch.empty(0, np.array([1, 5], dtype=np.int16))
    assert np.isnan(e.pr_m).all() and (e.code == 0).all() and e.n_sat == 2


def test_validation_rejects_unsorted_and_bad_dtype():
    with pytest.raises(InvalidInputError):
        _epoch(0, [5, 1])
    good = _epoch(0, [1, 5])
    with pytest.raises(InvalidInputError, match="float64"):
        ObsEpoch(0, good.sat, good.pr_m.astype(np.float32), good.cp_cyc, good.dop_hz, good.cn0_dbhz,
                 good.lli, good.code)


def test_series_round_trip():
    epochs = [_epoch(0, [1, 5]), _epoch(10**9, []), _epoch(2 * 10**9, [3])]
    series = ObsSeries.from_epochs(epochs)
    assert len(series) == 3 and series.n_rows == 3
    back = list(series)
    assert [e.n_sat for e in back] == [2, 0, 1]
    np.testing.assert_array_equal(back[0].pr_m, epochs[0].pr_m)
    mask = back[0].sat > 1
    assert back[0].select(mask).sv_names() == ["G06"]
