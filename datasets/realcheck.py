"""Base-station file variants for rehearsing a real-data RTK check (brief BB).

A reference-station archive such as Hong Kong SatRef serves the same observations in many shapes:
RINEX 3.02 (BDS B1I labelled ``C1I``) or 3.03+ (``C2I``), RINEX 2.11 (``C1 L1 P2 L2``; BeiDou, when
present, under system letter ``C``), Hatanaka-compressed (``.crx``, RINEX 2 ``.yyd``) and gzipped,
hourly files at 1 s, 5 s or 30 s. :func:`build_variants` writes each of those from one base file
(the simulator's HKSC), so that ``gnssaug solve`` and ``rnx2rtkp`` can be run on every shape and
their pairing compared; :func:`merged_nav` joins per-system navigation files into one for the
simulator. Nothing here is used by the solvers.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gnssaug.gnss import N_SAT, SAT_SYSTEM, SYSTEMS, sv_name
from gnssaug.time import datetime_from_gpst_ns

#: RINEX 2.11 observation types written by :func:`write_rinex2` (one list for every system, Table A1)
#: and the slot each fills per system (None: not written for that system).
RINEX2_TYPES = ("C1", "L1", "P2", "L2", "C5", "L5", "C7", "L7", "C6", "L6")
_RINEX2_SLOT = {
    "G": {"C1": 0, "L1": 0, "P2": 1, "L2": 1, "C5": 2, "L5": 2},
    "E": {"C1": 0, "L1": 0, "C5": 1, "L5": 1, "C7": 2, "L7": 2},
    "C": {"C1": 0, "L1": 0, "C7": 2, "L7": 2, "C6": 1, "L6": 1},
}


@dataclass
class Variant:
    """One shape of the base observations.

    Attributes
    ----------
    name : str
        Short label for tables (``"3.02 C1I"``, ``"2.11 .20d"``, ``"30 s"``).
    paths : list of Path
        The base file(s) to pass to ``solve`` (several: consecutive hourly files).
    interval_s : float
        Epoch spacing of the variant.
    systems : str
        Systems the variant holds.
    note : str
        What it stands for.
    """

    name: str
    paths: list = field(default_factory=list)
    interval_s: float = 1.0
    systems: str = "GEC"
    note: str = ""


def merged_nav(paths, out_path: str | Path) -> Path:
    """Join navigation files (per-system RINEX 3.02 ``.20n .20b .20l``, RINEX 2 ``.19n`` ...) into one
    mixed RINEX 3.04 file (:func:`gnssaug.rtcm.rinexnav.write_nav`), e.g. for ``gnssaug sim --nav``."""
    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.rtcm.rinexnav import write_nav

    write_nav(out_path, read_nav([str(p) for p in paths]))
    return Path(out_path)


def relabel_rinex302(src: str | Path, dst: str | Path, version: str = "3.02") -> Path:
    """A RINEX 3.03+ file rewritten with the RINEX 3.02 BeiDou B1I labels (``C2I`` -> ``C1I``, §5.1).

    ``version`` is the version written in the header: ``"3.02"`` for a true 3.02 file, ``"3.04"``
    for the real-world oddity of a later-version file that kept the 3.02 labels.
    """
    out, in_header, in_bds = [], True, False
    for line in Path(src).read_text().splitlines(keepends=True):
        label = line[60:80].strip() if in_header else ""
        if label == "RINEX VERSION / TYPE":
            line = f"{version:>9s}" + line[9:]
        elif label == "SYS / # / OBS TYPES":
            in_bds = line[0] == "C" or (line[0] == " " and in_bds)  # a blank first column continues a record
            if in_bds:
                line = line[:60].replace("2I", "1I").replace("2Q", "1Q").replace("2X", "1X") + line[60:]
        elif label == "END OF HEADER":
            in_header = False
        out.append(line)
    Path(dst).write_text("".join(out))
    return Path(dst)


def _f14(value: float) -> str:
    return f"{value:14.3f}" if np.isfinite(value) and abs(value) < 1e9 else " " * 14


def write_rinex2(path: str | Path, header, series, systems: str = "GEC") -> Path:
    """Write observations as a RINEX 2.11 file (Tables A1/A2: one type list for every system, 5
    fields per line, satellite list in the epoch line with 12 per line).

    Types :data:`RINEX2_TYPES`; GPS band 2 as ``P2``/``L2`` (semi-codeless, what geodetic
    receivers write), BeiDou B1I as ``C1``/``L1``, B2I ``C7``/``L7``, B3I ``C6``/``L6`` (the
    RINEX 2.12 draft convention), Galileo E1 ``C1``, E5a ``C5``, E5b ``C7``. No Doppler, C/N0,
    loss-of-lock or signal-strength indicators.

    Parameters
    ----------
    path : str or Path
    header : ObsHeader
        Marker, receiver, antenna and approximate position are copied.
    series : ObsSeries
        Observations; at least one epoch.
    systems : str
        System letters to write (of G, E, C).
    """
    letters = np.array([SYSTEMS[s] for s in SAT_SYSTEM[:N_SAT]])
    lines = _rinex2_header(header, int(series.t_gpst_ns[0]))
    for i in range(len(series)):
        lines += _rinex2_epoch(series, i, letters, systems)
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def _rinex2_header(header, t_first_gpst_ns: int) -> list[str]:
    """The RINEX 2.11 header lines (Table A1) for :data:`RINEX2_TYPES`."""
    types = RINEX2_TYPES
    pos = header.approx_pos_ecef_m if header.approx_pos_ecef_m is not None else np.zeros(3)
    t0 = datetime_from_gpst_ns(t_first_gpst_ns)
    return [
        f"{'2.11':>9s}{'':11s}{'OBSERVATION DATA':20s}{'M (MIXED)':20s}RINEX VERSION / TYPE",
        f"{'gnssaug realcheck':20s}{'':40s}PGM / RUN BY / DATE",
        f"{header.marker_name or 'BASE':60s}MARKER NAME",
        f"{'':60s}OBSERVER / AGENCY",
        f"{'':20s}{header.receiver_type or 'UNKNOWN':40s}REC # / TYPE / VERS",
        f"{'':20s}{header.antenna_type or 'UNKNOWN':40s}ANT # / TYPE",
        f"{pos[0]:14.4f}{pos[1]:14.4f}{pos[2]:14.4f}{'':18s}APPROX POSITION XYZ",
        f"{0.0:14.4f}{0.0:14.4f}{0.0:14.4f}{'':18s}ANTENNA: DELTA H/E/N",
        f"{1:6d}{1:6d}{'':48s}WAVELENGTH FACT L1/2",
        # Nine types per line; the rest on a continuation line.
        f"{len(types):6d}" + "".join(f"{t:>6s}" for t in types[:9]) + "# / TYPES OF OBSERV",
        f"{'':6s}" + "".join(f"{t:>6s}" for t in types[9:]) + " " * (54 - 6 * len(types[9:])) + "# / TYPES OF OBSERV",
        f"{t0.year:6d}{t0.month:6d}{t0.day:6d}{t0.hour:6d}{t0.minute:6d}"
        f"{t0.second + t0.microsecond / 1e6:13.7f}{'':5s}{'GPS':3s}{'':9s}TIME OF FIRST OBS",
        f"{'':60s}END OF HEADER",
    ]


def _rinex2_epoch(series, i: int, letters: np.ndarray, systems: str) -> list[str]:
    """The RINEX 2.11 lines of epoch ``i`` (Table A2): the epoch line with up to 12 satellites and its
    continuations, then 5 observation fields of 16 characters per line for each satellite."""
    lo, hi = int(series.offsets[i]), int(series.offsets[i + 1])
    rows = [k for k in range(lo, hi) if _rinex2_writes(letters[series.sat[k]], systems)]
    t = datetime_from_gpst_ns(int(series.t_gpst_ns[i]))
    names = [sv_name(int(series.sat[k])) for k in rows]
    first = (f" {t.year % 100:02d} {t.month:2d} {t.day:2d} {t.hour:2d} {t.minute:2d}"
             f"{t.second + t.microsecond / 1e6:11.7f}  {int(series.flag[i]):1d}{len(rows):3d}")
    out = [(first if j == 0 else " " * 32) + "".join(names[j:j + 12]) for j in range(0, max(len(names), 1), 12)]
    for k in rows:
        table = _RINEX2_SLOT[letters[series.sat[k]]]
        fields = []
        for typ in RINEX2_TYPES:
            slot = table.get(typ)
            if slot is None:
                fields.append(" " * 16)
            else:
                value = series.cp_cyc[k, slot] if typ[0] == "L" else series.pr_m[k, slot]
                fields.append(_f14(value) + "  ")
        out += ["".join(fields[j:j + 5]).rstrip() for j in range(0, len(fields), 5)]
    return out


def _rinex2_writes(letter: str, systems: str) -> bool:
    return letter in systems and letter in _RINEX2_SLOT


def hatanaka_compress(src: str | Path, dst: str | Path, gzip_too: bool = False) -> Path:
    """Compact RINEX (rnx2crx) of ``src``, gzipped when ``gzip_too`` (``.crx.gz``)."""
    import hatanaka

    data = hatanaka.compress(Path(src).read_bytes(), compression="gz" if gzip_too else "none")
    Path(dst).write_bytes(data)
    return Path(dst)


def gzip_copy(src: str | Path, dst: str | Path) -> Path:
    """``src`` gzipped into ``dst``."""
    with open(src, "rb") as fin, gzip.open(dst, "wb", compresslevel=6) as fout:
        shutil.copyfileobj(fin, fout)
    return Path(dst)


def write_decimated(src: str | Path, dst: str | Path, interval_s: float) -> Path:
    """The epochs of ``src`` on the ``interval_s`` grid, as a RINEX 3.04 file."""
    from dataclasses import replace

    from gnssaug.datasets.rinex import read_obs, write_obs
    from gnssaug.datasets.rinex.merge import decimate

    header, series = read_obs(src)
    write_obs(dst, replace(header, interval_s=interval_s), decimate(series, interval_s))
    return Path(dst)


def split_at(src: str | Path, t_split_ns: int, dst_before: str | Path, dst_after: str | Path) -> list[Path]:
    """``src`` cut in two RINEX 3.04 files at ``t_split_ns`` (like two consecutive hourly files)."""
    from gnssaug.datasets.rinex import read_obs, write_obs
    from gnssaug.datasets.rinex.merge import select_epochs

    header, series = read_obs(src)
    before = series.t_gpst_ns < t_split_ns
    write_obs(dst_before, header, select_epochs(series, before))
    write_obs(dst_after, header, select_epochs(series, ~before))
    return [Path(dst_before), Path(dst_after)]


def convbin_rinex2(src: str | Path, dst: str | Path) -> Path | None:
    """RTKLIB convbin's RINEX 2.11 of ``src`` (GPS and Galileo only: RTKLIB writes no BeiDou in 2.11);
    None when convbin is not installed."""
    exe = shutil.which("convbin")
    if exe is None:
        return None
    from gnssaug.datasets.rinex import read_obs_header

    pos = read_obs_header(src).approx_pos_ecef_m
    extra = ["-hp", "/".join(f"{v:.4f}" for v in pos)] if pos is not None else []
    subprocess.run([exe, "-r", "rinex", "-v", "2.11", *extra, "-o", str(dst), str(src)], check=True,
                   capture_output=True)
    return Path(dst)


def build_variants(base_obs: str | Path, folder: str | Path, split_ns: int | None = None) -> list[Variant]:
    """Write every base variant of :mod:`this module <gnssaug.datasets.realcheck>` into ``folder``.

    Parameters
    ----------
    base_obs : str or Path
        A RINEX 3.04 base file at 1 s (the simulator's).
    folder : str or Path
        Where to write (created).
    split_ns : int, optional
        Where to cut the file in two "hourly" files (default: its middle epoch).

    Returns
    -------
    list of Variant
        In table order; file names follow the SatRef/IGS conventions of each shape.
    """
    import hatanaka

    from gnssaug.datasets.rinex import read_obs, read_obs_header

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base_obs = Path(base_obs)
    header = read_obs_header(base_obs)
    v302 = relabel_rinex302(base_obs, folder / "hksc155d.20o")
    long = "HKSC00HKG_R_20201550300_01H_01S_MO"
    out = [
        Variant("3.04 (ours)", [base_obs], note="our writer, BDS B1I as C2I"),
        Variant("3.02 C1I", [v302], note="RINEX 3.02 labels, as Leica Spider / RTKCONV write"),
        Variant("3.04 with C1I", [relabel_rinex302(base_obs, folder / "c1i_in_304.obs", "3.04")],
                note="a 3.04 header with the 3.02 BDS labels"),
        Variant(".crx", [hatanaka_compress(base_obs, folder / f"{long}.crx")], note="Hatanaka"),
        Variant(".crx.gz", [hatanaka_compress(base_obs, folder / f"{long}.crx.gz", gzip_too=True)],
                note="SatRef's archive shape"),
        Variant(".rnx.gz", [gzip_copy(base_obs, folder / f"{long}.rnx.gz")], note="gzipped RINEX 3"),
        Variant(".20o.gz (3.02)", [gzip_copy(v302, folder / "hksc155d.20o.gz")], note="short name, gzipped"),
    ]
    _, series = read_obs(base_obs)
    v2 = write_rinex2(folder / "hksc155d_211.20o", header, series)
    out.append(Variant("2.11 C1 L1 P2 L2", [v2], note="RINEX 2.11, BeiDou under letter C"))
    d2 = folder / "hksc155d.20d"
    d2.write_bytes(hatanaka.rnx2crx(v2.read_bytes()))
    out.append(Variant("2.11 .20d", [d2], note="RINEX 2 Hatanaka"))
    conv = convbin_rinex2(base_obs, folder / "hksc155d_convbin.20o")
    if conv is not None:
        out.append(Variant("2.11 convbin G+E", [conv], systems="GE", note="RTKLIB's 2.11: GPS and Galileo only"))
    for step in (5.0, 30.0):
        name = f"{long.replace('_01S_', f'_{int(step):02d}S_')}.rnx"
        out.append(Variant(f"{step:g} s", [write_decimated(base_obs, folder / name, step)], interval_s=step,
                           note=f"the {step:g} s file of the archive"))
    t_split = split_ns if split_ns is not None else int(series.t_gpst_ns[len(series) // 2])
    parts = split_at(base_obs, t_split, folder / "hour_1.rnx", folder / "hour_2.rnx")
    out.append(Variant("two files", parts, note="a session across two hourly files"))
    return out
