"""Property tests: decode(encode(m)) == m for every message type, values drawn from the DF tables."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rtcm_strategies import layout_values

from gnssaug.rtcm.codec import decode, encode, encode_frame
from gnssaug.rtcm.errors import FieldRangeError
from gnssaug.rtcm.framing import iter_frames
from gnssaug.rtcm.layouts import LAYOUTS
from gnssaug.rtcm.messages import Message
from gnssaug.rtcm.msm import LEVELS, MSM_SYSTEM, Msm


@pytest.mark.parametrize("msg_type", sorted(LAYOUTS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_table_message_roundtrip(msg_type, data):
    m = Message(msg_type, data.draw(layout_values(LAYOUTS[msg_type])))
    raw = encode_frame(m)
    (f,) = iter_frames(raw)
    assert decode(f) == m


def _cell_values(f, n, draw):
    if f.scale is None:
        return np.array(draw(st.lists(st.integers(0, (1 << f.width) - 1), min_size=n, max_size=n)))
    lo = -(1 << (f.width - 1)) if f.signed else 0
    hi = (1 << (f.width - 1)) - 1 if f.signed else (1 << f.width) - 1
    raws = draw(st.lists(st.one_of(st.integers(lo, hi).filter(lambda r: r != f.invalid), st.just(None)),
                         min_size=n, max_size=n))
    return np.array([math.nan if r is None else r * f.scale for r in raws], dtype=np.float64)


@st.composite
def msm_messages(draw):
    group = draw(st.sampled_from(sorted(MSM_SYSTEM)))
    level = draw(st.integers(1, 7))
    nsig = draw(st.integers(1, 6))
    nsat = draw(st.integers(0, min(64 // nsig, 12)))
    prn = sorted(draw(st.sets(st.integers(1, 64), min_size=nsat, max_size=nsat)))
    sig = sorted(draw(st.sets(st.integers(1, 32), min_size=nsig, max_size=nsig)))
    cells = np.array(draw(st.lists(st.booleans(), min_size=nsat * nsig, max_size=nsat * nsig)), dtype=bool)
    cell_mask = cells.reshape(nsat, nsig)
    ncell = int(cell_mask.sum())
    sat_fields, cell_fields = LEVELS[level]
    names = {f.name for f in sat_fields}
    if "rough_int" in names:
        ks = draw(st.lists(st.one_of(st.integers(0, 255 * 1024 - 1), st.just(None)), min_size=nsat, max_size=nsat))
    else:
        ks = draw(st.lists(st.integers(0, 1023), min_size=nsat, max_size=nsat))
    rough = np.array([math.nan if k is None else k / 1024 for k in ks], dtype=np.float64)
    values = {"ext_info": np.zeros(nsat, np.uint8), "rough_rate_mps": np.full(nsat, np.nan),
              "fine_pr_ms": np.full(ncell, np.nan), "fine_cp_ms": np.full(ncell, np.nan),
              "lock": np.zeros(ncell, np.uint16), "half_cycle": np.zeros(ncell, np.uint8),
              "cn0_dbhz": np.full(ncell, np.nan), "fine_rate_mps": np.full(ncell, np.nan)}
    for f in sat_fields:
        if f.name in ("ext_info", "rough_rate_mps"):
            values[f.name] = _cell_values(f, nsat, draw).astype(values[f.name].dtype)
    for f in cell_fields:
        values[f.name] = _cell_values(f, ncell, draw).astype(values[f.name].dtype)
    return Msm(
        group * 10 + level, draw(st.integers(0, 4095)), draw(st.integers(0, (1 << 27) - 1)),
        draw(st.integers(0, 7)) if group == 108 else 0, draw(st.integers(0, 1)), draw(st.integers(0, 7)),
        draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 1)), draw(st.integers(0, 7)),
        np.array(prn, dtype=np.uint8), np.array(sig, dtype=np.uint8), cell_mask, rough, **values,
    )


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=msm_messages())
def test_msm_roundtrip(m):
    (f,) = iter_frames(encode_frame(m))
    assert f.msg_type == m.msg_type
    assert decode(f) == m


def test_out_of_range_names_the_field():
    m = Message(1005, {"station_id": 1, "itrf_year": 0, "gps": 1, "glonass": 0, "galileo": 0,
                       "reference_station": 0, "arp_x_m": 1e8, "single_oscillator": 0, "arp_y_m": 0.0,
                       "quarter_cycle": 0, "arp_z_m": 0.0})
    with pytest.raises(FieldRangeError, match="DF025") as exc:
        encode(m)
    assert exc.value.field == "DF025"
    m.values["arp_x_m"] = float("nan")  # no invalid marker for coordinates
    with pytest.raises(FieldRangeError, match="DF025"):
        encode(m)
    m.values["arp_x_m"] = 1.0
    m.values["station_id"] = 4096
    with pytest.raises(FieldRangeError, match="DF003"):
        encode(m)


def test_msm_out_of_range_names_the_field():
    m = Msm(1077, 0, 0, 0, 0, 0, 0, 0, 0, 0, np.array([3], np.uint8), np.array([2], np.uint8),
            np.ones((1, 1), bool), np.array([70.5]), np.zeros(1, np.uint8), np.array([10.0]), np.array([0.01]),
            np.array([0.0]), np.zeros(1, np.uint16), np.zeros(1, np.uint8), np.array([40.0]), np.array([0.1]))
    with pytest.raises(FieldRangeError, match="DF405"):
        encode(m)
    m.fine_pr_ms[0] = 1e-5
    m.cn0_dbhz[0] = 100.0
    with pytest.raises(FieldRangeError, match="DF408"):
        encode(m)
    m.cn0_dbhz[0] = 40.0
    d = decode(encode(m))
    assert abs(d.fine_pr_ms[0] - 1e-5) <= 2.0**-30 and decode(encode(d)) == d


def test_missing_fine_phase_decodes_to_nan():
    m = Msm(1074, 0, 0, 0, 0, 0, 0, 0, 0, 0, np.array([3], np.uint8), np.array([2], np.uint8),
            np.ones((1, 1), bool), np.array([70.5]), np.zeros(1, np.uint8), np.full(1, np.nan), np.array([1e-5]),
            np.array([np.nan]), np.zeros(1, np.uint16), np.zeros(1, np.uint8), np.array([40.0]), np.full(1, np.nan))
    d = decode(encode(m))
    assert np.isnan(d.fine_cp_ms[0]) and d.fine_pr_ms[0] == pytest.approx(1e-5, abs=2**-24)
