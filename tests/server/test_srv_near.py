"""NEAR mountpoint: nearest healthy station by GGA, hysteresis, failover; pygnssutils + pyrtcm as peers."""

from __future__ import annotations

import queue
import socket
import threading
import time

import pytest
from srv_service import RunningService, basic

from gnssaug.rtcm.framing import iter_frames
from gnssaug.server.near import choose_station
from gnssaug.server.settings import Settings
from gnssaug.stations.registry import llh_to_ecef

NAGOYA = (35.15, 136.96, 60.0)
TOKYO = (35.68, 139.77, 40.0)


def _gga(lat, lon, h=50.0):
    def dm(v, width):
        d = int(abs(v))
        return f"{d:0{width}d}{(abs(v) - d) * 60:07.4f}"

    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    body = f"GPGGA,120000.00,{dm(lat, 2)},{ns},{dm(lon, 3)},{ew},1,10,1.0,{h:.1f},M,0.0,M,,"
    cs = 0
    for ch in body:
        cs ^= ord(ch)
    return f"${body}*{cs:02X}"


def test_choose_station_nearest_with_hysteresis():
    cands = {"N": llh_to_ecef(NAGOYA), "T": llh_to_ecef(TOKYO)}
    assert choose_station((35.2, 137.0, 0.0), cands, None, 5000.0) == "N"
    assert choose_station((35.6, 139.6, 0.0), cands, None, 5000.0) == "T"
    mid_lat, mid_lon = (NAGOYA[0] + TOKYO[0]) / 2, (NAGOYA[1] + TOKYO[1]) / 2
    # just on T's side of the midpoint: a client already on N stays (within hysteresis), a new one gets T
    rover = (mid_lat, mid_lon + 0.02, 0.0)
    assert choose_station(rover, cands, None, 5000.0) == "T"
    assert choose_station(rover, cands, "N", 5000.0) == "N"
    assert choose_station(rover, cands, "N", 100.0) == "T"
    assert choose_station(rover, {"T": cands["T"]}, "N", 5000.0) == "T"  # N unhealthy: leave it
    assert choose_station(rover, {}, "N", 5000.0) is None


class _Source(threading.Thread):
    """A station uploading ``frames`` over NTRIP 1, one frame batch every 0.2 s, until stopped."""

    def __init__(self, port, mount, frames):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(f"SOURCE pw /{mount}\r\n\r\n".encode())
        assert self.sock.recv(100) == b"ICY 200 OK\r\n"
        self.frames = frames
        self.stop = threading.Event()

    def run(self):
        i = 0
        while not self.stop.is_set():
            try:
                self.sock.sendall(b"".join(f.raw for f in self.frames[i % len(self.frames):][:8]))
            except OSError:
                return
            i += 8
            time.sleep(0.2)
        self.sock.close()


@pytest.fixture()
def two_stations(tmp_path, data_dir):
    settings = Settings(data_dir=tmp_path, outage_after_s=1.0, gga_timeout_s=3.0)
    uscl = iter_frames((data_dir / "rtcm3_samples" / "pygpsdata-NTRIP-USCL00CHL0.log").read_bytes())
    mixed = iter_frames((data_dir / "rtcm3_samples" / "pygpsdata-MIXED-RTCM3.log").read_bytes())
    with RunningService(settings) as svc:
        svc.registry.add_station("BASE_N", "pw", llh_deg_m=NAGOYA)
        svc.registry.add_station("BASE_T", "pw", llh_deg_m=TOKYO)
        svc.registry.add_user("rover", "rpw")
        sources = {m: _Source(svc.ntrip_port, m, frames) for m, frames in (("BASE_N", uscl), ("BASE_T", mixed))}
        for s in sources.values():
            s.start()
        svc.wait_for(lambda: all(svc.ingests.get(m).health.healthy for m in sources), what="stations up")
        yield svc, sources
        for s in sources.values():
            s.stop.set()


def test_pygnssutils_ntrip2_near_decodes_with_pyrtcm_and_fails_over(two_stations):
    from pygnssutils import GNSSNTRIPClient
    from pyrtcm import RTCMReader

    svc, sources = two_stations
    out = queue.Queue()
    client = GNSSNTRIPClient()
    client.run(server="127.0.0.1", port=svc.ntrip_port, mountpoint="NEAR", version="2.0", ntripuser="rover",
               ntrippassword="rpw", ggainterval=1, ggamode=1, reflat=35.2, reflon=137.0, refalt=50.0,
               output=out)
    try:
        svc.wait_for(lambda: any(c.station == "BASE_N" for c in svc.caster.clients.values()), what="routed to N")
        got = []
        want = {"1004", "1012", "1077"}  # BASE_N's content, not BASE_T's
        end = time.monotonic() + 15
        while (len(got) < 30 or not want <= {p.identity for _, p in got}) and time.monotonic() < end:
            try:
                item = out.get(timeout=0.5)
            except queue.Empty:
                continue
            if item[0][:1] == b"\xd3":  # pygnssutils also echoes the GGA it sends into its output
                got.append(item)
                pass
        assert len(got) >= 30
        for raw, parsed in got:  # pygnssutils parsed them; pyrtcm decodes the raw frame independently too
            assert RTCMReader.parse(raw).identity == parsed.identity
        assert want <= {p.identity for _, p in got}
        (sess,) = svc.caster.clients.values()
        assert sess.version == 2 and sess.gga_count >= 1
        # BASE_N stops: after its outage the NEAR client is moved to BASE_T without reconnecting
        sources["BASE_N"].stop.set()
        svc.wait_for(lambda: sess.station == "BASE_T", timeout=10, what="failover to T")
        while not out.empty():
            out.get()
        seen = set()
        end = time.monotonic() + 10
        while "4072" not in seen and time.monotonic() < end:
            try:
                seen.add(getattr(out.get(timeout=0.5)[1], "identity", None))
            except queue.Empty:
                pass
        assert "4072" in seen  # BASE_T's proprietary message now arrives
        assert svc.caster.counters["near_switches"] == 2
    finally:
        client.stop()


def _near_ntrip1(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(f"GET /NEAR HTTP/1.0\r\nUser-Agent: NTRIP t\r\nAuthorization: Basic {basic('rover', 'rpw')}\r\n\r\n"
              .encode())
    assert s.recv(12) == b"ICY 200 OK\r\n"
    return s


def test_ntrip1_in_band_gga_and_bad_gga(two_stations):
    svc, _ = two_stations
    s = _near_ntrip1(svc.ntrip_port)
    s.sendall(b"$GPGGA,,,,,,0,,,,,,,,*66\r\n")  # empty GGA (no fix yet): answered with patience
    s.sendall(b"$GPGGA,garbage*00\r\n\xff\xfe\x00 noise without newline")  # malformed: counted, ignored
    s.sendall(b"\r\n" + _gga(*TOKYO).encode() + b"\r\n")
    svc.wait_for(lambda: any(c.station == "BASE_T" for c in svc.caster.clients.values()), what="routed to T")
    s.settimeout(3)
    data = s.recv(4096)
    assert data[:1] == b"\xd3"  # whole frames from the first byte
    (sess,) = svc.caster.clients.values()
    assert sess.gga_errors == 1 and sess.gga_count == 1
    s.close()


def test_near_without_gga_times_out(two_stations):
    svc, _ = two_stations
    s = _near_ntrip1(svc.ntrip_port)
    s.settimeout(6)
    assert s.recv(100) == b""  # closed after gga_timeout_s without a usable position
    assert svc.caster.counters["gga_timeouts"] == 1
