"""Single-point positioning kernels: per-epoch weighted least squares with RAIM, and a batch driver.

The whole epoch runs in one kernel call: iterations of the linearised code equations, atmosphere
(Saastamoinen + Niell, GPS or BDS Klobuchar per satellite), Earth-rotation (Sagnac) correction,
chi-square validation, fault detection and exclusion, and DOPs. The batch kernel loops over every
epoch of a file and seeds each epoch with the previous solution.

Unknowns: ECEF position and one receiver clock per *clock group* that has satellites (BDS-2 and
BDS-3 are separate groups; the group table is passed in). Rows are satellites; everything that does
not depend on the receiver position (satellite position at transmit time, satellite clock, group
delays, ephemeris variance, the choice of ionosphere model) is prepared by the caller.

Measurement model of row ``i`` (metres)::

    pr_i = |r_sat - r_rx| + sagnac + clk[group_i] - clk_sat_i + iono_i + tropo_i + e_i
    var(e_i) = efact_i^2 (a^2 + b^2 / sin^2 el) [* 10^((cn0_nom - cn0)/10)] + var_sat_i
               + (iono_err * iono_i)^2 + (tropo_err / (sin el + 0.1))^2

(the error model of RTKLIB's ``varerr``; RTKLIB manual App. E.6 and E.5). With the broadcast
ionosphere, ``iono_i = (1 + s) I_i + g m_i dlat_i + c m_i dlat_i^2`` where ``I_i`` is the Klobuchar delay,
``m_i`` the 350 km shell obliquity (times the frequency factor), ``dlat_i`` the pierce point's latitude
offset [deg], and the scale error ``s``, north gradient ``g`` and north curvature ``c`` are optional
parameters with zero-mean priors (see :func:`_wls`). Optionally the gradient and curvature are
time-correlated: small filters carry them from epoch to epoch (first-order Gauss-Markov) while
positions and clocks stay epoch-wise. The filter state is a bank of such filters, one per correlation
time (the front end's default: one; optionally a grid fixed beforehand), run as an interacting
multiple-model estimator
(IMM, Blom & Bar-Shalom 1988; Bar-Shalom, Li, Kirubarajan, "Estimation with Applications to Tracking
and Navigation", 2001, §11.6), each model weighted by the likelihood of what the epoch's code says
about the ionosphere states (:func:`_imm_predict`, :func:`_imm_combine`, :func:`_imm_update`).
"""

import math

import numpy as np

from gnssaug.constants import C_MPS, OMEGA_E_GPS_RADPS
from gnssaug.kernels import kernel
from gnssaug.kernels.atmosphere import klobuchar_bds, klobuchar_gps, tropo_slant_delay
from gnssaug.kernels.geodesy import enu_rotation, llh_from_ecef

# Indices of the option vector (float64[N_OPT]); the Python front end fills it.
OPT_ELMASK_RAD = 0
OPT_ERR_A_M = 1
OPT_ERR_B_M = 2
OPT_USE_CN0 = 3
OPT_CN0_NOMINAL_DBHZ = 4
OPT_IONO_ERR = 5
OPT_MAX_EXCLUDE = 6
OPT_MAX_ITER = 7
OPT_GDOP_MAX = 8
OPT_HUMIDITY = 9
OPT_TROPO_ERR_M = 10
OPT_CONV_M = 11
OPT_IONO_SCALE_SIGMA = 12  # prior sigma of the per-epoch broadcast-ionosphere scale error; 0: not estimated
OPT_FDE_UNIQUE = 13  # 1: accept an exclusion only when exactly one candidate's removal passes the test
OPT_IONO_GRAD_SIGMA = 14  # prior sigma of a north gradient of the vertical iono error [m/deg]; 0: off
OPT_IONO_MIN_REDUNDANCY = 15  # estimate the ionosphere parameters only with n_used - n_clock_pos >= this
OPT_IONO_CURV_SIGMA = 16  # prior sigma of a north curvature of the vertical iono error [m/deg^2]; 0: off
OPT_IONO_PRIORS_RELATIVE = 17  # 1: gradient/curvature sigmas are per metre of the model's daily peak delay
OPT_IONO_SWITCH_S = 18  # mean time [s] the ionosphere filter bank stays with one correlation time (IMM)
N_OPT = 19
N_EXTRA = 3  # parameters after the clocks in x: ionosphere scale error, north gradient, north curvature
# Rows of each model's ionosphere filter state (float64[n_model, N_KF_ROWS, N_EXTRA]) carried from epoch to epoch.
KF_MEAN = 0  # mean of the three ionosphere states
KF_COV = 1  # rows 1..3: their covariance
KF_VAR0 = 4  # their stationary (prior) variances; NaN: the filter holds no information yet
KF_MODEL = 5  # the model: column KF_TAU its correlation time [s] (<= 0: epoch-wise), KF_PROB its probability
N_KF_ROWS = 6
KF_TAU = 0
KF_PROB = 1
_SHELL_RATIO = 6371.0 / (6371.0 + 350.0)  # Earth radius / thin-shell radius (350 km shell)

# Columns of the per-row float inputs (float64[n, N_ROWF]).
COL_PR_M = 0  # pseudorange, group delays removed (or ionosphere-free) [m]
COL_SAT_CLK_M = 1  # c * satellite clock offset at transmit time [m]
COL_VAR_SAT_M2 = 2  # ephemeris/clock error variance (URA^2) [m^2]
COL_EFACT = 3  # per-system error factor
COL_CN0_DBHZ = 4  # C/N0 of the signal [dB-Hz], NaN when unknown
COL_IONO_SCALE = 5  # (f_ref / f)^2 of the row's Klobuchar model
N_ROWF = 6
# Columns of the per-row int inputs (int64[n, N_ROWI]).
COL_GROUP = 0  # clock group
COL_IONO_MODEL = 1  # IONO_* below
N_ROWI = 2

IONO_NONE = 0  # ionosphere-free combination (or no correction)
IONO_GPS_KLOBUCHAR = 1
IONO_BDS_KLOBUCHAR = 2

# Reason codes of an epoch (the Python layer turns them into text).
OK = 0
TOO_FEW_SATS = 1
NO_CONVERGENCE = 2
CHI_SQUARE_FAILED = 3
GDOP_TOO_LARGE = 4
SINGULAR = 5
FAULT_AMBIGUOUS = 6

_MAX_PARAM = 16
_EARTH_SURFACE_M = 6.0e6  # a receiver guess closer to the centre has no usable elevation yet
_BDT_MINUS_GPST_S = -14.0


@kernel
def _cholesky_inverse(a, k, out):
    """Inverse of the symmetric positive definite top-left ``k x k`` block of ``a`` into ``out``.

    Returns False when the block is not positive definite (singular geometry).
    """
    low = np.zeros((k, k))
    for j in range(k):
        s = a[j, j]
        for m in range(j):
            s -= low[j, m] * low[j, m]
        if not s > 1e-12 * max(abs(a[j, j]), 1e-300):
            return False
        low[j, j] = math.sqrt(s)
        for i in range(j + 1, k):
            s = a[i, j]
            for m in range(j):
                s -= low[i, m] * low[j, m]
            low[i, j] = s / low[j, j]
    # inverse of L by forward substitution, then inv(A) = inv(L)^T inv(L)
    linv = np.zeros((k, k))
    for j in range(k):
        linv[j, j] = 1.0 / low[j, j]
        for i in range(j + 1, k):
            s = 0.0
            for m in range(j, i):
                s -= low[i, m] * linv[m, j]
            linv[i, j] = s / low[i, i]
    for i in range(k):
        for j in range(i, k):
            s = 0.0
            for m in range(j, k):
                s += linv[m, i] * linv[m, j]
            out[i, j] = s
            out[j, i] = s
    return True


@kernel
def _step(qinv, bvec, p, k):
    """Update of parameter ``p``: row ``p`` of the inverse normal matrix times the right-hand side."""
    d = 0.0
    for q in range(k):
        d += qinv[p, q] * bvec[q]
    return d


@kernel
def _model_peak_m(llh, ion):
    """Largest zenith delay [m] of the broadcast models over the receiver: each at 14:00 local time.

    A measure of the ionosphere's current size (solar cycle, season) from the broadcast coefficients;
    NaN when no model has coefficients.
    """
    t_peak_s = (50400.0 - llh[1] * 43200.0 / math.pi) % 86400.0
    peak = math.nan
    if ion[0] != 0.0:
        peak = klobuchar_gps(llh[0], llh[1], 0.0, math.pi / 2.0, t_peak_s, ion[0:4], ion[4:8])
    if ion[8] != 0.0:
        bds = klobuchar_bds(llh[0], llh[1], 0.0, math.pi / 2.0, t_peak_s, ion[8:12], ion[12:16])
        peak = bds if math.isnan(peak) else max(peak, bds)
    return peak


@kernel
def _atmosphere(rx, sat_pos, rowf, rowi, t_gps_day_s, doy, ion, opts, az, el, iono_m, tropo_m, grad_m, curv_m):
    """Azimuth, elevation, ionospheric and tropospheric delays of every active row seen from ``rx``.

    ``ion`` is float64[16]: GPS alpha, GPS beta, BDS alpha, BDS beta. ``grad_m`` receives the
    partial of the slant delay on a north gradient of the vertical delay [m per (m/deg)]: the
    350 km shell obliquity times the pierce point's latitude offset [deg] (0 without a model);
    ``curv_m`` the partial on a north curvature [m per (m/deg^2)]: obliquity times the offset squared.
    Returns the models' peak zenith delay over the receiver (:func:`_model_peak_m`).
    """
    llh = llh_from_ecef(rx)
    rot = enu_rotation(llh[0], llh[1])
    t_bdt_day_s = (t_gps_day_s + _BDT_MINUS_GPST_S) % 86400.0
    peak_m = _model_peak_m(llh, ion)
    # every row, not only the active ones: fault exclusion re-activates rows against this cache
    for i in range(sat_pos.shape[0]):
        if math.isnan(sat_pos[i, 0]):
            continue
        dx = sat_pos[i, 0] - rx[0]
        dy = sat_pos[i, 1] - rx[1]
        dz = sat_pos[i, 2] - rx[2]
        e = rot[0, 0] * dx + rot[0, 1] * dy + rot[0, 2] * dz
        n = rot[1, 0] * dx + rot[1, 1] * dy + rot[1, 2] * dz
        u = rot[2, 0] * dx + rot[2, 1] * dy + rot[2, 2] * dz
        a = math.atan2(e, n)
        az[i] = a + 2.0 * math.pi if a < 0.0 else a
        el[i] = math.atan2(u, math.sqrt(e * e + n * n))
        iono = 0.0
        model = rowi[i, COL_IONO_MODEL]
        if model == IONO_GPS_KLOBUCHAR:
            iono = klobuchar_gps(llh[0], llh[1], az[i], el[i], t_gps_day_s, ion[0:4], ion[4:8])
        elif model == IONO_BDS_KLOBUCHAR:
            iono = klobuchar_bds(llh[0], llh[1], az[i], el[i], t_bdt_day_s, ion[8:12], ion[12:16])
        iono_m[i] = iono * rowf[i, COL_IONO_SCALE] if not math.isnan(iono) else 0.0
        trop = tropo_slant_delay(llh[0], llh[2], el[i], doy, opts[OPT_HUMIDITY])
        tropo_m[i] = trop if not math.isnan(trop) else 0.0
        grad_m[i] = 0.0
        curv_m[i] = 0.0
        if iono_m[i] != 0.0 and el[i] > 0.0:
            ratio = _SHELL_RATIO * math.cos(el[i])
            psi = math.pi / 2.0 - el[i] - math.asin(ratio)
            sin_ipp = math.sin(llh[0]) * math.cos(psi) + math.cos(llh[0]) * math.sin(psi) * math.cos(az[i])
            dlat_deg = (math.asin(min(max(sin_ipp, -1.0), 1.0)) - llh[0]) * 180.0 / math.pi
            grad_m[i] = dlat_deg / math.sqrt(1.0 - ratio * ratio) * rowf[i, COL_IONO_SCALE]
            curv_m[i] = grad_m[i] * dlat_deg
    return peak_m


@kernel
def _imm_predict(kf, dt_s, switch_s, pred):
    """Interaction and prediction of the filter bank ``kf`` over ``dt_s`` into ``pred`` (same shape).

    ``kf`` is float64[n_model, N_KF_ROWS, 3]: per model the posterior mean and covariance of the
    three ionosphere states (scale, gradient, curvature), their stationary variances ``var0`` and, in
    row ``KF_MODEL``, the model's correlation time ``tau`` and probability. Model ``i`` hands over to
    model ``j`` with probability ``pi_ij = s delta_ij + (1 - s) / n_model``, ``s = exp(-dt / switch_s)``:
    a continuous-time Markov chain with mean sojourn ``switch_s`` whose jumps land on any model alike,
    so after a long gap every model is equally likely again. Each model starts from the moment-matched
    mixture of the models (weights ``mu_i pi_ij / c_j``, ``c_j`` the predicted probability), then takes
    its first-order Gauss-Markov step ``x_k = phi x_(k-1) + w``, ``phi = exp(-dt / tau)`` for the
    gradient and curvature (0 for the scale, which stays epoch-wise), ``var(w) = (1 - phi^2) var0``:
    the states keep their stationary variances whatever the gaps (Gelb, "Applied Optimal Estimation",
    1974, §4.3).

    ``pred[j]`` receives the carried mean and covariance *without* the process noise, in row
    ``KF_VAR0`` the factors ``1 - phi^2`` of the stationary variances that it adds (those variances
    scale with the ionosphere's size at the epoch's position, known inside the solution:
    :func:`_imm_combine`), and in row ``KF_MODEL`` the model's ``tau`` and ``c_j``. An empty bank
    (``kf[:, KF_VAR0]`` NaN) or an unrelated epoch (``dt_s`` negative, NaN or inf) starts every model
    from its stationary prior with equal probabilities.
    """
    n_model = kf.shape[0]
    related = not math.isnan(kf[0, KF_VAR0, 0]) and dt_s >= 0.0 and dt_s < math.inf
    stay = 0.0
    if related and switch_s > 0.0:
        stay = math.exp(-dt_s / switch_s)
    jump = (1.0 - stay) / n_model
    xm = np.zeros(3)
    for j in range(n_model):
        c_j = 0.0
        for i in range(n_model):
            c_j += (jump + (stay if i == j else 0.0)) * kf[i, KF_MODEL, KF_PROB]
        tau = kf[j, KF_MODEL, KF_TAU]
        phi = math.exp(-dt_s / tau) if related and tau > 0.0 else 0.0
        pred[j, KF_MODEL, :] = 0.0
        pred[j, KF_MODEL, KF_TAU] = tau
        pred[j, KF_MODEL, KF_PROB] = c_j
        pred[j, KF_VAR0, 0] = 1.0
        pred[j, KF_VAR0, 1] = 1.0 - phi * phi
        pred[j, KF_VAR0, 2] = 1.0 - phi * phi
        pred[j, KF_MEAN, :] = 0.0
        pred[j, KF_COV:KF_COV + 3, :] = 0.0
        if phi == 0.0:
            continue
        xm[:] = 0.0
        for i in range(n_model):
            w = _mix_weight(kf, i, j, stay, jump, c_j)
            for a in range(1, 3):
                xm[a] += w * kf[i, KF_MEAN, a]
        for i in range(n_model):
            w = _mix_weight(kf, i, j, stay, jump, c_j)
            if w == 0.0:
                continue
            for a in range(1, 3):
                for b in range(1, 3):
                    spread = (kf[i, KF_MEAN, a] - xm[a]) * (kf[i, KF_MEAN, b] - xm[b])
                    pred[j, KF_COV + a, b] += w * phi * phi * (kf[i, KF_COV + a, b] + spread)
        for a in range(1, 3):
            pred[j, KF_MEAN, a] = phi * xm[a]


@kernel
def _mix_weight(kf, i, j, stay, jump, c_j):
    """IMM mixing weight of model ``i`` in model ``j``'s start: ``mu_i pi_ij / c_j`` (``j`` alone if ``c_j`` = 0)."""
    if not c_j > 0.0:
        return 1.0 if i == j else 0.0
    return (jump + (stay if i == j else 0.0)) * kf[i, KF_MODEL, KF_PROB] / c_j


@kernel
def _imm_combine(pred, sigma_scale, sigma_grad, sigma_curv, prior):
    """The epoch's prior of the ionosphere states: the moment-matched mixture of the predicted models.

    ``pred`` is :func:`_imm_predict`'s output; each model's covariance gets its process noise from the
    stationary variances ``var0`` (the squared sigmas, 0 for a state that is off). Mean and covariance
    go to ``prior`` (float64[N_KF_ROWS, 3]; row ``KF_VAR0`` the stationary variances).
    """
    var0 = (sigma_scale * sigma_scale, sigma_grad * sigma_grad, sigma_curv * sigma_curv)
    for a in range(3):
        prior[KF_VAR0, a] = var0[a]
        s = 0.0
        for j in range(pred.shape[0]):
            s += pred[j, KF_MODEL, KF_PROB] * pred[j, KF_MEAN, a]
        prior[KF_MEAN, a] = s
    for a in range(3):
        for b in range(3):
            s = 0.0
            for j in range(pred.shape[0]):
                da = pred[j, KF_MEAN, a] - prior[KF_MEAN, a]
                db = pred[j, KF_MEAN, b] - prior[KF_MEAN, b]
                noise = pred[j, KF_VAR0, a] * var0[a] if a == b else 0.0
                s += pred[j, KF_MODEL, KF_PROB] * (pred[j, KF_COV + a, b] + noise + da * db)
            prior[KF_COV + a, b] = s


@kernel
def _logdet_spd(a, k):
    """Log-determinant of the symmetric positive definite top-left ``k x k`` block of ``a`` (NaN if not)."""
    low = np.zeros((k, k))
    total = 0.0
    for j in range(k):
        s = a[j, j]
        for m in range(j):
            s -= low[j, m] * low[j, m]
        if not s > 0.0:
            return math.nan
        low[j, j] = math.sqrt(s)
        total += 2.0 * math.log(low[j, j])
        for i in range(j + 1, k):
            s = a[i, j]
            for m in range(j):
                s -= low[i, m] * low[j, m]
            low[i, j] = s / low[j, j]
    return total


@kernel
def _code_information(prior, kx, qinv, x_iono, jmat, yvec):
    """What the epoch's code alone says about the ionosphere states, in information form.

    The solution combined the code with the prior ``prior`` (information ``inv(P)`` on the
    estimated states, :func:`_add_iono_prior`), so the states' marginal information from the code,
    after the position and clocks are eliminated, is ``J = inv(Q_ii) - inv(P)`` with ``Q_ii`` their
    block of the inverse normal matrix; at the converged solution ``x`` the code's estimate ``z``
    satisfies ``J z = J x + inv(P) (x - m)``, the information vector ``yvec`` (the gradient of the
    code part balances the prior's). ``jmat`` (float64[3, 3]) and ``yvec`` (float64[3]) are zero for
    states the epoch did not estimate. Returns False when a block is not positive definite.
    """
    jmat[:, :] = 0.0
    yvec[:] = 0.0
    idx = np.zeros(3, np.int64)
    info = np.zeros((3, 3))
    m = _prior_information(prior, kx, idx, info)
    if m <= 0:
        return m == 0
    qii = np.zeros((3, 3))
    for i in range(m):
        for j in range(m):
            qii[i, j] = qinv[kx[idx[i]], kx[idx[j]]]
    total = np.zeros((3, 3))
    if not _cholesky_inverse(qii, m, total):
        return False
    for i in range(m):
        for j in range(m):
            jmat[idx[i], idx[j]] = total[i, j] - info[i, j]
    for i in range(m):
        s = 0.0
        for j in range(m):
            s += jmat[idx[i], idx[j]] * x_iono[idx[j]] + info[i, j] * (x_iono[idx[j]] - prior[KF_MEAN, idx[j]])
        yvec[idx[i]] = s
    return True


@kernel
def _imm_update(kf, pred, prior, kx, qinv, x_iono):
    """Update every model of the bank with the epoch's code information and reweigh the models.

    The epoch is a pseudo-measurement of the ionosphere states (:func:`_code_information`,
    ``J``, ``y``); model ``j`` with prediction ``N(x_j, P_j)`` (:func:`_imm_predict` plus its process
    noise) gets the information-form Kalman update ``P_j+ = inv(inv(P_j) + J)``,
    ``x_j+ = P_j+ (inv(P_j) x_j + y)``, and the likelihood of the epoch under it,
    ``N(z; x_j, P_j + inv(J))`` up to factors common to all models:
    ``log L_j = -(x_j' inv(P_j) x_j - b' P_j+ b + log det P_j - log det P_j+) / 2`` with
    ``b = y + inv(P_j) x_j`` (exact for a singular ``J``: states the code does not see). The model
    probabilities become ``c_j L_j`` normalised. States with zero stationary variance (off) stay zero.
    """
    n_model = kf.shape[0]
    var0 = prior[KF_VAR0]
    jmat = np.zeros((3, 3))
    yvec = np.zeros(3)
    if not _code_information(prior, kx, qinv, x_iono, jmat, yvec):
        _imm_store_prediction(kf, pred, var0)
        return
    act = np.zeros(3, np.int64)
    m = 0
    for a in range(3):
        if var0[a] > 0.0:
            act[m] = a
            m += 1
    p_j = np.zeros((3, 3))
    p_inv = np.zeros((3, 3))
    a_mat = np.zeros((3, 3))
    post = np.zeros((3, 3))
    bvec = np.zeros(3)
    xpost = np.zeros(3)
    loglik = np.zeros(n_model)
    for j in range(n_model):
        for i in range(m):
            for k in range(m):
                p_j[i, k] = pred[j, KF_COV + act[i], act[k]]
            p_j[i, i] += pred[j, KF_VAR0, act[i]] * var0[act[i]]
        logdet_p = _logdet_spd(p_j, m)
        if math.isnan(logdet_p) or not _cholesky_inverse(p_j, m, p_inv):
            _imm_store_prediction(kf, pred, var0)
            return
        for i in range(m):
            for k in range(m):
                a_mat[i, k] = p_inv[i, k] + jmat[act[i], act[k]]
        if not _cholesky_inverse(a_mat, m, post):
            _imm_store_prediction(kf, pred, var0)
            return
        quad = 0.0
        for i in range(m):
            s = yvec[act[i]]
            for k in range(m):
                s += p_inv[i, k] * pred[j, KF_MEAN, act[k]]
                quad += pred[j, KF_MEAN, act[i]] * p_inv[i, k] * pred[j, KF_MEAN, act[k]]
            bvec[i] = s
        for i in range(m):
            s = 0.0
            for k in range(m):
                s += post[i, k] * bvec[k]
            xpost[i] = s
            quad -= bvec[i] * s
        # log det P+ = -log det(inv(P) + J)
        loglik[j] = -0.5 * (quad + logdet_p + _logdet_spd(a_mat, m))
        kf[j, KF_MEAN, :] = 0.0
        kf[j, KF_COV:KF_COV + 3, :] = 0.0
        for i in range(m):
            kf[j, KF_MEAN, act[i]] = xpost[i]
            for k in range(m):
                kf[j, KF_COV + act[i], act[k]] = post[i, k]
        kf[j, KF_VAR0, :] = var0
        kf[j, KF_MODEL, KF_TAU] = pred[j, KF_MODEL, KF_TAU]
    best = loglik.max()
    if math.isnan(best):
        for j in range(n_model):
            kf[j, KF_MODEL, KF_PROB] = pred[j, KF_MODEL, KF_PROB]
        return
    total = 0.0
    for j in range(n_model):
        kf[j, KF_MODEL, KF_PROB] = pred[j, KF_MODEL, KF_PROB] * math.exp(loglik[j] - best)
        total += kf[j, KF_MODEL, KF_PROB]
    for j in range(n_model):
        kf[j, KF_MODEL, KF_PROB] /= total


@kernel
def _imm_store_prediction(kf, pred, var0):
    """The bank after an epoch that says nothing about the ionosphere: the predictions, process noise from ``var0``.

    An empty bank (``var0`` NaN: no epoch solved yet) stays empty.
    """
    if math.isnan(var0[0]):
        return
    for j in range(kf.shape[0]):
        kf[j, KF_MEAN, :] = pred[j, KF_MEAN, :]
        for a in range(3):
            for b in range(3):
                kf[j, KF_COV + a, b] = pred[j, KF_COV + a, b] + (pred[j, KF_VAR0, a] * var0[a] if a == b else 0.0)
        kf[j, KF_VAR0, :] = var0
        kf[j, KF_MODEL, :] = pred[j, KF_MODEL, :]


@kernel
def _prior_information(prior, kx, idx, info):
    """Information matrix of the prior of the estimated ionosphere states (``kx[a] >= 0``).

    ``idx`` (int64[3]) receives those states in order, ``info[:m, :m]`` the inverse of the prior
    covariance restricted to them (the marginal of the others). Returns ``m``, or -1 when that block
    is not positive definite.
    """
    m = 0
    for a in range(3):
        if kx[a] >= 0:
            idx[m] = a
            m += 1
    sub = np.zeros((3, 3))
    for i in range(m):
        for j in range(m):
            sub[i, j] = prior[KF_COV + idx[i], idx[j]]
    if m > 0 and not _cholesky_inverse(sub, m, info):
        return -1
    return m


@kernel
def _add_iono_prior(prior, kx, scale, grad, curv, nmat, bvec):
    """Add the prior of the estimated ionosphere states (``kx[m] >= 0``) to the normal equations.

    Its information matrix is the inverse of the prior covariance restricted to those states (the
    marginal of the others); the right-hand side pulls the current values towards the prior mean.
    """
    idx = np.zeros(3, np.int64)
    info = np.zeros((3, 3))
    m = _prior_information(prior, kx, idx, info)
    if m <= 0:
        return
    cur = (scale, grad, curv)
    for i in range(m):
        for j in range(m):
            nmat[kx[idx[i]], kx[idx[j]]] += info[i, j]
            bvec[kx[idx[i]]] -= info[i, j] * (cur[idx[j]] - prior[KF_MEAN, idx[j]])


@kernel
def _wls(sat_pos, rowf, rowi, active, t_gps_day_s, doy, ion, opts, n_groups, x, work, atmo_rx, used, resid_m,
         var_m2, qinv, pidx, kx, pred, prior):
    """Iterate the weighted least squares from ``x`` (float64[3 + n_groups + N_EXTRA], updated in place).

    ``x`` holds the position, one clock per group and, last, three ionosphere parameters, each
    estimated with a zero-mean prior when its sigma is positive (else held at 0): the relative scale
    error ``s`` of the broadcast model (delays multiplied by ``1 + s``; sigma
    ``opts[OPT_IONO_SCALE_SIGMA]``), a north gradient [m/deg] and a north curvature [m/deg^2] of the
    vertical delay error over the pierce-point latitude offset (sigmas ``opts[OPT_IONO_GRAD_SIGMA]``
    and ``opts[OPT_IONO_CURV_SIGMA]``, in metres or, with ``OPT_IONO_PRIORS_RELATIVE``, per metre of
    the model's daily peak delay). The gradient and curvature need the scale; the curvature needs one
    more redundant measurement.

    ``work`` is float64[6, n]: az, el, iono, tropo, iono-gradient and iono-curvature partial caches,
    computed at the receiver position ``atmo_rx[:3]`` (float64[4], NaN: not yet; ``atmo_rx[3]`` the
    models' peak delay there). Returns ``(reason, n_used, n_param, chi2, n_param_all)``;
    ``qinv[:k_all, :k_all]`` is the inverse normal matrix of the parameters in the order position,
    the clocks of the groups with ``pidx[g] >= 0`` (``n_param`` in all), then the estimated
    ionosphere parameters, whose indices ``kx`` (int64[3]: scale, gradient, curvature; -1: not
    estimated) receives.

    The priors of the gradient and curvature are those the filter bank predicts (``pred``, from
    :func:`_imm_predict`; :func:`_imm_combine` mixes its models): the previous epochs' estimates
    decayed towards zero mean and the stationary variances of the sigmas above; a bank that carries
    nothing (empty, or correlation times of 0) gives the epoch-wise zero-mean priors. The scale
    always has the epoch-wise prior: it is nearly collinear with the height and the clocks, so what an
    epoch says about it is mostly the unmodelled rest of the errors, which a filter would accumulate
    (measured: carrying it took the WUHN V95 from 13.6 to 21.8 m). ``prior`` (float64[N_KF_ROWS, 3])
    receives the prior used. A parameter not estimated (too little redundancy) is held at zero (the
    broadcast model as it is).
    """
    n = sat_pos.shape[0]
    kx[:] = -1
    az, el, iono_m, tropo_m, grad_m, curv_m = work[0], work[1], work[2], work[3], work[4], work[5]
    nmat = np.zeros((_MAX_PARAM, _MAX_PARAM))
    bvec = np.zeros(_MAX_PARAM)
    hrow = np.zeros(_MAX_PARAM)
    count = np.zeros(n_groups, np.int64)
    reason = NO_CONVERGENCE
    n_used = 0
    k = 3
    k_all = 3
    chi2 = 0.0
    for _it in range(int(opts[OPT_MAX_ITER])):
        on_earth = math.sqrt(x[0] ** 2 + x[1] ** 2 + x[2] ** 2) > _EARTH_SURFACE_M
        if on_earth:
            moved = math.sqrt((x[0] - atmo_rx[0]) ** 2 + (x[1] - atmo_rx[1]) ** 2 + (x[2] - atmo_rx[2]) ** 2)
            if not moved < 1.0:  # NaN (no cache yet) lands here too
                atmo_rx[3] = _atmosphere(x[:3], sat_pos, rowf, rowi, t_gps_day_s, doy, ion, opts, az, el, iono_m,
                                         tropo_m, grad_m, curv_m)
                atmo_rx[:3] = x[:3]
        # one clock parameter per group with at least one usable row
        count[:] = 0
        n_used = 0
        for i in range(n):
            used[i] = active[i] and (not on_earth or el[i] >= opts[OPT_ELMASK_RAD])
            if used[i]:
                count[rowi[i, COL_GROUP]] += 1
                n_used += 1
        k = 3
        for g in range(n_groups):
            pidx[g] = k if count[g] > 0 else -1
            k += 1 if count[g] > 0 else 0
        if n_used < k or k >= _MAX_PARAM:
            return TOO_FEW_SATS, n_used, k, 0.0, k
        # the ionosphere scale is a constrained parameter: it costs no degree of freedom
        k_iono = -1
        # extra ionosphere parameters only with enough redundancy to tell them from the position
        if on_earth and opts[OPT_IONO_SCALE_SIGMA] > 0.0 and n_used - k >= opts[OPT_IONO_MIN_REDUNDANCY]:
            for i in range(n):
                if used[i] and iono_m[i] != 0.0:
                    k_iono = k
                    break
        unit = 1.0
        if opts[OPT_IONO_PRIORS_RELATIVE] > 0.0:
            unit = atmo_rx[3] if atmo_rx[3] > 0.0 else 0.0
        sigma_grad = opts[OPT_IONO_GRAD_SIGMA] * unit
        sigma_curv = opts[OPT_IONO_CURV_SIGMA] * unit
        k_grad = k + 1 if k_iono >= 0 and sigma_grad > 0.0 else -1
        k_curv = -1
        # the third ionosphere parameter needs one more redundant measurement
        if k_iono >= 0 and sigma_curv > 0.0 and n_used - k >= opts[OPT_IONO_MIN_REDUNDANCY] + 1:
            k_curv = k_grad + 1 if k_grad >= 0 else k_iono + 1
        kx[0] = k_iono
        kx[1] = k_grad
        kx[2] = k_curv
        k_all = k + (1 if k_iono >= 0 else 0) + (1 if k_grad >= 0 else 0) + (1 if k_curv >= 0 else 0)
        _imm_combine(pred, opts[OPT_IONO_SCALE_SIGMA], sigma_grad, sigma_curv, prior)
        # a state the epoch cannot estimate is not applied either: with that little redundancy the
        # epoch cannot check a carried correction against its own satellites (measured on the TST
        # 2019 drive: applying the carried means moved low-redundancy street-canyon epochs by 2-3 m)
        scale = x[3 + n_groups] if k_iono >= 0 else 0.0
        grad = x[4 + n_groups] if k_grad >= 0 else 0.0
        curv = x[5 + n_groups] if k_curv >= 0 else 0.0
        nmat[:k_all, :k_all] = 0.0
        bvec[:k_all] = 0.0
        chi2 = 0.0
        for i in range(n):
            if not used[i]:
                continue
            dx = sat_pos[i, 0] - x[0]
            dy = sat_pos[i, 1] - x[1]
            dz = sat_pos[i, 2] - x[2]
            rng = math.sqrt(dx * dx + dy * dy + dz * dz)
            # Earth rotation during the signal flight (first-order Sagnac term)
            sagnac = OMEGA_E_GPS_RADPS * (sat_pos[i, 0] * x[1] - sat_pos[i, 1] * x[0]) / C_MPS
            g = rowi[i, COL_GROUP]
            atmo = (1.0 + scale) * iono_m[i] + grad * grad_m[i] + curv * curv_m[i] + tropo_m[i] if on_earth else 0.0
            v = rowf[i, COL_PR_M] - (rng + sagnac + x[3 + g] - rowf[i, COL_SAT_CLK_M] + atmo)
            sin_el = max(math.sin(el[i]), 0.05) if on_earth else 1.0
            var_code = opts[OPT_ERR_A_M] ** 2 + (opts[OPT_ERR_B_M] / sin_el) ** 2
            cn0 = rowf[i, COL_CN0_DBHZ]
            if opts[OPT_USE_CN0] > 0.0 and cn0 == cn0:
                var_code *= 10.0 ** (max(opts[OPT_CN0_NOMINAL_DBHZ] - cn0, 0.0) / 10.0)
            var = rowf[i, COL_EFACT] ** 2 * var_code + rowf[i, COL_VAR_SAT_M2]
            if on_earth:
                var += (opts[OPT_IONO_ERR] * iono_m[i]) ** 2 + (opts[OPT_TROPO_ERR_M] / (sin_el + 0.1)) ** 2
            else:
                var += 1.0e4  # first pass from the Earth's centre: atmosphere not modelled yet
            resid_m[i] = v
            var_m2[i] = var
            chi2 += v * v / var
            hrow[:k_all] = 0.0
            hrow[0] = -dx / rng
            hrow[1] = -dy / rng
            hrow[2] = -dz / rng
            hrow[pidx[g]] = 1.0
            if k_iono >= 0:
                hrow[k_iono] = iono_m[i]
            if k_grad >= 0:
                hrow[k_grad] = grad_m[i]
            if k_curv >= 0:
                hrow[k_curv] = curv_m[i]
            w = 1.0 / var
            for p in range(k_all):
                bvec[p] += hrow[p] * w * v
                for q in range(p, k_all):
                    nmat[p, q] += hrow[p] * w * hrow[q]
        if k_iono >= 0:
            _add_iono_prior(prior, kx, scale, grad, curv, nmat, bvec)
        for p in range(k_all):
            for q in range(p):
                nmat[p, q] = nmat[q, p]
        if not _cholesky_inverse(nmat, k_all, qinv):
            return SINGULAR, n_used, k, chi2, k
        step_pos2 = 0.0
        for p in range(3):
            d = _step(qinv, bvec, p, k_all)
            x[p] += d
            step_pos2 += d * d
        for g in range(n_groups):
            if pidx[g] >= 0:
                x[3 + g] += _step(qinv, bvec, pidx[g], k_all)
        x[3 + n_groups] = scale + _step(qinv, bvec, k_iono, k_all) if k_iono >= 0 else 0.0
        x[4 + n_groups] = grad + _step(qinv, bvec, k_grad, k_all) if k_grad >= 0 else 0.0
        x[5 + n_groups] = curv + _step(qinv, bvec, k_curv, k_all) if k_curv >= 0 else 0.0
        if on_earth and math.sqrt(step_pos2) < opts[OPT_CONV_M]:
            reason = OK
            break
    return reason, n_used, k, chi2, k_all


@kernel
def _dops(sat_pos, x, used, rowi, pidx, k, out_dops):
    """GDOP, PDOP, HDOP, VDOP of the used rows (unit weights, the solution's clock parameters)."""
    llh = llh_from_ecef(x[:3])
    rot = enu_rotation(llh[0], llh[1])
    gtg = np.zeros((_MAX_PARAM, _MAX_PARAM))
    row = np.zeros(_MAX_PARAM)
    for i in range(sat_pos.shape[0]):
        if not used[i]:
            continue
        d = sat_pos[i] - x[:3]
        d = d / math.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
        row[:k] = 0.0
        for a in range(3):
            row[a] = -(rot[a, 0] * d[0] + rot[a, 1] * d[1] + rot[a, 2] * d[2])
        row[pidx[rowi[i, COL_GROUP]]] = 1.0
        for p in range(k):
            for q in range(k):
                gtg[p, q] += row[p] * row[q]
    q_mat = np.zeros((_MAX_PARAM, _MAX_PARAM))
    if not _cholesky_inverse(gtg, k, q_mat):
        out_dops[:] = np.nan
        return
    tr = 0.0
    for p in range(k):
        tr += q_mat[p, p]
    out_dops[0] = math.sqrt(tr)
    out_dops[1] = math.sqrt(q_mat[0, 0] + q_mat[1, 1] + q_mat[2, 2])
    out_dops[2] = math.sqrt(q_mat[0, 0] + q_mat[1, 1])
    out_dops[3] = math.sqrt(q_mat[2, 2])


@kernel
def _test(chi2, n_used, k, chi2_table):
    """True when the residuals pass the chi-square test (always with no redundancy)."""
    dof = n_used - k
    if dof <= 0:
        return True
    return chi2 <= chi2_table[min(dof, chi2_table.shape[0]) - 1]


@kernel
def _leave_one_out(j, sat_pos, x, rowi, work, qinv, pidx, kx, k, k_all, var_m2, resid_m, chi2, n_used, opts):
    """Chi-square and parameter count of the converged solution without row ``j``, in closed form.

    For a linear(ised) weighted least squares, deleting observation ``j`` lowers the weighted sum of
    squared residuals by ``v_j^2 / r_j`` with ``r_j = var_j - h_j Q h_j^T`` the variance of its
    residual (the leave-one-out identity behind Baarda's w-test; Teunissen, "Testing Theory", 2006,
    ch. 4). The range is linear to 1e-8 over a metre-scale correction and the atmosphere delays are
    those of the full solution's position, so this equals a fresh solution without the row to about
    1e-4 relative (far below the test's resolution), at O(k^2) cost instead of a new iterated
    solution. The only row of its clock group takes its clock with it (``r_j`` = 0:
    chi-square unchanged, one parameter fewer). Returns ``(-1.0, k)`` when the deletion would drop
    the ionosphere parameters (redundancy falling below ``OPT_IONO_MIN_REDUNDANCY``): the caller then
    solves without the row.
    """
    redundancy = n_used - 1 - k
    if (kx[0] >= 0 and redundancy < opts[OPT_IONO_MIN_REDUNDANCY]) or (
            kx[2] >= 0 and redundancy < opts[OPT_IONO_MIN_REDUNDANCY] + 1):
        return -1.0, k
    hrow = np.zeros(_MAX_PARAM)
    dx = sat_pos[j, 0] - x[0]
    dy = sat_pos[j, 1] - x[1]
    dz = sat_pos[j, 2] - x[2]
    rng = math.sqrt(dx * dx + dy * dy + dz * dz)
    hrow[0] = -dx / rng
    hrow[1] = -dy / rng
    hrow[2] = -dz / rng
    hrow[pidx[rowi[j, COL_GROUP]]] = 1.0
    for m in range(3):  # ionosphere scale, gradient, curvature partials (work rows 2, 4, 5)
        if kx[m] >= 0:
            hrow[kx[m]] = work[2 if m == 0 else 3 + m, j]
    hqh = 0.0
    for p in range(k_all):
        s = 0.0
        for q in range(k_all):
            s += qinv[p, q] * hrow[q]
        hqh += hrow[p] * s
    r_j = var_m2[j] - hqh
    if r_j <= 1e-9 * var_m2[j]:
        return chi2, k - 1  # the group's only row: its clock goes with it
    return max(chi2 - resid_m[j] * resid_m[j] / r_j, 0.0), k


@kernel
def spp_epoch(sat_pos, rowf, rowi, valid, t_gps_day_s, doy, ion, opts, chi2_table, n_groups, x,
              used, resid_m, out_cov, out_dops, kf, dt_s):
    """Solve one epoch: WLS, chi-square validation, fault exclusion, DOPs; then the ionosphere filter bank.

    Parameters
    ----------
    sat_pos : float64[n, 3]
        Satellite ECEF positions at transmit time, in the ECEF frame of the transmit time [m].
    rowf : float64[n, N_ROWF]
        Per-row floats (``COL_*``).
    rowi : int64[n, N_ROWI]
        Per-row ints: clock group, ionosphere model.
    valid : bool[n]
        Rows usable at all (observation present, healthy ephemeris).
    t_gps_day_s : float
        GPST second of day of the epoch.
    doy : float
        Day of year (Niell seasonal term).
    ion : float64[16]
        GPS alpha, GPS beta, BDS alpha, BDS beta Klobuchar coefficients.
    opts : float64[N_OPT]
        Options (``OPT_*``).
    chi2_table : float64[m]
        Chi-square test thresholds for 1..m degrees of freedom.
    n_groups : int
        Number of clock groups.
    x : float64[3 + n_groups + N_EXTRA]
        In: initial position, clocks [m], ionosphere scale error and gradient. Out: the solution.
    used : bool[n]
        Out: rows used in the final solution.
    resid_m : float64[n]
        Out: pre-fit residuals of the last iteration [m].
    out_cov : float64[3, 3]
        Out: position covariance [m^2].
    out_dops : float64[4]
        Out: GDOP, PDOP, HDOP, VDOP.
    kf : float64[n_model, N_KF_ROWS, 3]
        In: the ionosphere filter bank after the previous epoch (``KF_*`` rows per model: state,
        stationary variances, correlation time and probability). Out: updated with this epoch
        (:func:`_imm_update`), or only predicted over ``dt_s`` when the epoch has no solution.
    dt_s : float
        Time since the previous epoch [s] (inf: unrelated; the bank restarts from its priors).

    Returns
    -------
    (int, int, int)
        Reason code (``OK`` ...), satellites used, satellites excluded.
    """
    pred = np.empty_like(kf)
    _imm_predict(kf, dt_s, opts[OPT_IONO_SWITCH_S], pred)
    prior = np.zeros((N_KF_ROWS, N_EXTRA))
    kx = np.full(3, -1, np.int64)
    qinv = np.zeros((_MAX_PARAM, _MAX_PARAM))
    reason, n_used, n_excl = _solve_epoch(sat_pos, rowf, rowi, valid, t_gps_day_s, doy, ion, opts, chi2_table,
                                          n_groups, x, used, resid_m, out_cov, out_dops, pred, prior, kx, qinv)
    if reason == OK:
        _imm_update(kf, pred, prior, kx, qinv, x[3 + n_groups:])
    else:
        _imm_store_prediction(kf, pred, kf[0, KF_VAR0].copy())
    return reason, n_used, n_excl


@kernel
def _solve_epoch(sat_pos, rowf, rowi, valid, t_gps_day_s, doy, ion, opts, chi2_table, n_groups, x, used, resid_m,
                 out_cov, out_dops, pred, prior, kx, qinv):
    """:func:`spp_epoch` without the filter bank's update: the ionosphere prior from its prediction ``pred``.

    Out: ``prior`` (the prior used), ``kx`` (the estimated ionosphere states' indices) and ``qinv``
    (the inverse normal matrix) of the final solution.
    """
    n = sat_pos.shape[0]
    active = valid.copy()
    work = np.full((6, n), np.nan)
    atmo_rx = np.full(4, np.nan)
    var_m2 = np.zeros(n)
    pidx = np.full(n_groups, -1, np.int64)
    x_start = x.copy()
    reason, n_used, k, chi2, k_all = _wls(sat_pos, rowf, rowi, active, t_gps_day_s, doy, ion, opts, n_groups, x,
                                          work, atmo_rx, used, resid_m, var_m2, qinv, pidx, kx, pred, prior)
    n_excl = 0
    passed = reason == OK and _test(chi2, n_used, k, chi2_table)
    if reason == NO_CONVERGENCE or (reason == OK and not passed):
        # Fault exclusion: drop, one at a time, the satellite whose removal gives the smallest
        # normalised chi-square; repeat while the test fails, up to OPT_MAX_EXCLUDE satellites.
        x_try = x.copy()
        used_try = np.zeros(n, np.bool_)
        res_try = np.zeros(n)
        var_try = np.zeros(n)
        q_try = np.zeros((_MAX_PARAM, _MAX_PARAM))
        p_try = np.full(n_groups, -1, np.int64)
        kx_try = np.full(3, -1, np.int64)
        prior_try = np.zeros((N_KF_ROWS, N_EXTRA))
        x_seed = x.copy() if reason == OK else x_start.copy()
        for _round in range(int(opts[OPT_MAX_EXCLUDE])):
            best_j = -1
            best_score = np.inf
            n_pass = 0
            for j in range(n):
                # candidates: the used rows, or every active row when the solution did not converge
                if not (active[j] and (used[j] or reason != OK)):
                    continue
                active[j] = False
                c_j, k_j = -1.0, k
                nu_j = n_used - 1
                if reason == OK:
                    c_j, k_j = _leave_one_out(j, sat_pos, x, rowi, work, qinv, pidx, kx, k, k_all, var_m2, resid_m,
                                              chi2, n_used, opts)
                r_j = OK
                if c_j < 0.0:  # no closed form: solve without row j
                    x_try[:] = x_seed
                    r_j, nu_j, k_j, c_j, _ka = _wls(sat_pos, rowf, rowi, active, t_gps_day_s, doy, ion, opts,
                                                    n_groups, x_try, work, atmo_rx, used_try, res_try, var_try,
                                                    q_try, p_try, kx_try, pred, prior_try)
                active[j] = True
                if r_j != OK or nu_j - k_j < 1:
                    continue
                score = c_j / chi2_table[min(nu_j - k_j, chi2_table.shape[0]) - 1]
                n_pass += 1 if score <= 1.0 else 0
                if score < best_score:
                    best_score = score
                    best_j = j
                if n_pass > 1 and opts[OPT_FDE_UNIQUE] > 0.0:
                    break  # already ambiguous (below): the other candidates cannot change that
            if best_j < 0:
                break
            if n_pass > 1 and opts[OPT_FDE_UNIQUE] > 0.0:
                # several satellites could be "the" fault: the exclusion would be a guess
                return FAULT_AMBIGUOUS, n_used, n_excl
            active[best_j] = False
            n_excl += 1
            x[:] = x_seed
            reason, n_used, k, chi2, k_all = _wls(sat_pos, rowf, rowi, active, t_gps_day_s, doy, ion, opts,
                                                  n_groups, x, work, atmo_rx, used, resid_m, var_m2, qinv, pidx,
                                                  kx, pred, prior)
            passed = reason == OK and _test(chi2, n_used, k, chi2_table)
            if passed or reason != OK:
                break
            x_seed[:] = x
    if reason != OK:
        return reason, n_used, n_excl
    if not passed:
        return CHI_SQUARE_FAILED, n_used, n_excl
    out_cov[:, :] = qinv[:3, :3]
    for g in range(n_groups):
        if pidx[g] < 0:
            x[3 + g] = np.nan  # no satellite of this group: no clock estimate
    _dops(sat_pos, x, used, rowi, pidx, k, out_dops)
    if not out_dops[0] <= opts[OPT_GDOP_MAX]:
        return GDOP_TOO_LARGE, n_used, n_excl
    return OK, n_used, n_excl


@kernel
def spp_batch(offsets, sat_pos, rowf, rowi, valid, t_gps_day_s, doy, ion, opts, chi2_table, n_groups, x_init,
              out_pos, out_cov, out_clk, out_dops, out_reason, out_n_used, out_n_excl, out_used, out_resid,
              dt_s, kf, out_iono_prob):
    """Run :func:`spp_epoch` over every epoch of a file (rows ``offsets[e]:offsets[e+1]``).

    Each epoch starts from the previous epoch's solution when there is one, else from ``x_init``
    (float64[3 + n_groups + N_EXTRA]). Outputs are per epoch (``out_*`` with a leading epoch axis) and per
    row (``out_used`` bool[n_row], ``out_resid`` float64[n_row]). Epoch ``ion`` rows are
    ``ion[e]`` (float64[n_epoch, 16]) so navigation updates within a file are honoured.

    The ionosphere gradient and curvature are carried from epoch to epoch by the filter bank ``kf``
    (float64[n_model, N_KF_ROWS, 3], in/out; ``kf[:, KF_VAR0]`` NaN: empty; one model with a
    correlation time of 0: epoch-wise), so consecutive calls continue one bank; positions and clocks
    stay epoch-wise. ``dt_s`` (float64[n_epoch]) is each epoch's time since the previous one [s] (inf:
    unrelated). ``out_iono_prob`` (float64[n_epoch, n_model]) receives the models' probabilities
    after each epoch.
    """
    n_epoch = offsets.shape[0] - 1
    x = x_init.copy()
    have_prev = False
    for e in range(n_epoch):
        lo = offsets[e]
        hi = offsets[e + 1]
        if not have_prev:
            x[:] = x_init
        x_epoch = x.copy()
        reason, n_used, n_excl = spp_epoch(
            sat_pos[lo:hi], rowf[lo:hi], rowi[lo:hi], valid[lo:hi], t_gps_day_s[e], doy[e], ion[e], opts,
            chi2_table, n_groups, x_epoch, out_used[lo:hi], out_resid[lo:hi], out_cov[e], out_dops[e], kf, dt_s[e],
        )
        out_iono_prob[e, :] = kf[:, KF_MODEL, KF_PROB]
        out_reason[e] = reason
        out_n_used[e] = n_used
        out_n_excl[e] = n_excl
        if reason == OK:
            out_pos[e, :] = x_epoch[:3]
            out_clk[e, :] = x_epoch[3:3 + n_groups]
            x[:] = x_epoch
            for g in range(n_groups):
                if math.isnan(x[3 + g]):
                    x[3 + g] = 0.0
            have_prev = True
        else:
            out_pos[e, :] = np.nan
            out_clk[e, :] = np.nan
            out_used[lo:hi] = False


@kernel
def _gamma_p(a, x):
    """Regularised lower incomplete gamma function P(a, x) (series / continued fraction)."""
    if x <= 0.0:
        return 0.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        term = 1.0 / a
        total = term
        ap = a
        for _ in range(1000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return total * math.exp(log_front)
    # Lentz's continued fraction for Q(a, x)
    b = x + 1.0 - a
    c = 1.0 / 1e-300
    d = 1.0 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1e-300 if abs(d) < 1e-300 else d
        c = b + an / c
        c = 1e-300 if abs(c) < 1e-300 else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return 1.0 - math.exp(log_front) * h


@kernel
def chi2_quantiles(alpha, out):
    """Upper-``alpha`` chi-square quantiles for 1..len(out) degrees of freedom, into ``out``.

    ``out[d - 1]`` is x with P(chi2_d > x) = alpha, by bisection on the regularised incomplete
    gamma function (relative precision 1e-10).
    """
    for d in range(1, out.shape[0] + 1):
        lo = 0.0
        hi = d + 10.0 * math.sqrt(2.0 * d) + 50.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if 1.0 - _gamma_p(0.5 * d, 0.5 * mid) > alpha:
                lo = mid
            else:
                hi = mid
            if hi - lo < 1e-10 * hi:
                break
        out[d - 1] = 0.5 * (lo + hi)
