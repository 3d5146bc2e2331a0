"""Fan-out micro-benchmark: microseconds per client of one publish to thousands of loopback sockets.

One process, one set of ``--clients`` connections (their reader, another process, waits in epoll and
drains them as data comes, as the load's clients do), and, in alternating rounds on the same sockets:

- ``hub``: :meth:`gnssaug.server.hub.Hub.publish` as shipped (batched: the compiled ``write(2)`` loop
  for subscribers on the direct path), to a mix of NTRIP 1 and NTRIP 2 (chunked) subscribers;
- ``hub-per-client``: the same hub with ``batched = False`` (a Python loop over subscribers: the
  transport's state checks, ``os.write`` and counters per client: the hub before the batched path);
- ``os.write``: a bare Python loop ``for fd in fds: os.write(fd, data)``;
- ``kernel``: :func:`gnssaug.kernels.fanout.write_all` (one compiled loop calling libc ``write``).

Two clocks per round: wall time, and this thread's CPU time (user + system, ``CLOCK_THREAD_CPUTIME_ID``),
which on a shared machine leaves out the time the sender was preempted by other processes.

``--pin`` sends from CPU 0 and reads on CPU 1; with root rights the rounds are repeated with the
loopback receive path steered to the readers' CPU (RPS, ``/sys/class/net/lo/queues/rx-0/rps_cpus``,
restored afterwards): what a network card does, the clients' TCP receive work is not the sender's.
Printed: per variant, the best and the median over rounds of the publish time per client (us), wall and CPU.

Usage: ``python benchmarks/caster_fanout.py [--clients 10000] [--rounds 12] [--payload 1061] [--pin]
[--no-rps] [--no-plain] [--variants hub,kernel]``. The median ratio is to the bare ``os.write`` loop when it
runs. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from caster_load import _can_steer_rx, _floor_reader, _rx_on_cpu  # noqa: E402  (same folder)

VARIANTS = ("hub", "hub-per-client", "os.write", "kernel")


async def _accept_all(n: int, cpu_reader: int | None):
    """``n`` server-side StreamWriters (the caster's kind of connection) and the reader process."""
    from gnssaug.server.hub import start_watched_server

    writers = []
    got_all = asyncio.Event()

    async def on_conn(reader, writer):
        writers.append(writer)
        if len(writers) == n:
            got_all.set()

    server = await start_watched_server(on_conn, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    ready, stop = mp.Event(), mp.Event()
    proc = mp.Process(target=_floor_reader, args=(port, n, cpu_reader, ready, stop))
    proc.start()
    await asyncio.wait_for(got_all.wait(), 300)
    await asyncio.get_running_loop().run_in_executor(None, ready.wait, 120)
    return server, writers, proc, stop


async def _rounds(writers, rounds: int, payload: int, cpu_sender: int | None,
                  variants: tuple[str, ...] = VARIANTS) -> dict[str, list[tuple[float, float]]]:
    import numpy as np

    from gnssaug.kernels import fanout
    from gnssaug.server.hub import Hub, Subscriber

    n = len(writers)
    data = b"x" * payload
    hub = Hub()
    subs = [Subscriber(w, chunked=bool(i % 2), name=str(i)) for i, w in enumerate(writers)]
    for s in subs:
        hub.subscribe("M", s)
    fds = [s.fd for s in subs]
    fd_arr = np.array(fds, np.int32)
    sent = np.zeros(n, np.int64)
    no_times = np.zeros(0, np.int64)
    fanout.write_all_ready()
    fanout.warm_up()
    write = os.write

    def run_hub():
        hub.batched = True
        hub.publish("M", data)

    def run_hub_per_client():
        hub.batched = False
        hub.publish("M", data)

    def run_os_write():
        for fd in fds:
            write(fd, data)

    def run_kernel():
        fanout.write_all_ready()
        fanout.write_all(fd_arr, np.frombuffer(data, np.uint8), sent, no_times)

    runs = {"hub": run_hub, "hub-per-client": run_hub_per_client, "os.write": run_os_write, "kernel": run_kernel}
    before = os.sched_getaffinity(0)
    if cpu_sender is not None:
        os.sched_setaffinity(0, {cpu_sender})
    out: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
    try:
        for _ in range(rounds):
            for name in variants:
                await asyncio.sleep(0.25)  # the readers have drained the previous round
                t, c = time.perf_counter(), time.thread_time()
                runs[name]()
                out[name].append(((time.perf_counter() - t) / n * 1e6, (time.thread_time() - c) / n * 1e6))
    finally:
        os.sched_setaffinity(0, before)
    short = int((sent != payload).sum())
    if short:
        print(f"  note: the kernel's last round had {short} short or failed writes", flush=True)
    return out


async def _measure(n: int, rounds: int, payload: int, pin: bool,
                   variants: tuple[str, ...]) -> dict[str, list[tuple[float, float]]]:
    server, writers, proc, stop = await _accept_all(n, 1 % os.cpu_count() if pin else None)
    try:
        return await _rounds(writers, rounds, payload, 0 if pin else None, variants)
    finally:
        stop.set()
        for w in writers:
            w.transport.abort()
        server.close()
        await asyncio.get_running_loop().run_in_executor(None, proc.join, 60)


def _report(title: str, n: int, res: dict[str, list[tuple[float, float]]]) -> None:
    print(f"{title}: {n} clients, us per client per publish, best / median of {len(next(iter(res.values())))} "
          "rounds: wall | CPU of the sending thread")
    ref = [statistics.median(v[k] for v in res.get("os.write", next(iter(res.values())))) for k in (0, 1)]
    for name in res:
        wall, cpu = ([v[k] for v in res[name]] for k in (0, 1))
        print(f"  {name:15s} {min(wall):6.2f} / {statistics.median(wall):6.2f} | {min(cpu):6.2f} / "
              f"{statistics.median(cpu):6.2f}   (median ratio to the bare os.write loop: wall "
              f"{statistics.median(wall) / ref[0]:.2f}, CPU {statistics.median(cpu) / ref[1]:.2f})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--payload", type=int, default=1061, help="bytes per publish (one epoch of the load)")
    ap.add_argument("--pin", action="store_true", help="send from CPU 0, read on CPU 1")
    ap.add_argument("--no-rps", action="store_true", help="skip the rounds with loopback receive steering")
    ap.add_argument("--no-plain", action="store_true", help="skip the rounds on plain loopback")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ", ".join(VARIANTS))
    args = ap.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if 2 * args.clients + 100 > hard:
        args.clients = (hard - 100) // 2
    variants = tuple(v for v in VARIANTS if v in args.variants.split(","))
    plain = "plain loopback (the sending core also runs the clients' TCP receive path)"
    runs = [] if args.no_plain else [(plain, None)]
    if args.pin and _can_steer_rx() and not args.no_rps:
        runs.append(("loopback receive path on the readers' CPU (RPS)", 1 % os.cpu_count()))
    for title, rx_cpu in runs:
        with _rx_on_cpu(rx_cpu, backlog=2 * args.clients):
            res = asyncio.run(_measure(args.clients, args.rounds, args.payload, args.pin, variants))
        _report(title, args.clients, res)
    print(f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
