"""``gnssaug info``: summaries of observation and navigation files, as text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from gnssaug.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"


def _json(capsys, path):
    assert main(["info", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_info_json_nagoya_rover(capsys, nagoya_dir):
    info = _json(capsys, nagoya_dir / "rover.obs")
    assert info["kind"] == "observation" and info["marker"] == "SEPT" and info["receiver"] == "SEPT MOSAIC-X5"
    assert info["n_epochs"] == 301 and info["n_missing_epochs"] == 0 and info["span_s"] == 300.0
    assert info["first_epoch_gpst"].startswith("2024-06-24T08:20:00")
    lat, lon, h = info["approx_pos_llh_deg_m"]
    assert abs(lat - 35.1347) < 1e-3 and abs(lon - 136.9776) < 1e-3
    bds = info["systems"]["C"]
    assert "C59" in bds["satellites"] and bds["n_satellites"] == len(bds["satellites"])
    slots = {s["slot"]: s["codes"] for s in bds["signals"]}
    assert slots["B1I"][:2] == ["C2I", "L2I"] and "B3I" in slots
    assert set(info["systems"]) == {"G", "R", "E", "J", "C"}


def test_info_text_wuhn_missing_epochs_and_empty_galileo(capsys, wuhn_dir):
    assert main(["info", str(wuhn_dir / "WUHN00CHN_R_20250010000_01D_30S_MO.crx")]) == 0
    out = capsys.readouterr().out
    assert "WUHN00CHN" in out and "TRIMBLE NETR9" in out
    # 00:00:30 .. next day 00:00:00 at 30 s is 2880 epochs; the file has 2858.
    assert "epochs          2858 (22 missing)" in out
    assert "declared, empty E" in out
    assert "B1I" in out and "C2I" in out


def test_info_navigation_file(capsys, nagoya_dir):
    info = _json(capsys, nagoya_dir / "base.nav")
    assert info["kind"] == "navigation"
    if "note" not in info:  # read_nav present: records per system
        assert info["systems"]["C"]["n_records"] >= info["systems"]["C"]["n_satellites"] > 0


def test_info_rinex2_and_bad_file(capsys, tmp_path):
    info = _json(capsys, DATA / "rinex211_convbin_nagoya.rnx")
    assert info["rinex_version"] == 2.11 and info["n_epochs"] == 2
    assert main(["info", str(DATA / "blank.rnx")]) == 2
    assert "blank.rnx" in capsys.readouterr().err


def test_info_rinex302_lists_file_codes_of_b1i(capsys, data_dir):
    info = _json(capsys, data_dir / "hk_tst_20200603" / "2020_06_03_TST_03.obs")
    slots = {s["slot"]: s["codes"] for s in info["systems"]["C"]["signals"]}
    assert slots["B1I"] == ["C1I", "L1I", "D1I", "S1I"]
