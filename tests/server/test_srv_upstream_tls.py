"""Pulling a station from an upstream caster, and the NTRIP port over TLS."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time

import pytest
from srv_service import RunningService, basic, raw_request, rtcm_stream

from gnssaug.server.settings import Settings
from gnssaug.stations.registry import Registry


@pytest.mark.parametrize("scheme", ["ntrip", "ntrip2"])
def test_pull_station_from_upstream_caster(tmp_path, data_dir, scheme):
    stream = rtcm_stream(data_dir, repeat=2)
    with RunningService(Settings(data_dir=tmp_path / "up")) as up:
        up.registry.add_station("ORIG", "pw")
        up.registry.add_user("puller", "ppw")
        reg = Registry.in_dir(tmp_path / "down")  # configured before the downstream caster starts
        reg.add_station("COPY", "unused", upstream=f"{scheme}://puller:ppw@127.0.0.1:{up.ntrip_port}/ORIG")
        reg.add_user("al", "pw")
        reg.close()
        with RunningService(Settings(data_dir=tmp_path / "down")) as down:
            up.wait_for(lambda: up.hub.subscribers("ORIG") == 1, what="downstream pulling")
            cli = socket.create_connection(("127.0.0.1", down.ntrip_port), timeout=5)
            cli.sendall(f"GET /COPY HTTP/1.0\r\nAuthorization: Basic {basic('al', 'pw')}\r\n\r\n".encode())
            assert cli.recv(12) == b"ICY 200 OK\r\n"
            down.wait_for(lambda: down.hub.subscribers("COPY") == 1)
            src = socket.create_connection(("127.0.0.1", up.ntrip_port), timeout=5)
            src.sendall(b"SOURCE pw /ORIG\r\n\r\n")
            assert src.recv(20) == b"ICY 200 OK\r\n"
            src.sendall(stream)
            got = b""
            cli.settimeout(5)
            while len(got) < len(stream):
                chunk = cli.recv(65536)
                if not chunk:
                    break
                got += chunk
            assert got == stream
            assert down.caster.sources["COPY"].kind == "pull"
            src.close()
            cli.close()
            # a pulled station added while running is picked up; a removed one is let go
            down.registry.add_station("COPY2", "unused", upstream=f"{scheme}://puller:ppw@127.0.0.1:{up.ntrip_port}/ORIG")
            down.registry.remove_station("COPY")
            up.wait_for(lambda: up.hub.subscribers("ORIG") == 1 and "COPY2" in down.caster._pulls
                        and "COPY" not in down.caster._pulls, timeout=15, what="pull set follows the registry")


def test_tls_listener(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "1", "-subj", "/CN=localhost"], capture_output=True)
    if r.returncode != 0:
        pytest.skip("openssl cannot make a test certificate")
    with RunningService(Settings(data_dir=tmp_path, tls_cert=cert, tls_key=key)) as svc:
        ctx = ssl.create_default_context(cafile=str(cert))
        with socket.create_connection(("127.0.0.1", svc.ntrip_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nNtrip-Version: Ntrip/2.0\r\n\r\n")
                reply = b""
                while b"ENDSOURCETABLE" not in reply:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
        assert reply.startswith(b"HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\n")
        assert b"gnss/sourcetable" in reply
        # plain text on the TLS port is a failed handshake that ends only that connection
        assert not raw_request(svc.ntrip_port, b"GET / HTTP/1.0\r\n\r\n", read_s=1.0).startswith(b"SOURCETABLE")
        time.sleep(0.1)
