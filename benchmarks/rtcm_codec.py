"""RTCM 3 codec throughput: MSM7 decode MB/s against pyrtcm on the same bytes, and encode messages/s.

Input: the Nagoya base observations (GPS, GLONASS, Galileo, QZSS, BeiDou; 301 epochs) encoded to MSM7.
Decode covers deframing (CRC-24Q) and message decoding to arrays (every field decoded); pyrtcm parses
the same frames (``RTCMReader.parse``, its default scaling). Each figure is given as CPU time of this
process (``time.process_time``, one core; best of several runs, so waiting for other processes on a shared
machine does not count) and as wall time (``time.perf_counter``, best of the same runs), with the load
average at the start and end. Run: ``.venv/bin/python benchmarks/rtcm_codec.py [obs file] [--strict]``;
``--strict`` exits 1 when a target is missed.
Targets (issue 3): decode >= 20 MB/s on one core and >= 30x pyrtcm; our own aims: batch (``decode_many``,
the caster's :class:`StreamDecoder` path) >= 30 MB/s, one by one (``decode``) >= 20 MB/s, in CPU time.
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


def _best(fn, repeat: int) -> tuple[float, float]:
    # (CPU time of this process, wall time), each the best of ``repeat`` runs.
    cpu = wall = float("inf")
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    return cpu, wall


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f} on {} CPUs".format(*os.getloadavg(), os.cpu_count())


TARGET_MBPS = 20.0
TARGET_RATIO = 30.0


def main() -> int:
    """Print decode and encode figures; with ``--strict``, exit 1 when a decode target is missed."""
    args = [a for a in sys.argv[1:] if a != "--strict"]
    data = Path(args[0]) if args else shared_data_dir() / "jp_nagoya_static_20240624" / "base.obs"
    header, series = read_obs(data)
    encoder = MsmEncoder(7, station_id=1, glo_fcn=header.glo_fcn)
    epochs = list(series)
    msms = [m for e in epochs for m in encoder.encode(e)]
    stream = b"".join(frame(encode(m)) for m in msms)
    mb = len(stream) / 1e6
    print(_load())
    print(f"input: {len(epochs)} epochs, {len(msms)} MSM7 frames, {len(stream)} bytes "
          f"(mean {len(stream) / len(msms):.0f} B/frame)")

    def ours():
        decode_many(Deframer().feed(stream))

    def ours_one_by_one():
        for f in Deframer().feed(stream):
            decode(f)

    chunks = [stream[i:i + 4096] for i in range(0, len(stream), 4096)]

    def ours_stream():  # the caster's path: socket-sized reads through StreamDecoder
        sd = StreamDecoder()
        for c in chunks:
            sd.feed(c)

    ours()  # warm the caches (CRC table, MSM field plans)
    ours_one_by_one()
    ours_stream()
    runs = {"batch, decode_many": (ours, 9), "stream, StreamDecoder 4 kB reads": (ours_stream, 9),
            "one by one, decode": (ours_one_by_one, 7)}
    cpu_mbps = {}
    for name, (fn, repeat) in runs.items():
        cpu, wall = _best(fn, repeat)
        cpu_mbps[name] = mb / cpu
        print(f"gnssaug decode ({name:32s}): {mb / cpu:7.2f} MB/s CPU ({len(msms) / cpu:7.0f} msg/s), "
              f"{mb / wall:7.2f} MB/s wall")

    from pyrtcm import RTCMReader

    frames = Deframer().feed(stream)
    subset = frames[: max(1, len(frames) // 10)]  # pyrtcm is slow: time a tenth, scale by bytes
    sub_mb = sum(len(f.raw) for f in subset) / 1e6

    def peer():
        for f in subset:
            RTCMReader.parse(f.raw)

    t_peer, w_peer = _best(peer, 2)
    peer_mbps = sub_mb / t_peer
    print(f"pyrtcm parse   : {peer_mbps:8.3f} MB/s CPU ({len(subset) / t_peer:7.0f} msg/s), "
          f"{sub_mb / w_peer:.3f} MB/s wall")
    ratios = {k: v / peer_mbps for k, v in cpu_mbps.items()}
    print("decode ratio   : " + ", ".join(f"{r:.1f}x pyrtcm ({k.split(',')[0]})" for k, r in ratios.items()))

    t_enc, _ = _best(lambda: [encode(m) for m in msms], 3)
    print(f"encode (Msm -> payload) : {len(msms) / t_enc:9.0f} msg/s CPU")
    sample = epochs[:60]
    enc = MsmEncoder(7, station_id=1, glo_fcn=header.glo_fcn)
    t_full, _ = _best(lambda: [frame(encode(m)) for e in sample for m in enc.encode(e)], 1)
    n_full = sum(len(enc.encode(e)) for e in sample)
    print(f"encode (ObsEpoch -> frames) : {n_full / t_full:9.0f} msg/s, {len(sample) / t_full:7.1f} epochs/s CPU")
    print(_load())
    # The target, applied to every decode path: >= 20 MB/s of MSM7 on one core, >= 30x pyrtcm.
    missed = []
    for path, mbps in cpu_mbps.items():
        ratio = ratios.get(path)
        ok = mbps >= TARGET_MBPS and (ratio is None or ratio >= TARGET_RATIO)
        print(f"target {TARGET_MBPS:.0f} MB/s and {TARGET_RATIO:.0f}x pyrtcm, {path}: {'met' if ok else 'MISSED'}")
        if not ok:
            missed.append(path)
    return 1 if missed and "--strict" in sys.argv[1:] else 0


if __name__ == "__main__":
    raise SystemExit(main())
