"""Relative-positioning kernels: single-difference geometry and double-difference (DD) formation.

Observation model of carrier-phase RTK between a rover ``r`` and a base ``b`` on one frequency
(Teunissen and Montenbruck (eds.), Springer Handbook of GNSS (2017), §26.1, and RTKLIB 2.4.3
manual Appendix E.7):

    SD phase  lam*(phi_r - phi_b)^s = (rho_r - rho_b)^s + lam*N_sd^s + dt_rb + e
    DD phase  SD^s - SD^ref          = DD rho + lam*(N_sd^s - N_sd^ref) + e

The state holds the rover position (indices 0..2) and one single-difference ambiguity [cycles] per
satellite and frequency; DD rows are formed through the difference with a reference satellite
per (clock group, frequency), which cancels receiver clocks and inter-system biases. BDS-2 and
BDS-3 are separate clock groups and so have separate reference satellites.
"""

from __future__ import annotations

import math

import numpy as np

from gnssaug.constants import C_MPS, OMEGA_E_GPS_RADPS
from gnssaug.kernels import kernel
from gnssaug.kernels.atmosphere import niell_mapping, tropo_slant_delay
from gnssaug.kernels.geodesy import enu_rotation, llh_from_ecef
from gnssaug.kernels.kalman import cholesky_solve

#: Observation types of DD rows.
ROW_PHASE = 0
ROW_CODE = 1


@kernel
def _range_sagnac(rx, sat_pos):
    # Geometric range with the Earth-rotation (Sagnac) correction (IS-GPS-200 §20.3.3.4.3.4,
    # small-angle form as in RTKLIB geodist()).
    dx = sat_pos[0] - rx[0]
    dy = sat_pos[1] - rx[1]
    dz = sat_pos[2] - rx[2]
    r = math.sqrt(dx * dx + dy * dy + dz * dz)
    return r + OMEGA_E_GPS_RADPS * (sat_pos[0] * rx[1] - sat_pos[1] * rx[0]) / C_MPS, dx / r, dy / r, dz / r


@kernel
def _elevation(rot, los_x, los_y, los_z):
    e = rot[0, 0] * los_x + rot[0, 1] * los_y + rot[0, 2] * los_z
    n = rot[1, 0] * los_x + rot[1, 1] * los_y + rot[1, 2] * los_z
    u = rot[2, 0] * los_x + rot[2, 1] * los_y + rot[2, 2] * los_z
    return math.atan2(u, math.sqrt(e * e + n * n))


@kernel
def sd_geometry(rr_ecef_m, rb_ecef_m, sat_r_ecef_m, sat_b_ecef_m, doy, use_tropo, los_out, el_out, sd_range_out_m):
    """Single-difference modelled ranges, rover line-of-sight vectors and rover elevations.

    Parameters
    ----------
    rr_ecef_m, rb_ecef_m : float64[3]
        Rover and base positions [m].
    sat_r_ecef_m, sat_b_ecef_m : float64[n, 3]
        Satellite positions [m] at the signal transmission times of the rover and of the base
        observations (ECEF of transmission time; the Sagnac term rotates them).
    doy : float
        Day of year for the Niell mapping function.
    use_tropo : bool
        Add the Saastamoinen/Niell slant delay of each receiver (needed when the two antennas'
        heights differ by more than a few metres).
    los_out : float64[n, 3]
        Receives the rover-to-satellite unit vectors.
    el_out : float64[n]
        Receives the rover elevations [rad].
    sd_range_out_m : float64[n]
        Receives ``(rho_r + T_r) - (rho_b + T_b)`` [m].
    """
    llh_r = llh_from_ecef(rr_ecef_m)
    llh_b = llh_from_ecef(rb_ecef_m)
    rot_r = enu_rotation(llh_r[0], llh_r[1])
    rot_b = enu_rotation(llh_b[0], llh_b[1])
    for i in range(sat_r_ecef_m.shape[0]):
        rho_r, ex, ey, ez = _range_sagnac(rr_ecef_m, sat_r_ecef_m[i])
        rho_b, bx, by, bz = _range_sagnac(rb_ecef_m, sat_b_ecef_m[i])
        los_out[i, 0] = ex
        los_out[i, 1] = ey
        los_out[i, 2] = ez
        el_r = _elevation(rot_r, ex, ey, ez)
        el_out[i] = el_r
        sd = rho_r - rho_b
        if use_tropo:
            el_b = _elevation(rot_b, bx, by, bz)
            sd += tropo_slant_delay(llh_r[0], llh_r[2], el_r, doy, 0.7)
            sd -= tropo_slant_delay(llh_b[0], llh_b[2], el_b, doy, 0.7)
        sd_range_out_m[i] = sd


@kernel
def select_references(group, el_rad, ok, n_group, ref_out):
    """Reference satellite per (group, frequency): the highest one among those usable.

    Parameters
    ----------
    group : int8[n]
        Clock group of each satellite (:data:`gnssaug.gnss.SAT_CLOCK_GROUP`).
    el_rad : float64[n]
        Elevations [rad].
    ok : bool[n, nf]
        Usable observations.
    n_group : int
        Number of clock groups.
    ref_out : int64[n_group, nf]
        Receives the row of the reference satellite, -1 where the group has fewer than two.
    """
    nf = ok.shape[1]
    count = np.zeros((n_group, nf), dtype=np.int64)
    for g in range(n_group):
        for f in range(nf):
            ref_out[g, f] = -1
    for i in range(group.shape[0]):
        g = group[i]
        for f in range(nf):
            if ok[i, f]:
                count[g, f] += 1
                j = ref_out[g, f]
                if j < 0 or el_rad[i] > el_rad[j]:
                    ref_out[g, f] = i
    for g in range(n_group):
        for f in range(nf):
            if count[g, f] < 2:
                ref_out[g, f] = -1


@kernel
def form_dd(
    group,
    los,
    res_m,
    var_m2,
    lam_m,
    amb_state,
    x,
    ok,
    ref,
    row_type,
    v_out,
    h_out,
    r_out,
    row_sat_out,
    row_f_out,
):
    """Double-difference innovations, design matrix and covariance of one observation type.

    Rows are ordered by frequency, then group; the covariance is block diagonal with one block per
    (group, frequency), where the shared reference satellite correlates the rows.

    Parameters
    ----------
    group : int8[n]
        Clock group of each satellite.
    los : float64[n, 3]
        Rover-to-satellite unit vectors.
    res_m : float64[n, nf]
        Single-difference observation minus the single-difference range modelled at the position
        in ``x`` [m] (phase in metres, without the ambiguity).
    var_m2 : float64[n, nf]
        Single-difference variance of each observation [m^2].
    lam_m : float64[n, nf]
        Wavelengths [m].
    amb_state : int64[n, nf]
        State index of each single-difference ambiguity (used for phase rows only).
    x : float64[nx]
        State: rover position [m] in 0..2, ambiguities [cycles].
    ok : bool[n, nf]
        Observations to use.
    ref : int64[n_group, nf]
        Reference rows from :func:`select_references` (of the same ``ok``).
    row_type : int
        :data:`ROW_PHASE` or :data:`ROW_CODE`.
    v_out, h_out, r_out : float64[m], float64[m, nx], float64[m, m]
        Receive innovations [m], design rows and covariance; ``m`` must be at least ``n * nf``.
    row_sat_out, row_f_out : int64[m]
        Receive the satellite row and frequency of each DD row (the reference is in ``ref``).

    Returns
    -------
    int
        Number of rows written.
    """
    n, nf = res_m.shape
    n_group = ref.shape[0]
    nx = x.shape[0]
    nv = 0
    # The covariance is block diagonal: clear every entry the rows of this call can reach.
    m_max = min(n * nf, r_out.shape[0])
    for a in range(m_max):
        for b in range(m_max):
            r_out[a, b] = 0.0
    for f in range(nf):
        for g in range(n_group):
            j = ref[g, f]
            if j < 0:
                continue
            first = nv
            for i in range(n):
                if i == j or group[i] != g or not ok[i, f]:
                    continue
                v = res_m[i, f] - res_m[j, f]
                # Position partials of rho_r: -los (the base position is fixed).
                for c in range(nx):
                    h_out[nv, c] = 0.0
                for c in range(3):
                    h_out[nv, c] = -los[i, c] + los[j, c]
                if row_type == ROW_PHASE:
                    ai = amb_state[i, f]
                    aj = amb_state[j, f]
                    v -= lam_m[i, f] * x[ai] - lam_m[j, f] * x[aj]
                    h_out[nv, ai] = lam_m[i, f]
                    h_out[nv, aj] = -lam_m[j, f]
                v_out[nv] = v
                row_sat_out[nv] = i
                row_f_out[nv] = f
                nv += 1
            for a in range(first, nv):
                for b in range(first, nv):
                    r_out[a, b] = var_m2[j, f]
                r_out[a, a] += var_m2[row_sat_out[a], f]
    return nv


@kernel
def add_iono_dd(group, row_sat, row_f, nv, ref, ion_state, coef, x, v_out, h_out):
    """Add the single-difference ionosphere states to DD rows formed by :func:`form_dd`.

    Each satellite's single-difference slant ionospheric delay ``I^s`` [m, on the reference
    frequency] is a state; on frequency ``f`` it enters code with ``+mu_f I^s`` and phase with
    ``-mu_f I^s``, ``mu_f = (f_ref / f)^2`` (first-order dispersive delay, RTKLIB 2.4.3 manual
    Appendix E.7 and ``rtkpos.c`` ``ddres`` with ``ionoopt=est-stec``). The DD row of satellite
    ``i`` against reference ``j`` gets ``coef[i, f] I^i - coef[j, f] I^j``.

    Parameters
    ----------
    group : int8[n]
        Clock group of each satellite.
    row_sat, row_f : int64[>= nv]
        Satellite row and frequency of each DD row (from :func:`form_dd`).
    nv : int
        Rows to update.
    ref : int64[n_group, nf]
        Reference rows used by :func:`form_dd` for these rows.
    ion_state : int64[n]
        State index of each satellite's ionosphere.
    coef : float64[n, nf]
        ``+mu_f`` for code rows, ``-mu_f`` for phase rows.
    x : float64[nx]
        State at which the innovations were formed.
    v_out, h_out : float64[>= nv], float64[>= nv, nx]
        Innovations [m] and design rows, updated in place.
    """
    for k in range(nv):
        i = row_sat[k]
        f = row_f[k]
        j = ref[group[i], f]
        si = ion_state[i]
        sj = ion_state[j]
        ci = coef[i, f]
        cj = coef[j, f]
        v_out[k] -= ci * x[si] - cj * x[sj]
        h_out[k, si] += ci
        h_out[k, sj] -= cj


@kernel
def wet_mapping_many(el_rad, lat_rad, out):
    """Niell (1996) wet mapping function of each elevation (float64[n] -> ``out`` float64[n]).

    Elevations at or below 5 deg use the value at 5 deg: the elevation mask keeps such rows out,
    and the wet function is steep and poorly known there.
    """
    floor = 5.0 * math.pi / 180.0
    for i in range(el_rad.shape[0]):
        _, m_wet = niell_mapping(max(el_rad[i], floor), lat_rad, 0.0, 0.0)
        out[i] = m_wet


@kernel
def add_tropo_dd(group, row_sat, row_f, nv, ref, map_wet, trop_state, x, v_out, h_out):
    """Add the relative zenith wet delay state to DD rows formed by :func:`form_dd`.

    The state ``T = ZWD_r - ZWD_b`` [m] (rover minus base, one per baseline) enters each single
    difference as ``m_w(el^s) T`` on code and phase alike (the troposphere is not dispersive), so
    the DD row of satellite ``i`` against reference ``j`` gets ``(m_w^i - m_w^j) T`` (RTKLIB 2.4.3
    manual Appendix E.7 ``tropopt=est-ztd``, with the base's part folded into the rover's: what is
    common to both receivers' mapping cancels, and their elevations differ by under 1 deg at 70 km).

    Parameters
    ----------
    group : int8[n]
        Clock group of each satellite.
    row_sat, row_f : int64[>= nv]
        Satellite row and frequency of each DD row.
    nv : int
        Rows to update.
    ref : int64[n_group, nf]
        Reference rows used by :func:`form_dd` for these rows.
    map_wet : float64[n]
        Wet mapping function of each satellite (see :func:`wet_mapping_many`).
    trop_state : int
        State index of ``T``.
    x : float64[nx]
        State at which the innovations were formed.
    v_out, h_out : float64[>= nv], float64[>= nv, nx]
        Innovations [m] and design rows, updated in place.
    """
    t = x[trop_state]
    for k in range(nv):
        i = row_sat[k]
        j = ref[group[i], row_f[k]]
        d = map_wet[i] - map_wet[j]
        v_out[k] -= d * t
        h_out[k, trop_state] += d


@kernel
def dd_ambiguity_cov(x, p, amb_i, amb_j, b_out, qb_out, qab_out):
    """DD ambiguities ``b = x[amb_i] - x[amb_j]`` with their covariance and position cross-covariance.

    Parameters
    ----------
    x : float64[nx]
        State (position in 0..2, single-difference ambiguities [cycles]).
    p : float64[nx, nx]
        State covariance.
    amb_i, amb_j : int64[nb]
        State indices of each DD ambiguity's satellite and its reference.
    b_out : float64[nb]
    qb_out : float64[nb, nb]
        ``D P D^T`` [cycles^2].
    qab_out : float64[3, nb]
        Position-ambiguity cross-covariance ``P_pos,: D^T`` [m cycles].
    """
    nb = amb_i.shape[0]
    for a in range(nb):
        ia = amb_i[a]
        ja = amb_j[a]
        b_out[a] = x[ia] - x[ja]
        for b in range(nb):
            ib = amb_i[b]
            jb = amb_j[b]
            qb_out[a, b] = p[ia, ib] - p[ia, jb] - p[ja, ib] + p[ja, jb]
        for c in range(3):
            qab_out[c, a] = p[c, ia] - p[c, ja]


@kernel
def fixed_position(x, p, b, b_fix, qb, qab, pos_out, p_pos_out):
    """Position conditioned on fixed DD ambiguities (Teunissen 1995, eq. 4).

    ``pos = x_pos - Q_ab Q_b^-1 (b - b_fix)``, ``P = P_pos - Q_ab Q_b^-1 Q_ba``.
    """
    nb = b.shape[0]
    rhs = np.empty((nb, 4))
    for a in range(nb):
        rhs[a, 0] = b[a] - b_fix[a]
        for c in range(3):
            rhs[a, 1 + c] = qab[c, a]
    sol = cholesky_solve(qb, rhs)  # one factorisation for Q_b^-1 (b - b_fix) and Q_b^-1 Q_ba
    for c in range(3):
        s = 0.0
        for a in range(nb):
            s += qab[c, a] * sol[a, 0]
        pos_out[c] = x[c] - s
        for d in range(3):
            t = 0.0
            for a in range(nb):
                t += qab[c, a] * sol[a, 1 + d]
            p_pos_out[c, d] = p[c, d] - t


@kernel
def _sorted_median(buf, m):
    """Median of ``buf[:m]`` (m >= 1): the middle of the sorted values, or the half-sum of the two middle ones."""
    s = np.sort(buf[:m])
    return 0.5 * (s[(m - 1) // 2] + s[m // 2])


@kernel
def screen_codes(pr_m, sd_range_m, el_rad, mask_el_rad, group, n_group, var_pr_m2, k):
    """Set gross rover code outliers to NaN (the RTK engine's code screen, in one call).

    The single-difference code minus the modelled single-difference range, ``pr_m[0] - pr_m[1] -
    sd_range_m``, less its median over the satellites above the mask of the same clock group and
    frequency (groups of fewer than 3 are not screened), is tested against ``k`` times the larger
    of its modelled standard deviation and the epoch's robust spread (1.4826 times the median
    absolute deviation). Nothing is screened with fewer than 4 tested codes.

    Parameters
    ----------
    pr_m : float64[2, n, nf]
        Codes of the rover (0) and the base (1) [m]; rover codes beyond the bound are set to NaN.
    sd_range_m : float64[n]
        Modelled single-difference range at the position prior [m].
    el_rad : float64[n]
        Elevations [rad]; below ``mask_el_rad`` a code is not tested.
    group : int8[n]
        Clock group of each satellite (``n_group`` groups).
    var_pr_m2 : float64[n, nf]
        Modelled single-difference code variance [m^2].
    k : float
        Bound in standard deviations.

    Returns
    -------
    int
        Number of codes set to NaN (-1: too few codes to screen).
    """
    n, nf = sd_range_m.shape[0], pr_m.shape[2]
    dev = np.full((n, nf), np.nan)
    buf = np.empty(max(n * nf, 1))
    n_known = 0
    for g in range(n_group):
        for f in range(nf):
            c = 0
            for i in range(n):
                if group[i] == g and el_rad[i] >= mask_el_rad:
                    r = pr_m[0, i, f] - pr_m[1, i, f] - sd_range_m[i]
                    if math.isfinite(r):
                        buf[c] = r
                        c += 1
            if c < 3:
                continue
            med = _sorted_median(buf, c)
            for i in range(n):
                if group[i] == g and el_rad[i] >= mask_el_rad:
                    r = pr_m[0, i, f] - pr_m[1, i, f] - sd_range_m[i]
                    if math.isfinite(r):
                        dev[i, f] = r - med
                        n_known += 1
    if n_known < 4:
        return -1
    c = 0
    for i in range(n):
        for f in range(nf):
            if math.isfinite(dev[i, f]):
                buf[c] = abs(dev[i, f])
                c += 1
    spread = 1.4826 * _sorted_median(buf, c)
    n_bad = 0
    for i in range(n):
        for f in range(nf):
            if math.isfinite(dev[i, f]):
                sigma = math.sqrt(var_pr_m2[i, f])
                if abs(dev[i, f]) > k * (sigma if sigma >= spread else spread):
                    pr_m[0, i, f] = np.nan
                    n_bad += 1
    return n_bad


@kernel
def common_sats(rover_sat, base_sat, allowed, ir_out, ib_out, sat_out):
    """Satellites observed by both receivers and allowed, with their row in each epoch.

    Parameters
    ----------
    rover_sat, base_sat : int16[nr], int16[nb]
        Global satellite indices of each epoch, strictly increasing.
    allowed : bool[N_SAT]
        Satellites to use.
    ir_out, ib_out, sat_out : int64[min(nr, nb)]
        Receive the rover row, base row and satellite of each common satellite, in increasing order.

    Returns
    -------
    int
        Number of common satellites written.
    """
    nr, nb = rover_sat.shape[0], base_sat.shape[0]
    i = 0
    j = 0
    n = 0
    while i < nr and j < nb:
        a = rover_sat[i]
        b = base_sat[j]
        if a == b:
            if allowed[a]:
                ir_out[n] = i
                ib_out[n] = j
                sat_out[n] = a
                n += 1
            i += 1
            j += 1
        elif a < b:
            i += 1
        else:
            j += 1
    return n


@kernel
def take_signals(sat, ir, ib, slot, r_pr, r_cp, r_dop, r_lli, b_pr, b_cp, b_dop, b_lli, pr_out, cp_out, dop_out,
                 lli_out, pr_any_out):
    """Each common satellite's signals at both receivers in the RTK frequency order.

    Frequency ``f`` of satellite ``s`` is observation slot ``slot[s, f]``; where that is -1 (no such
    signal for the system) code, phase and Doppler are NaN and the LLI is the first slot's.

    Parameters
    ----------
    sat, ir, ib : int64[n]
        Satellites and their rows in the rover and base epochs (:func:`common_sats`).
    slot : int64[N_SAT, nf]
    r_pr, r_cp, r_dop, b_pr, b_cp, b_dop : float64[rows, N_BAND]
        Rover and base code [m], phase [cycles], Doppler [Hz].
    r_lli, b_lli : uint8[rows, N_BAND]
    pr_out, cp_out, dop_out : float64[2, n, nf]
    lli_out : uint8[2, n, nf]
        Receive rover (0) and base (1) values.
    pr_any_out : float64[2, n]
        Receives any one code of the satellite per receiver (the largest; NaN when none).

    Returns
    -------
    int
        Number of satellites with a code at both receivers.
    """
    n = sat.shape[0]
    nf = slot.shape[1]
    n_ok = 0
    for k in range(n):
        s = sat[k]
        i = ir[k]
        j = ib[k]
        any_r = np.nan
        any_b = np.nan
        for f in range(nf):
            c = slot[s, f]
            col = c if c >= 0 else 0
            lli_out[0, k, f] = r_lli[i, col]
            lli_out[1, k, f] = b_lli[j, col]
            if c < 0:
                pr_out[0, k, f] = np.nan
                pr_out[1, k, f] = np.nan
                cp_out[0, k, f] = np.nan
                cp_out[1, k, f] = np.nan
                dop_out[0, k, f] = np.nan
                dop_out[1, k, f] = np.nan
                continue
            pr_out[0, k, f] = r_pr[i, c]
            pr_out[1, k, f] = b_pr[j, c]
            cp_out[0, k, f] = r_cp[i, c]
            cp_out[1, k, f] = b_cp[j, c]
            dop_out[0, k, f] = r_dop[i, c]
            dop_out[1, k, f] = b_dop[j, c]
            # (np.fmax: a NaN loses to a number)
            if math.isnan(any_r) or r_pr[i, c] > any_r:
                any_r = r_pr[i, c]
            if math.isnan(any_b) or b_pr[j, c] > any_b:
                any_b = b_pr[j, c]
        pr_any_out[0, k] = any_r
        pr_any_out[1, k] = any_b
        if math.isfinite(any_r) and math.isfinite(any_b):
            n_ok += 1
    return n_ok


@kernel
def rover_clock_m(pos_ecef_m, sat_ecef_m, pr_m, dclk_m, clk_b_m, group, out):
    """The rover receiver clock bias [m] in its first clock group present (median of code minus range).

    Per satellite: any one code (the largest of its frequencies) minus the range with the Sagnac
    term, plus the satellite clock terms ``dclk_m + clk_b_m``; the upper median over the satellites
    of the lowest clock group with such a value goes to ``out[group]``; ``out`` is left as it is
    elsewhere.

    Parameters
    ----------
    pos_ecef_m : float64[3]
    sat_ecef_m : float64[n, 3]
    pr_m : float64[n, nf]
        Rover codes [m].
    dclk_m, clk_b_m : float64[n]
    group : int8[n]
    out : float64[n_group]
    """
    n, nf = pr_m.shape
    res = np.empty(n)
    first = -1
    for i in range(n):
        rho = _range_sagnac(pos_ecef_m, sat_ecef_m[i])[0]
        code = np.nan
        for f in range(nf):
            if math.isnan(code) or pr_m[i, f] > code:
                code = pr_m[i, f]
        res[i] = code - rho + dclk_m[i] + clk_b_m[i]
        if math.isfinite(res[i]) and (first < 0 or group[i] < first):
            first = group[i]
    if first < 0:
        return
    vals = np.empty(n)
    m = 0
    for i in range(n):
        if math.isfinite(res[i]) and group[i] == first:
            vals[m] = res[i]
            m += 1
    s = np.sort(vals[:m])
    out[first] = s[m // 2]
