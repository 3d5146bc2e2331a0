"""Framing and CRC-24Q: the sans-IO deframer against real captures, garbage, truncation and chunking."""

from __future__ import annotations

import os
import random

import pytest
from pyrtcm.rtcmhelpers import calc_crc24q

from gnssaug.rtcm.crc import _crc_loop, crc24q
from gnssaug.rtcm.errors import FramingError, RtcmError
from gnssaug.rtcm.framing import Deframer, Frame, frame, iter_frames

SAMPLES = ("pygpsdata-MIXED-RTCM3.log", "pygpsdata-NTRIP-USCL00CHL0.log", "pygpsdata-RTCM3.log",
           "pygpsdata-RTCMMSM3.log")


@pytest.mark.parametrize("n", [0, 1, 3, 50, 95, 96, 97, 300, 1026])
def test_crc24q_matches_pyrtcm(n):
    data = random.Random(n).randbytes(n)
    assert crc24q(data) == calc_crc24q(data) == _crc_loop(data)


def test_crc24q_known_vector():
    # A frame's CRC over header + payload + CRC is zero for this non-reflected CRC.
    raw = frame(bytes.fromhex("3ed00000"))
    assert crc24q(raw) == 0


def test_frame_roundtrip_and_station_id():
    payload = bytes.fromhex("3ed0123456789a")  # type 1005, station 0x012
    f = iter_frames(frame(payload))
    assert f == [Frame(1005, payload, frame(payload))]
    assert f[0].station_id == 0x012
    assert Frame(1019, b"\x3f\xb0\x12", b"").station_id is None


def test_frame_writer_rejects_oversize():
    with pytest.raises(FramingError, match="1024"):
        frame(bytes(1024))
    with pytest.raises(RtcmError):
        frame(bytes(2000))


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_deframe_without_loss(data_dir, name):
    raw = (data_dir / "rtcm3_samples" / name).read_bytes()
    d = Deframer()
    frames = d.feed(raw)
    assert frames and d.frames == len(frames)
    assert d.crc_errors == 0
    assert sum(len(f.raw) for f in frames) + d.dropped_bytes + d.pending == len(raw)
    # byte-at-a-time feeding gives the same frames
    d2 = Deframer()
    again = [f for b in raw[:4000] for f in d2.feed(bytes([b]))]
    assert again == frames[: len(again)] and again


def test_garbage_bad_crc_and_truncation_resync():
    good = [frame(bytes([0x3E, 0xD0 | k, k, 1, 2, 3])) for k in range(5)]
    bad = bytearray(good[1])
    bad[5] ^= 0x40  # corrupt the payload: CRC fails
    truncated = good[2][:7]
    stream = os.urandom(0) + b"\x00\xd3\xff garbage \xd3" + good[0] + bytes(bad) + truncated + good[3] + good[4][:-2]
    d = Deframer()
    frames = d.feed(stream)
    assert [f.raw for f in frames] == [good[0], good[3]]
    assert d.crc_errors >= 1
    frames += d.feed(good[4][-2:])
    assert [f.raw for f in frames] == [good[0], good[3], good[4]]
    assert d.flush() == 0
    d.feed(good[0][:5])
    assert d.flush() == 5 and d.truncated == 1
    assert d.frames == 3


def test_empty_payload_frame():
    raw = frame(b"")
    (f,) = iter_frames(raw)
    assert f.msg_type == 0 and f.payload == b"" and f.station_id is None


def test_stream_decoder_in_chunks(data_dir):
    from gnssaug.rtcm.codec import StreamDecoder, decode
    from gnssaug.rtcm.msm import Msm

    raw = (data_dir / "rtcm3_samples" / "pygpsdata-NTRIP-USCL00CHL0.log").read_bytes()
    expected = iter_frames(raw)
    dec = StreamDecoder()
    got = []
    for i in range(0, len(raw), 97):
        got += dec.feed(b"\xd3\x00" + raw[i:i + 97] if i == 0 else raw[i:i + 97])
    assert [f for f, _ in got] == expected
    assert all(m == decode(f) for f, m in got)
    assert any(isinstance(m, Msm) for _, m in got) and dec.decode_errors == 0


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("block", [1 << 16, 3000])
def test_frames_valid_matches_crc24q_over_long_chains(seed, block, monkeypatch):
    # Runs of frames spanning several position-table windows (and blocks), some corrupted, starting anywhere.
    import itertools

    import numpy as np

    from gnssaug.rtcm import crc
    from gnssaug.rtcm.crc import frames_valid

    monkeypatch.setattr(crc, "_BLOCK", block)

    rng = random.Random(seed)
    frames = [frame(rng.randbytes(rng.randrange(0, 1024))) for _ in range(rng.randint(1, 40))]
    raw = bytearray(b"".join(frames))
    starts = list(itertools.accumulate([0] + [len(f) for f in frames[:-1]]))
    for k in rng.sample(range(len(frames)), k=len(frames) // 3):
        raw[starts[k] + rng.randrange(len(frames[k]))] ^= 1 << rng.randrange(8)
    offset = rng.randrange(3000)
    buf = np.frombuffer(rng.randbytes(offset) + bytes(raw) + rng.randbytes(9), np.uint8)
    got = frames_valid(buf, [s + offset for s in starts], offset + len(raw))
    want = [crc24q(bytes(raw[s:s + len(f)])) == 0 for s, f in zip(starts, frames, strict=True)]
    assert got == want
    assert all(want) == (len(frames) < 3)  # a third of the frames are corrupted
