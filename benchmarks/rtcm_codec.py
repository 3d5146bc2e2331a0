"""RTCM 3 codec throughput on every decode path the service uses, against pyrtcm on the same bytes.

Input: the Nagoya base observations (GPS, GLONASS, Galileo, QZSS, BeiDou; 301 epochs) encoded to MSM7,
six messages per epoch. Every path covers deframing (CRC-24Q) and decoding every field to arrays:

- batch: a whole file, ``decode_many(Deframer().feed(data))``;
- single frame: the same frames, ``decode(frame)`` one by one (deframing included; also shown without);
- stream: :class:`StreamDecoder` fed socket-sized reads of 1 kB, 4 kB and 64 kB, and one read per epoch
  (a station uploads one epoch per second, as one TCP read) -- the station ingest's path.

pyrtcm parses the same frames (``RTCMReader.parse``, its default scaling); each path's ratio is its MB/s
over pyrtcm's. Figures are CPU time of this process (``time.process_time``, one core) and wall time,
each the best of several rounds; the paths take turns within a round, so a busy shared machine slows
them alike. The load average is printed at the start and end. Every path runs once before timing, so the
caches of field plans and run layouts are warm, as in a service that has seen its stations' first epochs.
Encode figures follow.
Run: ``.venv/bin/python benchmarks/rtcm_codec.py [obs file] [--strict]``; ``--strict`` exits 1 when a
target is missed. Targets (issue 3), for every decode path: >= 20 MB/s of MSM7 on one core (CPU time)
and >= 30x pyrtcm.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from gnssaug.datasets.paths import shared_data_dir
from gnssaug.datasets.rinex.obs import read_obs
from gnssaug.rtcm.codec import StreamDecoder, decode, decode_many, encode
from gnssaug.rtcm.epochs import MsmEncoder
from gnssaug.rtcm.framing import Deframer, frame

TARGET_MBPS = 20.0
TARGET_RATIO = 30.0
ROUNDS = 15


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f} on {} CPUs".format(*os.getloadavg(), os.cpu_count())


def _rounds(paths: dict, rounds: int) -> dict:
    # Best (CPU, wall) seconds of each path over ``rounds`` rounds; the paths take turns in each round.
    best = {name: (float("inf"), float("inf")) for name in paths}
    for _ in range(rounds):
        for name, fn in paths.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
    return best


def _stream_path(reads: list[bytes]):
    def run():
        sd = StreamDecoder()
        for r in reads:
            sd.feed(r)
    return run


def main() -> int:
    """Print decode figures of every path and encode figures; with ``--strict``, exit 1 on a missed target."""
    args = [a for a in sys.argv[1:] if a != "--strict"]
    data = Path(args[0]) if args else shared_data_dir() / "jp_nagoya_static_20240624" / "base.obs"
    header, series = read_obs(data)
    encoder = MsmEncoder(7, station_id=1, glo_fcn=header.glo_fcn)
    epochs = list(series)
    per_epoch = [b"".join(frame(encode(m)) for m in encoder.encode(e)) for e in epochs]
    stream = b"".join(per_epoch)
    frames = Deframer().feed(stream)
    mb = len(stream) / 1e6
    print(_load())
    print(f"input: {len(epochs)} epochs, {len(frames)} MSM7 frames, {len(stream)} bytes "
          f"(mean {len(stream) / len(frames):.0f} B/frame, {len(stream) / len(epochs):.0f} B/epoch)")

    def batch():
        decode_many(Deframer().feed(stream))

    def single():
        for f in Deframer().feed(stream):
            decode(f)

    def single_only():
        for f in frames:
            decode(f)

    paths = {"batch, decode_many (whole file)": batch, "single frame, decode(frame)": single,
             "  (decode(frame) alone, no deframing)": single_only}
    for size in (1024, 4096, 65536):
        paths[f"stream, StreamDecoder {size // 1024} kB reads"] = _stream_path(
            [stream[i:i + size] for i in range(0, len(stream), size)])
    paths["stream, StreamDecoder one read/epoch"] = _stream_path(per_epoch)
    from pyrtcm import RTCMReader

    subset = frames[: max(1, len(frames) // 20)]  # pyrtcm is slow: time a twentieth, scale by bytes
    sub_mb = sum(len(f.raw) for f in subset) / 1e6

    def peer():
        for f in subset:
            RTCMReader.parse(f.raw)

    for fn in paths.values():  # warm the caches (CRC table, field plans and layouts)
        fn()
    best = _rounds({**paths, "pyrtcm": peer}, ROUNDS)  # the peer takes its turn in every round too
    t_peer, w_peer = best.pop("pyrtcm")
    peer_mbps = sub_mb / t_peer
    print(f"pyrtcm RTCMReader.parse : {peer_mbps:8.3f} MB/s CPU ({len(subset) / t_peer:6.0f} msg/s), "
          f"{sub_mb / w_peer:.3f} MB/s wall")
    print(f"{'gnssaug decode path':40s} {'MB/s CPU':>9s} {'msg/s CPU':>10s} {'MB/s wall':>10s} "
          f"{'x pyrtcm':>9s}  target {TARGET_MBPS:.0f} MB/s, {TARGET_RATIO:.0f}x")
    missed = []
    for name, (cpu, wall) in best.items():
        ratio = mb / cpu / peer_mbps
        ok = mb / cpu >= TARGET_MBPS and ratio >= TARGET_RATIO
        if not ok and not name.startswith(" "):  # indented: a part of a path, shown for information
            missed.append(name)
        print(f"{name:40s} {mb / cpu:9.2f} {len(frames) / cpu:10.0f} {mb / wall:10.2f} {ratio:8.1f}x  "
              f"{'met' if ok else 'MISSED'}")

    msms = [m for e in epochs[:100] for m in encoder.encode(e)]
    t_enc, _ = _rounds({"encode": lambda: [encode(m) for m in msms]}, 3)["encode"]
    print(f"encode (Msm -> payload)     : {len(msms) / t_enc:9.0f} msg/s CPU")
    sample = epochs[:60]
    enc = MsmEncoder(7, station_id=1, glo_fcn=header.glo_fcn)
    t_full, _ = _rounds({"full": lambda: [frame(encode(m)) for e in sample for m in enc.encode(e)]}, 1)["full"]
    n_full = sum(len(enc.encode(e)) for e in sample)
    print(f"encode (ObsEpoch -> frames) : {n_full / t_full:9.0f} msg/s, {len(sample) / t_full:7.1f} epochs/s CPU")
    print(_load())
    print("all decode targets met" if not missed else "targets missed: " + "; ".join(missed))
    return 1 if missed and "--strict" in sys.argv[1:] else 0


if __name__ == "__main__":
    raise SystemExit(main())
