"""StreamDecoder and batch decoding: any split of a byte stream into reads gives exactly what decode_many gives
for the whole stream, and a batch of any mix of messages (valid, malformed) decodes as one by one."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gnssaug.rtcm.codec import StreamDecoder, decode, decode_many, encode
from gnssaug.rtcm.epochs import MsmEncoder
from gnssaug.rtcm.framing import frame, iter_frames
from gnssaug.rtcm.msm import Msm

SAMPLES = ("pygpsdata-MIXED-RTCM3.log", "pygpsdata-NTRIP-USCL00CHL0.log", "pygpsdata-RTCMMSM3.log")
N_EPOCH = 6


def _same(a, b) -> bool:
    # Decoded messages are equal; errors are equal when of the same class with the same message.
    if isinstance(a, Exception) or isinstance(b, Exception):
        return type(a) is type(b) and str(a) == str(b)
    return a == b


def _decode_or_error(payload):
    try:
        return decode(payload)
    except Exception as exc:  # noqa: BLE001 - compared with the batch's error
        return exc


@pytest.fixture(scope="module")
def mixed_stream(data_dir, nagoya_dir):
    """Real captures (MSM3/4/5/7 of several systems, 1005, 1007, 1033, ephemerides), Nagoya epochs as MSM7
    and MSM4 from two stations, with garbage, a frame with a bad CRC and a cut frame in between."""
    from gnssaug.datasets.rinex.obs import read_obs

    header, series = read_obs(nagoya_dir / "base.obs")
    epochs = [series.epoch(i) for i in range(N_EPOCH)]
    parts = [(data_dir / "rtcm3_samples" / name).read_bytes() for name in SAMPLES]
    for level, station in ((7, 3), (4, 4)):
        enc = MsmEncoder(level, station_id=station, glo_fcn=header.glo_fcn)
        parts.append(b"".join(frame(encode(m)) for e in epochs for m in enc.encode(e)))
    good = frame(parts[-1][3:40])  # a frame whose payload is a cut MSM (decodes to an error)
    bad_crc = bytearray(parts[-2][:200])
    bad_crc[50] ^= 0x10
    return b"".join((parts[0], b"\x00\xd3\x00garbage", parts[3], bytes(bad_crc), good, parts[1], parts[4],
                     b"\xd3\x00\x05ab", parts[2]))


@pytest.fixture(scope="module")
def expected(mixed_stream):
    frames = iter_frames(mixed_stream)
    return frames, decode_many(frames)


def test_whole_stream_has_every_kind(expected):
    frames, messages = expected
    kinds = {type(m).__name__ for m in messages}
    assert {"Msm", "Message", "Unknown"} <= kinds or {"Msm", "Message"} <= kinds
    assert any(isinstance(m, Exception) for m in messages)  # the cut MSM
    levels = {m.msg_type % 10 for m in messages if isinstance(m, Msm)}
    assert {3, 4, 7} <= levels
    # decode_many is decode, message by message
    assert all(_same(m, _decode_or_error(f)) for f, m in zip(frames, messages, strict=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_read_splits_give_the_messages_of_decode_many(mixed_stream, expected, data):
    frames, messages = expected
    n = len(mixed_stream)
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=80), label="cuts"))
    sd = StreamDecoder()
    got = []
    for a, b in zip([0, *cuts], [*cuts, n], strict=True):
        got += sd.feed(mixed_stream[a:b])
    assert [f for f, _ in got] == frames
    assert all(_same(m, e) for (_, m), e in zip(got, messages, strict=True))
    assert sd.decode_errors == sum(isinstance(m, Exception) for m in messages)


@pytest.mark.parametrize("read_size", [1, 97, 1024, 4096, 65536])
def test_fixed_read_sizes(mixed_stream, expected, read_size):
    frames, messages = expected
    sd = StreamDecoder()
    got = [x for i in range(0, len(mixed_stream), read_size) for x in sd.feed(mixed_stream[i:i + read_size])]
    assert [f for f, _ in got] == frames
    assert all(_same(m, e) for (_, m), e in zip(got, messages, strict=True))


def test_batches_of_mutated_messages_decode_as_one_by_one(expected):
    # Random runs of valid and mutated payloads (masks, lengths, bits): the batch path with its cached
    # layouts gives what decode gives for each message, errors included.
    frames, _ = expected
    payloads = [f.payload for f in frames]
    rng = random.Random(7)
    for _ in range(300):
        run = []
        for p in rng.sample(payloads, rng.randint(1, 12)):
            b = bytearray(p)
            kind = rng.randrange(4)
            if kind == 1 and b:
                del b[rng.randrange(len(b) + 1):]
            elif kind == 2 and len(b) > 12:
                b[rng.randrange(9, min(len(b), 30))] = rng.randrange(256)
            elif kind == 3 and b:
                i = rng.randrange(len(b) * 8)
                b[i // 8] ^= 0x80 >> (i % 8)
            run.append(bytes(b))
        batch = decode_many(run)
        for p, m in zip(run, batch, strict=True):
            assert _same(m, _decode_or_error(p)), p.hex()


def test_batch_arrays_are_views_of_their_own_message(expected):
    # Messages of one batch never share array memory (writing to one leaves the others alone).
    frames, _ = expected
    run = [f.payload for f in frames if f.msg_type % 10 == 7 and 1071 <= f.msg_type <= 1137][:6]
    decoded = decode_many(run)
    before = [m.fine_pr_ms.copy() for m in decoded]
    decoded[0].fine_pr_ms[:] = 1.0
    decoded[0].rough_range_ms[:] = 1.0
    for m, b in zip(decoded[1:], before[1:], strict=True):
        assert np.array_equal(m.fine_pr_ms, b, equal_nan=True)
    assert [m == decode(p) for m, p in zip(decoded[1:], run[1:], strict=True)] == [True] * (len(run) - 1)


def test_run_layout_cache_stays_bounded(expected, monkeypatch):
    # Runs are cached until the cache holds its bound of fields, then it starts afresh; long batches are
    # decoded as bounded runs; every way gives the same messages.
    from gnssaug.rtcm import msm

    frames, messages = expected
    msm_frames = [f for f in frames if msm.is_msm(f.msg_type)]
    whole = decode_many(msm_frames)
    monkeypatch.setattr(msm, "_LAYOUT_TOTAL_MAX", 3000)
    monkeypatch.setattr(msm, "_RUN", 5)
    msm._LAYOUT_CACHE.clear()
    msm._LAYOUT_FIELDS[0] = 0
    runs = [msm_frames[i:i + 3] for i in range(0, len(msm_frames), 3)]
    got = [m for run in runs for m in decode_many(run)]
    assert 0 < msm._LAYOUT_FIELDS[0] <= 3000
    assert sum(len(lay.scale) for lay in msm._LAYOUT_CACHE.values()) == msm._LAYOUT_FIELDS[0]
    assert all(_same(a, b) for a, b in zip(got, whole, strict=True))
    assert all(_same(a, b) for a, b in zip(decode_many(msm_frames), whole, strict=True))  # runs of 5
