"""Broadcast ephemerides against precise orbits: the WUHN day (2025-01-01), every 5 min.

Broadcast: the IGS merged navigation file ``BRDC00IGS_R_20250010000_01D_MN.rnx.gz`` through
``read_nav`` and ``EphStore``; precise: WUM (Wuhan University) and CODE multi-GNSS final orbits
(SP3, centre of mass, with clocks). Conventions (see :mod:`gnssaug.datasets.orbit_check`): no
antenna offsets are applied (the radial mean shows them), Galileo uses the F/NAV family (E1/E5a
clocks like the products), BeiDou clocks are moved from B3I to B1I/B3I IF with TGD1, the periodic
relativistic term is removed from the broadcast clocks, and the per-epoch mean clock difference of
each clock group (GPS, GLO, GAL, BDS-2, BDS-3) is removed.

Printed per product and group: satellites, 3D orbit RMS, radial/along/cross RMS, radial mean,
clock RMS and clock RMS without per-satellite constant biases [m]; then the satellites whose 3D
orbit RMS exceeds ``--worst`` metres.

Run: ``.venv/bin/python benchmarks/broadcast_vs_precise.py``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
NAV = "BRDC00IGS_R_20250010000_01D_MN.rnx.gz"
PRODUCTS = ("WUM0MGXFIN_20250010000_01D_05M_ORB.SP3", "COD0MGXFIN_20250010000_01D_05M_ORB.SP3")
COLUMNS = ("sats", "orbit_3d_rms_m", "radial_rms_m", "along_rms_m", "cross_rms_m", "radial_mean_m",
           "clock_rms_m", "clock_std_m")
HEAD = ("sats", "3D", "R", "A", "C", "R mean", "clk", "clk-bias")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worst", type=float, default=4.0, help="list satellites above this 3D RMS [m]")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from gnssaug.datasets.orbit_check import compare_broadcast_precise
    from gnssaug.datasets.paths import shared_data_dir
    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.datasets.sp3 import read_sp3
    from gnssaug.gnss import sv_name

    folder = shared_data_dir() / "wuhan_wuhn_20250101"
    t0 = time.perf_counter()
    nav = read_nav(folder / NAV)
    print(f"read_nav: {len(nav.kepler)} Keplerian + {len(nav.glonass)} GLONASS records, "
          f"skipped {nav.skipped}, {time.perf_counter() - t0:.2f} s")
    for product in PRODUCTS:
        sp3 = read_sp3(folder / product)
        t0 = time.perf_counter()
        cmp = compare_broadcast_precise(nav, sp3)
        took = time.perf_counter() - t0
        print(f"\n{product} ({sp3.agency}, {sp3.frame}): {cmp.sat.size} satellite-epochs, {took:.2f} s")
        print(f"  {'group':11s}" + "".join(f"{h:>9s}" for h in HEAD))
        for name, s in cmp.summary().items():
            print(f"  {name:11s}{s['sats']:9d}" + "".join(f"{s[c]:9.2f}" for c in COLUMNS[1:]))
        for sat in np.unique(cmp.sat):
            rows = cmp.sat == sat
            d = cmp.d_rac_m[rows]
            rms = float(np.sqrt(np.mean(np.sum(d * d, axis=1))))
            if rms > args.worst:
                r, a, c = (float(np.sqrt(np.mean(d[:, k] ** 2))) for k in range(3))
                print(f"    {sv_name(int(sat))}: 3D {rms:.2f} m (R {r:.2f}, A {a:.2f}, C {c:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
