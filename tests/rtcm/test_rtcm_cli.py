"""``gnssaug rtcm dump`` and ``to-rinex`` on the real captures."""

from __future__ import annotations

import json

import pytest

from gnssaug.cli import main
from gnssaug.errors import UsageError
from gnssaug.rtcm.cli import parse_messages
from gnssaug.rtcm.framing import Deframer

NTRIP = "pygpsdata-NTRIP-USCL00CHL0.log"


def test_dump_json_lines(data_dir, capsys):
    assert main(["rtcm", "dump", "--json", str(data_dir / "rtcm3_samples" / NTRIP)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    types = [d["type"] for d in lines]
    assert 1127 in types and 1077 in types and 1005 in types
    for d in lines:
        assert "station_id" in d
    bds = next(d for d in lines if d["type"] == 1127)
    assert bds["satellites"][0].startswith("C") and len(bds["satellites"][0]) == 3
    assert set(bds["signals"]) <= {"2I", "6I", "7I", "5P", "1P", "7D", "2Q", "2X", "5D", "5X", "1D", "1X", "6Q",
                                   "6X", "7Q", "7X"}
    assert bds["epoch_gpst"][:2] == "20" and "T" in bds["epoch_gpst"]
    cell = bds["cells"][0]
    assert 1.9e7 < cell["pr_m"] < 4.5e7 and cell["sat"] in bds["satellites"]
    legacy = next(d for d in lines if d["type"] == 1004)
    assert legacy["epoch_gpst"][11:19] == bds["epoch_gpst"][11:19]  # same epoch in GPST


def test_dump_text_from_stdin(data_dir, capsys, monkeypatch):
    import io
    import sys

    raw = (data_dir / "rtcm3_samples" / "pygpsdata-RTCM3.log").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"garbage" + raw)))
    assert main(["rtcm", "dump", "-", "--time", "2021-08-20T12:00:00"]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert any(line.startswith("1077 station 0") and "MSM7" in line for line in lines)
    assert any(line.startswith("4072 unknown") for line in lines)
    baseline = Deframer()
    baseline.feed(raw)
    baseline.flush()
    assert f"{baseline.dropped_bytes + 7} bytes skipped" in out.err


def test_to_rinex_from_capture(data_dir, tmp_path, capsys):
    out = tmp_path / "x.obs"
    nav = tmp_path / "x.nav"
    assert main(["rtcm", "to-rinex", str(data_dir / "rtcm3_samples" / NTRIP), "-o", str(out), "--nav", str(nav)]) == 0
    from gnssaug.datasets.rinex.obs import read_obs

    header, series = read_obs(out)
    assert len(series) >= 1 and series.n_rows > 20
    names = set(series.epoch(0).sv_names())
    assert any(n.startswith("C") for n in names) and any(n.startswith("G") for n in names)
    from gnssaug.datasets.rinex.nav import read_nav

    back = read_nav(nav)
    assert len(back.kepler) >= 3 and len(back.glonass) >= 1


def test_messages_option():
    assert parse_messages("1006(10),MSM,1230(1.5)") == {"1006": 10.0, "MSM": 1.0, "1230": 1.5}
    with pytest.raises(UsageError, match="bad"):
        parse_messages("1006(10),bad")
