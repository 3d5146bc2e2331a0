"""Broadcast orbit and clock kernels: Keplerian (GPS, Galileo, QZSS, BeiDou incl. GEO, NavIC) and
GLONASS (numerical integration), batched over query rows.

Keplerian: IS-GPS-200 §20.3.3.4.3 Table 20-IV (and §30.3.3.1.3 for CNAV A_dot, Delta n_dot),
Galileo OS SIS ICD §5.1.1, BDS-SIS-ICD-B1I-3.0 §5.2.4.12 (GEO: §5.2.4.12 second branch: the orbit
is computed in an inertial-like frame, rotated by -5 deg about X, then by omega_e * t_k about Z).
Clock: IS-GPS-200 §20.3.3.3.3.1 polynomial plus the relativistic term F e sqrt(A) sin E.
Velocity and clock drift are analytical time derivatives of the same expressions.

GLONASS: GLONASS ICD 5.1 §A.3.1.2: 4th-order Runge-Kutta integration of the PZ-90 equations of motion
with J2 and the broadcast luni-solar accelerations (held constant over the interval), step at most
60 s; clock ``-tau_n + gamma_n (t - t_b)`` (relativity is inside the broadcast clock).

The parameter matrix columns below follow :mod:`gnssaug.ephemeris.records` (``K_*``; kernels may
not import it, a test checks the two agree). System codes follow :mod:`gnssaug.gnss`.
"""

from __future__ import annotations

import math

import numpy as np

from gnssaug.constants import (
    F_REL_BDS,
    F_REL_GAL,
    F_REL_GPS,
    GLO_AE_M,
    GLO_J2,
    MU_BDS_M3PS2,
    MU_GAL_M3PS2,
    MU_GLO_M3PS2,
    MU_GPS_M3PS2,
    OMEGA_E_BDS_RADPS,
    OMEGA_E_GAL_RADPS,
    OMEGA_E_GLO_RADPS,
    OMEGA_E_GPS_RADPS,
)
from gnssaug.kernels import kernel

# Parameter columns (must equal gnssaug.ephemeris.records.K_*).
AF0, AF1, AF2, CRS, CRC, CUS, CUC, CIS, CIC, DN, M0, ECC, SQRTA, OMEGA0, I0, OMEGA, OMEGADOT, IDOT = range(18)
ADOT, DN_DOT = 22, 23
# System codes (gnssaug.gnss): Galileo and BeiDou have their own constants; GPS, QZSS and NavIC
# use the GPS (WGS-84) values.
SYS_GAL, SYS_BDS = 2, 4

_SIN_M5 = math.sin(math.radians(-5.0))
_COS_M5 = math.cos(math.radians(-5.0))
GLO_STEP_S = 60.0


@kernel
def _set_nan(q, pos_out, vel_out, clk_out, drift_out):
    """Mark query row ``q`` as having no state."""
    for k in range(3):
        pos_out[q, k] = np.nan
        vel_out[q, k] = np.nan
    clk_out[q] = np.nan
    drift_out[q] = np.nan


@kernel
def kepler_states(param, system, is_geo, toe_sow_s, rec, tk_s, tc_s, pos_out, vel_out, clk_out, drift_out):
    """Positions, velocities, clocks and clock drifts from Keplerian records.

    Parameters
    ----------
    param : float64[m, K]
        Record parameter matrix (columns as ``records.K_*``).
    system : int8[m]
        System code of each record.
    is_geo : bool[m]
        BeiDou GEO records (GEO branch of BDS-SIS-ICD-B1I-3.0 §5.2.4.12).
    toe_sow_s : float64[m]
        toe as seconds of week of the system's own time scale (enters Omega_k).
    rec : int64[n]
        Record of each query row; rows with ``rec < 0`` get NaN.
    tk_s, tc_s : float64[n]
        t - toe and t - toc [s] (t is the signal transmission time).
    pos_out, vel_out : float64[n, 3]
        ECEF position [m] and velocity [m/s] (frame of the system: WGS-84, GTRF, CGCS2000).
    clk_out, drift_out : float64[n]
        Satellite clock offset [s] (with the relativistic term) and its rate [s/s].
    """
    for q in range(rec.shape[0]):
        r = rec[q]
        if r < 0:
            _set_nan(q, pos_out, vel_out, clk_out, drift_out)
        else:
            _kepler_row(param[r], system[r], is_geo[r], toe_sow_s[r], tk_s[q], tc_s[q], q, pos_out, vel_out,
                        clk_out, drift_out)


@kernel
def _kepler_row(p, s, geo, toe_sow, tk, tc, q, pos_out, vel_out, clk_out, drift_out):
    """One Keplerian state into row ``q`` of the outputs (see :func:`kepler_states`)."""
    if s == SYS_BDS:
        mu, omge, frel = MU_BDS_M3PS2, OMEGA_E_BDS_RADPS, F_REL_BDS
    elif s == SYS_GAL:
        mu, omge, frel = MU_GAL_M3PS2, OMEGA_E_GAL_RADPS, F_REL_GAL
    else:
        mu, omge, frel = MU_GPS_M3PS2, OMEGA_E_GPS_RADPS, F_REL_GPS
    a0 = p[SQRTA] * p[SQRTA]
    a = a0 + p[ADOT] * tk
    n = math.sqrt(mu / (a0 * a0 * a0)) + p[DN] + 0.5 * p[DN_DOT] * tk
    m = p[M0] + n * tk
    e = p[ECC]
    ek = m
    for _ in range(30):
        d = (ek - e * math.sin(ek) - m) / (1.0 - e * math.cos(ek))
        ek -= d
        if abs(d) < 1e-14:
            break
    sin_e, cos_e = math.sin(ek), math.cos(ek)
    one_m = 1.0 - e * cos_e
    ek_dot = n / one_m
    phi = math.atan2(math.sqrt(1.0 - e * e) * sin_e, cos_e - e) + p[OMEGA]
    phi_dot = math.sqrt(1.0 - e * e) * ek_dot / one_m
    s2, c2 = math.sin(2.0 * phi), math.cos(2.0 * phi)
    u = phi + p[CUS] * s2 + p[CUC] * c2
    rad = a * one_m + p[CRS] * s2 + p[CRC] * c2
    inc = p[I0] + p[IDOT] * tk + p[CIS] * s2 + p[CIC] * c2
    u_dot = phi_dot * (1.0 + 2.0 * (p[CUS] * c2 - p[CUC] * s2))
    rad_dot = a * e * sin_e * ek_dot + p[ADOT] * one_m + 2.0 * (p[CRS] * c2 - p[CRC] * s2) * phi_dot
    inc_dot = p[IDOT] + 2.0 * (p[CIS] * c2 - p[CIC] * s2) * phi_dot
    xp, yp = rad * math.cos(u), rad * math.sin(u)
    xp_dot = rad_dot * math.cos(u) - yp * u_dot
    yp_dot = rad_dot * math.sin(u) + xp * u_dot
    if geo:
        node = p[OMEGA0] + p[OMEGADOT] * tk - omge * toe_sow
        node_dot = p[OMEGADOT]
    else:
        node = p[OMEGA0] + (p[OMEGADOT] - omge) * tk - omge * toe_sow
        node_dot = p[OMEGADOT] - omge
    sn, cn = math.sin(node), math.cos(node)
    si, ci = math.sin(inc), math.cos(inc)
    x = xp * cn - yp * ci * sn
    y = xp * sn + yp * ci * cn
    z = yp * si
    vx = xp_dot * cn - yp_dot * ci * sn + yp * si * sn * inc_dot - y * node_dot
    vy = xp_dot * sn + yp_dot * ci * cn - yp * si * cn * inc_dot + x * node_dot
    vz = yp_dot * si + yp * ci * inc_dot
    if geo:
        # Rx(-5 deg), then Rz(omega_e tk) (frame rotations of BDS-SIS-ICD-B1I-3.0 §5.2.4.12).
        y1 = _COS_M5 * y + _SIN_M5 * z
        z1 = -_SIN_M5 * y + _COS_M5 * z
        vy1 = _COS_M5 * vy + _SIN_M5 * vz
        vz1 = -_SIN_M5 * vy + _COS_M5 * vz
        ang = omge * tk
        sa, ca = math.sin(ang), math.cos(ang)
        x2 = ca * x + sa * y1
        y2 = -sa * x + ca * y1
        pos_out[q, 0], pos_out[q, 1], pos_out[q, 2] = x2, y2, z1
        # d/dt of Rz(ang) p = Rz p_dot + omega_e dRz/dang p
        vel_out[q, 0] = ca * vx + sa * vy1 + omge * (-sa * x + ca * y1)
        vel_out[q, 1] = -sa * vx + ca * vy1 + omge * (-ca * x - sa * y1)
        vel_out[q, 2] = vz1
    else:
        pos_out[q, 0], pos_out[q, 1], pos_out[q, 2] = x, y, z
        vel_out[q, 0], vel_out[q, 1], vel_out[q, 2] = vx, vy, vz
    sqrt_a = math.sqrt(a)
    clk_out[q] = p[AF0] + p[AF1] * tc + p[AF2] * tc * tc + frel * e * sqrt_a * sin_e
    drift_out[q] = p[AF1] + 2.0 * p[AF2] * tc + frel * e * sqrt_a * cos_e * ek_dot


@kernel
def _glo_deriv(x, acc, out):
    """PZ-90 equations of motion (GLONASS ICD 5.1 §A.3.1.2): out = d/dt [pos, vel]."""
    r2 = x[0] * x[0] + x[1] * x[1] + x[2] * x[2]
    r = math.sqrt(r2)
    r3 = r2 * r
    a = 1.5 * GLO_J2 * MU_GLO_M3PS2 * GLO_AE_M * GLO_AE_M / (r2 * r3)
    z2 = 5.0 * x[2] * x[2] / r2
    w2 = OMEGA_E_GLO_RADPS * OMEGA_E_GLO_RADPS
    out[0], out[1], out[2] = x[3], x[4], x[5]
    out[3] = (-MU_GLO_M3PS2 / r3 - a * (1.0 - z2) + w2) * x[0] + 2.0 * OMEGA_E_GLO_RADPS * x[4] + acc[0]
    out[4] = (-MU_GLO_M3PS2 / r3 - a * (1.0 - z2) + w2) * x[1] - 2.0 * OMEGA_E_GLO_RADPS * x[3] + acc[1]
    out[5] = (-MU_GLO_M3PS2 / r3 - a * (3.0 - z2)) * x[2] + acc[2]


@kernel
def glonass_states(pos0, vel0, acc, tau_n, gamma_n, rec, dt_s, pos_out, vel_out, clk_out, drift_out):
    """GLONASS states by RK4 integration from t_b (GLONASS ICD 5.1 §A.3.1.2).

    Parameters
    ----------
    pos0, vel0, acc : float64[m, 3]
        PZ-90 state [m, m/s] and luni-solar acceleration [m/s^2] at t_b of each record.
    tau_n, gamma_n : float64[m]
        Clock offset tau_n [s] and relative frequency offset gamma_n.
    rec : int64[n]
        Record per query row (< 0: NaN output).
    dt_s : float64[n]
        t - t_b [s].
    pos_out, vel_out, clk_out, drift_out
        As :func:`kepler_states`.
    """
    work = np.empty((6, 6))
    for q in range(rec.shape[0]):
        r = rec[q]
        if r < 0:
            _set_nan(q, pos_out, vel_out, clk_out, drift_out)
        else:
            _glonass_row(pos0[r], vel0[r], acc[r], tau_n[r], gamma_n[r], dt_s[q], q, work, pos_out, vel_out,
                         clk_out, drift_out)


@kernel
def _glonass_row(pos0, vel0, ac, tau_n, gamma_n, dt, q, work, pos_out, vel_out, clk_out, drift_out):
    """One GLONASS state into row ``q`` (see :func:`glonass_states`); ``work`` is float64[6, 6] scratch."""
    x, k1, k2, k3, k4, w = work[0], work[1], work[2], work[3], work[4], work[5]
    for k in range(3):
        x[k] = pos0[k]
        x[k + 3] = vel0[k]
    nstep = int(math.ceil(abs(dt) / GLO_STEP_S)) if math.isfinite(dt) else 0
    h = dt / nstep if nstep > 0 else 0.0
    for _ in range(nstep):
        _glo_deriv(x, ac, k1)
        for k in range(6):
            w[k] = x[k] + 0.5 * h * k1[k]
        _glo_deriv(w, ac, k2)
        for k in range(6):
            w[k] = x[k] + 0.5 * h * k2[k]
        _glo_deriv(w, ac, k3)
        for k in range(6):
            w[k] = x[k] + h * k3[k]
        _glo_deriv(w, ac, k4)
        for k in range(6):
            x[k] += h / 6.0 * (k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k])
    for k in range(3):
        pos_out[q, k] = x[k] if math.isfinite(dt) else np.nan
        vel_out[q, k] = x[k + 3] if math.isfinite(dt) else np.nan
    clk_out[q] = -tau_n + gamma_n * dt
    drift_out[q] = gamma_n


@kernel
def _nearest(start, toe_ns, max_dt_ns, healthy, s, t):
    """Record of satellite ``s`` with toe nearest to ``t`` within its window; -1 if none or unhealthy."""
    lo = start[s]
    hi = start[s + 1]
    best = -1
    if hi > lo:
        j = lo + np.searchsorted(toe_ns[lo:hi], t)
        best_d = np.int64(0)
        for c in (j - 1, j):
            if lo <= c < hi:
                d = abs(toe_ns[c] - t)
                if d <= max_dt_ns[c] and (best < 0 or d < best_d):
                    best = c
                    best_d = d
    if best >= 0 and not healthy[best]:
        best = -1
    return best


@kernel
def select_records(start, toe_ns, max_dt_ns, healthy, sat, t_ns, out):
    """Per query, the record of its satellite with the toe nearest to ``t_ns`` within its window.

    Parameters
    ----------
    start : int64[N_SAT + 1]
        Records of satellite s are ``start[s]:start[s+1]``, sorted by toe.
    toe_ns : int64[m]
        Record reference times (GPST ns).
    max_dt_ns : int64[m]
        Validity half-window of each record [ns].
    healthy : bool[m]
        Records that declare their satellite usable; when the nearest record is unhealthy the
        query gets -1 (an older healthy record does not stand in).
    sat : int16[n] ; t_ns : int64[n]
        Query satellites and times.
    out : int64[n]
        Selected record, -1 where none is valid. On equal distance the earlier toe wins (it was
        broadcast first).
    """
    for q in range(sat.shape[0]):
        out[q] = _nearest(start, toe_ns, max_dt_ns, healthy, sat[q], t_ns[q])


@kernel
def states_at(sat, t_ns, dt_s, t_sel_ns, kep_start, kep_toe_ns, kep_toc_ns, kep_window_ns, kep_healthy, param,
              system, is_geo, toe_sow_s, glo_start, glo_toe_ns, glo_window_ns, glo_healthy, pos0, vel0, acc, tau_n,
              gamma_n, kep_out, glo_out, pos_out, vel_out, clk_out, drift_out):
    """Selection and evaluation in one pass (the per-epoch hot path of :class:`EphStore`).

    Arguments are those of :func:`select_records` (``kep_*`` for the Keplerian table, ``glo_*``
    for GLONASS), :func:`kepler_states` and :func:`glonass_states`; the record is selected at
    ``t_sel_ns`` (int64[n], GPST ns), the state evaluated at the exact ``t_ns + dt_s``.
    ``kep_out`` / ``glo_out`` receive the selected records (-1 where none).
    """
    work = np.empty((6, 6))
    for q in range(sat.shape[0]):
        s = sat[q]
        dt = dt_s[q]
        t_sel = t_sel_ns[q]
        r = _nearest(kep_start, kep_toe_ns, kep_window_ns, kep_healthy, s, t_sel)
        g = -1 if r >= 0 else _nearest(glo_start, glo_toe_ns, glo_window_ns, glo_healthy, s, t_sel)
        kep_out[q] = r
        glo_out[q] = g
        if r >= 0:
            tk = (t_ns[q] - kep_toe_ns[r]) / 1e9 + dt
            tc = (t_ns[q] - kep_toc_ns[r]) / 1e9 + dt
            _kepler_row(param[r], system[r], is_geo[r], toe_sow_s[r], tk, tc, q, pos_out, vel_out, clk_out,
                        drift_out)
        elif g >= 0:
            _glonass_row(pos0[g], vel0[g], acc[g], tau_n[g], gamma_n[g], (t_ns[q] - glo_toe_ns[g]) / 1e9 + dt, q,
                         work, pos_out, vel_out, clk_out, drift_out)
        else:
            _set_nan(q, pos_out, vel_out, clk_out, drift_out)
