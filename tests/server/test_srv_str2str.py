"""RTKLIB str2str as independent NTRIP 1 source and client: the relay is byte for byte."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest
from conftest import rtklib_tool
from srv_service import RunningService, rtcm_stream

from gnssaug.server.settings import Settings

pytestmark = pytest.mark.rtklib


def _wait_file(path, size, timeout_s):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if path.exists() and path.stat().st_size >= size:
            return
        time.sleep(0.05)


def test_str2str_source_to_str2str_client_byte_for_byte(tmp_path, data_dir):
    """str2str (NTRIP 1 SOURCE) -> caster -> str2str (NTRIP 1 client) -> file equals the recording.

    The recording reaches the uploading str2str through a local TCP socket once its upload is
    accepted, at a steady rate: str2str discards input read while its output is still connecting
    or momentarily not writable, and the caster relays only what it receives.
    """
    str2str = rtklib_tool("str2str")
    stream = rtcm_stream(data_dir, repeat=40)  # ~184 kB of real frames of 35 message types
    received = tmp_path / "received.rtcm3"
    feeder = socket.create_server(("127.0.0.1", 0))
    feed_port = feeder.getsockname()[1]
    settings = Settings(data_dir=tmp_path / "svc")
    procs = []
    with RunningService(settings) as svc:
        svc.registry.add_station("STR2STR0", "srcpw", llh_deg_m=(35.15, 136.96, 60.0))
        svc.registry.add_user("rover", "roverpw")
        port = svc.ntrip_port
        try:
            procs.append(subprocess.Popen([str2str, "-in", f"ntrip://rover:roverpw@127.0.0.1:{port}/STR2STR0",
                                           "-out", f"file://{received}"], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
            svc.wait_for(lambda: svc.hub.subscribers("STR2STR0") == 1, timeout=15, what="str2str client")
            procs.append(subprocess.Popen([str2str, "-in", f"tcpcli://127.0.0.1:{feed_port}",
                                           "-out", f"ntrips://:srcpw@127.0.0.1:{port}/STR2STR0"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            feeder.settimeout(15)
            conn, _ = feeder.accept()
            svc.wait_for(lambda: "STR2STR0" in svc.caster.sources, timeout=15, what="str2str upload")
            for i in range(0, len(stream), 2048):  # ~200 kB/s: str2str drops input its output cannot take at once
                conn.sendall(stream[i:i + 2048])
                time.sleep(0.01)
            _wait_file(received, len(stream), 30)
            time.sleep(0.3)  # nothing more may arrive
            conn.close()
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(5)
            feeder.close()
        svc.wait_for(lambda: not svc.caster.sources, what="upload end")
        sessions = [r for r in svc.registry.sessions() if r.kind == "source"]
    assert received.read_bytes() == stream
    assert sessions[0].mount == "STR2STR0" and sessions[0].bytes_in == len(stream)
