"""Numba kernels: the only place in gnssaug with ``@njit``.

Every kernel is compiled through :func:`kernel`, so all share one policy: cached on disk
(``cache=True``) so the compile cost is paid once per machine, released GIL (``nogil=True``) so
the server can run them in threads, and no ``fastmath`` (NaN marks missing data and must survive).
Kernels import only numpy, math and :mod:`gnssaug.constants`; tables are passed as arguments.
"""

from numba import njit


def kernel(fn=None, **options):
    """Compile ``fn`` as a gnssaug numba kernel (``@kernel`` or ``@kernel(parallel=False)``)."""
    settings = {"cache": True, "nogil": True}
    settings.update(options)
    if fn is None:
        return lambda f: njit(**settings)(f)
    return njit(**settings)(fn)
