"""Every shared observation file read by gnssaug and by georinex: same epochs, same values.

georinex is slow (~10 s per MB), so each file is compared on a time slice (``tlim``); the slice is
read by georinex once per session. For every satellite, slot and observation kind the value we
stored must equal georinex's value of the RINEX code we chose, and the choice must be the best
ranked tracking mode with a pseudorange or phase present.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gnssaug.datasets.rinex import read_obs
from gnssaug.errors import UnknownSignalError
from gnssaug.gnss import SAT_SYSTEM, SYSTEMS, attribute_rank, band_slot, sv_name

georinex = pytest.importorskip("georinex")

FILES = {
    "nagoya_rover": ("jp_nagoya_static_20240624/rover.obs", ("2024-06-24T08:20:00", "2024-06-24T08:20:40")),
    "nagoya_base": ("jp_nagoya_static_20240624/base.obs", ("2024-06-24T08:24:20", "2024-06-24T08:25:00")),
    "tst2019": ("hk_tst_20190428/COM3_190428_124409.obs", ("2019-04-28T12:44:30", "2019-04-28T12:45:30")),
    "tst2020": ("hk_tst_20200603/2020_06_03_TST_03.obs", ("2020-06-03T03:02:20", "2020-06-03T03:03:00")),
    "wuhn": (
        "wuhan_wuhn_20250101/WUHN00CHN_R_20250010000_01D_30S_MO.crx",
        ("2025-01-01T23:30:00", "2025-01-02T00:00:00"),  # includes the next day's 00:00:00
    ),
}
LLI_FILES = ("tst2019",)
KIND_FIELDS = {"C": "pr_m", "L": "cp_cyc", "D": "dop_hz", "S": "cn0_dbhz"}
#: georinex's time tags may differ from the exact file text by float rounding (microseconds).
TAG_TOLERANCE_NS = 2_000
GPS_EPOCH = np.datetime64("1980-01-06T00:00:00", "ns")


@pytest.fixture(scope="session")
def georinex_slices(data_dir):
    """georinex Datasets of the slices, loaded once per session."""
    cache = {}

    def load(key):
        if key not in cache:
            rel, tlim = FILES[key]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # Loss-of-lock indicators are compared on the u-blox file, which has many.
                cache[key] = georinex.load(data_dir / rel, tlim=tlim, useindicators=key in LLI_FILES)
        return cache[key]

    return load


def _file_codes(header, letter):
    """(code, slot, rank) of every C/L/D/S code the header declares for a system."""
    s = SYSTEMS.index(letter)
    out = []
    for code in header.obs_types.get(letter, []):
        if len(code) != 3 or code[0] not in KIND_FIELDS:
            continue
        try:
            k = band_slot(s, code[1], code[2], header.version)
        except UnknownSignalError:
            continue
        out.append((code, k, attribute_rank(s, k, code[2])))
    return out


@pytest.mark.parametrize("key", list(FILES))
def test_same_epochs_and_values_as_georinex(key, data_dir, georinex_slices):
    header, series = read_obs(data_dir / FILES[key][0])
    ds = georinex_slices(key)
    geo_t = ds.time.values.astype("datetime64[ns]")
    our_t = GPS_EPOCH + series.t_gpst_ns.astype("timedelta64[ns]")
    # Same epochs inside the slice. georinex rounds tags through floats (03:02:32.003999 for the
    # file's 32.0040000), ours are exact, hence the microsecond tolerance.
    tol = np.timedelta64(TAG_TOLERANCE_NS, "ns")
    inside = (our_t >= geo_t[0] - tol) & (our_t <= geo_t[-1] + tol)
    assert np.count_nonzero(inside) == geo_t.size
    assert np.all(np.abs(our_t[inside] - geo_t) <= tol)
    epochs = np.flatnonzero(inside)
    rows = np.arange(series.offsets[epochs[0]], series.offsets[epochs[-1] + 1])
    row_time = np.repeat(np.arange(epochs.size), np.diff(series.offsets)[epochs])
    svs = list(ds.sv.values)
    col = {sv: j for j, sv in enumerate(svs)}
    row_sv = [sv_name(int(s)) for s in series.sat[rows]]
    assert all(sv in col for sv in row_sv), "a satellite we read is unknown to georinex"
    row_col = np.array([col[sv] for sv in row_sv])
    n_checked = n_lli = 0
    seen = np.zeros((geo_t.size, len(svs)), dtype=bool)  # georinex (time, sv) with a C or L value
    for letter in {sv[0] for sv in svs}:
        codes = _file_codes(header, letter)
        mine = np.array([sv[0] == letter for sv in row_sv])
        r, t, c = rows[mine], row_time[mine], row_col[mine]
        for code, k, rank in codes:
            if code not in ds:
                continue
            geo = ds[code].values[t, c].astype(np.float64)
            geo[geo == 0.0] = np.nan
            if code[0] in "CL":
                grid = ds[code].values
                sys_cols = [j for j, sv in enumerate(svs) if sv[0] == letter]
                seen[:, sys_cols] |= np.isfinite(grid[:, sys_cols]) & (grid[:, sys_cols] != 0)
            chosen = series.code[r, k] == ord(code[2])
            ours = getattr(series, KIND_FIELDS[code[0]])[r, k].astype(np.float64)
            want = geo.astype(np.float32) if code[0] in "DS" else geo
            np.testing.assert_array_equal(ours[chosen], want[chosen], err_msg=f"{key} {letter} {code}")
            n_checked += int(np.count_nonzero(np.isfinite(want[chosen])))
            if code[0] == "L" and f"{code}lli" in ds:
                geo_lli = np.nan_to_num(ds[f"{code}lli"].values[t, c], nan=0.0)
                has_phase = chosen & np.isfinite(ours)
                np.testing.assert_array_equal(series.lli[r, k][has_phase], geo_lli[has_phase], err_msg=f"{code} LLI")
                n_lli += int(np.count_nonzero(geo_lli[has_phase]))
            if code[0] in "CL":
                # No better-ranked mode may have been passed over, no slot left empty by mistake.
                our_rank = np.array([attribute_rank(SYSTEMS.index(letter), k, chr(a)) if a else 99
                                     for a in series.code[r, k]])
                assert not np.any(np.isfinite(geo) & (rank < our_rank)), f"{key} {code}: better mode skipped"
    assert n_checked > 1000
    assert key not in LLI_FILES or n_lli > 10
    # Every (epoch, satellite) georinex has a pseudorange or phase for is one of our rows.
    assert int(np.count_nonzero(seen)) == rows.size
    assert int(SAT_SYSTEM[series.sat[rows]].size) == rows.size
