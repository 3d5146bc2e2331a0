"""Re-encoded mountpoints: MSM7 in, MSM4 and legacy 1004/1012 out, checked with pyrtcm and the codec."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from srv_service import RunningService, connect_client, recv_for

from gnssaug.rtcm.codec import decode
from gnssaug.rtcm.epochs import EpochAssembler
from gnssaug.rtcm.framing import iter_frames
from gnssaug.server.profiles import profile_message_counts, split_profile
from gnssaug.server.replay import encode_rinex, epoch_groups
from gnssaug.server.settings import Settings


def test_split_and_counts():
    assert split_profile("BASE1_MSM4") == ("BASE1", "msm4") and split_profile("B_LEGACY") == ("B", "legacy")
    assert split_profile("BASE1") is None and split_profile("_MSM4") is None
    counts = {1006: 3, 1077: 30, 1127: 60, 1019: 5}
    assert profile_message_counts(counts, "msm4") == {1006: 3, 1074: 30, 1124: 60, 1019: 5}
    assert profile_message_counts(counts, "legacy") == {1006: 3, 1019: 5, 1004: 60, 1012: 60}


@pytest.fixture(scope="module")
def nagoya_groups(tmp_path_factory, nagoya_dir):
    out = tmp_path_factory.mktemp("enc") / "base.rtcm3"
    return epoch_groups(encode_rinex(nagoya_dir / "base.obs", out, nagoya_dir / "base.nav").read_bytes()[:])[:12]


def _client(port, mount):
    s = connect_client(port, mount)
    assert s.recv(12) == b"ICY 200 OK\r\n"
    return s


def test_msm4_and_legacy_profiles(tmp_path, nagoya_groups):
    from pyrtcm import RTCMReader

    with RunningService(Settings(data_dir=tmp_path)) as svc:
        svc.registry.add_station("NAG", "pw")
        svc.registry.add_user("al", "pw", max_sessions=3)
        clients = {m: _client(svc.ntrip_port, m) for m in ("NAG", "NAG_MSM4", "NAG_LEGACY")}
        svc.wait_for(lambda: all(svc.hub.subscribers(m) == 1 for m in clients))
        src = socket.create_connection(("127.0.0.1", svc.ntrip_port), timeout=5)
        src.sendall(b"SOURCE pw /NAG\r\n\r\n")
        assert src.recv(20) == b"ICY 200 OK\r\n"
        for _, g in nagoya_groups:
            src.sendall(g)
            time.sleep(0.05)
        got = {m: recv_for(s, 2.0) for m, s in clients.items()}
        st = svc.sync(svc.caster.sourcetable)
        src.close()
    raw = iter_frames(got["NAG"])
    msm4 = iter_frames(got["NAG_MSM4"])
    legacy = iter_frames(got["NAG_LEGACY"])
    assert {f.msg_type for f in raw} >= {1077, 1127}
    assert {f.msg_type for f in msm4 if 1070 < f.msg_type < 1140} == {1074, 1084, 1094, 1114, 1124}
    assert {f.msg_type for f in legacy if f.msg_type < 1013 and f.msg_type != 1006} == {1004, 1012}
    for f in msm4 + legacy:  # an independent decoder accepts every re-encoded frame
        assert RTCMReader.parse(f.raw).identity == str(f.msg_type)
    # the MSM4 epochs carry the same BeiDou pseudoranges as the MSM7 input (MSM4 resolution 2^-24 ms ~ 0.02 m)
    a7, a4 = EpochAssembler(0), EpochAssembler(0)
    e7 = [e for f in raw if f.msg_type in (1077, 1127) for e in a7.feed(decode(f))]
    e4 = [e for f in msm4 if f.msg_type in (1074, 1124) for e in a4.feed(decode(f))]
    e4_by_t = {e.t_gpst_ns: e for e in e4}
    common = [e for e in e7 if e.t_gpst_ns in e4_by_t]
    assert len(common) >= 8
    for e in common:
        f4 = e4_by_t[e.t_gpst_ns]
        assert np.array_equal(e.sat, f4.sat)
        ok = np.isfinite(e.pr_m) & np.isfinite(f4.pr_m)
        assert ok.sum() > 20 and np.max(np.abs(e.pr_m[ok] - f4.pr_m[ok])) < 0.03
    assert "STR;NAG_MSM4;" in st and "1124(" in st and "STR;NAG_LEGACY;" in st
