"""The numba cache folder follows every kernel source file (gnssaug.kernels)."""

import shutil

from numba.core import config

import gnssaug.kernels as kernels


def test_cache_dir_is_named_after_the_sources():
    kernels._numba_njit()  # sets numba's cache folder (done at the first JIT kernel)
    if not kernels.os.environ.get("NUMBA_CACHE_DIR"):
        assert config.CACHE_DIR.endswith(f"numba-{kernels._sources_digest()}")


def test_a_change_in_any_kernel_file_changes_the_cache_dir(tmp_path, monkeypatch):
    copy = tmp_path / "kernels"
    shutil.copytree(kernels._HERE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(kernels._HERE.parent / "constants.py", tmp_path / "constants.py")
    monkeypatch.setattr(kernels, "_HERE", copy)
    before = kernels._sources_digest()
    geodesy = copy / "geodesy.py"
    geodesy.write_text(geodesy.read_text() + "\n# changed\n")
    assert kernels._sources_digest() != before
