"""Caster load: thousands of concurrent NTRIP clients on loopback, a handful of 1 Hz station streams.

The caster (``gnssaug serve``) runs in its own process: one asyncio thread, so at most one core
(``--pin`` also pins it to CPU 0 and the clients to CPU 1, for an otherwise idle machine). Station sources
upload one epoch per second each (real RTCM 3 frames from the shared samples plus a proprietary
message 4095 carrying the send time). Client processes open the connections, a mix of NTRIP 1 and
NTRIP 2 (chunked), with a share that never reads. The benchmark prints:

- clients served (reply received and at least one epoch delivered),
- delivery latency, median and p99, from the send time of the epoch's last frame (on loopback:
  its arrival at the caster) to its arrival in a reading client's socket (kernel receive
  timestamp, ``SO_TIMESTAMPNS``), over all (client, epoch) pairs,
- starved healthy clients (reading clients that missed more than 10 % of the epochs),
- caster CPU (share of one core) and memory per client (RSS growth / clients),
- the floor of this machine: a bare Python loop of ``send()`` to loopback clients, per client.

On loopback the sending core also runs the *receiving* half of every TCP transfer (the clients' input
path and their wake-ups), which on a real network runs on each rover's own host: at 10,000 clients
that is most of the caster core's time. With ``--pin`` and root rights the run is repeated with loopback
receive packet steering (RPS, ``/sys/class/net/lo/queues/rx-0/rps_cpus``) set to the clients' CPU, so the
caster core carries its sends (plus one inter-processor interrupt per send, which a network card does not
need); the setting is restored afterwards. RPS cannot tell flows apart on loopback (receive flow steering
hashes both directions of a connection alike), so the station uploads are received on the clients' CPU
too in that run. The station sources (remote hosts in service) run on the clients' CPU in pinned runs.
Both runs are printed; the kernel receive time stamp is taken as the packet enters the loopback receive
queue in both, so latency means the same thing in each.

Usage: ``python benchmarks/caster_load.py [--clients 10000] [--stations 5] [--seconds 20] [--pin]``.
Everything stays on 127.0.0.1 and stops after a bounded time.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import multiprocessing as mp
import os
import resource
import selectors
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = b"LATX"
STAMP = struct.Struct(">HIq")  # station, sequence, send time (Unix ns)
USER, PASSWORD = "load", "loadpw"


def _crc24q(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def _frame(payload: bytes) -> bytes:
    head = bytes((0xD3, len(payload) >> 8, len(payload) & 0xFF)) + payload
    return head + _crc24q(head).to_bytes(3, "big")


def _stamp_frame(station: int, seq: int) -> bytes:
    # message 4095 (proprietary range, RTCM 10403.3 §3.1): type bits 0xFFF, then our marker and times
    payload = bytes((0xFF, 0xF0)) + MARK + STAMP.pack(station, seq, time.time_ns())
    return _frame(payload)


def _epoch_frames() -> bytes:
    """One epoch of real frames: 1005, MSM7 for GPS/GLO/GAL/BDS, 1230, 4072 (pyrtcm's capture)."""
    sys.path.insert(0, str(ROOT))
    from gnssaug.datasets.paths import shared_data_dir
    from gnssaug.rtcm.framing import iter_frames

    raw = (shared_data_dir() / "rtcm3_samples" / "pygpsdata-MIXED-RTCM3.log").read_bytes()
    return b"".join(f.raw for f in iter_frames(raw))


# ----------------------------------------------------------------------------------------------
# clients (run in worker processes)
# ----------------------------------------------------------------------------------------------
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; the kernel's receive time of the data
_TIMESPEC = struct.Struct("qq")


class _LoadClient:
    """One NTRIP client: a plain non-blocking socket read with ``recvmsg``.

    The receipt time of each stamp is the kernel's arrival time of the data in the client's socket
    (``SO_TIMESTAMPNS``), so the client processes' own scheduling does not count as caster latency;
    without it, the wall clock at the read.
    """

    __slots__ = ("sock", "reads", "replied", "tail", "samples")

    def __init__(self, sock: socket.socket, reads: bool):
        self.sock, self.reads = sock, reads
        self.replied = False
        self.tail = b""
        self.samples: list[tuple[int, int]] = []

    def on_data(self, data: bytes, t_recv_ns: int, stats: dict) -> bool:
        if not self.replied:
            if not (data.startswith(b"ICY 200 OK") or data.startswith(b"HTTP/1.1 200")):
                stats["refused"] += 1
                return False
            self.replied = True
            stats["replied"] += 1
        buf = self.tail + data
        end = 4 + STAMP.size
        i = buf.find(MARK)
        while i >= 0 and i + end <= len(buf):
            self.samples.append((STAMP.unpack_from(buf, i + 4)[2], t_recv_ns))
            i = buf.find(MARK, i + end)
        self.tail = buf[-(end - 1):] if i < 0 else buf[i:]
        return True


def _request(mount: str, version: int) -> bytes:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    if version == 2:
        return (f"GET /{mount} HTTP/1.1\r\nHost: x\r\nNtrip-Version: Ntrip/2.0\r\nUser-Agent: NTRIP load\r\n"
                f"Authorization: Basic {token}\r\n\r\n").encode()
    return f"GET /{mount} HTTP/1.0\r\nUser-Agent: NTRIP load\r\nAuthorization: Basic {token}\r\n\r\n".encode()


def _pump(sel, timeout_s: float, stats: dict) -> None:
    anc_size = socket.CMSG_SPACE(_TIMESPEC.size)
    for key, _ in sel.select(timeout_s):
        c = key.data
        try:
            data, anc, _flags, _addr = c.sock.recvmsg(65536, anc_size)
        except BlockingIOError:
            continue
        except OSError:
            stats["dropped"] += 1
            sel.unregister(c.sock)
            continue
        if not data:
            sel.unregister(c.sock)
            continue
        t_recv = time.time_ns()
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(value) >= _TIMESPEC.size:
                sec, nsec = _TIMESPEC.unpack_from(value)
                t_recv = sec * 1_000_000_000 + nsec
        if not c.on_data(data, t_recv, stats):
            sel.unregister(c.sock)


def _client_worker(port, jobs, ready_q, stop, out_q, cpu):
    """Open every connection (in batches, each waiting for its replies), report ready, read until
    ``stop`` is set, return the samples."""
    if cpu is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    stats = {"refused": 0, "dropped": 0, "connect_errors": 0, "replied": 0}
    sel = selectors.DefaultSelector()
    clients: list[_LoadClient] = []
    for i in range(0, len(jobs), 100):
        if stop.is_set():
            break
        batch_readers = 0
        for mount, version, reads in jobs[i:i + 100]:
            s = socket.socket()
            try:
                s.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
                s.settimeout(1)  # a caster past its client limit may leave connections unaccepted
                s.connect(("127.0.0.1", port))
                s.sendall(_request(mount, version))
                s.setblocking(False)
            except OSError:
                stats["connect_errors"] += 1
                s.close()
                continue
            c = _LoadClient(s, reads)
            clients.append(c)
            if reads:  # the others never read: the caster's buffers for them fill up
                sel.register(s, selectors.EVENT_READ, c)
                batch_readers += 1
        want = stats["replied"] + batch_readers
        t_end = time.monotonic() + 10  # a caster that never answers some clients (str2str beyond 32)
        while stats["replied"] < want and time.monotonic() < t_end and not stop.is_set():
            _pump(sel, 0.05, stats)
    ready_q.put(len(clients))
    while not stop.is_set():
        _pump(sel, 0.05, stats)
    _pump(sel, 0.0, stats)  # what already arrived still counts (kernel timestamps)
    for c in clients:
        c.sock.close()
    out_q.put({**stats, "readers": [c.samples for c in clients if c.reads and c.replied],
               "silent": sum(1 for c in clients if not c.reads)})


def _connect_sources(port, mounts) -> list[socket.socket]:
    """Station uploads (NTRIP 1 SOURCE), one socket per mountpoint."""
    socks = []
    for m in mounts:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(f"SOURCE srcpw /{m}\r\nSource-Agent: NTRIP load\r\n\r\n".encode())
        assert s.recv(100).startswith(b"ICY 200 OK"), m
        socks.append(s)
    return socks


def _source_thread_main(socks, epoch, stop, sent_ns):
    """One epoch per second on every station socket, each ending with a time stamp frame."""
    seq = 0
    next_t = time.monotonic()
    while not stop.is_set():
        sent_ns.append(time.time_ns())
        for k, s in enumerate(socks):
            s.sendall(epoch + _stamp_frame(k, seq))
        seq += 1
        next_t += 1.0
        time.sleep(max(0.0, next_t - time.monotonic()))
    for s in socks:
        s.close()


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"port {port} did not open")


def _load(port, source_socks, mounts, epoch, args, n_clients, silent_share, seconds, pid=None,
          ramp_timeout_s=300.0) -> dict:
    """Sources stream first, then the clients' ramp, then a measurement window of ``seconds``."""
    stop_src, stop_cli = threading.Event(), mp.Event()
    sent_ns: list[int] = []
    src = threading.Thread(target=_source_thread_main, args=(source_socks, epoch, stop_src, sent_ns), daemon=True)
    src.start()
    jobs = [(mounts[i % len(mounts)], 1 if i % 2 == 0 else 2, (i % 100) >= silent_share * 100)
            for i in range(n_clients)]
    n_procs = max(1, min(args.procs, n_clients // 50))
    ready_q, out_q = mp.Queue(), mp.Queue()
    procs = [mp.Process(target=_client_worker, args=(port, jobs[k::n_procs], ready_q, stop_cli, out_q,
                                                     1 % os.cpu_count() if args.pin else None))
             for k in range(n_procs)]
    rss0 = _proc_rss_mb(pid) if pid else 0.0
    t_ramp = time.monotonic()
    for p in procs:
        p.start()
    try:
        connected_n = sum(ready_q.get(timeout=ramp_timeout_s) for _ in procs)
    except Exception:
        connected_n = -1
    ramp_s = time.monotonic() - t_ramp
    time.sleep(2.0)
    t_start_ns = time.time_ns()
    cpu0, wall0 = (_proc_cpu_s(pid), time.monotonic()) if pid else (0, 0)
    time.sleep(seconds)
    cpu1, wall1, rss1 = (_proc_cpu_s(pid), time.monotonic(), _proc_rss_mb(pid)) if pid else (0, 1, 0)
    t_stop_ns = time.time_ns()
    time.sleep(3.0)  # late deliveries still count, with their latency
    stop_cli.set()
    results = [out_q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(10)
    stop_src.set()
    src.join(5)
    lat, per_client = [], []
    for r in results:
        for samples in r["readers"]:
            inside = [(ts, tr) for ts, tr in samples if t_start_ns <= ts <= t_stop_ns]
            per_client.append(len(inside))
            lat.extend((tr - ts) / 1e6 for ts, tr in inside)
    lat.sort()
    expected = sum(1 for t in sent_ns if t_start_ns <= t <= t_stop_ns)
    return {
        "clients": n_clients, "connected": connected_n, "ramp_s": ramp_s,
        "readers": len(per_client), "served": sum(1 for n in per_client if n > 0),
        "starved": sum(1 for n in per_client if n < 0.9 * expected), "expected": expected,
        "silent": sum(r["silent"] for r in results), "refused": sum(r["refused"] for r in results),
        "connect_errors": sum(r["connect_errors"] for r in results), "samples": len(lat),
        "median_ms": statistics.median(lat) if lat else float("nan"),
        "p99_ms": lat[int(0.99 * (len(lat) - 1))] if lat else float("nan"),
        "cpu_core_share": (cpu1 - cpu0) / (wall1 - wall0), "rss_mb": rss1, "rss0_mb": rss0,
    }


def bench_gnssaug(args, epoch) -> dict:
    """Run the load against ``gnssaug serve``; returns the figures."""
    sys.path.insert(0, str(ROOT))
    from gnssaug.stations.registry import Registry

    tmp = Path(tempfile.mkdtemp(prefix="gnssaug-load-"))
    reg = Registry.in_dir(tmp)
    mounts = [f"LOAD{k}" for k in range(args.stations)]
    for m in mounts:
        reg.add_station(m, "srcpw", llh_deg_m=(35.0 + 0.1 * len(m), 137.0, 50.0))
    reg.add_user(USER, PASSWORD, max_sessions=args.clients + 10)
    reg.close()
    port, http = _free_port(), _free_port()
    caster = subprocess.Popen([sys.executable, "-m", "gnssaug", "serve", "--data-dir", str(tmp), "--host", "127.0.0.1",
                               "--ntrip-port", str(port), "--http-port", str(http)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                              preexec_fn=(lambda: os.sched_setaffinity(0, {0})) if args.pin else None)
    try:
        _wait_port(port)
        socks = _connect_sources(port, mounts)  # stations are up before the rovers come
        r = _load(port, socks, mounts, epoch, args, args.clients, args.silent, args.seconds, pid=caster.pid)
    finally:
        caster.terminate()
        caster.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
    r["kb_per_client"] = (r["rss_mb"] - r["rss0_mb"]) * 1024.0 / max(1, args.clients)
    return r


def bench_str2str(args, epoch) -> dict | None:
    """Offer ``args.peer_clients`` readers to RTKLIB's str2str caster; returns how many it served."""
    exe = shutil.which("str2str")
    if exe is None:
        return None
    port, feed_port = _free_port(), _free_port()
    feeder = socket.create_server(("127.0.0.1", feed_port))
    proc = subprocess.Popen([exe, "-in", f"tcpcli://127.0.0.1:{feed_port}",
                             "-out", f"ntripc://{USER}:{PASSWORD}@:{port}/LOAD0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        feeder.settimeout(20)
        conn, _ = feeder.accept()
        _wait_port(port)
        r = _load(port, [conn], ["LOAD0"], epoch, args, args.peer_clients, 0.0, 5.0, ramp_timeout_s=60.0)
    finally:
        proc.terminate()
        proc.wait(10)
        feeder.close()
    return {"offered": args.peer_clients, "served": r["served"], "connected": r["connected"]}


RPS_LO = Path("/sys/class/net/lo/queues/rx-0/rps_cpus")


def _can_steer_rx() -> bool:
    return RPS_LO.exists() and os.access(RPS_LO, os.W_OK) and (os.cpu_count() or 1) > 1


@contextlib.contextmanager
def _rx_on_cpu(cpu: int | None):
    """Loopback receive processing on ``cpu`` (RPS) for the duration; None leaves the system as it is."""
    if cpu is None:
        yield
        return
    old = RPS_LO.read_text().strip()
    RPS_LO.write_text(f"{1 << cpu:x}\n")
    try:
        yield
    finally:
        RPS_LO.write_text(old + "\n")


def bench_send_floor(n: int = 2000, payload: int = 1061, rounds: int = 10,
                     cpus: tuple[int, int] | None = None) -> float:
    """Microseconds per ``send`` of one epoch to one loopback TCP client in a bare Python loop.

    The floor under any one-thread caster on this machine: 10,000 clients cost at least
    10,000 times this per epoch. ``cpus`` = (sender, reader): the loop sends from the first CPU and
    the clients are drained from the second (so receive steering sees them read there).
    """
    srv = socket.create_server(("127.0.0.1", 0), backlog=4096)
    port = srv.getsockname()[1]
    clients, servers = [], []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        c.setblocking(False)
        clients.append(c)
        servers.append(srv.accept()[0])
    data = b"x" * payload
    best = float("inf")
    before = os.sched_getaffinity(0)
    for _ in range(rounds):
        if cpus:
            os.sched_setaffinity(0, {cpus[0]})
        t = time.perf_counter()
        for s_ in servers:
            s_.send(data)
        best = min(best, time.perf_counter() - t)
        if cpus:
            os.sched_setaffinity(0, {cpus[1]})
        for c in clients:
            with contextlib.suppress(BlockingIOError):
                c.recv(65536)
    os.sched_setaffinity(0, before)
    for s_ in clients + servers + [srv]:
        s_.close()
    return best / n * 1e6


def _print_run(title: str, args, epoch: bytes, r: dict, floor_us: float) -> None:
    print(f"gnssaug caster (one asyncio thread), {title}:")
    print(f"  {r['clients']} clients ({r['silent']} never reading, "
          f"{r['refused']} refused, {r['connect_errors']} connect errors); "
          f"{r['served']} of {r['readers']} reading clients served, "
          f"{args.stations} stations at 1 Hz, {len(epoch) + 28} B/epoch")
    target = "met" if r["p99_ms"] < 100.0 and r["starved"] == 0 and r["served"] == r["readers"] else "NOT met"
    print(f"  delivery latency over {r['samples']} client-epochs: median {r['median_ms']:.1f} ms, "
          f"p99 {r['p99_ms']:.1f} ms; starved healthy clients: {r['starved']} "
          f"(target p99 < 100 ms, none starved: {target})")
    print(f"  ramp: {r['connected']} connections answered in {r['ramp_s']:.1f} s; window {args.seconds:.0f} s with "
          f"{r['expected']} epochs per station; machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  caster CPU {100 * r['cpu_core_share']:.1f} % of one core; RSS {r['rss_mb']:.0f} MB, "
          f"{r['kb_per_client']:.1f} kB per client")
    print(f"  floor on this machine: a bare loop of send() to loopback clients takes {floor_us:.1f} us per client, "
          f"so one epoch to {r['clients']} clients needs >= {floor_us * r['clients'] / 1000:.0f} ms of one core "
          f"before any caster logic")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=10_000)
    ap.add_argument("--stations", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=20.0, help="measurement window")
    ap.add_argument("--silent", type=float, default=0.05, help="share of clients that never read")
    ap.add_argument("--procs", type=int, default=2, help="client processes")
    ap.add_argument("--peer-clients", type=int, default=100, help="clients offered to str2str's caster")
    ap.add_argument("--pin", action="store_true", help="caster on CPU 0, clients on CPU 1 (an idle machine)")
    args = ap.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.clients + 100 > hard:
        print(f"fd limit {hard} is below {args.clients} clients; lowering the count", file=sys.stderr)
        args.clients = hard - 200
    epoch = _epoch_frames()
    runs = [("plain loopback: the caster core also runs the clients' TCP receive path", None)]
    if args.pin and _can_steer_rx():
        runs.append(("loopback receive path on the clients' CPU (RPS): the caster core sends", 1 % os.cpu_count()))
    if args.pin:
        os.sched_setaffinity(0, {1 % os.cpu_count()})  # the station sources are remote hosts in service
    for title, rx_cpu in runs:
        with _rx_on_cpu(rx_cpu):
            r = bench_gnssaug(args, epoch)
            floor_us = bench_send_floor(cpus=(0, 1 % os.cpu_count()) if args.pin else None)
        _print_run(title, args, epoch, r, floor_us)
    peer = bench_str2str(args, epoch)
    if peer is not None:
        print(f"RTKLIB str2str caster (ntripc) on the same stream: {peer['served']}/{peer['offered']} clients served; "
              f"ratio gnssaug/str2str clients served: {r['served'] / max(1, peer['served']):.0f}x")
    else:
        print("RTKLIB str2str not installed: peer comparison skipped")
    print("pygnssutils: its test caster (gnssserver ntripmode) defaults to 5 clients (not run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
