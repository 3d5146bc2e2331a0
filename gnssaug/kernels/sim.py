"""Simulator kernels: what one receiver measures from every satellite over a block of epochs.

One call handles one receiver (station or rover) over a block of epochs and all satellites and
slots, so a whole network is a loop over receivers and the per-epoch Python overhead vanishes.
Satellite states are given once per epoch for all receivers (evaluated at a nominal transmit time
``t - tau_nom``) and each receiver's light time, Earth rotation and clock offset are applied here by
a second-order Taylor step (velocity plus the acceleration in the rotating frame), which is exact
to well under a millimetre over the few tens of milliseconds involved.

Observation equations (RINEX 3.05 §5.2 sign conventions; phase in cycles grows with range)::

    P_k   = rho + c (dt_r - dt_s) + T + I_k + b_r,k + b_s,k + MP_k + e_k
    L_k   = (rho + c (dt_r - dt_s) + T - I_k + mp_k + eps_k) / lambda_k + N_k
    D_k   = -(d/dt)(rho + c (dt_r - dt_s)) / lambda_k
    I_k   = 40.3e16 STEC / f_k^2            (STEC in TECU, first order)

References: Teunissen & Montenbruck (eds.), Springer Handbook of GNSS (2017), §19.2 (observation
equations), §6.2 (thin-shell obliquity factor), §15 (multipath: specular reflection model); Braasch
(1996) for the code multipath envelope of a narrow correlator.
"""

import math

import numpy as np

from gnssaug.constants import C_MPS, MU_GPS_M3PS2, OMEGA_E_GPS_RADPS
from gnssaug.kernels import kernel
from gnssaug.kernels.atmosphere import niell_mapping
from gnssaug.kernels.geodesy import llh_from_ecef

_K_IONO = 40.3e16  # first-order ionospheric delay per TECU: I = 40.3e16 STEC / f^2 [m Hz^2 / TECU]
_R_SHELL_M = 6371.0e3  # Earth radius of the thin-shell model [m]

# Layout of the ionosphere parameter vector (see gnssaug.datasets.sim.iono.IonoModel.params).
ION_SHELL_H_M, ION_NIGHT_TECU, ION_PEAK_TECU, ION_PEAK_LT_H, ION_WIDTH_H, ION_GRAD_PER_DEG, ION_LAT0_DEG = range(7)
ION_N_FIXED = 7  # then per wave: amplitude [TECU], k_east [rad/m], k_north [rad/m], omega [rad/s], phase [rad]


@kernel
def vtec_tecu(lat_rad, lon_rad, t_s, sod_utc_s, ion):
    """Vertical TEC [TECU] of the simulated field at a pierce point and time.

    Diurnal shape in local solar time (Gaussian around the afternoon peak over a night floor),
    a linear north-south gradient, and travelling plane waves (``ion`` layout: ``ION_*`` indices).
    """
    lat_deg = lat_rad * 180.0 / math.pi
    lt_h = (sod_utc_s / 3600.0 + lon_rad * 12.0 / math.pi) % 24.0
    d_h = lt_h - ion[ION_PEAK_LT_H]
    if d_h > 12.0:
        d_h -= 24.0
    elif d_h < -12.0:
        d_h += 24.0
    day = math.exp(-0.5 * (d_h / ion[ION_WIDTH_H]) ** 2)
    v = ion[ION_NIGHT_TECU] + (ion[ION_PEAK_TECU] - ion[ION_NIGHT_TECU]) * day
    v *= max(0.2, 1.0 + ion[ION_GRAD_PER_DEG] * (lat_deg - ion[ION_LAT0_DEG]))
    # Local metric coordinates of the pierce point for the travelling waves.
    north_m = (lat_rad - ion[ION_LAT0_DEG] * math.pi / 180.0) * _R_SHELL_M
    east_m = lon_rad * _R_SHELL_M * math.cos(ion[ION_LAT0_DEG] * math.pi / 180.0)
    n_wave = (ion.shape[0] - ION_N_FIXED) // 5
    for w in range(n_wave):
        p = ION_N_FIXED + 5 * w
        v += ion[p] * math.sin(ion[p + 1] * east_m + ion[p + 2] * north_m - ion[p + 3] * t_s + ion[p + 4])
    return max(v, 0.0)


@kernel
def _sat_at(pos, vel, dt_s, out):
    """ECEF satellite position dt_s after a reference state (second-order Taylor step).

    The acceleration in the rotating frame is central gravity plus the centrifugal and Coriolis
    terms; J2 and third bodies change it by ~1e-3 relative, negligible over the <0.1 s steps here.
    """
    r = math.sqrt(pos[0] ** 2 + pos[1] ** 2 + pos[2] ** 2)
    g = -MU_GPS_M3PS2 / (r * r * r)
    w = OMEGA_E_GPS_RADPS
    acc_x = g * pos[0] + w * w * pos[0] + 2.0 * w * vel[1]
    acc_y = g * pos[1] + w * w * pos[1] - 2.0 * w * vel[0]
    acc_z = g * pos[2]
    out[0] = pos[0] + vel[0] * dt_s + 0.5 * acc_x * dt_s * dt_s
    out[1] = pos[1] + vel[1] * dt_s + 0.5 * acc_y * dt_s * dt_s
    out[2] = pos[2] + vel[2] * dt_s + 0.5 * acc_z * dt_s * dt_s


@kernel
def simulate_receiver_block(
    t_s, sod_utc_s, doy,
    sat_pos_m, sat_vel_mps, sat_clk_s, sat_drift_sps, sat_ok, tau_nom_s,
    freq_hz, sigma_code_m, cn0_offset_db, cn0_loss_slope, sat_bias_m, el_bias_m,
    rx_pos_m, rx_vel_mps, rx_clk_s, rx_drift_sps, rx_bias_m,
    zhd_m, zwd_m, ion,
    el_mask_rad, obstruction_el_rad,
    mp_alpha0, mp_height_m, mp_phase_rad, mp_gm_sigma_m, mp_gm_tau_s, dt_epoch_s,
    slip_prob, lol_prob, noise_scale, rng,
    amb_cyc, lock_s, gm_m,
    pr_m, cp_cyc, dop_hz, cn0_dbhz, lli, visible,
):
    """Observations of one receiver over a block of epochs (see the module docstring).

    Parameters
    ----------
    t_s, sod_utc_s : float64[E]
        Seconds since the start of the simulation; UTC seconds of day (ionosphere local time).
    doy : float
        Day of year (Niell mapping season).
    sat_pos_m, sat_vel_mps : float64[E, J, 3]
        True satellite states (broadcast plus orbit error), ECEF, at ``t - tau_nom_s[j]``.
    sat_clk_s, sat_drift_sps : float64[E, J]
        True satellite clock offsets [s] and drifts [s/s] at the same instants.
    sat_ok : bool[E, J]
        Satellite usable (ephemeris valid and healthy).
    tau_nom_s : float64[J]
        Nominal signal travel time used for the satellite state epoch [s].
    freq_hz, sigma_code_m, cn0_offset_db, sat_bias_m : float64[J, B]
        Carrier frequency per slot (NaN: not transmitted), code noise at 45 dB-Hz [m], C/N0 offset
        of the signal [dB], satellite code bias [m].
    cn0_loss_slope : float64[J, B]
        Extra C/N0 loss per dB that the signal's reference C/N0 is below 46 dB-Hz (squaring loss of
        semi-codeless tracking; 0 for ordinary signals).
    el_bias_m : float64[J, B, N]
        Satellite-induced elevation-dependent code bias at N nodes from 0 to 90 deg [m].
    rx_pos_m, rx_vel_mps : float64[E, 3]
        Receiver antenna position and velocity at the epoch time tags (GPST), ECEF.
    rx_clk_s, rx_drift_sps : float64[E]
        Receiver clock offset [s] (time tag minus true time) and drift [s/s].
    rx_bias_m : float64[J, B]
        Receiver code bias of each satellite's signal [m] (per system and signal).
    zhd_m, zwd_m : float64[E]
        True zenith hydrostatic and wet delays at the receiver [m].
    ion : float64[:]
        Ionosphere field parameters (``ION_*`` layout).
    el_mask_rad : float
        Elevation mask [rad].
    obstruction_el_rad : float64[A]
        Horizon profile: minimum elevation per azimuth bin of 360/A degrees [rad].
    mp_alpha0 : float
        Reflection amplitude ratio of the specular multipath at the horizon.
    mp_height_m, mp_phase_rad : float64[J]
        Reflector height [m] and phase offset [rad] seen towards each satellite.
    mp_gm_sigma_m, mp_gm_tau_s : float
        Diffuse code multipath: Gauss-Markov sigma at zenith [m] and correlation time [s].
    dt_epoch_s : float
        Epoch interval [s].
    slip_prob, lol_prob : float
        Per-epoch probabilities of a cycle slip and of a loss of lock of a satellite high in the sky
        (five times more likely at the horizon).
    noise_scale : float
        1 for thermal noise, 0 to switch phase noise and C/N0 jitter off (code noise follows
        ``sigma_code_m``).
    rng : numpy.random.Generator
        The receiver's own random stream (noise, events, ambiguities), so that a receiver's numbers
        do not depend on which other receivers are simulated.
    amb_cyc : float64[J, B]
        State: current ambiguities.
    lock_s : float64[J]
        State: seconds in lock (negative: remaining outage after a loss of lock; 0: not tracked).
    gm_m : float64[J, B]
        State: diffuse code multipath.
    pr_m, cp_cyc, dop_hz, cn0_dbhz : float64[E, J, B]
        Outputs (NaN where not observed).
    lli : uint8[E, J, B]
        Output loss-of-lock indicators (bit 0: slip or new arc).
    visible : bool[E, J]
        Output: satellite observed.
    """
    n_epoch, n_sat, n_band = pr_m.shape[0], pr_m.shape[1], pr_m.shape[2]
    n_az = obstruction_el_rad.shape[0]
    sat_tx = np.empty(3)
    gm_decay = math.exp(-dt_epoch_s / mp_gm_tau_s)
    gm_drive = math.sqrt(1.0 - gm_decay * gm_decay)
    for e in range(n_epoch):
        rx = rx_pos_m[e]
        llh = llh_from_ecef(rx)
        lat, lon, hgt = llh[0], llh[1], llh[2]
        sl, cl, so, co = math.sin(lat), math.cos(lat), math.sin(lon), math.cos(lon)
        t_true = -rx_clk_s[e]  # true reception time relative to the time tag
        for j in range(n_sat):
            visible[e, j] = False
            for k in range(n_band):
                pr_m[e, j, k] = np.nan
                cp_cyc[e, j, k] = np.nan
                dop_hz[e, j, k] = np.nan
                cn0_dbhz[e, j, k] = np.nan
                lli[e, j, k] = 0
            if not sat_ok[e, j]:
                lock_s[j] = 0.0
                continue
            # Light time: transmit at t_true - tau; state given at -tau_nom. Two iterations suffice.
            tau = tau_nom_s[j]
            rho = 0.0
            los0 = los1 = los2 = 0.0
            for _ in range(3):
                _sat_at(sat_pos_m[e, j], sat_vel_mps[e, j], t_true - tau + tau_nom_s[j], sat_tx)
                # Earth rotation during the travel time (Sagnac): rotate into the reception frame.
                a = OMEGA_E_GPS_RADPS * tau
                xs = math.cos(a) * sat_tx[0] + math.sin(a) * sat_tx[1]
                ys = -math.sin(a) * sat_tx[0] + math.cos(a) * sat_tx[1]
                zs = sat_tx[2]
                los0, los1, los2 = xs - rx[0], ys - rx[1], zs - rx[2]
                rho = math.sqrt(los0 * los0 + los1 * los1 + los2 * los2)
                tau = rho / C_MPS
            u0, u1, u2 = los0 / rho, los1 / rho, los2 / rho
            east = -so * u0 + co * u1
            north = -sl * co * u0 - sl * so * u1 + cl * u2
            up = cl * co * u0 + cl * so * u1 + sl * u2
            el = math.asin(max(-1.0, min(1.0, up)))
            az = math.atan2(east, north) % (2.0 * math.pi)
            horizon = max(el_mask_rad, obstruction_el_rad[int(az / (2.0 * math.pi) * n_az) % n_az])
            if el < horizon:
                lock_s[j] = 0.0
                continue
            # Loss of lock: an outage of a few seconds, then a new arc.
            low = 1.0 + 4.0 * math.exp(-(el * 180.0 / math.pi - 5.0) / 10.0)
            if lock_s[j] < 0.0:
                lock_s[j] += dt_epoch_s
                if lock_s[j] < 0.0:
                    continue
                lock_s[j] = 0.0
            elif lock_s[j] > 0.0 and rng.random() < lol_prob * low:
                lock_s[j] = -dt_epoch_s * (1.0 + math.floor(rng.random() * 30.0))
                continue
            new_arc = lock_s[j] == 0.0
            slip = (not new_arc) and rng.random() < slip_prob * low
            visible[e, j] = True
            lock_s[j] += dt_epoch_s
            # Range rate for Doppler (satellite velocity at transmit, receiver velocity).
            rate = (
                u0 * (sat_vel_mps[e, j, 0] - rx_vel_mps[e, 0])
                + u1 * (sat_vel_mps[e, j, 1] - rx_vel_mps[e, 1])
                + u2 * (sat_vel_mps[e, j, 2] - rx_vel_mps[e, 2])
            )
            clk_m = C_MPS * (rx_clk_s[e] - sat_clk_s[e, j])
            clk_rate = C_MPS * (rx_drift_sps[e] - sat_drift_sps[e, j])
            m_hyd, m_wet = niell_mapping(el, lat, hgt, doy)
            trop = zhd_m[e] * m_hyd + zwd_m[e] * m_wet
            # Thin-shell pierce point (Springer Handbook of GNSS §6.2.2).
            r_ratio = _R_SHELL_M / (_R_SHELL_M + ion[ION_SHELL_H_M])
            zeta = math.asin(r_ratio * math.cos(el))
            psi = math.pi / 2.0 - el - zeta
            lat_ipp = math.asin(sl * math.cos(psi) + cl * math.sin(psi) * (north / max(1e-12, math.hypot(east, north))))
            lon_ipp = lon + math.asin(
                min(1.0, max(-1.0, math.sin(psi) * (east / max(1e-12, math.hypot(east, north))) / math.cos(lat_ipp)))
            )
            stec = vtec_tecu(lat_ipp, lon_ipp, t_s[e], sod_utc_s[e], ion) / math.cos(zeta)
            alpha = mp_alpha0 * math.exp(-el * 180.0 / math.pi / 15.0)
            sin_el = max(math.sin(el), 0.05)
            for k in range(n_band):
                f = freq_hz[j, k]
                if math.isnan(f):
                    continue
                lam = C_MPS / f
                iono = _K_IONO * stec / (f * f)
                cn0_ref = 25.0 + 21.0 * math.sqrt(sin_el) - 3.0 * alpha
                cn0 = cn0_ref + cn0_offset_db[j, k] - cn0_loss_slope[j, k] * max(0.0, 46.0 - cn0_ref)
                cn0 += 0.7 * noise_scale * rng.standard_normal()
                cn0_lin = 10.0 ** (cn0 / 10.0)
                # Specular multipath: reflected ray delayed by 2 h sin(el), relative phase psi_mp.
                delay_m = 2.0 * mp_height_m[j] * sin_el
                psi_mp = 2.0 * math.pi * delay_m / lam + mp_phase_rad[j]
                denom = 1.0 + alpha * math.cos(psi_mp)
                mp_code = alpha * delay_m * math.cos(psi_mp) / denom
                mp_phase = math.atan2(alpha * math.sin(psi_mp), denom) * lam / (2.0 * math.pi)
                gm_m[j, k] = gm_m[j, k] * gm_decay + gm_drive * mp_gm_sigma_m / sin_el * rng.standard_normal()
                if new_arc:
                    # A new arc: the receiver's phase starts at an arbitrary integer.
                    amb_cyc[j, k] = float(rng.integers(-1000000, 1000000))
                    gm_m[j, k] = mp_gm_sigma_m / sin_el * rng.standard_normal()
                    lli[e, j, k] = 1
                elif slip:
                    jump = float(rng.integers(-20, 20))
                    amb_cyc[j, k] += jump if jump != 0.0 else 1.0
                    lli[e, j, k] = 1
                code_sigma = sigma_code_m[j, k] * 10.0 ** (-(cn0 - 45.0) / 40.0)
                phase_sigma_cyc = noise_scale * math.sqrt(10.0 / cn0_lin) / (2.0 * math.pi)
                common = rho + clk_m + trop
                # Elevation-dependent satellite code bias, linear between the nodes.
                n_node = el_bias_m.shape[2]
                x = max(0.0, min(el * 180.0 / math.pi, 90.0)) / 90.0 * (n_node - 1)
                i0 = min(int(x), n_node - 2)
                el_bias = el_bias_m[j, k, i0] + (x - i0) * (el_bias_m[j, k, i0 + 1] - el_bias_m[j, k, i0])
                pr_m[e, j, k] = (
                    common + iono + rx_bias_m[j, k] + sat_bias_m[j, k] + el_bias + mp_code + gm_m[j, k]
                    + code_sigma * rng.standard_normal()
                )
                cp_cyc[e, j, k] = (
                    (common - iono + mp_phase) / lam + amb_cyc[j, k] + phase_sigma_cyc * rng.standard_normal()
                )
                dop_hz[e, j, k] = -(rate + clk_rate) / lam
                cn0_dbhz[e, j, k] = cn0
