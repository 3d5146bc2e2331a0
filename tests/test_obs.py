"""ObsEpoch / ObsSeries validation and views (gnssaug.obs)."""

import numpy as np
import pytest

from gnssaug.errors import InvalidInputError
from gnssaug.gnss import N_BAND, N_SAT
from gnssaug.obs import OBS_FIELDS, ObsEpoch, ObsSeries


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


def _series(sats_per_epoch):
    """A series built row-wise (no ObsEpoch checks), so it can hold epochs ObsEpoch rejects."""
    counts = [len(s) for s in sats_per_epoch]
    n = sum(counts)
    sat = np.array([s for e in sats_per_epoch for s in e], dtype=np.int16)
    arrays = {"pr_m": np.arange(n * N_BAND, dtype=np.float64).reshape(n, N_BAND),
              "cp_cyc": np.full((n, N_BAND), np.nan), "dop_hz": np.zeros((n, N_BAND), np.float32),
              "cn0_dbhz": np.zeros((n, N_BAND), np.float32), "lli": np.zeros((n, N_BAND), np.uint8),
              "code": np.zeros((n, N_BAND), np.uint8)}
    return ObsSeries(np.arange(len(counts), dtype=np.int64) * 10**9, np.cumsum([0] + counts).astype(np.int64),
                     np.arange(len(counts), dtype=np.uint8), sat, **arrays)


def test_series_views_equal_checked_epochs():
    series = _series([[1, 5], [], [3], [2, 7, 9]])
    for i in range(len(series)):
        view = series.epoch(i)
        lo, hi = series.offsets[i], series.offsets[i + 1]
        checked = ObsEpoch(int(series.t_gpst_ns[i]), series.sat[lo:hi], flag=int(series.flag[i]),
                           **{name: getattr(series, name)[lo:hi] for name in OBS_FIELDS})
        for name in ("sat", *OBS_FIELDS):
            a, b = getattr(view, name), getattr(checked, name)
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        assert type(view.t_gpst_ns) is int and type(view.flag) is int and view.t_gpst_ns == i * 10**9
        assert np.shares_memory(view.pr_m, series.pr_m) or view.n_sat == 0
    with pytest.raises(IndexError):
        series.epoch(4)


@pytest.mark.parametrize("bad", [[5, 1], [3, 3], [-1, 2], [7, N_SAT]])
def test_series_bad_epoch_raises_only_for_that_epoch(bad):
    # The last row of one epoch and the first of the next may decrease: only rows within an epoch
    # must rise.
    series = _series([[8, 9], bad, [0, 4]])
    assert series.epoch(0).n_sat == 2 and series.epoch(2).n_sat == 2
    with pytest.raises(InvalidInputError, match="strictly increasing"):
        series.epoch(1)
    with pytest.raises(InvalidInputError, match="strictly increasing"):
        list(series)
