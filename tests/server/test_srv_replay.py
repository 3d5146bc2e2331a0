"""Replay harness and ``gnssaug serve --demo``: stations from files through real NTRIP uploads."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest
from srv_service import RunningService, basic, rtcm_stream

from gnssaug.cli import main
from gnssaug.rtcm.framing import iter_frames
from gnssaug.server.replay import epoch_groups, schedule_s
from gnssaug.server.settings import Settings
from gnssaug.stations.ingest import StationIngest
from gnssaug.time import parse_time_arg


def _nagoya_rtcm(tmp_path, nagoya_dir):
    from gnssaug.server.replay import encode_rinex

    return encode_rinex(nagoya_dir / "base.obs", tmp_path / "base.rtcm3", nagoya_dir / "base.nav").read_bytes()


def test_epoch_groups_and_schedule(tmp_path, nagoya_dir):
    data = _nagoya_rtcm(tmp_path, nagoya_dir)
    groups = epoch_groups(data)
    assert len(groups) == 301  # one group per RINEX epoch (08:20:00-08:25:00 at 1 s)
    assert b"".join(g for _, g in groups) == b"".join(f.raw for f in iter_frames(data))
    offsets = schedule_s(groups, 1.0)
    assert offsets[0] == 0.0 and offsets[-1] == pytest.approx(300.0)
    assert schedule_s(groups, 10.0)[-1] == pytest.approx(30.0)
    assert set(schedule_s(groups, 0.0)) == {0.0}
    assert epoch_groups(b"") == [] and epoch_groups(b"no frames here") == []
    # decoded with the recording's date as time reference, the epochs keep their real date
    ing = StationIngest("NAG", t_ref_gpst_ns=parse_time_arg("2024-06-24T08:00:00"))
    ing.feed(data)
    assert ing.decoder.epochs == 301 and ing.decoder.summary()["last_epoch_gpst"] == "2024-06-24T08:25:00.000"


def test_replay_command_uploads_at_speed(tmp_path, data_dir):
    stream_file = tmp_path / "uscl.rtcm3"
    stream = rtcm_stream(data_dir, repeat=3)
    stream_file.write_bytes(stream)
    with RunningService(Settings(data_dir=tmp_path / "svc")) as svc:
        svc.registry.add_station("R1", "pw")
        svc.registry.add_station("R2", "pw")
        rc = main(["replay", f"R1={stream_file}", f"R2={stream_file}", "--caster", f"127.0.0.1:{svc.ntrip_port}",
                   "--password", "pw", "--speed", "0", "--ntrip-version", "2"])
        assert rc == 0
        svc.wait_for(lambda: all(svc.ingests.get(m).health.frames == 105 for m in ("R1", "R2")))
        assert svc.caster.hub.bytes_published["R1"] == len(stream)
        assert main(["replay", f"NOPE={stream_file}", "--caster", f"127.0.0.1:{svc.ntrip_port}",
                     "--password", "pw"]) == 2
    assert main(["replay", "R1", "--password", "x"]) == 2
    assert main(["replay", "R1=/no/such/file", "--password", "x"]) == 2


@pytest.mark.slow
def test_serve_demo_runs_streams_and_stops(tmp_path, data_dir):
    # no --host: the demo (whose password it prints) listens on loopback only by default
    proc = subprocess.Popen([sys.executable, "-m", "gnssaug", "serve", "--demo", "--duration", "12",
                             "--ntrip-port", "0", "--http-port", "0", "--data-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        end = time.monotonic() + 90
        while time.monotonic() < end and not any("Ctrl-C stops" in ln for ln in lines):
            time.sleep(0.2)
        text = "".join(lines)
        port = int(re.search(r"NTRIP caster on port (\d+) of 127\.0\.0\.1,", text).group(1))
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(f"GET /NAGOYA_B HTTP/1.0\r\nAuthorization: Basic {basic('demo', 'demo')}\r\n\r\n".encode())
        data = b""
        s.settimeout(1)
        t_end = time.monotonic() + 6
        while time.monotonic() < t_end:
            try:
                data += s.recv(65536)
            except TimeoutError:
                pass
        s.close()
        assert data.startswith(b"ICY 200 OK\r\n")
        types = {f.msg_type for f in iter_frames(data[12:])}
        assert {1077, 1127} <= types  # GPS and BeiDou MSM7 of the real Nagoya base
        assert proc.wait(60) == 0
    finally:
        proc.kill()
        reader.join(5)
    assert "gnssaug: stopped" in "".join(lines)
    assert len(list((tmp_path / "cache" / "gnssaug" / "demo").glob("*.rtcm3"))) == 2  # kept for the next demo


def test_replay_simulated_network_folder(tmp_path):
    sim_dir = tmp_path / "sim"
    assert main(["sim", "--stations", "HB01,HB02", "--duration", "5", "-o", str(sim_dir)]) == 0
    with RunningService(Settings(data_dir=tmp_path / "svc")) as svc:
        rc = main(["replay", str(sim_dir), "--register", str(tmp_path / "svc"), "--password", "pw",
                   "--caster", f"127.0.0.1:{svc.ntrip_port}", "--speed", "0"])
        assert rc == 0
        assert [s.mount for s in svc.registry.stations()] == ["HB01", "HB02"]
        assert all(s.xyz_ecef_m is not None for s in svc.registry.stations())  # from the RINEX headers
        svc.wait_for(lambda: all(svc.ingests.get(m).decoder.epochs == 5 for m in ("HB01", "HB02")),
                     what="5 simulated epochs decoded per station")
        snap = svc.sync(lambda: svc.ingests.get("HB01").health.snapshot())
        assert snap.satellites.get("BeiDou", 0) > 5 and snap.completeness == 1.0
