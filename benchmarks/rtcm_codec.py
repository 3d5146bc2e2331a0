"""RTCM 3 codec throughput: MSM7 decode MB/s against pyrtcm on the same bytes, and encode messages/s.

Input: the Nagoya base observations (GPS, GLONASS, Galileo, QZSS, BeiDou; 301 epochs) encoded to MSM7.
Decode covers deframing (CRC-24Q) and message decoding to arrays; pyrtcm parses the same frames
(``RTCMReader.parse``, its default scaling). Times are CPU seconds of this process (one core),
best of several runs, so other load on the machine does not count. Run: ``.venv/bin/python benchmarks/rtcm_codec.py``.
Targets (issue 3): decode >= 20 MB/s on one core, >= 30x pyrtcm.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from gnssaug.datasets.paths import shared_data_dir
from gnssaug.datasets.rinex.obs import read_obs
from gnssaug.rtcm.codec import decode, decode_many, encode
from gnssaug.rtcm.epochs import MsmEncoder
from gnssaug.rtcm.framing import Deframer, frame


def _best(fn, repeat: int) -> float:
    # CPU time of this process (one core; the machine is shared), best of ``repeat``.
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main() -> int:
    """Print decode and encode figures."""
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else shared_data_dir() / "jp_nagoya_static_20240624" / "base.obs"
    header, series = read_obs(data)
    encoder = MsmEncoder(7, station_id=1, glo_fcn=header.glo_fcn)
    epochs = list(series)
    msms = [m for e in epochs for m in encoder.encode(e)]
    stream = b"".join(frame(encode(m)) for m in msms)
    mb = len(stream) / 1e6
    print(f"input: {len(epochs)} epochs, {len(msms)} MSM7 frames, {len(stream)} bytes "
          f"(mean {len(stream) / len(msms):.0f} B/frame)")

    def ours():
        decode_many(Deframer().feed(stream))

    def ours_one_by_one():
        for f in Deframer().feed(stream):
            decode(f)

    ours()  # warm the caches (CRC table, MSM field plans)
    ours_one_by_one()
    t_ours = _best(ours, 5)
    t_single = _best(ours_one_by_one, 3)
    print(f"gnssaug decode (batch, decode_many) : {mb / t_ours:8.2f} MB/s  ({len(msms) / t_ours:9.0f} msg/s)")
    print(f"gnssaug decode (one by one, decode) : {mb / t_single:8.2f} MB/s  ({len(msms) / t_single:9.0f} msg/s)")

    from pyrtcm import RTCMReader

    frames = Deframer().feed(stream)
    subset = frames[: max(1, len(frames) // 10)]  # pyrtcm is slow: time a tenth, scale by bytes
    sub_mb = sum(len(f.raw) for f in subset) / 1e6

    def peer():
        for f in subset:
            RTCMReader.parse(f.raw)

    t_peer = _best(peer, 1)
    peer_mbps = sub_mb / t_peer
    print(f"pyrtcm parse   : {peer_mbps:8.3f} MB/s  ({len(subset) / t_peer:9.0f} msg/s)")
    print(f"decode ratio   : {mb / t_ours / peer_mbps:8.1f}x pyrtcm (batch), "
          f"{mb / t_single / peer_mbps:.1f}x (one by one)")

    t_enc = _best(lambda: [encode(m) for m in msms], 3)
    print(f"encode (Msm -> payload) : {len(msms) / t_enc:9.0f} msg/s")
    sample = epochs[:60]
    enc = MsmEncoder(7, station_id=1, glo_fcn=header.glo_fcn)
    t_full = _best(lambda: [frame(encode(m)) for e in sample for m in enc.encode(e)], 1)
    n_full = sum(len(enc.encode(e)) for e in sample)
    print(f"encode (ObsEpoch -> frames) : {n_full / t_full:9.0f} msg/s, {len(sample) / t_full:7.1f} epochs/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
