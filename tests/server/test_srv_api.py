"""HTTP API: stations (JSON, GeoJSON), health, network health, mountpoints, sessions, metrics, OpenAPI."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest
from srv_service import RunningService, basic, rtcm_stream

from gnssaug.server.settings import Settings


@pytest.fixture()
def service(tmp_path):
    with RunningService(Settings(data_dir=tmp_path, outage_after_s=30)) as svc:
        svc.registry.add_station("BASE1", "uppw", llh_deg_m=(35.15, 136.96, 60.0))
        svc.registry.add_station("BASE2", "uppw")  # no position, never streamed
        svc.registry.add_user("al", "pw")
        yield svc


def _get(svc, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{svc.http_port}{path}", timeout=5) as r:
        return r.status, r.headers.get("Content-Type"), r.read()


def _stream_some(svc, data_dir):
    src = socket.create_connection(("127.0.0.1", svc.ntrip_port), timeout=5)
    src.sendall(b"SOURCE uppw /BASE1\r\n\r\n")
    assert src.recv(100) == b"ICY 200 OK\r\n"
    src.sendall(rtcm_stream(data_dir, repeat=2))
    svc.wait_for(lambda: svc.ingests.get("BASE1").health.frames == 70)
    return src


def test_stations_and_health(service, data_dir):
    src = _stream_some(service, data_dir)
    status, ctype, body = _get(service, "/api/v1/stations")
    assert status == 200 and ctype.startswith("application/json")
    st = {s["mount"]: s for s in json.loads(body)["stations"]}
    assert st["BASE1"]["online"] and st["BASE1"]["lat_deg"] == pytest.approx(35.15)
    assert st["BASE1"]["health"]["state"] == "up" and st["BASE1"]["health"]["frames"] == 70
    assert st["BASE2"]["health"] is None and st["BASE2"]["lat_deg"] is None
    dec = st["BASE1"]["decoded"]  # the stream was decoded: epochs (MSM + legacy) and ephemerides
    assert dec["epochs"] >= 2 and dec["errors"] == 0 and dec["ephemerides"] >= 5 and dec["last_epoch_satellites"] > 10
    _, ctype, body = _get(service, "/api/v1/stations?format=geojson")
    gj = json.loads(body)
    assert ctype.startswith("application/geo+json") and gj["type"] == "FeatureCollection"
    (feat,) = gj["features"]  # BASE2 has no position
    assert feat["geometry"]["coordinates"][:2] == pytest.approx([136.96, 35.15])
    assert feat["properties"]["state"] == "up"
    _, _, body = _get(service, "/api/v1/stations/BASE1/health")
    h = json.loads(body)
    assert h["message_types"]["1077"] == 2 and h["crc_errors"] == 0 and h["epochs"] >= 1
    assert set(h["satellites"]) >= {"GPS", "BeiDou"}
    _, _, body = _get(service, "/api/v1/network/health")
    net = json.loads(body)
    assert net["stations_registered"] == 2 and net["stations_up"] == 1 and net["stations_never"] == 1
    with pytest.raises(urllib.error.HTTPError) as info:
        _get(service, "/api/v1/stations/NOPE/health")
    assert info.value.code == 404 and json.loads(info.value.read())["error"] == "no station NOPE"
    src.close()


def test_mountpoints_sessions_metrics_openapi(service, data_dir):
    src = _stream_some(service, data_dir)
    cli = socket.create_connection(("127.0.0.1", service.ntrip_port), timeout=5)
    cli.sendall(f"GET /BASE1 HTTP/1.0\r\nAuthorization: Basic {basic('al', 'pw')}\r\n\r\n".encode())
    assert cli.recv(12) == b"ICY 200 OK\r\n"
    service.wait_for(lambda: service.hub.subscribers("BASE1") == 1)
    mps = {m["mount"]: m for m in json.loads(_get(service, "/api/v1/mountpoints")[2])["mountpoints"]}
    assert set(mps) == {"BASE1", "BASE1_MSM4", "BASE1_LEGACY", "NEAR"}
    assert mps["BASE1"]["subscribers"] == 1 and mps["NEAR"]["nmea"] and "1124(" in mps["BASE1_MSM4"]["format_details"]
    assert "1127(" in mps["BASE1"]["format_details"]
    sess = json.loads(_get(service, "/api/v1/sessions")[2])
    kinds = sorted(s["kind"] for s in sess["active"])
    assert kinds == ["client", "source"] and len(sess["recent"]) == 2
    status, ctype, body = _get(service, "/metrics")
    text = body.decode()
    assert ctype.startswith("text/plain; version=0.0.4")
    assert "gnssaug_ntrip_clients 1\n" in text and 'gnssaug_hub_subscribers{mount="BASE1"} 1' in text
    assert 'gnssaug_station_up{mount="BASE1"} 1' in text and "# TYPE gnssaug_hub_dropped_total counter" in text
    for line in text.splitlines():  # every sample line is "name{labels} number"
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])
    doc = json.loads(_get(service, "/api/v1/openapi.json")[2])
    assert doc["openapi"].startswith("3.") and "/api/v1/stations/{mount}/health" in doc["paths"]
    with pytest.raises(urllib.error.HTTPError) as info:
        _get(service, "/api/v1/sessions?limit=x")
    assert info.value.code == 400
    cli.close()
    src.close()


def test_sessions_need_the_api_token_when_set(tmp_path):
    with RunningService(Settings(data_dir=tmp_path, api_token="s3cret")) as svc:
        with pytest.raises(urllib.error.HTTPError) as info:
            _get(svc, "/api/v1/sessions")
        assert info.value.code == 401
        req = urllib.request.Request(f"http://127.0.0.1:{svc.http_port}/api/v1/sessions",
                                     headers={"Authorization": "Bearer s3cret"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert json.loads(r.read())["active"] == []
        assert _get(svc, "/api/v1/stations")[0] == 200  # the rest stays public
