"""Fuzz: 100,000+ mutated and random frames; only RtcmError may escape, and valid frames after garbage are found."""

from __future__ import annotations

import random

from gnssaug.rtcm.codec import decode
from gnssaug.rtcm.epochs import EpochAssembler
from gnssaug.rtcm.errors import RtcmError
from gnssaug.rtcm.framing import Deframer, frame, iter_frames
from gnssaug.rtcm.layouts import LAYOUTS
from gnssaug.rtcm.msm import MSM_SYSTEM

SAMPLES = ("pygpsdata-MIXED-RTCM3.log", "pygpsdata-NTRIP-USCL00CHL0.log", "pygpsdata-RTCM3.log",
           "pygpsdata-RTCMMSM3.log")
N_MUTATED = 70_000
N_RANDOM = 30_000


def _sample_payloads(data_dir):
    out = []
    for name in SAMPLES:
        out += [f.payload for f in iter_frames((data_dir / "rtcm3_samples" / name).read_bytes())]
    return out


def _mutate(rng: random.Random, p: bytes) -> bytes:
    b = bytearray(p)
    kind = rng.randrange(5)
    if kind == 0 and b:  # flip bits
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b) * 8)
            b[i // 8] ^= 0x80 >> (i % 8)
    elif kind == 1:  # truncate
        del b[rng.randrange(len(b) + 1):]
    elif kind == 2 and len(b) > 12:  # corrupt the MSM masks region
        for i in range(rng.randint(7, 12), min(len(b), 30)):
            b[i] = rng.randrange(256)
    elif kind == 3:  # extend with noise
        b += rng.randbytes(rng.randrange(40))
    else:  # another message type on this body
        t = rng.choice([*LAYOUTS, *(g * 10 + k for g in MSM_SYSTEM for k in range(1, 8)), rng.randrange(4096)])
        if len(b) >= 2:
            b[0], b[1] = t >> 4, ((t & 0xF) << 4) | (b[1] & 0x0F)
    return bytes(b[:1023])


def _random_payload(rng: random.Random) -> bytes:
    t = rng.choice([*LAYOUTS, *(g * 10 + k for g in MSM_SYSTEM for k in range(1, 8))])
    body = rng.randbytes(rng.randrange(0, 300))
    head = bytes((t >> 4, ((t & 0xF) << 4) | rng.randrange(16)))
    return head + body


def test_fuzzed_frames_raise_only_rtcm_errors(data_dir):
    rng = random.Random(20240624)
    samples = _sample_payloads(data_dir)
    decoded = errors = 0
    assembler = EpochAssembler(1_313_000_000 * 10**9)  # the captures are from 2021
    for i in range(N_MUTATED + N_RANDOM):
        payload = _mutate(rng, rng.choice(samples)) if i < N_MUTATED else _random_payload(rng)
        try:
            # decoding, and turning observations into epochs, may only fail with the codec's error
            assembler.feed(decode(payload))
            decoded += 1
        except RtcmError:
            errors += 1
    assert decoded + errors == N_MUTATED + N_RANDOM
    assert decoded > 1000 and errors > 1000  # both paths were exercised


def test_valid_frames_found_after_garbage(data_dir):
    rng = random.Random(7)
    samples = _sample_payloads(data_dir)
    good = [frame(p) for p in samples]
    stream = bytearray()
    expected = []
    for _ in range(3000):
        stream += rng.randbytes(rng.randrange(0, 60))
        if rng.random() < 0.2:  # a corrupt frame (bad CRC) or a cut one
            f = bytearray(rng.choice(good))
            if rng.random() < 0.5:
                f[rng.randrange(3, len(f))] ^= 1 << rng.randrange(8)
            else:
                del f[rng.randrange(3, len(f)):]
            stream += f
        f = rng.choice(good)
        stream += f
        expected.append(f)
    d = Deframer()
    found = []
    pos = 0
    while pos < len(stream):  # random chunking, as from a socket
        n = rng.randrange(1, 4000)
        found += [f.raw for f in d.feed(bytes(stream[pos:pos + n]))]
        pos += n
    # every valid frame is recovered (noise may add a rare chance frame with a valid CRC: tolerate none here)
    it = iter(found)
    assert all(any(f == g for g in it) for f in expected)
    assert len(found) - len(expected) <= 2
    assert d.crc_errors > 0 and d.dropped_bytes > 0
