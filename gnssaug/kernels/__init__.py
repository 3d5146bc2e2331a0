"""Numba kernels: the only place in gnssaug with ``@njit``.

Every kernel is compiled through :func:`kernel`, so all share one policy: cached on disk
(``cache=True``) so the compile cost is paid once per machine, released GIL (``nogil=True``) so
the server can run them in threads, and no ``fastmath`` (NaN marks missing data and must survive).
Kernels import only numpy, math and :mod:`gnssaug.constants`; tables are passed as arguments.

Cache validity: numba invalidates a cached kernel only when *its own* source file changes, not
when a kernel it calls in another file does, so a changed ``geodesy.py`` could leave a stale
``spp.py`` kernel running old code. The cache therefore lives in a folder named after a digest of
every kernel source file (and the constants they inline): any change to any of them starts a fresh
cache. ``NUMBA_CACHE_DIR``, when set, is respected as given.
"""

import hashlib
import os
from pathlib import Path

from numba import njit
from numba.core import config as _numba_config

_HERE = Path(__file__).resolve().parent


def _sources_digest() -> str:
    digest = hashlib.sha1()
    for path in sorted(_HERE.glob("*.py")) + [_HERE.parent / "constants.py"]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_dir() -> Path:
    name = f"numba-{_sources_digest()}"
    local = _HERE / "__pycache__"
    if os.access(local if local.exists() else _HERE, os.W_OK):
        return local / name
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "gnssaug" / name


if not os.environ.get("NUMBA_CACHE_DIR"):
    _numba_config.CACHE_DIR = str(_cache_dir())


def kernel(fn=None, **options):
    """Compile ``fn`` as a gnssaug numba kernel (``@kernel`` or ``@kernel(parallel=False)``)."""
    settings = {"cache": True, "nogil": True}
    settings.update(options)
    if fn is None:
        return lambda f: njit(**settings)(f)
    return njit(**settings)(fn)
