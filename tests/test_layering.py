"""The import rules of the architecture (DESIGN.md, "Numba rules" and "Layout").

Checked two ways: statically, every import statement of every module (also those inside
functions); and at run time, what importing a package really pulls into ``sys.modules``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDER_OF = {"gnssaug": "gnssaug", "rtcm": "rtcm", "stations": "stations", "server": "server",
             "datasets": "datasets"}


def _modules(folder: str):
    yield from sorted((ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(folder: str, forbidden: tuple[str, ...], skip: tuple[str, ...] = ()) -> list[str]:
    bad = []
    for path in _modules(folder):
        rel = path.relative_to(ROOT).as_posix()
        if rel in skip:
            continue
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{rel} imports {name}")
    return bad


def test_kernels_import_only_numpy_math_and_constants():
    allowed = ("numpy", "math", "numba", "gnssaug.constants", "gnssaug.kernels", "__future__")
    # The package __init__ also locates the on-disk caches and loads the ahead-of-time module.
    init_allowed = allowed + ("hashlib", "os", "pathlib", "importlib", "json", "sys", "threading",
                                    "warnings")
    bad = []
    for path in _modules("gnssaug/kernels"):
        ok = init_allowed if path.name in ("__init__.py", "aot_build.py") else allowed
        for name in _imports(path):
            if not any(name == a or name.startswith(a + ".") for a in ok):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert bad == []


def test_njit_only_in_kernels():
    bad = [
        str(p.relative_to(ROOT))
        for folder in FOLDER_OF.values()
        for p in _modules(folder)
        if "kernels" not in p.parts and ("@njit" in p.read_text() or "from numba" in p.read_text())
    ]
    assert bad == []


def test_core_imports_no_server_network_or_georinex():
    forbidden = ("aiohttp", "georinex", "gnssaug.server", "gnssaug.stations", "gnssaug.rtcm",
                 "gnssaug.datasets", "xarray", "pandas")
    # cli.py is the composition root: it names subcommand modules as strings and imports them lazily.
    assert _violations("gnssaug", forbidden, skip=("gnssaug/cli.py",)) == []


def test_rtcm_imports_no_numba_solvers_or_server():
    forbidden = ("numba", "gnssaug.kernels", "gnssaug.solvers", "gnssaug.server", "aiohttp", "georinex")
    assert _violations("rtcm", forbidden) == []


def test_stations_import_no_server():
    assert _violations("stations", ("gnssaug.server", "aiohttp")) == []


@pytest.mark.parametrize(
    ("package", "absent"),
    [
        ("gnssaug.obs", ("numba", "aiohttp", "georinex", "xarray")),
        ("gnssaug.cli", ("numba", "aiohttp", "georinex", "xarray")),
        ("gnssaug.rtcm", ("numba", "aiohttp", "georinex")),
    ],
)
def test_runtime_imports(package, absent):
    code = f"import sys, {package}; print(' '.join(m for m in {absent!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
