"""Caster load: thousands of concurrent NTRIP clients on loopback, a handful of 1 Hz station streams.

The caster (``gnssaug serve``) runs in its own process: one asyncio thread, so at most one core
(``--pin`` also pins it to CPU 0 and the clients to CPU 1, for an otherwise idle machine). Station sources
upload one epoch per second each (real RTCM 3 frames from the shared samples plus a proprietary
message 4095 carrying the send time). Client processes open the connections, a mix of NTRIP 1 and
NTRIP 2 (chunked), with a share that never reads. The benchmark prints:

- clients served (reply received and at least one epoch delivered),
- delivery latency, median and p99, from the epoch's arrival at the caster (the source's time stamp,
  read just before the ``send`` that completes the epoch; on loopback the bytes are in the caster's
  socket when that ``send`` returns, and the interval is printed) to its receipt by a reading client
  (the kernel's receive time stamp of the data in the client's socket, ``SO_TIMESTAMPNS``), over all
  (client, epoch) pairs, overall and per round of consecutive seconds (the spread),
- the harness lag apart (kernel receipt -> this harness's read of thousands of sockets on one core):
  the harness's own queueing, not caster latency,
- the decomposition of the aligned bursts from the caster's trace (the hub's ``tracer``: start and end
  of every fan-out, time of every client write; the collector's pauses): how long each station's
  epoch waits in the caster before its fan-out, how long each fan-out takes, time per client write,
  caster time between fan-outs, garbage collections inside bursts,
- starved healthy clients (reading clients that missed more than 10 % of their station's epochs),
- caster CPU (share of one core), the share of time it was runnable but waiting for a CPU (a busy,
  shared machine shows here), memory per client (RSS growth / clients),
- the floor of this machine: a bare Python loop of ``send()`` to loopback clients, per client.

The caster runs as ``gnssaug serve`` does (``create_app`` and an aiohttp runner) in a child process
of this script, which installs the trace.

On loopback the sending core also runs the *receiving* half of every TCP transfer (the clients' input
path and their wake-ups), which on a real network runs on each rover's own host: at 10,000 clients
that is most of the caster core's time. With ``--pin`` and root rights the run is repeated with loopback
receive packet steering (RPS, ``/sys/class/net/lo/queues/rx-0/rps_cpus``) set to the clients' CPU, so the
caster core carries its sends (plus one inter-processor interrupt per send, which a network card does not
need), with the clients' CPU's receive backlog (``netdev_max_backlog``, default 1,000 packets) raised to
twice the clients: a burst to thousands of clients overflows the default, and each dropped packet costs
its client a TCP retransmission timeout (>= 200 ms); the settings are restored afterwards. Every run
prints the system's backlog drops, retransmitted segments and retransmission timeouts in its window.
RPS cannot tell flows apart on loopback (receive flow steering hashes both directions of a connection
alike), so the station uploads are received on the clients' CPU too in that run. The station sources
(remote hosts in service) run on the clients' CPU in pinned runs.
Both runs are printed. The kernel receive time stamp is the time the data reaches the client's socket in
both: on plain loopback the packet is stamped as it is queued and delivered at once on the same CPU, in the
caster's ``send``; with RPS it is delivered later on the clients' CPU, so that run stamps it there
(``netdev_tstamp_prequeue`` 0, restored afterwards).

Usage: ``python benchmarks/caster_load.py [--clients 10000] [--stations 5] [--seconds 20] [--rounds 4] [--pin]
[--no-rps] [--no-plain] [--rps-backlog N] [--compare] [--repeats 2] [--caster-nice -10]``.
``--caster-nice`` lowers the caster's nice value (root): on a machine shared with other work the caster then
keeps most of its core when others' processes land on it (the target is one core for the caster).
``--compare`` alternates the caster as shipped with other variants (``--variants``; default: without this
latency work, i.e. decoding right after each relay, CPython's collector defaults), ``--repeats`` times each,
on the same machine state, and prints a summary per variant.
Everything stays on 127.0.0.1 and stops after a bounded time.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import multiprocessing as mp
import os
import pickle
import resource
import selectors
import shutil
import socket
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

    Two times per stamp: the kernel's arrival time of the data in the client's socket
    (``SO_TIMESTAMPNS``: receipt by the client, the delivery latency) and the wall clock when this harness
    got round to reading it (receipt plus the harness's own queueing over thousands of sockets on one
    core). A read without the kernel time stamp records -1 and is counted, never silently replaced.
    """

    __slots__ = ("sock", "reads", "replied", "tail", "samples")

    def __init__(self, sock: socket.socket, reads: bool):
        self.sock, self.reads = sock, reads
        self.replied = False
        self.tail = b""
        self.samples: list[tuple[int, int, int, int]] = []  # station, sequence, kernel receipt, read (ns)

    def on_data(self, data: bytes, t_kernel_ns: int, t_read_ns: int, stats: dict) -> bool:
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
            station, seq, _ = STAMP.unpack_from(buf, i + 4)
            self.samples.append((station, seq, t_kernel_ns, t_read_ns))
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
        t_read = time.time_ns()
        t_kernel = -1
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(value) >= _TIMESPEC.size:
                sec, nsec = _TIMESPEC.unpack_from(value)
                t_kernel = sec * 1_000_000_000 + nsec
        if t_kernel < 0:
            stats["no_kernel_time"] += 1
        if not c.on_data(data, t_kernel, t_read, stats):
            sel.unregister(c.sock)


def _client_worker(port, jobs, ready_q, stop, out_q, cpu):
    """Open every connection (in batches, each waiting for its replies), report ready, read until
    ``stop`` is set, return the samples."""
    if cpu is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    stats = {"refused": 0, "dropped": 0, "connect_errors": 0, "replied": 0, "no_kernel_time": 0}
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


def _source_thread_main(socks, epoch, stop, sent):
    """One epoch per second on every station socket, each ending with a time stamp frame.

    ``sent[(station, seq)] = (t_stamp_ns, t_sent_ns)``: the stamp is read just before the ``send`` that
    completes the epoch, the second time just after it returns. On loopback the bytes are in the
    caster's socket when ``send`` returns, so that interval brackets the epoch's arrival at the caster.
    """
    # The stations are remote hosts in service: here the clients' processes must not delay a send
    # between its time stamp and its arrival (real-time priority when allowed; it sleeps nearly always).
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))  # pid 0: this thread
    seq = 0
    next_t = time.monotonic()
    while not stop.is_set():
        for k, s in enumerate(socks):
            frame = epoch + _stamp_frame(k, seq)
            s.sendall(frame)
            sent[(k, seq)] = (STAMP.unpack_from(frame, len(frame) - 3 - STAMP.size)[2], time.time_ns())
        seq += 1
        next_t += 1.0
        time.sleep(max(0.0, next_t - time.monotonic()))
    for s in socks:
        s.close()


# ----------------------------------------------------------------------------------------------
# the caster under test, traced (its own process: ``--caster-child``)
# ----------------------------------------------------------------------------------------------
class _Trace:
    """What the traced caster records: every stamped publish and every garbage collection.

    ``publishes[(station, seq)] = (t_start_ns, t_end_ns, write_ns)`` (the hub's fan-out of the
    publish that completes the epoch); ``gc`` holds (generation, t_start_ns, t_end_ns).
    """

    def __init__(self):
        self.publishes: dict[tuple[int, int], tuple[int, int, list[int]]] = {}
        self.gc: list[tuple[int, int, int]] = []
        self._gc_start = 0

    def on_publish(self, mount: str, data: bytes, t_start_ns: int, t_end_ns: int, write_ns: list[int]) -> None:
        i = data.rfind(MARK)
        if i >= 0 and i + 4 + STAMP.size <= len(data):
            station, seq, _ = STAMP.unpack_from(data, i + 4)
            self.publishes[(station, seq)] = (t_start_ns, t_end_ns, write_ns)

    def on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.time_ns()
        else:
            self.gc.append((info["generation"], self._gc_start, time.time_ns()))


#: Caster variants a run can compare: what each switches off (everything on is the service as shipped).
VARIANTS = {
    "service": "the caster as shipped",
    "before": "decoding right after each relay, CPython's default collector (no freezing)",
    "inline": "decoding right after each relay, the collector policy as shipped",
    "per-client": "the hub writes each client in Python (no batched compiled write loop)",
}


def _caster_child(data_dir: str, port: int, http_port: int, trace_path: str, variant: str = "service") -> None:
    """Run the service the way ``gnssaug serve`` does (``create_app`` + an aiohttp runner), with the hub
    traced; on SIGTERM write the trace (pickle) to ``trace_path`` and stop."""
    import asyncio
    import gc
    import pickle
    import signal

    from aiohttp import web

    from gnssaug.server.app import create_app
    from gnssaug.server.keys import CASTER, HUB
    from gnssaug.server.settings import load_settings

    trace = _Trace()

    async def run():
        settings = load_settings(None, data_dir=data_dir, ntrip_port=port, http_port=http_port,
                                 ntrip_host="127.0.0.1", http_host="127.0.0.1")
        app = create_app(settings)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        app[HUB].tracer = trace.on_publish
        if variant in ("before", "inline"):
            app[CASTER].decode_after_relays = False
        if variant == "before":
            app[CASTER].collector.enabled = False
        if variant == "per-client":
            app[HUB].batched = False
        gc.callbacks.append(trace.on_gc)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        gc.callbacks.remove(trace.on_gc)
        app[HUB].tracer = None
        with open(trace_path, "wb") as f:
            pickle.dump({"publishes": trace.publishes, "gc": trace.gc,
                     "collector": (app[CASTER].collector.freezes, app[CASTER].collector.full_collections)}, f)
        await runner.cleanup()

    asyncio.run(run())


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


def _net_counters() -> dict[str, int]:
    """System-wide packet losses on the receive path: packets dropped because a CPU's receive backlog
    was full (``/proc/net/softnet_stat``, second column), TCP segments retransmitted and retransmission
    timeouts (``/proc/net/snmp``, ``/proc/net/netstat``). A drop costs its client a retransmission
    timeout (200 ms at least): a latency tail that is not the caster's."""
    out = {"backlog_drops": 0, "retrans_segs": 0, "rto_timeouts": 0}
    with contextlib.suppress(OSError, ValueError):
        out["backlog_drops"] = sum(int(line.split()[1], 16) for line in
                                   Path("/proc/net/softnet_stat").read_text().splitlines())
    for path, table, field, key in (("/proc/net/snmp", "Tcp:", "RetransSegs", "retrans_segs"),
                                    ("/proc/net/netstat", "TcpExt:", "TCPTimeouts", "rto_timeouts")):
        with contextlib.suppress(OSError, ValueError, IndexError):
            rows = [ln.split() for ln in Path(path).read_text().splitlines() if ln.startswith(table)]
            out[key] = int(rows[1][rows[0].index(field)])
    return out


def _proc_run_delay_s(pid: int) -> float:
    """Time ``pid`` spent runnable but waiting for a CPU (``/proc/PID/schedstat``, second field)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


def _load(port, source_socks, mounts, epoch, args, n_clients, silent_share, seconds, pid=None,
          ramp_timeout_s=300.0) -> dict:
    """Sources stream first, then the clients' ramp, then a measurement window of ``seconds``.

    Returns the raw material: the sources' send times, every reading client's samples and the
    caster's CPU, run-queue wait and memory over the window (see :func:`_summarize`).
    """
    stop_src, stop_cli = threading.Event(), mp.Event()
    sent: dict[tuple[int, int], tuple[int, int]] = {}
    src = threading.Thread(target=_source_thread_main, args=(source_socks, epoch, stop_src, sent), daemon=True)
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
    net0 = _net_counters()
    if pid:
        cpu0, wait0, wall0 = _proc_cpu_s(pid), _proc_run_delay_s(pid), time.monotonic()
    time.sleep(seconds)
    if pid:
        cpu1, wait1, wall1, rss1 = _proc_cpu_s(pid), _proc_run_delay_s(pid), time.monotonic(), _proc_rss_mb(pid)
    t_stop_ns = time.time_ns()
    net1 = _net_counters()
    time.sleep(3.0)  # late deliveries still count, with their latency
    stop_cli.set()
    results = [out_q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(10)
    stop_src.set()
    src.join(5)
    out = {"clients": n_clients, "connected": connected_n, "ramp_s": ramp_s, "sent": dict(sent),
           "t_start_ns": t_start_ns, "t_stop_ns": t_stop_ns, "readers": [c for r in results for c in r["readers"]],
           "silent": sum(r["silent"] for r in results), "net": {k: net1[k] - net0[k] for k in net0}}
    for key in ("refused", "connect_errors", "no_kernel_time", "dropped"):
        out[key] = sum(r[key] for r in results)
    if pid:
        out.update(cpu_core_share=(cpu1 - cpu0) / (wall1 - wall0), run_wait_share=(wait1 - wait0) / (wall1 - wall0),
                   rss_mb=rss1, rss0_mb=rss0)
    return out


def _pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1, nearest rank below) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    v = sorted(values)
    return v[int(q * (len(v) - 1))]


def _summarize(raw: dict, rounds: int, trace: dict | None = None) -> dict:
    """Latency figures of one load run.

    Arrival of an epoch at the caster = the source's time stamp, read just before the ``send`` that
    completes the epoch. Delivery latency = kernel receipt in the client's socket - arrival; harness
    lag = the client's read - kernel receipt. The window's epochs are split into ``rounds`` equal
    groups of consecutive seconds for the spread. With the caster's ``trace``, one aligned burst
    (all stations' epoch ``seq``) is decomposed: wait before each station's fan-out, fan-out length,
    time per client write, gaps between fan-outs, garbage collections inside bursts.
    """
    sent = raw["sent"]
    window = {key for key, (t, _) in sent.items() if raw["t_start_ns"] <= t <= raw["t_stop_ns"]}
    seqs = sorted({seq for _, seq in window})
    per_station = collections.Counter(k for k, _ in window)
    lat_kernel, lat_read, lag, per_client, by_round = [], [], [], [], collections.defaultdict(list)
    round_of = {seq: min(rounds - 1, i * rounds // max(1, len(seqs))) for i, seq in enumerate(seqs)}
    for samples in raw["readers"]:
        n = 0
        station = None
        for k, seq, t_kernel, t_read in samples:
            if (k, seq) not in window:
                continue
            station, n = k, n + 1
            t_arrive = sent[(k, seq)][0]
            lat_read.append((t_read - t_arrive) / 1e6)
            if t_kernel > 0:
                lat_kernel.append((t_kernel - t_arrive) / 1e6)
                lag.append((t_read - t_kernel) / 1e6)
                by_round[round_of[seq]].append((t_kernel - t_arrive) / 1e6)
        per_client.append((station, n))
    expected = max(per_station.values()) if per_station else 0
    out = {k: raw[k] for k in ("clients", "connected", "ramp_s", "silent", "refused", "connect_errors",
                               "no_kernel_time", "net")}
    out.update(readers=len(per_client), served=sum(1 for _, n in per_client if n > 0),
               starved=sum(1 for k, n in per_client if n < 0.9 * per_station.get(k, expected)),
               expected=expected, samples=len(lat_kernel),
               median_ms=_pct(lat_kernel, 0.5), p99_ms=_pct(lat_kernel, 0.99),
               read_median_ms=_pct(lat_read, 0.5), read_p99_ms=_pct(lat_read, 0.99),
               lag_median_ms=_pct(lag, 0.5), lag_p99_ms=_pct(lag, 0.99),
               rounds=[(_pct(v, 0.5), _pct(v, 0.99)) for _, v in sorted(by_round.items())],
               bracket_max_us=max(((t1 - t0) / 1e3 for key, (t0, t1) in sent.items() if key in window), default=0.0),
               bracket_over_1ms=sum(1 for key, (t0, t1) in sent.items() if key in window and t1 - t0 > 1_000_000))
    for key in ("cpu_core_share", "run_wait_share", "rss_mb", "rss0_mb"):
        if key in raw:
            out[key] = raw[key]
    if trace is not None:
        out["burst"] = _decompose(sent, seqs, trace, raw["t_start_ns"], raw["t_stop_ns"])
    return out


def _decompose(sent: dict, seqs: list[int], trace: dict, t_start_ns: int, t_stop_ns: int) -> dict:
    """Per aligned burst (epoch ``seq`` of every station): where the time goes in the caster; the
    collector's passes in the window ``t_start_ns``..``t_stop_ns``."""
    pubs = trace["publishes"]
    rows = collections.defaultdict(list)
    lat_write = []
    for seq in seqs:
        keys = [key for key in pubs if key[1] == seq and key in sent]
        if not keys:
            continue
        t0 = min(sent[key][0] for key in keys)
        order = sorted(keys, key=lambda key: pubs[key][0])
        busy = 0
        for rank, key in enumerate(order):
            start, end, writes = pubs[key]
            rows[f"wait_{rank}"].append((start - sent[key][0]) / 1e6)
            rows[f"fanout_{rank}"].append((end - start) / 1e6)
            if writes:
                rows["us_per_write"].append((end - start) / 1e3 / len(writes))
                lat_write.extend((w - sent[key][0]) / 1e6 for w in writes)
            busy += end - start
        first = pubs[order[0]][0]
        last = max(pubs[key][1] for key in keys)
        rows["burst_end"].append((last - t0) / 1e6)
        rows["first_start"].append((first - t0) / 1e6)
        rows["between"].append((last - first - busy) / 1e6)
        rows["gc_in_burst"].append(sum((g1 - g0) / 1e6 for _, g0, g1 in trace["gc"] if g1 > t0 and g0 < last))
    out = {name: (_pct(v, 0.5), max(v)) for name, v in rows.items()}
    out["n_stations"] = sum(1 for name in rows if name.startswith("wait_"))
    out["write_median_ms"], out["write_p99_ms"] = _pct(lat_write, 0.5), _pct(lat_write, 0.99)
    in_window = [(g, g0, g1) for g, g0, g1 in trace["gc"] if t_start_ns <= g0 <= t_stop_ns]
    out["gc"] = collections.Counter(g for g, _, _ in in_window)
    out["gc_max_ms"] = {g: max((g1 - g0) / 1e6 for gg, g0, g1 in in_window if gg == g) for g in out["gc"]}
    out["gc_ramp_max_ms"] = max(((g1 - g0) / 1e6 for _, g0, g1 in trace["gc"] if g0 < t_start_ns), default=0.0)
    out["collector"] = trace.get("collector", (0, 0))
    return out


def _caster_process_setup(args) -> None:
    """In the caster's process before it starts: CPU 0 with ``--pin``; ``--caster-nice`` applied."""
    if args.pin:
        os.sched_setaffinity(0, {0})
    if args.caster_nice:
        os.nice(args.caster_nice)


def bench_gnssaug(args, epoch, variant: str = "service") -> dict:
    """Run the load against the service (``create_app``, as ``gnssaug serve`` runs it) in its own
    process, traced; returns the figures of :func:`_summarize`."""
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
    trace_path = tmp / "trace.pickle"
    caster = subprocess.Popen([sys.executable, __file__, "--caster-child", str(tmp), str(port), str(http),
                               str(trace_path), variant],
                              stdout=subprocess.DEVNULL, cwd=ROOT,
                              preexec_fn=lambda: _caster_process_setup(args))
    try:
        _wait_port(port)
        socks = _connect_sources(port, mounts)  # stations are up before the rovers come
        raw = _load(port, socks, mounts, epoch, args, args.clients, args.silent, args.seconds, pid=caster.pid)
    finally:
        caster.terminate()
        caster.wait(60)
    try:
        with open(trace_path, "rb") as f:
            trace = pickle.load(f)
    except OSError:
        trace = None
    shutil.rmtree(tmp, ignore_errors=True)
    r = _summarize(raw, args.rounds, trace)
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
        r = _summarize(_load(port, [conn], ["LOAD0"], epoch, args, args.peer_clients, 0.0, 5.0,
                             ramp_timeout_s=60.0), 1)
    finally:
        proc.terminate()
        proc.wait(10)
        feeder.close()
    return {"offered": args.peer_clients, "served": r["served"], "connected": r["connected"]}


RPS_LO = Path("/sys/class/net/lo/queues/rx-0/rps_cpus")
#: 1: packets are time stamped as they are queued for receive processing; 0: when the receiving CPU
#: processes them, just before TCP puts the data in the socket (Documentation/admin-guide/sysctl/net.rst).
TSTAMP_PREQUEUE = Path("/proc/sys/net/core/netdev_tstamp_prequeue")
#: Packets a CPU's receive backlog holds; beyond it they are dropped (and TCP retransmits after >= 200 ms).
MAX_BACKLOG = Path("/proc/sys/net/core/netdev_max_backlog")


def _can_steer_rx() -> bool:
    return RPS_LO.exists() and os.access(RPS_LO, os.W_OK) and (os.cpu_count() or 1) > 1


@contextlib.contextmanager
def _rx_on_cpu(cpu: int | None, backlog: int = 0):
    """Loopback receive processing on ``cpu`` (RPS) for the duration; None leaves the system as it is.

    With RPS the packet is queued on the sending CPU and reaches the client's socket later, on ``cpu``;
    receive time stamps are then taken at that processing (``netdev_tstamp_prequeue`` 0), not at the
    queueing, so the kernel receipt stays the time the bytes reach the client's socket. The clients'
    CPU's receive backlog is raised to at least ``backlog`` packets: the default 1,000 overflows in a
    burst to thousands of clients (a queue a real network's receivers do not share), and every drop
    costs a retransmission timeout. All settings are restored afterwards.
    """
    if cpu is None:
        yield
        return
    old = RPS_LO.read_text().strip()
    saved = {p: p.read_text().strip() for p in (TSTAMP_PREQUEUE, MAX_BACKLOG) if p.exists()}
    RPS_LO.write_text(f"{1 << cpu:x}\n")
    try:
        if TSTAMP_PREQUEUE in saved:
            TSTAMP_PREQUEUE.write_text("0\n")
        if MAX_BACKLOG in saved and int(saved[MAX_BACKLOG]) < backlog:
            MAX_BACKLOG.write_text(f"{backlog}\n")
        yield
    finally:
        RPS_LO.write_text(old + "\n")
        for path, value in saved.items():
            path.write_text(value + "\n")


def _floor_reader(port: int, n: int, cpu: int | None, ready, stop) -> None:
    """The floor's clients: ``n`` connections waiting in one epoll, drained as data comes (as the load's
    clients are), so the sender pays the same wake-ups as the caster does."""
    if cpu is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    ep = selectors.DefaultSelector()
    for s_ in socks:
        s_.setblocking(False)
        ep.register(s_, selectors.EVENT_READ)
    ready.set()
    while not stop.is_set():
        for key, _ in ep.select(0.05):
            with contextlib.suppress(BlockingIOError):
                key.fileobj.recv(65536)
    for s_ in socks:
        s_.close()


def bench_send_floor(n: int = 2000, payload: int = 1061, rounds: int = 10,
                     cpus: tuple[int, int] | None = None) -> tuple[float, float]:
    """Microseconds per ``send`` of one epoch to one loopback TCP client in a bare Python loop: the
    best and the median of ``rounds`` (on a shared machine the best is what the core can do, the
    median what it did).

    The floor under any one-thread caster on this machine: 10,000 clients cost at least 10,000 times
    this per epoch. The clients wait in epoll in another process and read as the data comes, as in the
    load. ``cpus`` = (sender, reader): the loop sends from the first CPU, the clients read on the second
    (so receive steering sees them read there).
    """
    srv = socket.create_server(("127.0.0.1", 0), backlog=4096)
    ready, stop = mp.Event(), mp.Event()
    reader = mp.Process(target=_floor_reader, args=(srv.getsockname()[1], n, cpus[1] if cpus else None, ready, stop))
    reader.start()
    servers = [srv.accept()[0] for _ in range(n)]
    ready.wait(60)
    data = b"x" * payload
    per_round = []
    before = os.sched_getaffinity(0)
    if cpus:
        os.sched_setaffinity(0, {cpus[0]})
    for _ in range(rounds):
        time.sleep(0.2)  # the clients have read the previous round
        t = time.perf_counter()
        for s_ in servers:
            s_.send(data)
        per_round.append((time.perf_counter() - t) / n * 1e6)
    os.sched_setaffinity(0, before)
    stop.set()
    reader.join(30)
    for s_ in servers + [srv]:
        s_.close()
    return min(per_round), sorted(per_round)[len(per_round) // 2]


def _print_burst(d: dict) -> None:
    """The decomposition of the aligned bursts (medians over the window's seconds, worst in brackets)."""
    def f(name):
        med, worst = d[name]
        return f"{med:.1f} ({worst:.1f})"

    n = d["n_stations"]
    print("  one aligned burst, from the first station's arrival (ms; median over the window's seconds, worst "
          "in brackets):")
    print("    per station in serving order: wait in the caster before its fan-out starts / fan-out length: "
          + "; ".join(f"#{i + 1} {f(f'wait_{i}')} / {f(f'fanout_{i}')}" for i in range(n)))
    print(f"    first fan-out starts at {f('first_start')}, last ends at {f('burst_end')}; caster time between "
          f"fan-outs (decoding, other callbacks) {f('between')}; garbage collection inside bursts {f('gc_in_burst')}")
    print(f"    caster time per client write {f('us_per_write')} us; latency if receipt were the caster's write: "
          f"median {d['write_median_ms']:.1f}, p99 {d['write_p99_ms']:.1f}")
    gcs = ", ".join(f"gen {g}: {n_} (longest {d['gc_max_ms'][g]:.1f} ms)" for g, n_ in sorted(d["gc"].items()))
    print(f"    garbage collections in the caster during the window: {gcs or 'none'}; longest before it (ramp) "
          f"{d['gc_ramp_max_ms']:.1f} ms; collector policy: {d['collector'][0]} freezes, "
          f"{d['collector'][1]} full collections")


def _print_run(title: str, args, epoch: bytes, r: dict, floor_us: tuple[float, float]) -> None:
    print(f"gnssaug caster (one asyncio thread), {title}:")
    print(f"  {r['clients']} clients ({r['silent']} never reading, "
          f"{r['refused']} refused, {r['connect_errors']} connect errors); "
          f"{r['served']} of {r['readers']} reading clients served, "
          f"{args.stations} stations at 1 Hz, {len(epoch) + 28} B/epoch")
    target = "met" if r["p99_ms"] < 100.0 and r["starved"] == 0 and r["served"] == r["readers"] else "NOT met"
    print(f"  delivery latency (arrival at the caster -> kernel receipt in the client's socket, SO_TIMESTAMPNS) over "
          f"{r['samples']} client-epochs: median {r['median_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms; starved healthy "
          f"clients: {r['starved']} (target p99 < 100 ms, none starved: {target})")
    spread = "; ".join(f"{m:.0f}/{p:.0f}" for m, p in r["rounds"])
    print(f"  per round of {args.seconds / max(1, len(r['rounds'])):.0f} s, median/p99 ms: {spread}")
    print(f"  harness lag (kernel receipt -> this harness's read, NOT caster latency): median {r['lag_median_ms']:.1f} "
          f"ms, p99 {r['lag_p99_ms']:.1f} ms; arrival -> harness read: median {r['read_median_ms']:.1f}, p99 "
          f"{r['read_p99_ms']:.1f} ms; reads without a kernel time stamp: {r['no_kernel_time']}; arrival bracketed "
          f"within {r['bracket_max_us']:.0f} us ({r['bracket_over_1ms']} epochs over 1 ms)")
    net = r["net"]
    print(f"  receive-path losses in the window (system-wide): {net['backlog_drops']} packets dropped at a full CPU "
          f"receive backlog, {net['retrans_segs']} TCP segments retransmitted, {net['rto_timeouts']} retransmission "
          f"timeouts")
    if "burst" in r:
        _print_burst(r["burst"])
    print(f"  ramp: {r['connected']} connections answered in {r['ramp_s']:.1f} s; window {args.seconds:.0f} s with "
          f"{r['expected']} epochs per station; machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    cpu_us = r["cpu_core_share"] * 1e6 / r["clients"]
    print(f"  caster CPU {100 * r['cpu_core_share']:.1f} % of one core ({cpu_us:.1f} us "
          f"per client-epoch, its share of the loopback receive path included), waiting for a CPU while runnable "
          f"{100 * r['run_wait_share']:.1f} % of the time; RSS {r['rss_mb']:.0f} MB, "
          f"{r['kb_per_client']:.1f} kB per client")
    print(f"  floor on this machine: a bare loop of send() to loopback clients takes {floor_us[0]:.1f} us per client "
          f"at best, {floor_us[1]:.1f} median of rounds, so one epoch to {r['clients']} clients needs >= "
          f"{floor_us[0] * r['clients'] / 1000:.0f} ms of one core before any caster logic")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=10_000)
    ap.add_argument("--stations", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=20.0, help="measurement window")
    ap.add_argument("--silent", type=float, default=0.05, help="share of clients that never read")
    ap.add_argument("--procs", type=int, default=2, help="client processes")
    ap.add_argument("--peer-clients", type=int, default=100, help="clients offered to str2str's caster")
    ap.add_argument("--rounds", type=int, default=4, help="groups of consecutive seconds the spread is reported over")
    ap.add_argument("--pin", action="store_true", help="caster on CPU 0, clients on CPU 1 (an idle machine)")
    ap.add_argument("--no-rps", action="store_true", help="skip the run with loopback receive steering")
    ap.add_argument("--rps-backlog", type=int, default=None,
                    help="receive backlog (packets) of the clients' CPU in the RPS run (default: twice the clients; "
                         "0 keeps the system's)")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain loopback run")
    ap.add_argument("--caster-nice", type=int, default=0,
                    help="nice increment of the caster process (negative, as root: on a machine shared with other "
                         "work, the caster keeps most of its core, as on a dedicated one; printed with the run)")
    ap.add_argument("--compare", action="store_true",
                    help="also run the caster without this session's latency changes, alternating (" +
                    "; ".join(f"{k}: {v}" for k, v in VARIANTS.items()) + ")")
    ap.add_argument("--repeats", type=int, default=1, help="runs of each variant (alternating)")
    ap.add_argument("--variants", default=None, help="comma-separated variants to compare (default: service,before)")
    ap.add_argument("--caster-child", nargs=5, metavar=("DIR", "PORT", "HTTP", "TRACE", "VARIANT"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.caster_child:
        d, port, http, trace, variant = args.caster_child
        _caster_child(d, int(port), int(http), trace, variant)
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.clients + 100 > hard:
        print(f"fd limit {hard} is below {args.clients} clients; lowering the count", file=sys.stderr)
        args.clients = hard - 200
    epoch = _epoch_frames()
    runs = [] if args.no_plain else [("plain loopback: the caster core also runs the clients' TCP receive path", None)]
    if args.pin and _can_steer_rx() and not args.no_rps:
        runs.append(("loopback receive path on the clients' CPU (RPS): the caster core sends", 1 % os.cpu_count()))
    if args.pin:
        os.sched_setaffinity(0, {1 % os.cpu_count()})  # the station sources are remote hosts in service
    variants = (args.variants.split(",") if args.variants else list(VARIANTS)[:2]) if args.compare else ["service"]
    r = {"served": 0}
    for title, rx_cpu in runs:
        table = collections.defaultdict(list)
        for _ in range(args.repeats):
            for variant in variants:
                with _rx_on_cpu(rx_cpu, backlog=2 * args.clients if args.rps_backlog is None else args.rps_backlog):
                    r = bench_gnssaug(args, epoch, variant)
                    floor_us = bench_send_floor(cpus=(0, 1 % os.cpu_count()) if args.pin else None)
                nice = f", caster at nice {args.caster_nice}" if args.caster_nice else ""
                _print_run(f"{title} [{variant}: {VARIANTS[variant]}{nice}]", args, epoch, r, floor_us)
                table[variant].append(r)
        if len(table) > 1 or args.repeats > 1:
            print(f"summary, {title}: per run (alternating runs of one invocation), median/p99 ms of delivery "
                  "latency | of the caster's writes; caster time between fan-outs per burst (median ms); caster "
                  "waiting for a CPU; backlog drops")
            for variant, rs in table.items():
                print(f"  {variant:8s} " + "; ".join(
                    f"{x['median_ms']:.0f}/{x['p99_ms']:.0f} | {x['burst']['write_median_ms']:.0f}/"
                    f"{x['burst']['write_p99_ms']:.0f}, {x['burst']['between'][0]:.1f} ms, "
                    f"{100 * x['run_wait_share']:.0f} %, {x['net']['backlog_drops']}" for x in rs))
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
