"""Station health from MSM headers: epochs, gaps, completeness, satellites, latency, outage."""

from __future__ import annotations

import pytest

from gnssaug.rtcm.framing import Frame
from gnssaug.stations.health import StationHealth, msm_header
from gnssaug.stations.ingest import StationIngest, arp_ecef_m


def _msm(msg_type: int, epoch: int, mmb: int, nsat: int) -> Frame:
    # DF002 12, DF003 12, epoch 30, DF393 1, IODS 3, reserved 7, clock steering 2, ext clock 2,
    # smoothing 1, interval 3, satellite mask 64 (RTCM 10403.3 Table 3.5-78), then padding
    bits = (msg_type << 132) | (7 << 120) | (epoch << 90) | (mmb << 89) | (((1 << nsat) - 1) << 7)
    payload = bits.to_bytes(18, "big") + bytes(8)
    return Frame(msg_type, payload, b"")


class Clock:
    def __init__(self):
        self.t = 1_700_000_000.0

    def __call__(self):
        return self.t


def test_msm_header_times():
    assert msm_header(_msm(1077, 345_600_000, 1, 9).payload) == ("GPS", 345_600_000, True, 9)
    assert msm_header(_msm(1127, 345_586_000, 0, 20).payload)[1] == 345_600_000  # BDT + 14 s
    day2_tod = (2 << 27) | (3 * 3600 * 1000 + 5000)  # Tuesday 03:00:05 Moscow = Tuesday 00:00:05 UTC
    assert msm_header(_msm(1087, day2_tod, 0, 5).payload)[1] == 2 * 86_400_000 + 5000 + 18_000
    assert msm_header(b"\x3e\xd0" + bytes(20)) is None  # 1005 is not an MSM


def test_epochs_gaps_completeness_outage():
    clock = Clock()
    h = StationHealth("M", outage_after_s=5.0, clock=clock)
    assert h.snapshot().state == "never"
    h.on_connect()
    for k in list(range(10)) + list(range(13, 20)):  # epochs 10, 11, 12 missing
        t_ms = 100_000_000 + 1000 * k
        h.on_data(100, [_msm(1077, t_ms, 1, 8), _msm(1127, t_ms - 14_000, 1, 30), _msm(1127, t_ms - 14_000, 0, 12)],
                  0, 0)
        clock.t += 1.0
    snap = h.snapshot()
    assert snap.state == "up" and snap.epochs == 17 and snap.gaps == 1 and snap.missing_epochs == 3
    assert snap.completeness == pytest.approx(17 / 20) and snap.interval_s == 1.0
    assert snap.satellites == {"GPS": 8, "BeiDou": 42}  # BDS split over two messages
    assert snap.latency_s is None  # 2023 wall clock vs these epoch times: not a live receiver
    assert snap.epochs_per_s == pytest.approx(1.0, rel=0.2)
    clock.t += 6.0
    snap = h.snapshot()
    assert snap.state == "outage" and snap.outages == 1 and snap.outage_since_s == pytest.approx(clock.t - 6.0 + 4.0)
    h.on_data(100, [_msm(1077, 100_030_000, 0, 8)], 2, 10)
    snap = h.snapshot()
    assert snap.state == "up" and snap.outage_since_s is None and snap.crc_errors == 2 and snap.dropped_bytes == 10


def test_arp_from_1005():
    from gnssaug.rtcm.codec import encode_frame
    from gnssaug.rtcm.messages import Message

    msg = Message(1005, {"station_id": 7, "itrf_year": 0, "gps": 1, "glonass": 1, "galileo": 1,
                         "reference_station": 0, "arp_x_m": -3_749_123.4567, "single_oscillator": 0,
                         "arp_y_m": 3_725_765.4321, "quarter_cycle": 0, "arp_z_m": 3_651_234.5678})
    raw = encode_frame(msg)
    assert arp_ecef_m(raw[3:-3]) == pytest.approx((-3_749_123.4567, 3_725_765.4321, 3_651_234.5678), abs=1e-4)
    ing = StationIngest("S")
    assert ing.feed(b"junk" + raw) == raw and ing.arp_ecef_m == pytest.approx(arp_ecef_m(raw[3:-3]))
