"""gnssaug evaluate on RTKLIB's own Nagoya solution and on a constructed file."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gnssaug.cli import main
from gnssaug.datasets.evaluate import evaluate, load_truth_file
from gnssaug.datasets.posfile import read_pos


def test_rtklib_nagoya_solution_statistics(nagoya_dir):
    # RTKLIB 2.4.3 on this pair: every epoch fixed, sub-centimetre (the figures of the brief).
    ev = evaluate(read_pos(nagoya_dir / "rover_rtk.pos"), load_truth_file(nagoya_dir / "rover_position.txt"))
    assert ev.n_epochs == 301
    assert ev.fix_rate == 1.0 and ev.ttff_s == 0.0
    assert ev.fix_h_rms_m < 0.002 and ev.fix_v_rms_m < 0.003


def test_cli_prints_report_and_plot(nagoya_dir, tmp_path, capsys):
    png = tmp_path / "err.png"
    rc = main(["evaluate", str(nagoya_dir / "rover_rtk.pos"), "--truth-llh", "35.13469901,136.97757549,104.8626",
               "--plot", str(png)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "fixed 301 (100.0 %)" in out
    assert png.stat().st_size > 10_000


def test_time_to_first_fix_and_rates(tmp_path, nagoya_dir):
    lines = (nagoya_dir / "rover_rtk.pos").read_text().splitlines()
    data = [i for i, ln in enumerate(lines) if not ln.startswith("%")]
    # Make the first 10 epochs float (Q 2): TTFF 10 s, fix rate 291/301, 100 % after the first fix.
    for i in data[:10]:
        lines[i] = re.sub(r"^(\S+ \S+\s+\S+\s+\S+\s+\S+\s+)1 ", r"\g<1>2 ", lines[i])
    path = tmp_path / "x.pos"
    path.write_text("\n".join(lines) + "\n")
    ev = evaluate(read_pos(path), load_truth_file(nagoya_dir / "rover_position.txt"))
    assert ev.ttff_s == 10.0
    assert ev.fix_rate == pytest.approx(291 / 301)
    assert ev.fix_rate_after_first == 1.0
    assert np.isfinite(ev.fix_h95_m)


def test_bad_truth_is_a_usage_error(nagoya_dir, capsys):
    assert main(["evaluate", str(nagoya_dir / "rover_rtk.pos"), "--truth-llh", "35.1,abc,1"]) == 2
    assert "LAT,LON,H" in capsys.readouterr().err
