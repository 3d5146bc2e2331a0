"""Start-up cost of ``gnssaug solve --mode spp``: what the process imports before solving.

Each check runs in a fresh interpreter, since imports are process-wide state.
"""

from __future__ import annotations

import os
import subprocess
import sys


def _run(code: str, **env: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_solve_parser_imports_only_its_own_module():
    out = _run(
        "import sys\n"
        "from gnssaug import cli\n"
        "try:\n"
        "    cli.main(['solve', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('gnssaug.server', 'gnssaug.rtcm', 'gnssaug.stations',"
        " 'asyncio', 'aiohttp'))))\n"
    )
    assert out.strip().splitlines()[-1] == "[]"


def test_full_parser_still_lists_every_command():
    out = _run("from gnssaug import cli\nprint(sorted(cli.build_parser()._subparsers._group_actions[0].choices))")
    names = eval(out.strip().splitlines()[-1])  # noqa: S307  (our own printed list)
    assert {"solve", "demo", "info", "evaluate"} <= set(names)
    assert len(names) > 4  # the other packages' commands are registered too


def test_blas_probe_skipped_without_breaking_later_linear_algebra():
    out = _run(
        "import sys\n"
        "from gnssaug.datasets.solve import skip_numba_blas_probe\n"
        "print(skip_numba_blas_probe())\n"
        "print('scipy.linalg' in sys.modules)\n"
        "import numba.np.linalg\n"
        "numba.np.linalg.ensure_lapack()\n"  # what an np.linalg kernel does when it is compiled
        "print('scipy.linalg.cython_lapack' in sys.modules)\n"
        "print(skip_numba_blas_probe())\n",  # a second call is a no-op
        GNSSAUG_KERNELS="jit",  # the probe belongs to processes that import numba
    )
    assert out.split() == ["True", "False", "True", "False"]
