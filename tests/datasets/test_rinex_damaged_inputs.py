"""Damaged copies of the edge-case files: a FileFormatError or a (partial) result, never another exception.

Byte damage, cuts, insertions and whole-line damage (a line lost, doubled, swapped with its
neighbour, cut short) on the RINEX 2/3/4 navigation files and the RINEX 2.11 / 3.05 observation
files of the edge cases. Warnings are allowed: they are how skipped records are reported.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from gnssaug.datasets.rinex import read_obs
from gnssaug.datasets.rinex.nav import read_nav
from gnssaug.errors import FileFormatError

DATA = Path(__file__).resolve().parents[1] / "data"
TRIALS = 160


def _damage(src: bytes, rng, trial: int) -> bytes:
    kind = trial % 8
    if kind < 4:
        b = bytearray(src)
        i = int(rng.integers(len(b)))
        if kind == 0:
            for j in rng.integers(len(b), size=int(rng.integers(1, 20))):
                b[j] = int(rng.integers(256))
        elif kind == 1:
            del b[i:]
        elif kind == 2:
            del b[i:i + int(rng.integers(200))]
        else:
            b[i:i] = bytes(rng.integers(32, 127, size=int(rng.integers(1, 50))).astype(np.uint8))
        return bytes(b)
    lines = src.split(b"\n")
    i = int(rng.integers(len(lines)))
    if kind == 4:
        del lines[i]
    elif kind == 5:
        lines.insert(i, lines[i])
    elif kind == 6 and i + 1 < len(lines):
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    else:
        lines[i] = lines[i][:int(rng.integers(len(lines[i]) + 1))]
    return b"\n".join(lines)


def _run(tmp_path, name, reader, seed):
    rng = np.random.default_rng(seed)
    src = (DATA / name).read_bytes()
    path = tmp_path / ("damaged_" + name)
    outcomes = {"read": 0, "error": 0}
    for trial in range(TRIALS):
        path.write_bytes(_damage(src, rng, trial))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                reader(path)
                outcomes["read"] += 1
            except FileFormatError as exc:
                assert path.name in str(exc), exc  # the message names the file
                outcomes["error"] += 1
    return outcomes


@pytest.mark.parametrize("name", ["nav_rinex4_all_record_types.rnx", "nav_rinex305_legacy_twin.rnx",
                                  "nav_rinex211_gps.n", "nav_rinex211_glo.g"])
def test_damaged_navigation_files(tmp_path, name):
    outcomes = _run(tmp_path, name, read_nav, 4000)
    assert outcomes["read"] > 0


OBS_FILES = ("rinex304_tiny.rnx", "rinex211_convbin_nagoya.rnx", "rinex211_mixed_events.rnx",
             "rinex305_header_records_crlf.rnx", "rinex211_blank_in_seconds.rnx",
             "shifted_time_of_first_obs_junk_epoch.rnx", "glonass_time_leap_second.rnx")


@pytest.mark.parametrize("name", OBS_FILES)
def test_damaged_observation_files(tmp_path, name):
    outcomes = _run(tmp_path, name, read_obs, 211)
    assert outcomes["read"] > 0
