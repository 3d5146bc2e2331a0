"""Cycle-slip detection and the time update of single-difference ambiguity states.

Tests, per satellite and frequency of a base-rover single difference (RTKLIB 2.4.3 manual
Appendix E.7.5; Blewitt 1990, "An automatic editing algorithm for GPS data", GRL 17(3)):

- loss-of-lock indicator bit 0 at either receiver (RINEX 3.05 §5.7);
- geometry-free phase ``L1 - L2`` [m] jumping by more than a threshold between epochs;
- Melbourne-Wubbena combination (wide-lane phase minus narrow-lane code) [wide-lane cycles] leaving
  its running mean by more than a threshold, unless both phases passed the Doppler test and the
  geometry-free one: then the code jumped (multipath, a reflection: tens of metres on a low-cost
  rover in a city), that epoch is left out of the mean and the phases keep their ambiguities;
- change of the single-difference phase against its integrated Doppler [cycles], after removing the
  part common to all satellites (receiver clock drifts and millisecond jumps). Testing the single
  difference rather than each receiver lets satellite-side steps cancel as they do in the filter;
  where only one receiver reports Doppler, that receiver is tested alone. Each receiver's phase
  change is integrated over that receiver's own interval: a base that is sparser than the rover
  (5 s or 30 s reference files, corrections 1-2 s old) repeats an epoch (interval 0, no change, no
  test) and then moves by several seconds at once; intervals that differ are tested per receiver.

Then each ambiguity is initialised (new satellite, or slip) from phase minus code, or random-walked.
"""

from __future__ import annotations

import math

import numpy as np

from gnssaug.constants import C_MPS
from gnssaug.kernels import kernel


@kernel
def _doppler_flags(err_cyc, lam, test, thr_cyc, slip, tested):
    # Flag entries (where ``test``) whose error leaves the median of all finite ones by more than
    # thr_cyc: the receiver clocks move every range by the same metres, the median removes that.
    # ``tested`` receives the entries the test ran on.
    n, nf = err_cyc.shape
    err_m = np.empty(n * nf)
    cnt = 0
    for i in range(n):
        for f in range(nf):
            if not math.isnan(err_cyc[i, f]):
                err_m[cnt] = err_cyc[i, f] * lam[i, f]
                cnt += 1
    if cnt < 2:
        return
    common_m = np.sort(err_m[:cnt])[cnt // 2]
    for i in range(n):
        for f in range(nf):
            e = err_cyc[i, f]
            if test[i, f] and not math.isnan(e):
                tested[i, f] = True
                if abs(e - common_m / lam[i, f]) > thr_cyc:
                    slip[i, f] = True


@kernel
def _detect(sat, cp, pr, dop, lli, lam, dt_s, gf_m, mw_cyc, mw_n, prev_cp, prev_dop, gf_thr_m, mw_thr_cyc,
            dop_thr_cyc, slip):
    n, nf = lam.shape
    for i in range(n):
        for f in range(nf):
            slip[i, f] = ((lli[0, i, f] | lli[1, i, f]) & 1) != 0
    # Doppler first: a Melbourne-Wubbena jump on a satellite whose phases passed the Doppler (and
    # geometry-free) tests is the code's (multipath, a reflection), not a slip.
    dslip = np.zeros((n, nf), dtype=np.bool_)
    tested = np.zeros((n, nf), dtype=np.bool_)
    if dop_thr_cyc > 0.0 and (dt_s[0] != 0.0 or dt_s[1] != 0.0):
        # Phase change minus integrated Doppler per receiver [cycles], each over its own interval. A
        # receiver whose epoch did not change (interval 0: the base epoch paired again) contributes
        # its phase change alone, 0 for a continuing satellite. Over more than 5 s the trapezoid
        # leaves range-acceleration errors of cycles: such a receiver is not tested (NaN).
        e = np.empty((2, n, nf))
        for k in range(2):
            for i in range(n):
                for f in range(nf):
                    e[k, i, f] = cp[k, i, f] - prev_cp[k, sat[i], f]
                    if abs(dt_s[k]) > 5.0:
                        e[k, i, f] = np.nan
                    elif dt_s[k] != 0.0:
                        e[k, i, f] += 0.5 * (dop[k, i, f] + prev_dop[k, sat[i], f]) * dt_s[k]
        if dt_s[0] == dt_s[1] or dt_s[0] == 0.0 or dt_s[1] == 0.0:
            # The between-receiver single difference first: satellite-side jumps (clock steps, a
            # new ephemeris in a simulator) reach both receivers equally and cancel, as they do in
            # the double differences the filter uses. Where one receiver has no Doppler (a base
            # streaming MSM4), that receiver's own test still runs on the other.
            sd = e[0] - e[1]
            _doppler_flags(sd, lam, np.ones((n, nf), dtype=np.bool_), dop_thr_cyc, dslip, tested)
            one_sided = np.isnan(sd)
        else:
            # Different intervals: a satellite-side step no longer falls in both; test each alone.
            one_sided = np.ones((n, nf), dtype=np.bool_)
        _doppler_flags(e[0], lam, one_sided, dop_thr_cyc, dslip, tested)
        _doppler_flags(e[1], lam, one_sided, dop_thr_cyc, dslip, tested)
    if nf >= 2:
        for i in range(n):
            s = sat[i]
            sd0 = (cp[0, i, 0] - cp[1, i, 0]) * lam[i, 0]
            sd1 = (cp[0, i, 1] - cp[1, i, 1]) * lam[i, 1]
            gf = sd0 - sd1
            jump = abs(gf - gf_m[s]) > gf_thr_m
            f1 = C_MPS / lam[i, 0]
            f2 = C_MPS / lam[i, 1]
            lam_wl = C_MPS / (f1 - f2)
            pr0 = pr[0, i, 0] - pr[1, i, 0]
            pr1 = pr[0, i, 1] - pr[1, i, 1]
            mw = (sd0 / lam[i, 0] - sd1 / lam[i, 1]) - ((f1 * pr0 + f2 * pr1) / (f1 + f2)) / lam_wl
            if math.isnan(mw) and not math.isnan(sd0 - sd1):
                # Phases without code (screened out): the geometry-free test alone; the MW mean waits.
                if jump:
                    for f in range(nf):
                        slip[i, f] = True
                    mw_cyc[s] = np.nan
                gf_m[s] = gf
                continue
            mw_jump = abs(mw - mw_cyc[s]) > mw_thr_cyc
            phase_ok = tested[i, 0] and tested[i, 1] and not (dslip[i, 0] or dslip[i, 1])
            if mw_jump and not jump and phase_ok:
                # A code outlier: this epoch's MW is left out of the running mean.
                gf_m[s] = gf
                continue
            both = jump or mw_jump
            if both:
                for f in range(nf):
                    slip[i, f] = True
            if both or math.isnan(mw_cyc[s]):
                mw_n[s] = 1.0
                mw_cyc[s] = mw
            else:
                mw_n[s] += 1.0
                mw_cyc[s] += (mw - mw_cyc[s]) / mw_n[s]
            gf_m[s] = gf
    for i in range(n):
        for f in range(nf):
            slip[i, f] |= dslip[i, f]
    for k in range(2):
        for i in range(n):
            for f in range(nf):
                prev_cp[k, sat[i], f] = cp[k, i, f]
                prev_dop[k, sat[i], f] = dop[k, i, f]


@kernel
def ambiguity_time_update(sat, cp, pr, dop, lli, lam, t_ns, dt_s, thresholds, gf_m, mw_cyc, mw_n, prev_cp,
                          prev_dop, amb, slot_used, lock, last_ns, x, p, have_out, amb_out):
    """Detect slips and update the ambiguity states of one epoch's common satellites.

    Parameters
    ----------
    sat : int64[n]
        Global satellite indices.
    cp, pr : float64[2, n, nf]
        Phase [cycles] and code [m] of the rover (0) and base (1).
    dop : float64[2, n, nf]
        Doppler [Hz].
    lli : uint8[2, n, nf]
        Loss-of-lock indicators.
    lam : float64[n, nf]
        Wavelengths [m].
    t_ns : int
        Epoch time (GPST ns).
    dt_s : float64[2]
        Signed time since each receiver's previous epoch, rover then base [s] (negative when
        filtering backwards; 0 at the first epoch, and for a base epoch paired again with a newer
        rover epoch). The ambiguity random walk runs over the rover's interval.
    thresholds : float64[5]
        Geometry-free jump [m], Melbourne-Wubbena jump [cycles], Doppler test [cycles] (0: off),
        initial ambiguity variance [cycles^2], ambiguity random walk [cycles^2/s].
    gf_m, mw_cyc, mw_n : float64[N_SAT]
        Per-satellite geometry-free value, MW running mean and its count (updated).
    prev_cp, prev_dop : float64[2, N_SAT, nf]
        Previous phases and Dopplers per receiver (updated).
    amb : int64[N_SAT, nf]
        State index of each ambiguity, -1 for none (updated).
    slot_used : bool[na]
        Occupied ambiguity slots (updated); ``na <= nx``: states ``na..nx-1`` (ionosphere) are never
        allocated to an ambiguity.
    lock, last_ns : int64[N_SAT, nf]
        Epochs since the last reset and time last seen (updated).
    x, p : float64[nx], float64[nx, nx]
        Filter state and covariance (updated).
    have_out : bool[n, nf]
        Receives: both receivers have phase, and code too unless the ambiguity continues (and a
        state slot was available).
    amb_out : int64[n, nf]
        Receives the state index per row, -1 where none.
    """
    n, nf = lam.shape
    slip = np.empty((n, nf), dtype=np.bool_)
    _detect(sat, cp, pr, dop, lli, lam, dt_s, gf_m, mw_cyc, mw_n, prev_cp, prev_dop, thresholds[0],
            thresholds[1], thresholds[2], slip)
    init_var = thresholds[3]
    q = thresholds[4] * abs(dt_s[0])
    nx = x.shape[0]
    for i in range(n):
        for f in range(nf):
            sd_cp = cp[0, i, f] - cp[1, i, f]
            sd_pr = pr[0, i, f] - pr[1, i, f]
            amb_out[i, f] = amb[sat[i], f]
            s = amb[sat[i], f]
            reset = slip[i, f]
            # A phase whose code is missing (screened out as an outlier) continues its ambiguity; it
            # cannot start one: a slip then frees the state, a new one starts with the code.
            have_out[i, f] = not math.isnan(sd_cp) and (not math.isnan(sd_pr) or (s >= 0 and not reset))
            if not have_out[i, f]:
                if s >= 0 and reset and not math.isnan(sd_cp):
                    for c in range(nx):
                        p[s, c] = 0.0
                        p[c, s] = 0.0
                    slot_used[s] = False
                    amb[sat[i], f] = -1
                    amb_out[i, f] = -1
                    lock[sat[i], f] = 0
                continue
            if s < 0:
                # Ambiguity slots run from 3 to len(slot_used); states after them (ionosphere) are
                # not handed out here.
                for c in range(3, slot_used.shape[0]):
                    if not slot_used[c]:
                        s = c
                        break
                if s < 0:  # state full: this signal waits for a free slot
                    have_out[i, f] = False
                    continue
                slot_used[s] = True
                amb[sat[i], f] = s
                amb_out[i, f] = s
                reset = True
            if reset:
                x[s] = sd_cp - sd_pr / lam[i, f]
                for c in range(nx):
                    p[s, c] = 0.0
                    p[c, s] = 0.0
                p[s, s] = init_var
                lock[sat[i], f] = 0
            else:
                p[s, s] += q
                lock[sat[i], f] += 1
            last_ns[sat[i], f] = t_ns


@kernel
def base_drift_known(sat, t_b_ns, drift_t_ns, max_gap_s, known_out):
    """Which satellites' base phases were seen at an earlier base epoch at most ``max_gap_s`` ago.

    Parameters
    ----------
    sat : int64[n]
        Global satellite indices.
    t_b_ns : int
        This base epoch, GPST ns.
    drift_t_ns : int64[N_SAT]
        Base epoch at which each satellite was last seen (0: never).
    max_gap_s : float
        Longest usable interval [s].
    known_out : bool[n]
        Receives True where the interval is usable (neither 0 nor too long).

    Returns
    -------
    int
        Number of such satellites.
    """
    count = 0
    for i in range(sat.shape[0]):
        t_prev = drift_t_ns[sat[i]]
        gap_s = (t_b_ns - t_prev) / 1e9
        known_out[i] = t_prev != 0 and abs(gap_s) <= max_gap_s and gap_s != 0.0
        if known_out[i]:
            count += 1
    return count


@kernel
def base_drift_update(sat, t_b_ns, known, cp_b_cyc, lam_m, lli_b, half_b, sat_b_ecef_m, clk_b_m, d_model_m,
                      slip_bit, max_rate_mps, tau_s, drift_t_ns, drift_cp_m, drift_sat_m, drift_clk_m,
                      drift_rate_mps):
    """Update each base phase's drift rate [m/s] and the state it is measured from.

    The rate of ``u = phase - modelled range`` between the satellite's last base epoch and this one
    (``known`` from :func:`base_drift_known`), less the median over every usable rate (the base
    receiver clock); NaN with fewer than two usable rates, after a loss of lock (``slip_bit`` of
    ``lli_b``) or half-cycle flag at the base, or beyond ``max_rate_mps`` (a missed slip). A rate
    known before is smoothed towards the new one with weight ``min(gap / tau_s, 1)``.

    Parameters
    ----------
    sat : int64[n]
    t_b_ns : int
        This base epoch, GPST ns.
    known : bool[n]
    cp_b_cyc, lam_m : float64[n, nf]
        Base phases [cycles] and wavelengths [m].
    lli_b : uint8[n, nf]
    half_b : bool[n, nf]
    sat_b_ecef_m : float64[n, 3]
        Satellite positions at the base's transmission times [m].
    clk_b_m : float64[n]
        Satellite clocks at the base's transmission times, times c [m].
    d_model_m : float64[n]
        Modelled change of the base range since the satellite's last base epoch [m] (read where
        ``known`` only).
    drift_t_ns, drift_cp_m, drift_sat_m, drift_clk_m, drift_rate_mps : per satellite state
        int64[N_SAT], float64[N_SAT, nf], float64[N_SAT, 3], float64[N_SAT], float64[N_SAT, nf];
        updated for ``sat``.
    """
    n, nf = cp_b_cyc.shape
    rate = np.full((n, nf), np.nan)
    buf = np.empty(max(n * nf, 1))
    n_fin = 0
    for i in range(n):
        if not known[i]:
            continue
        s = sat[i]
        gap_s = (t_b_ns - drift_t_ns[s]) / 1e9
        d = d_model_m[i] - (clk_b_m[i] - drift_clk_m[s])
        for f in range(nf):
            du = cp_b_cyc[i, f] * lam_m[i, f] - drift_cp_m[s, f] - d
            rate[i, f] = du / gap_s
            if math.isfinite(rate[i, f]):
                buf[n_fin] = rate[i, f]
                n_fin += 1
    any_known = False
    for i in range(n):
        any_known = any_known or known[i]
    if any_known:
        med = np.nan
        if n_fin >= 2:
            srt = np.sort(buf[:n_fin])
            med = 0.5 * (srt[(n_fin - 1) // 2] + srt[n_fin // 2])
        for i in range(n):
            s = sat[i]
            gap_s = (t_b_ns - drift_t_ns[s]) / 1e9
            w = abs(gap_s) / tau_s
            if w > 1.0:
                w = 1.0
            for f in range(nf):
                r = rate[i, f] - med if n_fin >= 2 else np.nan
                if (lli_b[i, f] & slip_bit) != 0 or half_b[i, f] or abs(r) > max_rate_mps:
                    r = np.nan
                old = drift_rate_mps[s, f]
                rate[i, f] = old + (r - old) * w if math.isfinite(old) else r
    for i in range(n):
        s = sat[i]
        for f in range(nf):
            drift_rate_mps[s, f] = rate[i, f]
            drift_cp_m[s, f] = cp_b_cyc[i, f] * lam_m[i, f]
        drift_t_ns[s] = t_b_ns
        for c in range(3):
            drift_sat_m[s, c] = sat_b_ecef_m[i, c]
        drift_clk_m[s] = clk_b_m[i]
