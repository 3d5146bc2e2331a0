"""Caster latency behaviour: stations' epochs that arrive together are all relayed before any is decoded;
the hub's tracer sees every fan-out with its per-client write times; a reset client is freed without
the cyclic collector; the collector policy freezes after growth and collects after churn."""

from __future__ import annotations

import gc
import socket
import struct
import time
import weakref

import pytest
from srv_service import RunningService, connect_client, connect_source, recv_for, rtcm_stream

from gnssaug.server.ntrip.collector import CollectorPolicy
from gnssaug.server.settings import Settings

MOUNTS = ("STA1", "STA2", "STA3")
LATE = "STA4"


@pytest.fixture()
def service(tmp_path):
    settings = Settings(data_dir=tmp_path, head_timeout_s=2.0, source_timeout_s=5.0, login_slow_after=100,
                        login_ban_after=100)
    with RunningService(settings) as svc:
        for m in (*MOUNTS, LATE):
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


def test_epoch_arriving_during_decoding_waits_for_one_decoding_at_most(service, data_dir):
    """Stations are decoded one at a time: an epoch that arrives while the first of three queued
    stations is decoded is relayed before the other two are decoded."""
    events = []
    sources = [connect_source(service.ntrip_port, m, "uppw") for m in (*MOUNTS, LATE)]
    clients = [_client(service.ntrip_port, m) for m in (*MOUNTS, LATE)]
    service.wait_for(lambda: all(service.hub.subscribers(m) == 1 for m in (*MOUNTS, LATE)), what="subscriptions")

    def decoded(m):
        events.append(("decode", m))
        if len(events) == 4:  # the first decoding: hold the loop while the late epoch lands
            time.sleep(0.5)

    def install():
        service.hub.tracer = lambda mount, *_: events.append(("relay", mount))
        for m in (*MOUNTS, LATE):
            service.ingests.get(m).add_consumer(lambda frames, m=m: decoded(m))

    service.sync(install)
    epoch = rtcm_stream(data_dir)
    service.loop.call_soon_threadsafe(time.sleep, 0.5)
    time.sleep(0.1)
    for s in sources[:3]:
        s.sendall(epoch)
    end = time.monotonic() + 10
    while len(events) < 4 and time.monotonic() < end:  # the list is appended on the loop's thread
        time.sleep(0.01)
    sources[3].sendall(epoch)  # during the first decoding
    service.wait_for(lambda: len(events) == 8, what="relays and decodes")
    assert [k for k, _ in events] == ["relay"] * 3 + ["decode", "relay"] + ["decode"] * 3, events
    assert events[4] == ("relay", LATE) and events[-1] == ("decode", LATE)
    for c in clients:
        assert recv_for(c, 5.0, len(epoch)) == epoch
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


def test_reset_client_is_freed_without_the_cyclic_collector(service):
    """A client that resets its connection leaves no reference cycle holding its session: reference
    counting frees it as soon as its handler ends (the collector's passes stay short)."""
    src = connect_source(service.ntrip_port, "STA1", "uppw")
    refs = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            cli = _client(service.ntrip_port, "STA1")
            service.wait_for(lambda: len(service.caster.clients) == 1, what="session")
            refs.append(service.sync(lambda: weakref.ref(next(iter(service.caster.clients.values())))))
            cli.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            cli.close()  # reset
            service.wait_for(lambda: not service.caster.clients, what="session closed")
        time.sleep(0.2)
        service.sync(lambda: None)
        assert [r() for r in refs] == [None] * len(refs)
        assert service.caster.counters["connection_errors"] >= 1
    finally:
        gc.enable()
        src.close()


def test_collector_policy_freezes_after_growth_and_collects_after_churn():
    policy = CollectorPolicy(grow_clients=4, churn_share=0.5, max_wait_s=60.0)
    try:
        policy.tick(3)
        assert policy.freezes == 0 and gc.get_freeze_count() == 0
        policy.tick(4)
        assert policy.freezes == 1 and gc.get_freeze_count() > 0
        for _ in range(4):
            policy.client_gone()
        policy.tick(8)
        assert policy.due_since_s is None  # 4 gone is not more than max(4, 0.5 * 4)
        policy.client_gone()
        policy.tick(3)
        assert policy.due_since_s is not None and policy.full_collections == 0
        policy.after_burst(3)
        assert policy.full_collections == 1 and policy.departed == 0 and policy.clients_at_freeze == 3
        disabled = CollectorPolicy(grow_clients=1, enabled=False)
        gc.unfreeze()
        disabled.tick(100)
        assert gc.get_freeze_count() == 0 and disabled.freezes == 0
    finally:
        gc.unfreeze()
