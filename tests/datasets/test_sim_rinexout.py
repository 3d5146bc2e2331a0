"""RINEX 3.04 files of simulated receivers (streamed block by block through the project writer): read back
by the project reader and by georinex."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.datasets.rinex import read_obs
from gnssaug.datasets.rinex.obs_write import signal_obs_types
from gnssaug.datasets.sim.engine import SimConfig, Simulator
from gnssaug.datasets.sim.output import receiver_writer
from gnssaug.datasets.sim.rovers import Receiver
from gnssaug.geodesy import ecef_from_llh_deg
from gnssaug.gnss import sv_name
from gnssaug.time import gpst_ns_from_calendar
from tests.datasets.sim_helpers import SATS, circular_states

T0_NS = int(gpst_ns_from_calendar(2025, 1, 1, 4, 0, 0))
F14_3_TOL = 0.5e-3 + 1e-9  # the file keeps three decimals


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    rx = Receiver("AAAA", ecef_from_llh_deg(30.5, 114.3, 30.0))
    cfg = SimConfig(start_gpst_ns=T0_NS, duration_s=15.0, seed=2, block_s=4.0)
    sim = Simulator(cfg, [rx], SATS, lambda s, t: circular_states(s, t, T0_NS))
    path = tmp_path_factory.mktemp("sim") / "AAAA.obs"
    blocks, times = [], []
    with receiver_writer(path, rx, signal_obs_types(sim.sat, sim.signals.code), 1.0) as writer:
        for t_ns, obs in sim.blocks():  # four blocks: the header is completed at close
            writer.write(sim.series_of(t_ns, [obs["AAAA"]]))
            blocks.append(obs["AAAA"])
            times.append(t_ns)
    series = sim.series_of(np.concatenate(times), blocks)
    return path, rx, series


def test_project_reader_gets_back_every_value(written):
    path, rx, series = written
    header, back = read_obs(path)
    np.testing.assert_array_equal(back.t_gpst_ns, series.t_gpst_ns)
    np.testing.assert_array_equal(back.sat, series.sat)
    for field in ("pr_m", "cp_cyc", "dop_hz", "cn0_dbhz"):
        a, b = getattr(series, field).astype(float), getattr(back, field).astype(float)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        assert np.nanmax(np.abs(a - b)) <= F14_3_TOL
    np.testing.assert_array_equal(back.lli, series.lli)
    np.testing.assert_allclose(header.approx_pos_ecef_m, rx.pos_ecef_m, atol=1e-4)
    assert header.time_last_gpst_ns == series.t_gpst_ns[-1] and header.interval_s == 1.0
    assert header.marker_name == "AAAA" and header.receiver_type == "GNSSAUG SIM"


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_georinex_reads_the_same_pseudoranges(written):
    georinex = pytest.importorskip("georinex")
    path, _, series = written
    ds = georinex.load(str(path), use=["G", "C"])
    first = series.epoch(0)
    for i, sat in enumerate(first.sat):
        sv = sv_name(int(sat))
        code = "C1C" if sv[0] == "G" else "C2I"
        value = float(ds[code].sel(sv=sv).isel(time=0))
        assert abs(value - first.pr_m[i, 0]) <= F14_3_TOL
