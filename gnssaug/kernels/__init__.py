"""Numba kernels: the only place in gnssaug with ``@njit``.

Every kernel is compiled through :func:`kernel`, so all share one policy: cached on disk
(``cache=True``) so the compile cost is paid once per machine, released GIL (``nogil=True``) so
the server can run them in threads, and no ``fastmath`` (NaN marks missing data and must survive).
Kernels import only numpy, math and :mod:`gnssaug.constants`; tables are passed as arguments.

Two ways to run a kernel
------------------------
*Just in time* (numba at run time). Importing numba and setting up its CPU target costs about 1 s
per process before the first kernel runs, even when every kernel comes from the disk cache: more
than a whole single-point solution of a short file takes.

*Ahead of time*. ``gnssaug kernels build`` (run by ``make install``) compiles every kernel that a
representative workload calls from Python, for the argument types it calls it with, into one
extension module (numba's ``pycc``) stored beside the JIT cache under the same source digest. A
process that finds that module for the current sources calls its compiled entry points and never
imports numba. Compiled code does not check argument types, so each call is matched against the
entry's signature first (dtype, dimensions, contiguity, alignment, writeability, scalar types); a
call that matches no entry, or a kernel that was not compiled, switches the process to JIT: every
kernel then gets its numba dispatcher, bound in its module in place of the ahead-of-time proxy so
kernels calling kernels compile as usual. Results are the same either way (same source, same
compiler); ``GNSSAUG_KERNELS=jit`` forces JIT.

Cache validity: numba invalidates a cached kernel only when *its own* source file changes, not
when a kernel it calls in another file does, so a changed ``geodesy.py`` could leave a stale
``spp.py`` kernel running old code. The caches therefore live in folders named after a digest of
every kernel source file (and the constants they inline): any change to any of them starts a fresh
JIT cache and ignores the ahead-of-time module. ``NUMBA_CACHE_DIR``, when set, is respected as given.
"""

import hashlib
import importlib.util
import json
import os
import sys
import threading
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
#: Name of the ahead-of-time extension module (its ``PyInit_`` symbol).
AOT_MODULE = "gnssaug_kernels_aot"
#: File, beside the extension, listing each compiled entry and its argument types.
AOT_TABLE = "entries.json"
_SETTINGS = {"cache": True, "nogil": True}


def _sources_digest() -> str:
    digest = hashlib.sha1()
    for path in sorted(_HERE.glob("*.py")) + [_HERE.parent / "constants.py"]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_root() -> Path:
    local = _HERE / "__pycache__"
    if os.access(local if local.exists() else _HERE, os.W_OK):
        return local
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "gnssaug"


def _cache_dir() -> Path:
    """The numba JIT cache folder of the current kernel sources."""
    return _cache_root() / f"numba-{_sources_digest()}"


def aot_dir() -> Path:
    """The folder of the ahead-of-time module of the current kernel sources."""
    return _cache_root() / f"aot-{_sources_digest()}"


def _numba_njit():
    """numba's ``njit``, with the cache folder set before the first dispatcher exists."""
    from numba import njit
    from numba.core import config

    if not os.environ.get("NUMBA_CACHE_DIR"):
        config.CACHE_DIR = str(_cache_dir())
    return njit


# --- argument matching of ahead-of-time entries -------------------------------------------------

_ARRAY, _SCALAR = 0, 1
#: Python types numba types as each scalar dtype (a Python int is int64, a float float64).
_PY_SCALARS = {"int64": (int, np.int64), "float64": (float, np.float64), "bool": (bool, np.bool_)}


def _arg_spec(entry: list) -> tuple:
    """One argument of an entry table (``["array", dtype, ndim, layout, readonly]`` or ``["scalar", dtype]``)."""
    if entry[0] == "array":
        _, dtype, ndim, layout, readonly = entry
        flag = {"C": "C_CONTIGUOUS", "F": "F_CONTIGUOUS"}.get(layout)
        return _ARRAY, np.dtype(dtype), ndim, flag, not readonly
    dtype = entry[1]
    return _SCALAR, _PY_SCALARS.get(dtype, (np.dtype(dtype).type,))


def _matches(specs: tuple, args: tuple) -> bool:
    """Whether ``args`` have exactly the types an ahead-of-time entry was compiled for."""
    return _matcher(specs)(args)


_FLAG_ATTRS = {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous"}
_matchers: dict = {}


def _flags_test(i: int, flag, writeable: bool) -> str:
    """The flag part of argument ``i``'s test, with as few reads of numpy's flags object as can be.

    ``carray`` is C-contiguous, aligned and writeable and ``behaved`` aligned and writeable, each
    one read (numpy's ``farray`` also demands not C-contiguous, so F-contiguous entries read their
    flags one by one).
    """
    if flag == "C_CONTIGUOUS" and writeable:
        return f"a{i}.flags.carray"
    if flag is None:
        return f"a{i}.flags.behaved" if writeable else f"a{i}.flags.aligned"
    names = [_FLAG_ATTRS[flag], "aligned"] + (["writeable"] if writeable else [])
    return f"(f{i} := a{i}.flags) is not None and " + " and ".join(f"f{i}.{name}" for name in names)


def _matcher(specs: tuple):
    """A function ``args -> bool`` testing :func:`_matches` for one entry's ``specs``.

    Generated as one boolean expression per entry: the loop over the specs it replaces cost about
    6 us per call of a 12-argument kernel, and an RTK epoch of a rover in a city makes ~50 calls.
    """
    found = _matchers.get(specs)
    if found is not None:
        return found
    env = {"_ndarray": np.ndarray}
    terms = []
    for i, spec in enumerate(specs):
        a = f"a{i}"
        if spec[0] == _ARRAY:
            env[f"d{i}"] = spec[1]
            terms.append(f"(type({a}) is _ndarray and {a}.ndim == {int(spec[2])} and ({a}.dtype is d{i} or "
                         f"{a}.dtype == d{i}) and {_flags_test(i, spec[3], spec[4])})")
        else:
            env[f"t{i}"] = spec[1]
            terms.append(f"type({a}) in t{i}")
    names = "".join(f"a{i}, " for i in range(len(specs)))
    body = f"    ({names}) = args\n    return {' and '.join(terms)}\n" if specs else "    return True\n"
    source = f"def match(args):\n    if len(args) != {len(specs)}:\n        return False\n{body}"
    exec(compile(source, f"<kernel argument matcher {len(specs)}>", "exec"), env)  # noqa: S102 (our own text)
    _matchers[specs] = env["match"]
    return env["match"]


# --- ahead-of-time proxies and the switch to JIT -------------------------------------------------

_switch_lock = threading.Lock()
_jit_active = False
_proxies: list = []


class AotKernel:
    """A kernel served by the ahead-of-time module, switching the process to JIT when it must.

    Calls run the first compiled entry whose signature the arguments match; any other call, and any
    attribute of a numba dispatcher (``py_func`` excepted), goes to the JIT dispatcher.
    """

    def __init__(self, fn, options: dict, entries: list):
        self.py_func = fn
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__module__ = fn.__module__
        self.__doc__ = fn.__doc__
        self._options = options
        self._entries = entries
        self._calls = None  # [compiled, specs, matcher or None] per entry, made at the first call
        self._dispatcher = None

    def __call__(self, *args):
        calls = self._calls
        if calls is None:
            calls = self._calls = [[compiled, specs, None] for compiled, specs in self._entries]
        for entry in calls:
            match = entry[2]
            if match is None:
                # Generated when a call first reaches the entry, not at import nor for every entry
                # of the kernel: a generation costs 0.3-3 ms, and a process reaches about half of the
                # entries of the kernels it calls (the strided variants rarely).
                match = entry[2] = _matcher(entry[1])
            if match(args):
                return entry[0](*args)
        return self.dispatcher(*args)

    @property
    def dispatcher(self):
        """The numba dispatcher of this kernel (switches the whole process to JIT)."""
        if self._dispatcher is None:
            _switch_to_jit()
        return self._dispatcher

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dispatcher, name)

    def __repr__(self):
        return f"<ahead-of-time kernel {self.__module__}.{self.__name__}>"


def _switch_to_jit() -> None:
    """Give every kernel its numba dispatcher and bind those in the kernel modules' namespaces."""
    global _jit_active
    with _switch_lock:
        if _jit_active:
            return
        njit = _numba_njit()
        for proxy in _proxies:
            proxy._dispatcher = njit(**{**_SETTINGS, **proxy._options})(proxy.py_func)
        for name, module in list(sys.modules.items()):
            if name.startswith(__name__ + ".") and module is not None:
                for attr, value in list(vars(module).items()):
                    if isinstance(value, AotKernel):
                        setattr(module, attr, value._dispatcher)
        _jit_active = True


def _load_aot():
    """``(module, entry table)`` of the ahead-of-time build for the current sources, or None."""
    if os.environ.get("GNSSAUG_KERNELS", "").lower() == "jit" or os.environ.get("NUMBA_DISABLE_JIT") == "1":
        return None
    folder = aot_dir()
    try:
        table = json.loads((folder / AOT_TABLE).read_text())
        library = folder / table["library"]
        spec = importlib.util.spec_from_file_location(AOT_MODULE, library)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (OSError, ImportError, ValueError, KeyError, AttributeError):
        return None  # none built, or built for another numpy/Python: JIT
    return module, table["kernels"]


_AOT = _load_aot()


def kernel_mode() -> str:
    """``"aot"`` while this process runs ahead-of-time kernels only, else ``"jit"``."""
    return "aot" if _AOT is not None and not _jit_active else "jit"


def _aot_entries(fn) -> list:
    module, table = _AOT
    key = f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}"
    return [(getattr(module, e["export"]), tuple(_arg_spec(a) for a in e["args"]))
            for e in table.get(key, []) if hasattr(module, e["export"])]


def kernel(fn=None, **options):
    """Compile ``fn`` as a gnssaug numba kernel (``@kernel`` or ``@kernel(parallel=False)``)."""
    if fn is None:
        return lambda f: kernel(f, **options)
    if _AOT is None or _jit_active:
        return _numba_njit()(**{**_SETTINGS, **options})(fn)
    proxy = AotKernel(fn, options, _aot_entries(fn))
    _proxies.append(proxy)
    return proxy
