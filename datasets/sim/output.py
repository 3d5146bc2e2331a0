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

from gnssaug.datasets.rinex.obs_header import ObsHeader
from gnssaug.datasets.rinex.obs_write import ObsWriter, signal_obs_types
from gnssaug.datasets.sim.engine import SimConfig, Simulator
from gnssaug.datasets.sim.errors import SimError
from gnssaug.datasets.sim.layout import Layout, write_stations_csv
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
    types = signal_obs_types(sim.sat, sim.signals.code)
    # Receivers that track their own signal set (the urban car) say so through receiver_obs_types.
    types_of = getattr(sim, "receiver_obs_types", lambda rx: types)
    writers = {rx.name: receiver_writer(out / f"{rx.name}.obs", rx, types_of(rx), 1.0 / cfg.rate_hz)
               for rx in sim.receivers}
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


def receiver_writer(path, rx: Receiver, obs_types: dict[str, list[str]], interval_s: float) -> ObsWriter:
    """The RINEX 3.04 writer of one simulated receiver's observation file.

    Parameters
    ----------
    path : str or Path
        Output file.
    rx : Receiver
        The receiver: its name is the marker name, its position (true for stations, the start
        of the trajectory for rovers) goes into APPROX POSITION XYZ.
    obs_types : dict[str, list[str]]
        From :func:`gnssaug.datasets.rinex.obs_write.signal_obs_types` of the simulated signals.
    interval_s : float
        Epoch interval [s].
    """
    note = "rover: header position is the start of the trajectory" if rx.is_rover else "station: true position"
    header = ObsHeader(marker_name=rx.name, receiver_type="GNSSAUG SIM", antenna_type="GNSSAUG_SIM     NONE",
                       approx_pos_ecef_m=np.asarray(rx.pos_ecef_m, dtype=np.float64), interval_s=interval_s)
    return ObsWriter(path, header, obs_types, comments=("SIMULATED OBSERVATIONS: gnssaug network simulator", note))


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def build_simulator(layout: Layout | None, rover_names=(), nav_path=None, config: SimConfig | None = None,
                    *, start_gpst_ns: int | None = None, duration_s: float = 3600.0, rate_hz: float = 1.0,
                    seed: int = 0, biases: bool = True) -> Simulator:
    """A simulator of a layout's stations and built-in rovers on a navigation file's satellites.

    The entry point for scripts and the replay harness: ``build_simulator(hubei91(), ["crane"]).epochs()``
    streams ``(t_gpst_ns, {name: ObsEpoch})`` without files.

    Parameters
    ----------
    layout : Layout or None
        Stations (None: rovers only).
    rover_names : sequence of str
        Built-in rovers (``tractor``, ``crane``, ``airport``, and ``car``: the urban low-cost rover
        of :mod:`gnssaug.datasets.sim.urban`, simulated by its ``UrbanSimulator``).
    nav_path : str or Path, optional
        RINEX navigation file; default the WUHN day's IGS merged file in the shared data.
    config : SimConfig, optional
        Full configuration; else one is made from ``start_gpst_ns`` (default 2025-01-01 02:00 GPST),
        ``duration_s``, ``rate_hz`` and ``seed``.
    biases : bool
        Carry the broadcast group delays (TGD/BGD) in the code.
    """
    from gnssaug.datasets.paths import shared_data_file
    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.datasets.sim.satellites import BroadcastSource
    from gnssaug.time import parse_time_arg

    if nav_path is None:
        nav_path = shared_data_file("wuhan_wuhn_20250101", "BRDC00IGS_R_20250010000_01D_MN.rnx.gz")
    source = BroadcastSource(read_nav(nav_path))
    if config is None:
        start = parse_time_arg("2025-01-01T02:00:00") if start_gpst_ns is None else start_gpst_ns
        config = SimConfig(start_gpst_ns=start, duration_s=duration_s, rate_hz=rate_hz, seed=seed)
    receivers = receivers_for(layout, rover_names)
    if not receivers:
        raise SimError("nothing to simulate: give a layout or rovers")
    group_delay = source.group_delays_m(source.sat) if biases else None
    from gnssaug.datasets.sim.urban import URBAN_ROVERS, UrbanSimulator

    cls = UrbanSimulator if any(n in URBAN_ROVERS for n in rover_names) else Simulator
    return cls(config, receivers, source.sat, source, group_delay_m=group_delay)


def receivers_for(layout: Layout | None, rover_names=()) -> list[Receiver]:
    """Stations of a layout followed by built-in rovers."""
    from gnssaug.datasets.sim.rovers import rover, stations

    out = stations(layout) if layout is not None else []
    out += [rover(n) for n in rover_names]
    return out


__all__ = ["SimConfig", "build_simulator", "copy_nav", "receiver_writer", "receivers_for", "write_outputs"]
