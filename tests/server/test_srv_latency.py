"""Caster latency behaviour: stations' epochs that arrive together are all relayed before any is decoded;
the hub's tracer sees every fan-out with its per-client write times."""

from __future__ import annotations

import time

import pytest
from srv_service import RunningService, connect_client, connect_source, recv_for, rtcm_stream

from gnssaug.server.settings import Settings

MOUNTS = ("STA1", "STA2", "STA3")


@pytest.fixture()
def service(tmp_path):
    settings = Settings(data_dir=tmp_path, head_timeout_s=2.0, source_timeout_s=5.0, login_slow_after=100,
                        login_ban_after=100)
    with RunningService(settings) as svc:
        for m in MOUNTS:
            svc.registry.add_station(m, "uppw", llh_deg_m=(35.15, 136.96, 60.0))
        svc.registry.add_user("al", "pw", max_sessions=10)
        yield svc


def _client(port, mount):
    s = connect_client(port, mount)
    assert recv_for(s, 5.0, 12) == b"ICY 200 OK\r\n"
    return s


def test_epochs_arriving_together_are_all_relayed_before_any_is_decoded(service, data_dir):
    events = []
    traced = []

    def trace(mount, data, t_start_ns, t_end_ns, write_ns):
        events.append(("relay", mount))
        traced.append((mount, len(data), t_start_ns, t_end_ns, list(write_ns)))

    sources = [connect_source(service.ntrip_port, m, "uppw") for m in MOUNTS]
    clients = [_client(service.ntrip_port, m) for m in MOUNTS]
    service.wait_for(lambda: all(service.hub.subscribers(m) == 1 for m in MOUNTS), what="subscriptions")

    def install():
        service.hub.tracer = trace
        for m in MOUNTS:
            service.ingests.get(m).add_consumer(lambda frames, m=m: events.append(("decode", m)))

    service.sync(install)
    epoch = rtcm_stream(data_dir)
    # hold the caster's loop while every station's epoch lands in its socket: one select sees all three
    service.loop.call_soon_threadsafe(time.sleep, 0.5)
    time.sleep(0.1)
    for s in sources:
        s.sendall(epoch)
    for c in clients:
        assert recv_for(c, 5.0, len(epoch)) == epoch
    service.wait_for(lambda: len(events) == 2 * len(MOUNTS), what="relays and decodes")
    kinds = [k for k, _ in events]
    assert kinds == ["relay"] * 3 + ["decode"] * 3, events
    assert sorted(m for _, m in events[:3]) == sorted(m for _, m in events[3:]) == list(MOUNTS)
    for _mount, n_bytes, t_start_ns, t_end_ns, write_ns in traced:
        assert n_bytes == len(epoch) and len(write_ns) == 1  # one subscriber each, one write
        assert t_start_ns <= write_ns[0] <= t_end_ns
    for s in sources + clients:
        s.close()


def test_epochs_arriving_apart_are_decoded_each_after_its_relay(service, data_dir):
    """A lone epoch is decoded right after its relay (the wait for other arrivals ends at once)."""
    events = []
    src = connect_source(service.ntrip_port, "STA1", "uppw")
    cli = _client(service.ntrip_port, "STA1")
    service.wait_for(lambda: service.hub.subscribers("STA1") == 1, what="subscription")

    def install():
        service.hub.tracer = lambda mount, *_: events.append("relay")
        service.ingests.get("STA1").add_consumer(lambda frames: events.append("decode"))

    service.sync(install)
    epoch = rtcm_stream(data_dir)
    for k in range(1, 4):
        src.sendall(epoch)
        assert recv_for(cli, 5.0, len(epoch)) == epoch
        service.wait_for(lambda k=k: len(events) == 2 * k, what="relay and decode")
    assert events == ["relay", "decode"] * 3
    src.close()
    cli.close()
