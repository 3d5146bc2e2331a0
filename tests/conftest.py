"""Shared fixtures: the real data folder and per-set paths."""

from __future__ import annotations

import shutil

import pytest

from gnssaug.datasets.paths import shared_data_dir


@pytest.fixture(scope="session")
def data_dir():
    """The shared real-data folder; tests that need it fail loudly if it is missing."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.fail(f"shared data folder {path} is missing; set GNSSAUG_DATA_DIR")
    return path


@pytest.fixture(scope="session")
def nagoya_dir(data_dir):
    return data_dir / "jp_nagoya_static_20240624"


@pytest.fixture(scope="session")
def wuhn_dir(data_dir):
    return data_dir / "wuhan_wuhn_20250101"


def rtklib_tool(name: str) -> str:
    """Path of an RTKLIB command-line tool, or skip the test where it is not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"RTKLIB tool {name} is not installed")
    return path
