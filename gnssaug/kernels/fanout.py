"""Batched fan-out: one ``write(2)`` per descriptor in a compiled loop, no Python per client.

The caster's cost at thousands of clients is one system call per client per publish; in a Python
loop each call also pays the interpreter (loop, attribute loads, the ``os.write`` wrapper, counters),
about as much again. These kernels make the calls from compiled code.

libc's ``write`` is declared to numba *by name* (``types.ExternalFunction``: the LLVM module declares
the external symbol ``write``), so the just-in-time code, its disk cache and the ahead-of-time
extension all bind it when they are loaded, in every process. (A ctypes function pointer would be
baked into the code as an address of the compiling process.) The declaration needs numba, which an
ahead-of-time process never imports: it is made only when this process compiles kernels just in time
(:func:`write_all_ready`), before the first call of the dispatcher compiles the kernel.

Python ignores ``SIGPIPE``, so a write to a reset peer returns -1 (``EPIPE``) instead of killing the
process. The kernels report -1 for every failure without the ``errno``: the caller hands whatever was
not written to its transport, which buffers on ``EAGAIN`` and closes on ``EPIPE``/``ECONNRESET``.
POSIX.1-2017 ``write()``: returns the bytes written (possibly fewer than asked) or -1.
"""

from __future__ import annotations

import numpy as np

from gnssaug.kernels import kernel, kernel_mode

#: ``ssize_t write(int fd, const void *buf, size_t count)``, typed by numba once the process runs JIT.
#: The buffer is passed as its address (intp): the same register as a pointer in the x86-64 and
#: AArch64 C calling conventions, and numba has no int -> void* conversion without an intrinsic.
_c_write = None
#: ``int clock_gettime(clockid_t clk, struct timespec *tp)`` (for the traced variant).
_c_clock_gettime = None
#: Linux ``CLOCK_REALTIME`` (the clock of Python's ``time.time_ns``).
_CLOCK_REALTIME = 0


def _declare_libc() -> None:
    """Give numba the C declarations (by symbol name) of ``write`` and ``clock_gettime``."""
    global _c_write, _c_clock_gettime
    from numba.core import types

    _c_write = types.ExternalFunction("write", types.intp(types.intc, types.intp, types.uintp))
    _c_clock_gettime = types.ExternalFunction("clock_gettime", types.intc(types.intc, types.intp))


def write_all_ready() -> None:
    """Make :func:`write_all` callable in this process (declares libc to numba when kernels run JIT).

    Call before each use: cheap, and a process may switch from ahead-of-time to JIT at any time
    (any kernel call its compiled entries do not match), also on the first call of this kernel when
    the ahead-of-time module lacks it (then the dispatcher compiles it inside that call).
    """
    if _c_write is None and (kernel_mode() == "jit" or not getattr(write_all, "_entries", None)):
        _declare_libc()


@kernel
def write_all(fds, data, sent_out, t_done_ns):
    """Write ``data`` to every descriptor of ``fds`` with one ``write(2)`` each.

    Parameters
    ----------
    fds : int32[n]
        Open, non-blocking descriptors (a blocking one would stall the caller until it takes the data).
    data : uint8[m]
        The bytes every descriptor gets (contiguous; read only is fine).
    sent_out : int64[n]
        Out: per descriptor, the bytes ``write`` took (``< m`` for a full socket buffer) or -1 (any
        error: ``EAGAIN`` when nothing fitted, ``EPIPE``, ``EBADF`` ...).
    t_done_ns : int64[n] or int64[0]
        Out when of length ``n``: the ``CLOCK_REALTIME`` time [ns] after each write (tracing); an
        empty array skips the clock.

    Notes
    -----
    POSIX.1-2017 ``write()``. Call :func:`write_all_ready` first.
    """
    addr = data.ctypes.data
    count = data.size
    timed = t_done_ns.size == fds.size
    ts = np.zeros(2, np.int64)
    for i in range(fds.size):
        sent_out[i] = _c_write(fds[i], addr, count)
        if timed:
            _c_clock_gettime(_CLOCK_REALTIME, ts.ctypes.data)
            t_done_ns[i] = ts[0] * 1_000_000_000 + ts[1]


def warm_up() -> None:
    """Compile (or load) :func:`write_all` for the argument types the hub passes, writing nothing.

    Descriptor -1 fails with ``EBADF`` at once. The ahead-of-time build's workload must call this (or
    the hub's publish) so that the extension holds the kernel.
    """
    write_all_ready()
    fds = np.full(1, -1, np.int32)
    data = np.frombuffer(b"\0", np.uint8)  # read only, like the hub's views of bytes
    write_all(fds, data, np.zeros(1, np.int64), np.zeros(1, np.int64))
    write_all(fds, data, np.zeros(1, np.int64), np.zeros(0, np.int64))
