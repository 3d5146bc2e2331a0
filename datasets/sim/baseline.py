"""Realism against an independent engine: RTKLIB fix rates on simulated baselines.

Simulated base/rover pairs at growing distances go through RTKLIB ``rnx2rtkp`` (kinematic, GPS +
BeiDou, L1+L2, continuous AR, broadcast ionosphere, Saastamoinen troposphere; the configuration is
written here). Over short baselines the differential atmosphere is negligible and almost every
epoch fixes; over 50-70 km the residual ionosphere and wet delay make the ambiguities float for much
longer. A simulator whose 70 km baseline fixes like its 5 km one has an atmosphere that is too kind.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from gnssaug.datasets.sim.errors import SimError
from gnssaug.datasets.sim.layout import WUHN_ECEF_M, Layout
from gnssaug.geodesy import ecef_from_llh_deg, llh_deg_from_ecef

#: Rover bearing from the base [deg]: north-east, across the province's north-south iono gradient.
BEARING_DEG = 45.0


def baseline_layout(distances_km, base_ecef_m=WUHN_ECEF_M) -> Layout:
    """A base (``BASE``) and one rover station per distance (``R005`` for 5 km ...), same height."""
    lat, lon, h = llh_deg_from_ecef(np.asarray(base_ecef_m, dtype=float))
    names, points = ["BASE"], [np.asarray(base_ecef_m, dtype=float)]
    for d_km in distances_km:
        d_n = d_km * np.cos(np.radians(BEARING_DEG)) / 111.2
        d_e = d_km * np.sin(np.radians(BEARING_DEG)) / (111.2 * np.cos(np.radians(lat)))
        names.append(f"R{int(round(d_km)):03d}")
        points.append(ecef_from_llh_deg(lat + d_n, lon + d_e, h))
    return Layout(tuple(names), np.array(points))


def rtklib_conf(base_ecef_m, dynamics: bool = False) -> str:
    """rnx2rtkp options: kinematic, GPS+BDS, L1+L2, continuous AR, known base position."""
    x, y, z = (float(v) for v in base_ecef_m)
    opts = {
        "pos1-posmode": "kinematic",
        "pos1-frequency": "l1+l2",
        "pos1-soltype": "forward",
        "pos1-elmask": "15",
        "pos1-dynamics": "on" if dynamics else "off",
        "pos1-ionoopt": "brdc",
        "pos1-tropopt": "saas",
        "pos1-sateph": "brdc",
        "pos1-navsys": "33",  # GPS (1) + BeiDou (32)
        "pos2-armode": "continuous",
        "pos2-gloarmode": "off",
        "pos2-bdsarmode": "on",
        "pos2-arthres": "3",
        "pos2-arlockcnt": "0",
        "pos2-arelmask": "15",
        "pos2-minfixsats": "4",
        "out-solformat": "xyz",
        "out-outstat": "off",
        "ant2-postype": "xyz",
        "ant2-pos1": f"{x:.4f}",
        "ant2-pos2": f"{y:.4f}",
        "ant2-pos3": f"{z:.4f}",
    }
    return "".join(f"{k:<20}={v}\n" for k, v in opts.items())


def run_rnx2rtkp(folder, rover: str, base: str = "BASE", base_ecef_m=None, dynamics: bool = False) -> np.ndarray:
    """Run rnx2rtkp on ``<rover>.obs`` against ``<base>.obs`` in a simulation folder.

    Returns
    -------
    float64[n, 5]
        Per solution epoch: GPS week seconds (unused here, 0), x, y, z [m], quality (1 fix, 2 float).
    """
    exe = shutil.which("rnx2rtkp")
    if exe is None:
        raise SimError("RTKLIB rnx2rtkp is not installed")
    folder = Path(folder)
    conf = folder / "rtk.conf"
    conf.write_text(rtklib_conf(base_ecef_m, dynamics))
    out = folder / f"{rover}.pos"
    cmd = [exe, "-k", str(conf), "-o", str(out), str(folder / f"{rover}.obs"), str(folder / f"{base}.obs"),
           str(folder / "nav.rnx")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0 or not out.exists():
        raise SimError(f"rnx2rtkp failed ({proc.returncode}): {proc.stderr[-500:]}")
    rows = []
    for line in out.read_text().splitlines():
        if line.startswith("%") or not line.strip():
            continue
        f = line.split()
        rows.append((0.0, float(f[2]), float(f[3]), float(f[4]), float(f[5])))
    return np.array(rows).reshape(-1, 5)


def fix_statistics(sol: np.ndarray, n_epochs: int, truth_ecef_m) -> dict:
    """Fix rate over all epochs and the 3-D error of fixed solutions against the truth."""
    fixed = sol[:, 4] == 1
    err = np.linalg.norm(sol[fixed, 1:4] - np.asarray(truth_ecef_m), axis=1)
    return {
        "epochs": int(n_epochs),
        "solutions": int(sol.shape[0]),
        "fix_rate": float(fixed.sum() / max(n_epochs, 1)),
        "fixed_err95_m": float(np.percentile(err, 95)) if err.size else float("nan"),
    }


#: Bases for the built-in rovers: 2-3 km from their working areas (latitude, longitude, height).
ROVER_BASES_LLH = {"tractor": (30.37, 112.20, 30.0), "crane": (30.62, 114.53, 25.0), "airport": (30.80, 114.22, 30.0)}


def read_truth_csv(path) -> dict[int, np.ndarray]:
    """A rover truth file as ``{t_gpst_ns: ecef_m}``."""
    import csv

    with open(path) as fh:
        return {int(r["t_gpst_ns"]): np.array([float(r["x_m"]), float(r["y_m"]), float(r["z_m"])])
                for r in csv.DictReader(fh)}


def rover_statistics(sol_path, truth: dict[int, np.ndarray], n_epochs: int) -> dict:
    """Fix rate and errors of an RTKLIB ``.pos`` file (xyz, GPST) against a rover truth file."""
    from gnssaug.time import gpst_ns_from_calendar

    q, err = [], []
    for line in Path(sol_path).read_text().splitlines():
        if line.startswith("%") or not line.strip():
            continue
        f = line.split()
        year, month, day = (int(v) for v in f[0].split("/"))
        hh, mm, ss = f[1].split(":")
        t = int(gpst_ns_from_calendar(year, month, day, int(hh), int(mm), int(round(float(ss) * 1e9))))
        t = int(round(t / 1e9)) * 1_000_000_000  # RTKLIB prints the clock-corrected time
        if t in truth:
            q.append(int(f[5]))
            err.append(float(np.linalg.norm(np.array([float(v) for v in f[2:5]]) - truth[t])))
    q, err = np.array(q), np.array(err)
    fixed = q == 1
    return {
        "epochs": int(n_epochs),
        "fix_rate": float(fixed.sum() / max(n_epochs, 1)),
        "fixed_err95_m": float(np.percentile(err[fixed], 95)) if fixed.any() else float("nan"),
        "float_err50_m": float(np.median(err[q == 2])) if (q == 2).any() else float("nan"),
    }
