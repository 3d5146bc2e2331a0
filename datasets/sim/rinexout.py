"""RINEX 3.04 observation files of simulated receivers (RINEX 3.04 §5, Tables A1-A3).

The header is written in Python; the records by :func:`gnssaug.kernels.sim_rinex.format_obs_records`
into one byte buffer per file (the simulator writes tens of millions of fields per run). The
observation types of each system are the signals the simulator generates (:mod:`.noise`), in
slot order, each as code, phase, Doppler and signal strength (``C1C L1C D1C S1C ...``).
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from gnssaug.gnss import BDS, GAL, GPS, N_BAND, SAT_PRN, SAT_SYSTEM, SIGNAL_PLAN, SYSTEMS
from gnssaug.kernels import sim_rinex as _k
from gnssaug.obs import ObsSeries
from gnssaug.time import datetime_from_gpst_ns

_KIND_LETTERS = (("C", _k.KIND_PR), ("L", _k.KIND_CP), ("D", _k.KIND_DOP), ("S", _k.KIND_CN0))


def obs_types(sat: np.ndarray, code: np.ndarray, systems=(GPS, GAL, BDS)) -> dict[int, list[tuple[str, int, int]]]:
    """Observation types per system, ``[(code, slot, kind), ...]``, from a signal table.

    Parameters
    ----------
    sat : int16[J]
        Satellites.
    code : uint8[J, N_BAND]
        RINEX attribute letter of each satellite's signal per slot (0: none).
    """
    out = {}
    for system in systems:
        rows = SAT_SYSTEM[sat] == system
        if not rows.any():
            continue
        types = []
        for slot in range(N_BAND):
            codes = code[rows, slot]
            codes = codes[codes != 0]
            if codes.size == 0:
                continue
            attr = chr(int(np.bincount(codes).argmax()))
            band = SIGNAL_PLAN[system][slot].rinex_band
            types += [(f"{letter}{band}{attr}", slot, kind) for letter, kind in _KIND_LETTERS]
        out[system] = types
    return out


def _line(text: str, label: str) -> str:
    return f"{text:<60.60}{label:<20}\n"


def header_text(name: str, pos_ecef_m, t_first_ns: int, t_last_ns: int, types, interval_s: float,
                comment: str = "") -> str:
    """The RINEX 3.04 header of a simulated receiver's file.

    ``pos_ecef_m`` goes into ``APPROX POSITION XYZ`` (the true position for stations).
    """
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d %H%M%S UTC")
    lines = [
        _line(f"{'3.04':>9}{'':11}{'OBSERVATION DATA':<20}{'M':<20}", "RINEX VERSION / TYPE"),
        _line(f"{'gnssaug sim':<20}{'gnssaug':<20}{now:<20}", "PGM / RUN BY / DATE"),
    ]
    for text in ("SIMULATED OBSERVATIONS: gnssaug network simulator", comment):
        if text:
            lines.append(_line(text, "COMMENT"))
    lines += [
        _line(name, "MARKER NAME"),
        _line("NON_GEODETIC" if "rover" in comment else "GEODETIC", "MARKER TYPE"),
        _line(f"{'gnssaug':<20}{'gnssaug':<40}", "OBSERVER / AGENCY"),
        _line(f"{'SIM-' + name:<20}{'GNSSAUG SIM':<20}{'0.1':<20}", "REC # / TYPE / VERS"),
        _line(f"{'SIM':<20}{'GNSSAUG_SIM     NONE':<20}", "ANT # / TYPE"),
        _line("".join(f"{v:14.4f}" for v in pos_ecef_m), "APPROX POSITION XYZ"),
        _line(f"{0.0:14.4f}{0.0:14.4f}{0.0:14.4f}", "ANTENNA: DELTA H/E/N"),
    ]
    for system, tlist in types.items():
        codes = [c for c, _, _ in tlist]
        for i in range(0, len(codes), 13):
            head = f"{SYSTEMS[system]}  {len(codes):3d}" if i == 0 else " " * 6
            lines.append(_line(head + "".join(f" {c}" for c in codes[i:i + 13]), "SYS / # / OBS TYPES"))
    lines.append(_line("DBHZ", "SIGNAL STRENGTH UNIT"))
    lines.append(_line(f"{interval_s:10.3f}", "INTERVAL"))
    t0 = datetime_from_gpst_ns(int(t_first_ns))
    t1 = datetime_from_gpst_ns(int(t_last_ns))
    for t, label in ((t0, "TIME OF FIRST OBS"), (t1, "TIME OF LAST OBS")):
        sec = t.second + t.microsecond / 1e6
        lines.append(_line(f"{t.year:6d}{t.month:6d}{t.day:6d}{t.hour:6d}{t.minute:6d}{sec:13.7f}     GPS", label))
    for system, tlist in types.items():
        for code, _, kind in tlist:
            if kind == _k.KIND_CP:
                lines.append(_line(f"{SYSTEMS[system]} {code:3s} {0.0:8.5f}", "SYS / PHASE SHIFT"))
    lines.append(_line("", "END OF HEADER"))
    return "".join(lines)


def _epoch_fields(t_gpst_ns: np.ndarray):
    """Calendar fields (year, month, day, hour, minute) and seconds in 1e-7 s of GPST epochs."""
    fields = np.empty((t_gpst_ns.size, 5), dtype=np.int64)
    sec_1e7 = np.empty(t_gpst_ns.size, dtype=np.int64)
    cache = {}
    for i, t in enumerate(t_gpst_ns):
        minute_ns = int(t) - int(t) % 60_000_000_000
        if minute_ns not in cache:
            d = datetime_from_gpst_ns(minute_ns)
            cache[minute_ns] = (d.year, d.month, d.day, d.hour, d.minute)
        fields[i] = cache[minute_ns]
        sec_1e7[i] = (int(t) - minute_ns) // 100
    return fields, sec_1e7


class SimObsWriter:
    """A RINEX 3.04 observation file written block by block.

    Parameters
    ----------
    path : str or Path
        Output file.
    name : str
        Marker name.
    pos_ecef_m : float64[3]
        ``APPROX POSITION XYZ`` (the true position for stations, the start for rovers).
    types : dict
        From :func:`obs_types`.
    t_first_ns, t_last_ns : int
        First and last epoch (GPST) for the header.
    interval_s : float
        Epoch interval [s].
    comment : str
        An extra header comment.
    """

    def __init__(self, path, name, pos_ecef_m, types, t_first_ns, t_last_ns, interval_s, comment=""):
        self.types = types
        systems = sorted(types)
        self.table_of_system = np.full(len(SYSTEMS), -1, dtype=np.int64)
        self.max_types = max(len(t) for t in types.values())
        self.n_types = np.zeros(len(systems), dtype=np.int64)
        self.type_slot = np.zeros((len(systems), self.max_types), dtype=np.int64)
        self.type_kind = np.zeros((len(systems), self.max_types), dtype=np.int64)
        for row, system in enumerate(systems):
            self.table_of_system[system] = row
            self.n_types[row] = len(types[system])
            for t, (_, slot, kind) in enumerate(types[system]):
                self.type_slot[row, t], self.type_kind[row, t] = slot, kind
        self._fh = open(path, "wb")  # noqa: SIM115 (closed in close())
        head = header_text(name, pos_ecef_m, t_first_ns, t_last_ns, types, interval_s, comment)
        self._fh.write(head.encode())

    def write(self, series: ObsSeries) -> None:
        """Append the epochs of ``series`` (satellites of systems without types are left out)."""
        keep = self.table_of_system[SAT_SYSTEM[series.sat]] >= 0
        if not keep.all():
            series = _select_rows(series, keep)
        sys_of_row = SAT_SYSTEM[series.sat]
        letters = np.frombuffer(SYSTEMS.encode(), dtype=np.uint8).astype(np.int64)[sys_of_row]
        fields, sec_1e7 = _epoch_fields(series.t_gpst_ns)
        size = len(series) * (_k.EPOCH_LINE_WIDTH + 1) + series.n_rows * (
            _k.SAT_WIDTH + 1 + _k.FIELD_WIDTH * self.max_types
        )
        buf = np.empty(size, dtype=np.uint8)
        n = _k.format_obs_records(
            fields, sec_1e7, series.flag, series.offsets, letters, SAT_PRN[series.sat].astype(np.int64),
            self.table_of_system[sys_of_row], series.pr_m, series.cp_cyc, series.dop_hz, series.cn0_dbhz,
            series.lli, self.n_types, self.type_slot, self.type_kind, buf,
        )
        self._fh.write(buf[:n].tobytes())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_sim_obs(path, name: str, pos_ecef_m, series: ObsSeries, interval_s: float, comment: str = "") -> None:
    """Write a whole simulated series as one RINEX 3.04 file."""
    types = obs_types(series.sat, series.code)
    t = series.t_gpst_ns
    with SimObsWriter(path, name, pos_ecef_m, types, int(t[0]), int(t[-1]), interval_s, comment) as writer:
        writer.write(series)


def _select_rows(series: ObsSeries, keep: np.ndarray) -> ObsSeries:
    epoch_of_row = np.repeat(np.arange(len(series)), np.diff(series.offsets))
    counts = np.bincount(epoch_of_row[keep], minlength=len(series))
    fields = {f: getattr(series, f)[keep] for f in ("sat", "pr_m", "cp_cyc", "dop_hz", "cn0_dbhz", "lli", "code")}
    return ObsSeries(series.t_gpst_ns, np.concatenate(([0], np.cumsum(counts))).astype(np.int64), series.flag,
                     meta=series.meta, **fields)
