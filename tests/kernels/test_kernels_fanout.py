"""Batched fan-out kernel (gnssaug.kernels.fanout): libc write(2) per descriptor from compiled code.

Real sockets (socket pairs): full writes, a short write into a full buffer, then EAGAIN, EPIPE from a
closed peer and EBADF, each as the byte count or -1; the traced variant's clock; and the ahead-of-time
build of the kernel loaded in a fresh process that never imports numba (the ``write`` symbol is bound
by name when the extension loads, not baked in as an address).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from gnssaug.kernels import fanout

#: The compiled loop calls C; run as Python (coverage runs) it cannot.
pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="needs compiled kernels")

NO_TIMES = np.zeros(0, np.int64)


def _pair(sndbuf: int = 0):
    a, b = socket.socketpair()
    if sndbuf:
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def _write(fds, payload: bytes, t_done_ns=NO_TIMES) -> np.ndarray:
    fanout.write_all_ready()
    sent = np.full(len(fds), -7, np.int64)
    fanout.write_all(np.asarray(fds, np.int32), np.frombuffer(payload, np.uint8), sent, t_done_ns)
    return sent


def test_every_descriptor_gets_the_whole_payload():
    pairs = [_pair() for _ in range(5)]
    payload = bytes(range(256)) * 4
    sent = _write([a.fileno() for a, _ in pairs], payload)
    assert sent.tolist() == [len(payload)] * 5
    for a, b in pairs:
        assert b.recv(4096) == payload
        a.close()
        b.close()


def test_a_full_buffer_gives_a_short_write_then_minus_one():
    a, b = _pair(sndbuf=4096)
    payload = b"z" * 1_000_000  # far more than the socket buffers hold
    first = _write([a.fileno()], payload)[0]
    assert 0 < first < len(payload)
    assert _write([a.fileno()], payload)[0] == -1  # EAGAIN: nothing fitted
    got = bytearray()
    while True:
        try:
            got += b.recv(1 << 20)
        except BlockingIOError:
            break
    assert len(got) == first and set(got) == {ord("z")}
    a.close()
    b.close()


def test_closed_peer_and_bad_descriptor_are_minus_one_and_do_not_stop_the_others():
    gone_a, gone_b = _pair()
    ok_a, ok_b = _pair()
    gone_b.close()  # EPIPE (Python ignores SIGPIPE, so the process lives)
    spare = socket.socket()
    bad_fd = spare.fileno()
    spare.close()  # EBADF
    sent = _write([gone_a.fileno(), bad_fd, ok_a.fileno()], b"abc")
    # a peer closed without unread data: the first write may still be accepted; the next fails
    sent2 = _write([gone_a.fileno(), bad_fd, ok_a.fileno()], b"abc")
    assert sent[1] == sent2[1] == -1 and sent2[0] == -1
    assert sent[2] == sent2[2] == 3 and ok_b.recv(10) == b"abcabc"
    for s in (gone_a, ok_a, ok_b):
        s.close()


def test_traced_writes_carry_the_wall_clock():
    pairs = [_pair() for _ in range(3)]
    t_done = np.zeros(3, np.int64)
    t0 = time.time_ns()
    _write([a.fileno() for a, _ in pairs], b"x" * 100, t_done)
    t1 = time.time_ns()
    assert t0 <= t_done[0] <= t_done[1] <= t_done[2] <= t1
    for a, b in pairs:
        a.close()
        b.close()


_BUILD = r"""
import sys
from pathlib import Path
from gnssaug.kernels import fanout
from gnssaug.kernels.aot_build import compile_called_kernels
fanout.warm_up()
compile_called_kernels(Path(sys.argv[1]), log=lambda line: None)
"""

_RUN = r"""
import importlib.util, json, socket, sys
from pathlib import Path
import numpy as np
import gnssaug.kernels as K
folder = Path(sys.argv[1])
table = json.loads((folder / K.AOT_TABLE).read_text())
spec = importlib.util.spec_from_file_location(K.AOT_MODULE, folder / table["library"])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
K._AOT = (module, table["kernels"])
from gnssaug.kernels import fanout
fanout.warm_up()
a, b = socket.socketpair()
a.setblocking(False)
sent = np.zeros(2, np.int64)
fanout.write_all_ready()
fanout.write_all(np.array([a.fileno(), -1], np.int32), np.frombuffer(b"hello", np.uint8), sent, np.zeros(0, np.int64))
print(json.dumps({"sent": sent.tolist(), "got": b.recv(10).decode(), "mode": K.kernel_mode(),
                  "numba": "numba" in sys.modules, "entries": sorted(table["kernels"])}))
"""


def test_the_ahead_of_time_build_binds_write_in_another_process(tmp_path):
    env = {**os.environ, "GNSSAUG_KERNELS": "jit"}
    build = subprocess.run([sys.executable, "-c", _BUILD, str(tmp_path)], capture_output=True, text=True,
                           timeout=600, env=env)
    assert build.returncode == 0, build.stderr[-3000:]
    env.pop("GNSSAUG_KERNELS")
    run = subprocess.run([sys.executable, "-c", _RUN, str(tmp_path)], capture_output=True, text=True, timeout=300,
                         env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["entries"] == ["fanout.write_all"]
    assert report == {**report, "sent": [5, -1], "got": "hello", "mode": "aot", "numba": False}
