"""A small RINEX 3.04 navigation writer for ephemerides decoded from RTCM (``gnssaug rtcm to-rinex --nav``).

Writes GPS, QZSS (LNAV), Galileo (I/NAV, F/NAV), BeiDou (D1/D2) and GLONASS records in the layout of
RINEX 3.04 §A6-A10 (Tables A6, A8, A10, A12, A14): an epoch line with the clock terms, then the
broadcast-orbit lines, all values ``D19.12``. Angles in radians, GLONASS states in km.
"""

from __future__ import annotations

import math

import numpy as np

from gnssaug.ephemeris import records as rec
from gnssaug.gnss import BDS, GAL, SAT_SYSTEM, sv_name
from gnssaug.time import NS_PER_WEEK, datetime_from_gpst_ns, leap_seconds_at_gpst_ns

_BDT_OFFSET_NS = 14 * 10**9


def _d(x) -> str:
    x = float(x)
    if not math.isfinite(x):
        x = 0.0
    return f"{x:19.12E}"


def _line(values) -> str:
    return "    " + "".join(_d(v) for v in values) + "\n"


def _epoch(name: str, t_ns: int) -> str:
    t = datetime_from_gpst_ns(t_ns)
    return f"{name} {t.year:4d} {t.month:02d} {t.day:02d} {t.hour:02d} {t.minute:02d} {t.second:02d}"


def _kepler_record(k: rec.KeplerEphemerides, i: int) -> str:
    sat = int(k.sat[i])
    system = int(SAT_SYSTEM[sat])
    p = k.param[i]
    toc_ns = int(k.toc_gpst_ns[i]) - (_BDT_OFFSET_NS if system == BDS else 0)  # BDS epochs are written in BDT
    ttr_s = ((int(k.ttr_gpst_ns[i]) - (_BDT_OFFSET_NS if system == BDS else 0)) % NS_PER_WEEK) / 1e9
    out = _epoch(sv_name(sat), toc_ns) + _d(p[rec.K_AF0]) + _d(p[rec.K_AF1]) + _d(p[rec.K_AF2]) + "\n"
    out += _line((k.iode[i], p[rec.K_CRS], p[rec.K_DN], p[rec.K_M0]))
    out += _line((p[rec.K_CUC], p[rec.K_E], p[rec.K_CUS], p[rec.K_SQRTA]))
    out += _line((k.toe_s[i], p[rec.K_CIC], p[rec.K_OMEGA0], p[rec.K_CIS]))
    out += _line((p[rec.K_I0], p[rec.K_CRC], p[rec.K_OMEGA], p[rec.K_OMEGADOT]))
    if system == GAL:
        out += _line((p[rec.K_IDOT], k.data_source[i], k.week[i] + 1024, 0.0))
        out += _line((p[rec.K_ACC_M], k.health[i], p[rec.K_TGD], p[rec.K_TGD2]))
        out += _line((ttr_s,))
    elif system == BDS:
        out += _line((p[rec.K_IDOT], 0.0, k.week[i], 0.0))
        out += _line((p[rec.K_ACC_M], k.health[i], p[rec.K_TGD], p[rec.K_TGD2]))
        out += _line((ttr_s, k.iodc[i]))
    else:
        out += _line((p[rec.K_IDOT], p[rec.K_L2_CODES], k.week[i], p[rec.K_L2P_FLAG]))
        out += _line((p[rec.K_ACC_M], k.health[i], p[rec.K_TGD], k.iodc[i]))
        out += _line((ttr_s, p[rec.K_FIT_H]))
    return out


def _glonass_record(g: rec.GlonassEphemerides, i: int) -> str:
    t = int(g.toe_gpst_ns[i])
    t_utc = t - leap_seconds_at_gpst_ns(t) * 10**9  # RINEX GLONASS epochs are UTC
    tk = float(g.tk_s[i]) if math.isfinite(g.tk_s[i]) else 0.0
    week_day_s = ((t_utc % NS_PER_WEEK) // (86_400 * 10**9)) * 86_400.0
    out = _epoch(sv_name(int(g.sat[i])), t_utc) + _d(-g.tau_n_s[i]) + _d(g.gamma_n[i]) + _d(week_day_s + tk) + "\n"
    pos, vel, acc = g.pos_m[i] / 1e3, g.vel_mps[i] / 1e3, g.acc_mps2[i] / 1e3
    out += _line((pos[0], vel[0], acc[0], g.health[i]))
    out += _line((pos[1], vel[1], acc[1], g.fcn[i]))
    out += _line((pos[2], vel[2], acc[2], g.age_d[i]))
    return out


def write_nav(path, nav: rec.NavData) -> int:
    """Write ``nav`` as a mixed RINEX 3.04 navigation file; returns the number of records written."""
    lines = [
        f"{'3.04':>9s}{'':11s}{'N: GNSS NAV DATA':20s}{'M: MIXED':20s}RINEX VERSION / TYPE\n",
        f"{'gnssaug':20s}{'':20s}{'':20s}PGM / RUN BY / DATE\n",
    ]
    k, g = nav.kepler, nav.glonass
    if len(k) or len(g):
        t0 = int(np.min(np.concatenate([k.toe_gpst_ns, g.toe_gpst_ns])))
        lines.append(f"{leap_seconds_at_gpst_ns(t0):6d}{'':54s}LEAP SECONDS\n")
    lines.append(f"{'':60s}END OF HEADER\n")
    n = 0
    for i in range(len(k)):
        if int(SAT_SYSTEM[k.sat[i]]) in (0, 2, 3, 4):
            lines.append(_kepler_record(k, i))
            n += 1
    for i in range(len(g)):
        lines.append(_glonass_record(g, i))
        n += 1
    with open(path, "w", encoding="ascii") as fh:
        fh.write("".join(lines))
    return n
