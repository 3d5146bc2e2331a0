"""Run a simulation into an output folder.

The folder receives one RINEX 3.04 observation file per station and rover (``<name>.obs``, header
position = true position for stations, start position for rovers), the navigation file used
(``nav.rnx``, decompressed), the truth files (``stations.csv``; ``<rover>.truth.csv`` with GPST
time and position per epoch) and ``sim.json`` with the settings and counts.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from gnssaug.datasets.sim.engine import SimConfig, Simulator
from gnssaug.datasets.sim.layout import Layout, write_stations_csv
from gnssaug.datasets.sim.rinexout import SimObsWriter, obs_types
from gnssaug.datasets.sim.rovers import Receiver, write_truth_csv
from gnssaug.time import NS_PER_S, isoformat_gpst


def copy_nav(nav_path, out_path) -> None:
    """Write the navigation file used as plain RINEX (decompressed if packed)."""
    from gnssaug.datasets.rinex.compression import read_rinex_bytes

    Path(out_path).write_bytes(read_rinex_bytes(nav_path))


def write_outputs(sim: Simulator, out_dir, layout: Layout | None = None, nav_path=None) -> dict:
    """Simulate block by block, streaming every receiver's observations to its RINEX file.

    Parameters
    ----------
    sim : Simulator
        The configured simulation.
    out_dir : str or Path
        Output folder (created).
    layout : Layout, optional
        The stations, for ``stations.csv``.
    nav_path : str or Path, optional
        The navigation file, copied as ``nav.rnx``.

    Returns
    -------
    dict
        Summary: receivers, epochs, observation rows, bytes written, seconds spent simulating
        and writing.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = sim.config
    t_all = sim.times_ns
    types = obs_types(sim.sat, sim.signals.code)
    writers = {}
    for rx in sim.receivers:
        note = "rover: header position is the start of the trajectory" if rx.is_rover else "station: true position"
        writers[rx.name] = SimObsWriter(
            out / f"{rx.name}.obs", rx.name, rx.pos_ecef_m, types, int(t_all[0]), int(t_all[-1]),
            1.0 / cfg.rate_hz, note,
        )
    rows = 0
    t_sim = t_write = 0.0
    try:
        clock = time.perf_counter()
        for t_ns, obs in sim.blocks():
            t_sim += time.perf_counter() - clock
            clock = time.perf_counter()
            for name, block in obs.items():
                series = sim.series_of(t_ns, [block])
                rows += series.n_rows
                writers[name].write(series)
            t_write += time.perf_counter() - clock
            clock = time.perf_counter()
    finally:
        for w in writers.values():
            w.close()
    if layout is not None:
        write_stations_csv(out / "stations.csv", layout)
    for rx in sim.receivers:
        if rx.is_rover:
            pos, _ = rx.states((t_all - cfg.start_gpst_ns) / NS_PER_S)
            write_truth_csv(out / f"{rx.name}.truth.csv", t_all, pos)
    if nav_path is not None:
        copy_nav(nav_path, out / "nav.rnx")
    summary = {
        "receivers": [rx.name for rx in sim.receivers],
        "start_gpst": isoformat_gpst(int(cfg.start_gpst_ns)),
        "epochs": int(t_all.size),
        "rate_hz": cfg.rate_hz,
        "seed": cfg.seed,
        "satellites": int(sim.sat.size),
        "rows": int(rows),
        "simulate_s": round(t_sim, 3),
        "write_s": round(t_write, 3),
        "models": {
            "iono": asdict(cfg.iono), "tropo": asdict(cfg.tropo), "orbit_clock": asdict(cfg.orbit_clock),
            "noise": cfg.noise, "multipath": cfg.multipath, "slips": cfg.slips,
            "sat_bias_sigma_m": cfg.sat_bias_sigma_m,
        },
    }
    (out / "sim.json").write_text(json.dumps(summary, indent=1, default=_jsonable))
    return summary


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def receivers_for(layout: Layout | None, rover_names=()) -> list[Receiver]:
    """Stations of a layout followed by built-in rovers."""
    from gnssaug.datasets.sim.rovers import rover, stations

    out = stations(layout) if layout is not None else []
    out += [rover(n) for n in rover_names]
    return out


__all__ = ["SimConfig", "copy_nav", "receivers_for", "write_outputs"]
