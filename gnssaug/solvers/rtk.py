"""Carrier-phase RTK and code DGNSS: an engine fed one rover epoch and one base epoch at a time.

:class:`RtkEngine` is what the live server and the file driver share: ``step(rover, base)``
returns a :class:`~gnssaug.solvers.types.Solution`. Python selects the common satellites (one
``np.intersect1d``), fetches satellite states in one batched call per receiver, and the numba
kernels of :mod:`gnssaug.kernels.dd`, :mod:`gnssaug.kernels.kalman` and
:mod:`gnssaug.kernels.lambda_` form double differences, update the filter and search integers.

Model (RTKLIB 2.4.3 manual Appendix E.7, with its proven defaults): an extended Kalman filter
whose state is the rover position and one single-difference ambiguity per satellite and
frequency; double differences against the highest satellite of each clock group (GPS, GLONASS,
Galileo, QZSS, BDS-2, BDS-3 separately) and frequency; measurement variance
``2 (a^2 + b^2 / sin^2 el)`` per single difference with a code/phase ratio of 100 (GLONASS code
times :data:`EFACT_GLO`); GLONASS FDMA with each satellite's wavelength from its frequency channel
and float ambiguities only (RTKLIB ``pos2-gloarmode=off``, :data:`FLOAT_ONLY_SYSTEMS`); cycle slips
from loss-of-lock flags, geometry-free and Melbourne-Wubbena jumps and Doppler; ambiguity
resolution by LAMBDA with ratio test, optional failure-rate bound, partial fixing (ambiguities not
yet validated by a fix dropped first, then low elevation), and continuous, instantaneous or
fix-and-hold strategies. Beyond a few kilometres (``RtkOptions.iono``) the state also holds one
single-difference slant ionospheric delay per satellite, as RTKLIB's ``est-stec``, with priors that
grow with the baseline; without those states, kinematic mode's fixed position follows the
ionosphere-weighted model (Odijk 2002), which takes part of the double-difference ionosphere out of
the fixed solution.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, replace

import numpy as np

from gnssaug.constants import C_MPS, NS_PER_S
from gnssaug.errors import InvalidInputError
from gnssaug.geodesy import llh_deg_from_ecef
from gnssaug.gnss import (
    BAND_FREQ_HZ,
    BAND_FREQ_STEP_HZ,
    GLO,
    GLO_FCN_UNKNOWN,
    N_BAND,
    N_CLOCK_GROUPS,
    N_SAT,
    SAT_CLOCK_GROUP,
    SAT_SYSTEM,
    sv_name,
    system_index,
)
from gnssaug.kernels.dd import (
    ROW_CODE,
    ROW_PHASE,
    add_iono_dd,
    add_tropo_dd,
    common_sats,
    form_dd,
    rover_clock_m,
    screen_codes,
    sd_geometry,
    select_references,
    take_signals,
    wet_mapping_many,
)
from gnssaug.kernels.kalman import ekf_update, snoop_w, whiten_blocks
from gnssaug.kernels.slips import ambiguity_time_update, base_drift_known, base_drift_update
from gnssaug.obs import LLI_HALF_CYCLE, LLI_SLIP, ObsEpoch
from gnssaug.solvers import ambiguity
from gnssaug.solvers.types import SolStatus, Solution

_log = logging.getLogger(__name__)

# Observation slot of frequency f (columns) per clock group (rows, gnssaug.gnss.CLOCK_GROUPS).
# The first two follow RTKLIB 2.4.3's "L1+L2" (GPS L1/L2, GLONASS G1/G2, Galileo E1/E5b, QZSS L1/L2,
# BDS B1I/B2I); BDS-3 broadcasts no B2I, so its second frequency is B3I (common to BDS-2 and BDS-3)
# and its third B2a. Third frequencies: GPS/QZSS L5, Galileo E5a, BDS-2 B3I; GLONASS none (its CDMA
# G3 is on few satellites). GLONASS G1/G2 are FDMA: each satellite's wavelength comes from its
# frequency channel (see _tables), and its ambiguities stay float (see FLOAT_ONLY_SYSTEMS).
_NO = -1
FREQ_SLOTS = np.array(
    [
        [0, 1, 2],  # GPS L1 L2 L5
        [0, 1, _NO],  # GLONASS G1 G2 (FDMA)
        [0, 2, 1],  # Galileo E1 E5b E5a
        [0, 1, 2],  # QZSS L1 L2 L5
        [0, 2, 1],  # BDS-2 B1I B2I B3I
        [0, 1, 4],  # BDS-3 B1I B3I B2a
        [_NO, _NO, _NO],  # SBAS
        [_NO, _NO, _NO],  # NavIC
    ],
    dtype=np.int64,
)
RTK_SYSTEMS = "GREJC"
#: Systems whose ambiguities are never fixed (RTKLIB 2.4.3 ``pos2-gloarmode=off``): GLONASS FDMA
#: phases carry inter-channel biases that differ between receiver makes (a fraction of a cycle per
#: channel, Wanninger 2012, "Carrier-phase inter-frequency biases of GLONASS receivers", J. Geodesy
#: 86), so its double-difference ambiguities are not integers unless both receivers are calibrated.
#: Their double differences still strengthen the float solution, and the fixed position is
#: conditioned on the other systems' integers with them as floats.
FLOAT_ONLY_SYSTEMS = "R"
#: Standard-deviation factor of GLONASS code (RTKLIB 2.4.3 ``rtklib.h`` ``EFACT_GLO``, applied in
#: ``rtkpos.c`` ``varerr``): FDMA inter-channel code biases, decimetres between receiver makes.
#: RTKLIB scales the phase by it too; here the phase is not scaled, since its inter-channel biases
#: are constant and go into the float ambiguities.
EFACT_GLO = 1.5
_POS_COLS = np.arange(3, dtype=np.int64)

AR_MODES = ("continuous", "instantaneous", "fix-and-hold", "off")
POS_MODES = ("kinematic", "static", "dgnss")
IONO_MODES = ("off", "est", "auto")
TROPO_MODES = ("off", "est", "auto")
#: Frequency of the ionosphere states [Hz] (GPS L1 / Galileo E1 / BDS B1C): a state is the delay there.
IONO_REF_FREQ_HZ = 1575.42e6


@dataclass(frozen=True)
class RtkOptions:
    """Settings of the RTK/DGNSS engine (defaults follow RTKLIB 2.4.3 where it has one).

    Attributes
    ----------
    mode : str
        ``"kinematic"`` (position re-estimated every epoch), ``"static"`` (one position) or
        ``"dgnss"`` (code differential with carrier-smoothed code, no ambiguities).
    systems : str
        RINEX letters of the systems to use, among ``G R E J C`` (``C`` is BDS-2 and BDS-3; ``R``
        GLONASS G1/G2 with float ambiguities only, see :data:`FLOAT_ONLY_SYSTEMS`).
    n_freq : int
        Frequencies per satellite (1-3, see :data:`FREQ_SLOTS`).
    elmask_deg : float
        Elevation mask [deg].
    ar_mode : str
        One of :data:`AR_MODES`.
    ratio_threshold : float
        Ratio-test threshold.
    max_failure_rate : float or None
        Bound on the bootstrapped failure rate of the fixed set (``1 - P_s``, Teunissen 1998; the
        ILS failure rate is at most this). None: :data:`INSTANTANEOUS_MAX_FAILURE_RATE` in
        instantaneous mode, no bound in the others (see :meth:`failure_rate_bound`).
    partial_ar : bool
        Drop unreliable satellites until validation passes (at most half of them, or 8).
    ar_elmask_deg : float
        Satellites below this elevation are not fixed (their floats still help).
    min_lock_epochs : int
        Epochs of continuous lock before an ambiguity is fixed.
    phase_std_m : float
        ``a = b`` of the elevation-dependent phase error model [m].
    code_phase_ratio : float
        Code to phase standard deviation ratio.
    amb_init_std_cyc, amb_noise_cyc : float
        Initial ambiguity standard deviation [cycles] and random walk [cycles/sqrt(s)].
    pos_init_std_m : float
        Standard deviation of the kinematic position prior [m] (re-set each epoch).
    slip_gf_m : float
        Geometry-free jump that flags a slip [m].
    slip_mw_cyc : float
        Melbourne-Wubbena jump from its running mean that flags a slip [wide-lane cycles].
    slip_doppler_cyc : float
        Phase change minus integrated Doppler that flags a slip [cycles] (after removing the common
        receiver-clock part); 0 disables.
    max_outage_epochs : int
        An ambiguity not seen for longer is re-initialised.
    max_age_s : float
        Oldest usable base epoch relative to the rover [s] (age of differential).
    base_drift : bool
        Carry the base's phase forward over the age of differential: the part of each base phase
        the model does not predict (ionosphere, residual satellite clock and orbit, multipath)
        changes by centimetres over 30 s at a few kilometres; its rate between consecutive base
        epochs (at most :data:`BASE_DRIFT_MAX_GAP_S` apart, no slip in between), smoothed over
        :data:`BASE_DRIFT_TAU_S`, times the age is added to the base phase (the phase only: the
        code's ionosphere has the other sign, and its weight is small). Real-time services call
        this RTK extrapolation; RTKLIB 2.4.3 has none. Fixed H/V RMS without -> with it:
        simulated 5 km (300 s), base every 30 s 12.5/28.3 -> 8.3/16.7 mm, every 5 s 6.3/14.5 ->
        6.4/12.1 mm; Nagoya (1 m), base every 30 s 8.1/10.0 -> 4.8/9.4 mm, every 5 s 1.58/2.65 ->
        1.45/2.40 mm.
    sat_clock_stability : float
        Allan deviation of the satellite clocks over the age of differential [s/s] (RTKLIB 2.4.3
        ``stats-clkstab``): a base epoch ``age`` seconds older than the rover's leaves the clocks'
        unpredictable part ``c * stability * age`` [m] in each single difference, added to its
        variance (RTKLIB ``varerr``). The broadcast clock polynomial itself is evaluated at each
        receiver's own transmission time and cancels. Default 1e-12, the upper end of the
        rubidium, passive-hydrogen-maser and hydrogen-maser clocks of current GPS, Galileo and
        BDS-3 satellites at 10-100 s; RTKLIB's 5e-12 (caesium-era) makes this elevation-blind term
        dominate the phase variance at 30 s (4.5 cm), weighting low satellites, whose base-side
        atmosphere moves most, like high ones: Nagoya with the base every 30 s, fixed H/V RMS
        6.4/10.1 mm with 5e-12, 4.8/9.4 mm with 1e-12; simulated 5 km, 11.3/25.6 and 8.3/16.7 mm;
        every 5 s, within 0.1 mm / 1 mm either way.
    hold_std_cyc : float
        Standard deviation of the fix-and-hold pseudo-observations [cycles].
    max_innovation_m : float
        DD code innovations above this are rejected as outliers [m] (RTKLIB 2.4.3 ``rejionno``).
    outlier_w : float
        Threshold of the w-test on the post-fit residuals (data snooping, see
        :meth:`RtkEngine._snoop`); the worst code or phase outlier beyond it is removed and the
        update re-done. 0 disables.
    max_outliers : int
        Most outliers removed per epoch.
    code_screen_k : float
        Codes further than this many standard deviations from the position prior (after the
        clock) are removed before slip detection and ambiguity initialisation
        (:meth:`RtkEngine._screen_codes`); 0 disables.
    fix_residual_k : float
        A fixed solution with a DD phase residual beyond this many standard deviations is not
        accepted; the satellite is left out and the fix tried again (RTKLIB 2.4.3 ``valpos``,
        factor 4). 0 disables.
    hatch_window : int
        Carrier-smoothing window of DGNSS [epochs].
    tropo_model : bool
        Model each receiver's troposphere (Saastamoinen with a standard atmosphere + Niell); matters
        when heights differ.
    tropo : str
        Residual troposphere in the float filter, one of :data:`TROPO_MODES`: ``"off"`` (the
        model of ``tropo_model`` only), ``"est"`` (one relative zenith wet delay state, rover minus
        base, mapped by the Niell (1996) wet mapping function at the rover's elevation into every
        DD row, code and phase: RTKLIB 2.4.3 ``pos1-tropopt=est-ztd`` with the base's delay folded
        into the rover's, since it is common to all double differences up to the mapping
        difference) or ``"auto"`` (``"est"`` while the baseline is longer than ``tropo_auto_km``).
        Default ``"off"``: on the simulator (1200 s, seed 1, ``iono="est"``,
        ``benchmarks/sim_baseline_fixrate.py --tropo off,est``) the state improves the fixed
        vertical RMS at 20 km (20.0 -> 9.4 mm) but not at 50 km (6.7 -> 13.2 mm) or 70 km
        (6.1 -> 17.4 mm; fix rates 100/99.1/91.7 -> 100/99.1/92.6 %, no wrong fix either way):
        there the ionosphere states leave height and wet delay weakly separated, and the state
        absorbs part of the double-difference ionosphere.
    tropo_std_m_per_sqrt_km : float
        Prior standard deviation of the relative zenith wet delay per square root of the baseline
        [m/sqrt(km)]: the structure function of zenith delay differences, ``c L^0.5`` with
        ``c`` = 2.5 mm (Emardson, Simons and Webb 2003, "Neutral atmospheric delay in
        interferometric SAR applications", JGR 108(B5)), i.e. 8 mm at 10 km, 18 mm at 50 km.
        RTKLIB's ``stats-stdtrop`` 0.3 m is a prior of each receiver's absolute zenith delay;
        used for the difference, it leaves height and troposphere inseparable for minutes (fixed
        vertical errors of 10 cm over the first 150 s at 50 km, simulator seed 1).
    tropo_noise_m_per_sqrt_s : float
        Random walk of the relative zenith wet delay [m/sqrt(s)] (RTKLIB 2.4.3 ``stats-prntrop``
        default 1e-4: 6 mm over an hour).
    tropo_auto_km : float
        Baseline length [km] beyond which ``tropo="auto"`` estimates the troposphere (switched off
        again below 80 % of it). Default 10 km: the wet delay's horizontal structure function
        (Treuhaft and Lanyi 1987; Emardson and Jarlemark 1999, "Atmospheric modelling in GPS
        analysis and its effect on the estimated geodetic parameters", J. Geodesy 73) gives a
        zenith wet delay difference of about 1 cm rms at 10 km, below which the extra state (that
        correlates with the height) costs more than the few millimetres it removes; at Nagoya's
        1 m it is off.
    iono_std_m_per_10km : float
        Standard deviation of the single-difference vertical ionosphere per 10 km of baseline [m]
        (RTKLIB 2.4.3 ``stats-stdiono`` default 0.03 m, scaled by baseline / 10 km as in its
        ``udion``). Prior of the ionosphere states (``iono="est"``, times the mapping function), and
        of the ionosphere-weighted fixed solution of kinematic mode when the states are off; 0 turns
        that weighting off.
    iono : str
        Ionosphere in the float filter, one of :data:`IONO_MODES`: ``"off"`` (double differences
        cancel it: short baselines), ``"est"`` (one single-difference slant delay state per
        satellite, as RTKLIB's ``pos1-ionoopt=est-stec``) or ``"auto"`` (``"est"`` while the
        baseline is longer than ``iono_auto_km`` and ``iono_std_m_per_10km > 0``).
    iono_noise_m_per_10km : float
        Random walk of the single-difference vertical ionosphere per 10 km of baseline
        [m/sqrt(s)] (RTKLIB 2.4.3 ``stats-prniono`` default 0.001), times the mapping function
        for the slant states.
    iono_auto_km : float
        Baseline length [km] beyond which ``iono="auto"`` estimates the ionosphere (switched off
        again below 80 % of it). Default 6 km: where the prior double-difference ionosphere
        ``sqrt(2) * iono_std_m_per_10km * bl / 10 km`` times the mapping function at 30 deg
        elevation (1.8) reaches a quarter of the L1 wavelength (4.8 cm), beyond which the
        short-baseline model's float ambiguities are biased enough to miss the integers (simulator,
        1200 s, seed 1: ``off`` fixes 100 % at 5 km and 0 % at 10 km). Shorter baselines keep the
        short-baseline model, which is the more robust one under strong code multipath: on the
        simulated crane rover 3.4 km from its base (steel structure, 0.25 m time-correlated code
        multipath) ``est`` fixes 28 % of 900 s against 99.7 % for ``off``, the multipath reaching
        the phases through the ionosphere states; in open sky ``est`` is also better below 6 km
        (fixed horizontal RMS 1.6 mm against 8.1 mm at 5 km).
    """

    mode: str = "kinematic"
    systems: str = "GEC"
    n_freq: int = 2
    elmask_deg: float = 15.0
    ar_mode: str = "continuous"
    ratio_threshold: float = 3.0
    max_failure_rate: float | None = None
    partial_ar: bool = True
    ar_elmask_deg: float = 0.0
    min_lock_epochs: int = 0
    phase_std_m: float = 0.003
    code_phase_ratio: float = 100.0
    amb_init_std_cyc: float = 30.0
    amb_noise_cyc: float = 1e-4
    pos_init_std_m: float = 30.0
    slip_gf_m: float = 0.05
    slip_mw_cyc: float = 5.0
    slip_doppler_cyc: float = 5.0
    max_outage_epochs: int = 5
    max_age_s: float = 30.0
    base_drift: bool = True
    sat_clock_stability: float = 1e-12
    hold_std_cyc: float = 0.03
    max_innovation_m: float = 30.0
    outlier_w: float = 4.0
    code_screen_k: float = 5.0
    fix_residual_k: float = 4.0
    max_outliers: int = 8
    hatch_window: int = 100
    iono_std_m_per_10km: float = 0.03
    tropo_model: bool = True
    iono: str = "auto"
    iono_noise_m_per_10km: float = 0.001
    iono_auto_km: float = 6.0
    tropo: str = "off"
    tropo_std_m_per_sqrt_km: float = 0.0025
    tropo_noise_m_per_sqrt_s: float = 1e-4
    tropo_auto_km: float = 10.0

    def failure_rate_bound(self) -> float | None:
        """The failure-rate bound ambiguity resolution applies: ``max_failure_rate`` or its mode's default."""
        if self.max_failure_rate is None and self.ar_mode == "instantaneous":
            return INSTANTANEOUS_MAX_FAILURE_RATE
        return self.max_failure_rate

    def validated(self) -> RtkOptions:
        """The options after checking their values; raises InvalidInputError naming the bad one."""
        if self.mode not in POS_MODES:
            raise InvalidInputError(f"mode must be one of {POS_MODES}, got {self.mode!r}")
        if self.ar_mode not in AR_MODES:
            raise InvalidInputError(f"ar_mode must be one of {AR_MODES}, got {self.ar_mode!r}")
        if not 1 <= self.n_freq <= 3:
            raise InvalidInputError(f"n_freq must be 1, 2 or 3, got {self.n_freq}")
        bad = [c for c in self.systems if c not in RTK_SYSTEMS]
        if bad or not self.systems:
            raise InvalidInputError(f"systems must be letters of {RTK_SYSTEMS!r}, got {self.systems!r}")
        if not self.code_phase_ratio > 0.0:
            raise InvalidInputError(f"code_phase_ratio must be positive, got {self.code_phase_ratio}")
        if self.iono not in IONO_MODES:
            raise InvalidInputError(f"iono must be one of {IONO_MODES}, got {self.iono!r}")
        if self.iono == "est" and not (self.iono_std_m_per_10km > 0.0 and self.iono_noise_m_per_10km >= 0.0):
            raise InvalidInputError("ionosphere estimation needs iono_std_m_per_10km > 0 and "
                                    f"iono_noise_m_per_10km >= 0, got {self.iono_std_m_per_10km}, "
                                    f"{self.iono_noise_m_per_10km}")
        if self.tropo not in TROPO_MODES:
            raise InvalidInputError(f"tropo must be one of {TROPO_MODES}, got {self.tropo!r}")
        if self.tropo != "off" and not (self.tropo_std_m_per_sqrt_km > 0.0 and self.tropo_noise_m_per_sqrt_s >= 0.0):
            raise InvalidInputError("troposphere estimation needs tropo_std_m_per_sqrt_km > 0 and "
                                    f"tropo_noise_m_per_sqrt_s >= 0, got {self.tropo_std_m_per_sqrt_km}, "
                                    f"{self.tropo_noise_m_per_sqrt_s}")
        if self.max_failure_rate is not None and not 0.0 < self.max_failure_rate < 1.0:
            raise InvalidInputError(f"max_failure_rate must be in (0, 1), got {self.max_failure_rate}")
        return self


def _tables(options: RtkOptions, glo_fcn=None):
    """Per global satellite: allowed flag, observation slot and wavelength [m] of each frequency.

    GLONASS FDMA frequencies are ``f0 + k df`` for channel ``k`` (GLONASS ICD 5.1 §3.3.1.4);
    a GLONASS satellite whose channel ``glo_fcn`` does not give is not allowed.
    """
    allowed = np.zeros(N_SAT, dtype=bool)
    for letter in options.systems:
        allowed |= SAT_SYSTEM == system_index(letter)
    slots = FREQ_SLOTS[SAT_CLOCK_GROUP.astype(np.int64), : options.n_freq].copy()
    system = SAT_SYSTEM.astype(np.int64)
    freq = np.where(slots >= 0, BAND_FREQ_HZ[system[:, None], np.maximum(slots, 0)], np.nan)
    step = np.where(slots >= 0, BAND_FREQ_STEP_HZ[system[:, None], np.maximum(slots, 0)], 0.0)
    fdma = step != 0.0
    channel = glonass_channels(glo_fcn).astype(np.float64)
    known = channel != GLO_FCN_UNKNOWN
    freq = np.where(fdma, np.where(known[:, None], freq + channel[:, None] * step, np.nan), freq)
    lam = C_MPS / freq
    allowed &= np.isfinite(lam[:, 0])
    return allowed, slots, lam


def glonass_channels(*tables) -> np.ndarray:
    """One GLONASS frequency-channel table from several sources, the first known channel per satellite.

    Parameters
    ----------
    *tables : int8[N_SAT] or None
        Channel tables in order of preference (e.g. the rover's RINEX header ``GLONASS SLOT /
        FRQ #``, the base's, the navigation data's), :data:`gnssaug.gnss.GLO_FCN_UNKNOWN` where
        unknown; None is skipped. Values outside -7..+13 (the channels of the GLONASS ICD 5.1
        §3.3.1.4, -7..+6, and the older ones up to +13 some files still carry) count as unknown.

    Returns
    -------
    int8[N_SAT]
        Channel per global satellite, :data:`gnssaug.gnss.GLO_FCN_UNKNOWN` where no table knows it.
    """
    out = np.full(N_SAT, GLO_FCN_UNKNOWN, dtype=np.int8)
    for table in tables:
        if table is None:
            continue
        k = np.asarray(table)
        if k.shape != (N_SAT,):
            raise InvalidInputError(f"a GLONASS channel table must have {N_SAT} entries, got shape {k.shape}")
        take = (out == GLO_FCN_UNKNOWN) & (k >= -7) & (k <= 13)
        out[take] = k[take]
    return out


def glonass_without_channel(sat, glo_fcn, systems: str = RTK_SYSTEMS) -> np.ndarray:
    """GLONASS satellites among ``sat`` that the engine leaves out for want of a frequency channel.

    Parameters
    ----------
    sat : int[n]
        Global satellite indices (e.g. every row of a series; repeats allowed).
    glo_fcn : int8[N_SAT] or None
        Channel table (see :func:`glonass_channels`).
    systems : str
        Systems in use; none is returned unless ``R`` is among them.

    Returns
    -------
    int16[k]
        Sorted satellites.
    """
    if "R" not in systems:
        return np.zeros(0, dtype=np.int16)
    sat = np.unique(np.asarray(sat, dtype=np.int64))
    missing = (SAT_SYSTEM[sat] == GLO) & (glonass_channels(glo_fcn)[sat] == GLO_FCN_UNKNOWN)
    return sat[missing].astype(np.int16)


class RtkEngine:
    """RTK / DGNSS engine: feed it matched rover and base epochs with :meth:`step`.

    Parameters
    ----------
    satellites : object
        Ephemeris store with ``sat_states(sat, t_gpst_ns, dt_s, t_select_ns=None)`` returning
        states at ``t_gpst_ns + dt_s`` with ``pos_ecef_m``, ``vel_ecef_mps``, ``clk_s`` and ``valid``
        (the :class:`gnssaug.solvers.spp.SatStateSource` protocol, met by the broadcast EphStore),
        each satellite's record selected at ``t_select_ns``.
    base_pos_ecef_m : float64[3]
        Base antenna position [m].
    options : RtkOptions
        Settings.
    max_sats : int
        Most satellites tracked at once (sizes the ambiguity part of the state).
    glo_fcn : int8[N_SAT], optional
        GLONASS frequency channel per global satellite (:func:`glonass_channels`); default the
        ``glo_fcn`` table of ``satellites`` (the broadcast EphStore's), if it has one. GLONASS
        satellites without a channel are left out (:func:`glonass_without_channel`).
    """

    def __init__(self, satellites, base_pos_ecef_m, options: RtkOptions | None = None, max_sats: int = 80,
                 glo_fcn=None):
        self.options = (options or RtkOptions()).validated()
        base = np.asarray(base_pos_ecef_m, dtype=np.float64)
        if base.shape != (3,) or not np.all(np.isfinite(base)) or np.linalg.norm(base) < 6.0e6:
            raise InvalidInputError(f"base position must be an ECEF point [m], got {base_pos_ecef_m!r}")
        self.base_pos_ecef_m = base
        self._lat_rad = float(np.radians(llh_deg_from_ecef(base)[0]))  # Niell wet mapping's latitude
        self._sats = satellites
        if glo_fcn is None:
            glo_fcn = getattr(satellites, "glo_fcn", None)
        self._allowed, self._slot, self._lam = _tables(self.options, glo_fcn)
        # Satellites whose ambiguities stay float (FLOAT_ONLY_SYSTEMS), and the clock group whose
        # code is weighted by EFACT_GLO; None when no such system is in use.
        float_only = np.zeros(N_SAT, dtype=bool)
        for letter in FLOAT_ONLY_SYSTEMS:
            if letter in self.options.systems:
                float_only |= SAT_SYSTEM == system_index(letter)
        self._float_only = float_only if float_only.any() else None
        self._glo_group = int(SAT_CLOCK_GROUP[SAT_SYSTEM == GLO][0]) if "R" in self.options.systems else None
        # GLONASS satellites left out for want of a frequency channel (said once each, in the log).
        self._no_channel = ((SAT_SYSTEM == GLO) & ~self._allowed) if "R" in self.options.systems else None
        self.skipped_no_channel: set[int] = set()
        nf = self.options.n_freq
        self.nf = nf
        # State: position, max_sats * nf ambiguity slots, then (ionosphere estimation possible)
        # max_sats ionosphere slots, then (troposphere estimation possible) the relative zenith wet delay.
        carrier = self.options.mode != "dgnss"
        self._ion0 = 3 + max_sats * nf
        self._trop = self._ion0 + (max_sats if self.options.iono != "off" and carrier else 0)
        self.nx = self._trop + (1 if self.options.tropo != "off" and carrier else 0)
        self._trop_on = False
        self._ion = np.full(N_SAT, -1, dtype=np.int64)
        self._ion_last_ns = np.zeros(N_SAT, dtype=np.int64)
        self._iono_on = False
        self._iono_coef = (IONO_REF_FREQ_HZ * self._lam / C_MPS) ** 2  # (f_ref / f)^2 per satellite, frequency
        self.x = np.zeros(self.nx)
        self.p = np.zeros((self.nx, self.nx))
        self._amb = np.full((N_SAT, nf), -1, dtype=np.int64)
        self._slot_used = np.zeros(self.nx, dtype=bool)
        self._slot_used[:3] = True
        self._lock = np.zeros((N_SAT, nf), dtype=np.int64)
        # Ambiguities that were part of a validated fix since their last reset (see _resolve).
        self._proven = np.zeros((N_SAT, nf), dtype=bool)
        # Arc number of each ambiguity (+1 at every reset).
        self._arc = np.zeros((N_SAT, nf), dtype=np.int64)
        # DD integers of the last accepted fix per (satellite, reference, frequency), with the arcs of
        # both ambiguities then (-1: none); see _changed_integer. Dense (2.4 MB): looked up by
        # index every fixed epoch.
        self._fixed_int = np.zeros((N_SAT, N_SAT, nf), dtype=np.int64)
        self._fixed_arc_i = np.full((N_SAT, N_SAT, nf), -1, dtype=np.int32)
        self._fixed_arc_j = np.full((N_SAT, N_SAT, nf), -1, dtype=np.int32)
        # Flat views of those tables and of the arcs: one index array per lookup, not three.
        self._fixed_int_flat = self._fixed_int.reshape(-1)
        self._fixed_arc_i_flat = self._fixed_arc_i.reshape(-1)
        self._fixed_arc_j_flat = self._fixed_arc_j.reshape(-1)
        self._arc_flat = self._arc.reshape(-1)
        self._last_ns = np.zeros((N_SAT, nf), dtype=np.int64)
        self._gf = np.full(N_SAT, np.nan)
        self._mw = np.full(N_SAT, np.nan)
        self._mw_n = np.zeros(N_SAT)
        self._prev_cp = np.full((2, N_SAT, nf), np.nan)
        self._prev_dop = np.full((2, N_SAT, nf), np.nan)
        # Half-cycle-ambiguity flag (LLI bit 1) of each receiver's phase at its last epoch.
        self._prev_half = np.zeros((2, N_SAT, nf), dtype=bool)
        self._prev_t_ns = None
        self._prev_base_t_ns = None
        self._new_base = True
        self._t_base_ns = 0
        # Base phase drift (RtkOptions.base_drift): per satellite, the base epoch time, phase [m],
        # satellite position and clock [m] last seen, and the drift rate [m/s] (NaN: unknown).
        self._drift_t_ns = np.zeros(N_SAT, dtype=np.int64)
        self._drift_cp_m = np.full((N_SAT, nf), np.nan)
        self._drift_sat_m = np.zeros((N_SAT, 3))
        self._drift_clk_m = np.zeros(N_SAT)
        self._drift_rate_mps = np.full((N_SAT, nf), np.nan)
        self._age_s = 0.0
        self._hatch = np.full((2, N_SAT, nf), np.nan)
        self._hatch_n = np.zeros((2, N_SAT, nf))
        self._pos_ok = False
        self._geometry_cache = None
        self._variance_cache = None
        self._history = []
        self._transforms = ambiguity.TransformCache()
        o = self.options
        self._thresholds = np.array([o.slip_gf_m, o.slip_mw_cyc, o.slip_doppler_cyc, o.amb_init_std_cyc**2,
                                     o.amb_noise_cyc**2])
        self._dt_s = 0.0
        self._dt_base_s = 0.0
        self.backward = False
        self._pending_lli = np.zeros((2, N_SAT, nf), dtype=np.uint8)
        self._doy = 0.0
        m = 2 * max_sats * nf
        self._v = np.zeros(m)
        self._h = np.zeros((m, self.nx))
        self._r = np.zeros((m, m))
        self._row_sat = np.zeros(m, dtype=np.int64)
        self._row_f = np.zeros(m, dtype=np.int64)
        self._ref = np.zeros((N_CLOCK_GROUPS, nf), dtype=np.int64)
        self.n_epochs = 0
        # Per-epoch constants, computed once: the masks [rad], the kinematic position prior's
        # covariance, and the buffers the prior state of an update is kept in (see _rtk).
        self._mask_el_rad = np.radians(o.elmask_deg)
        lat, lon = np.radians(llh_deg_from_ecef(base)[:2])
        self._up_b = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
        self._sin_mask = math.sin(self._mask_el_rad)
        self._ar_mask_el_rad = np.radians(o.ar_elmask_deg)
        self._pos_prior_p = np.eye(3) * o.pos_init_std_m**2
        self._x0 = np.empty_like(self.x)
        self._p0 = np.empty_like(self.p)

    # ------------------------------------------------------------------------------------------
    def step(self, rover: ObsEpoch, base: ObsEpoch | None) -> Solution:
        """Process one rover epoch with the matched base epoch (or None when there is none).

        Returns
        -------
        Solution
            FIX/FLOAT (RTK modes) or DGNSS; NONE with a ``reason`` when there is too little data.
        """
        t_ns = rover.t_gpst_ns
        sol = Solution(t_gpst_ns=t_ns)
        if base is None:
            sol.reason = "no base epoch"
            return sol
        age_s = (t_ns - base.t_gpst_ns) / NS_PER_S
        sol.age_s = age_s
        if abs(age_s) > self.options.max_age_s:
            sol.reason = f"base epoch {age_s:.1f} s old > {self.options.max_age_s} s"
            return sol
        self._age_s = abs(age_s)
        self._dt_s = 0.0 if self._prev_t_ns is None else abs(t_ns - self._prev_t_ns) / NS_PER_S
        # The base may be sparser than the rover (5 s, 30 s files; a live stream's latest epoch):
        # the same base epoch then pairs with several rover epochs, its interval is 0 in between.
        t_b = base.t_gpst_ns
        self._dt_base_s = 0.0 if self._prev_base_t_ns is None else abs(t_b - self._prev_base_t_ns) / NS_PER_S
        self._doy = ((t_ns / NS_PER_S) / 86400.0 + 6.0) % 365.25  # day of year, precise enough for Niell
        self._new_base = t_b != self._prev_base_t_ns
        self._t_base_ns = t_b
        obs = self._gather(rover, base, new_base=self._new_base)
        self._prev_t_ns = t_ns
        self._prev_base_t_ns = t_b
        self.n_epochs += 1
        if obs is None or obs["sat"].shape[0] < 4:
            sol.reason = "fewer than 4 common satellites with ephemerides"
            return sol
        sol = self._dgnss(sol, obs) if self.options.mode == "dgnss" else self._rtk(sol, obs)
        if sol.ok:
            sol.clk_bias_m = _rover_clock_m(sol.pos_ecef_m, obs)
        return sol

    # ------------------------------------------------------------------------------------------
    def set_glonass_channels(self, glo_fcn) -> np.ndarray:
        """Take a new GLONASS channel table, e.g. when ephemerides (RTCM 1020) arrive after the start.

        Satellites whose wavelengths change (a channel now known, or a different one) start again:
        their ambiguities and slip-detector history are dropped, as after a long outage.

        Parameters
        ----------
        glo_fcn : int8[N_SAT]
            Channel per global satellite (:func:`glonass_channels`).

        Returns
        -------
        int16[k]
            The satellites whose wavelengths changed.
        """
        allowed, _, lam = _tables(self.options, glo_fcn)
        same = (lam == self._lam) | (np.isnan(lam) & np.isnan(self._lam))
        changed = np.flatnonzero(~same.all(axis=1))
        if changed.shape[0] == 0:
            return changed.astype(np.int16)
        held = self._amb[changed]
        self._release(held[held >= 0])
        self._amb[changed] = -1
        self._lock[changed] = 0
        self._gf[changed] = np.nan
        self._mw[changed] = np.nan
        self._mw_n[changed] = 0.0
        self._prev_cp[:, changed] = np.nan
        self._hatch[:, changed] = np.nan
        self._drift_rate_mps[changed] = np.nan
        self._drift_cp_m[changed] = np.nan
        self._allowed, self._lam = allowed, lam
        self._iono_coef = (IONO_REF_FREQ_HZ * lam / C_MPS) ** 2
        if self._no_channel is not None:
            self._no_channel = (SAT_SYSTEM == GLO) & ~allowed
        return changed.astype(np.int16)

    def _note_no_channel(self, sat):
        """Log, once per satellite, the GLONASS satellites of ``sat`` left out for want of a channel."""
        missing = sat[self._no_channel[sat]]
        if missing.shape[0] == 0:
            return
        new = sorted(set(missing.tolist()) - self.skipped_no_channel)
        if new:
            self.skipped_no_channel.update(new)
            _log.warning("GLONASS %s: no frequency channel in the observation headers or navigation data; left out",
                         " ".join(sv_name(s) for s in new))

    def _gather(self, rover: ObsEpoch, base: ObsEpoch, new_base: bool = True):
        if self._no_channel is not None:
            self._note_no_channel(rover.sat)
        m = min(rover.sat.shape[0], base.sat.shape[0])
        ir, ib, sat = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
        n = common_sats(rover.sat, base.sat, self._allowed, ir, ib, sat)
        ir, ib, sat = ir[:n], ib[:n], sat[:n]
        shape = (2, n, self.nf)
        pr, cp, dop = np.empty(shape), np.empty(shape), np.empty(shape)
        lli = np.empty(shape, dtype=np.uint8)
        pr_any = np.empty((2, n))
        n_ok = take_signals(sat, ir, ib, self._slot, rover.pr_m, rover.cp_cyc, rover.dop_hz, rover.lli, base.pr_m,
                            base.cp_cyc, base.dop_hz, base.lli, pr, cp, dop, lli, pr_any)
        t_rx = np.array([rover.t_gpst_ns, base.t_gpst_ns], dtype=np.int64)
        if n_ok < n:
            ok = np.isfinite(pr_any[0]) & np.isfinite(pr_any[1])
            sat, pr, cp, dop, lli, pr_any = sat[ok], pr[:, ok], cp[:, ok], dop[:, ok], lli[:, ok], pr_any[:, ok]
        n = sat.shape[0]
        if n < 4:
            return None
        # Transmission times t_rx - pr/c - dts (RTKLIB satposs; the receiver clock cancels because
        # the time tag and the pseudorange carry the same receiver clock).
        sats2 = np.concatenate([sat, sat]).astype(np.int16)
        t_rx2 = np.repeat(t_rx, n)
        dt_s = -pr_any.ravel() / C_MPS
        # One broadcast record per satellite for both receivers, selected at the base epoch: a
        # rover tagged a few ms after a toe midpoint (u-blox), or a base epoch older than a new
        # upload, would otherwise difference two records' clocks and orbits (1-3 cm on Galileo).
        st = self._sats.sat_states(sats2, t_rx2, dt_s, t_select_ns=base.t_gpst_ns)
        # Move to t - dts with the velocity (|dts| < 1 ms: the neglected acceleration term is < 1 um).
        clk = np.where(np.isfinite(st.clk_s), st.clk_s, 0.0)
        pos = np.asarray(st.pos_ecef_m, dtype=np.float64) - np.asarray(st.vel_ecef_mps) * clk[:, None]
        pos = pos.reshape(2, n, 3)
        valid = np.asarray(st.valid, dtype=bool).reshape(2, n)
        ok = valid.all(axis=0) & np.isfinite(pos).all(axis=2).all(axis=0)
        lli_use = self._slip_events(sat, lli, new_base)
        out = {
            "sat": sat,
            "t_rover_ns": rover.t_gpst_ns,
            "pr": pr,
            "cp": cp,
            "dop": dop,
            "lli": lli_use,
            # Half-cycle-ambiguity flags of this epoch (a state, not an event: never shifted).
            "half": (lli & LLI_HALF_CYCLE) != 0,
            "sat_r": np.ascontiguousarray(pos[0]),
            "sat_b": np.ascontiguousarray(pos[1]),
            # c (dts_r - dts_b) [m]: each receiver's satellite clock at its own transmission time
            # (RTKLIB zdres): with a base older than the rover the broadcast clock drift over the
            # age no longer cancels in the single difference (centimetres over 5 s for some clocks).
            "dclk_m": C_MPS * (clk[:n] - clk[n:]),
            "clk_b_m": C_MPS * clk[n:],
            "lam": self._lam[sat],
            "group": SAT_CLOCK_GROUP[sat],
        }
        if not ok.all():
            out = {k: (v[:, ok] if k in ("pr", "cp", "dop", "lli", "half") else v if k == "t_rover_ns" else v[ok])
                   for k, v in out.items()}
        if new_base and self.options.base_drift:
            self._update_base_drift(out, base.t_gpst_ns)
        return out

    def _update_base_drift(self, obs, t_b_ns):
        """Rates [m/s] of the base phases' unmodelled part, from this base epoch and the last one.

        ``u = phase - (range + troposphere - c dts)`` at the base; its change between two base
        epochs, less the part common to all satellites (the base receiver clock, which the double
        differences cancel), divided by their interval. Unknown (NaN) after a gap longer than
        :data:`BASE_DRIFT_MAX_GAP_S`, a loss of lock or half-cycle flag at the base, or a rate
        beyond :data:`BASE_DRIFT_MAX_MPS` (a slip the flags missed); the slip detectors also
        clear it (see :meth:`_rtk`).
        """
        sat = obs["sat"]
        n = sat.shape[0]
        known = np.empty(n, dtype=bool)
        d_model_m = np.empty(n)
        if base_drift_known(sat, t_b_ns, self._drift_t_ns, BASE_DRIFT_MAX_GAP_S, known):
            # Modelled change of the base range between the two epochs: the geometry kernel with
            # the base as both receivers, this epoch's satellite positions against the last ones.
            los, el = np.empty((n, 3)), np.empty(n)
            sd_geometry(self.base_pos_ecef_m, self.base_pos_ecef_m, obs["sat_b"],
                        np.ascontiguousarray(self._drift_sat_m[sat]), self._doy, self.options.tropo_model, los, el,
                        d_model_m)
        # Rates less their median (the base clock), void where broken, smoothed over
        # BASE_DRIFT_TAU_S (from a 1 Hz base, a one-second difference times a two-second age would
        # double the base's phase noise); the state they are measured from moves to this epoch.
        base_drift_update(sat, t_b_ns, known, obs["cp"][1], obs["lam"], obs["lli"][1], obs["half"][1], obs["sat_b"],
                          obs["clk_b_m"], d_model_m, LLI_SLIP, BASE_DRIFT_MAX_MPS, BASE_DRIFT_TAU_S,
                          self._drift_t_ns, self._drift_cp_m, self._drift_sat_m, self._drift_clk_m,
                          self._drift_rate_mps)

    def _base_drift_m(self, obs):
        """Drift of each base phase over the age of differential [m] (float64[n, nf], 0 where unknown)."""
        if not self.options.base_drift:
            return 0.0
        age_s = (obs["t_rover_ns"] - self._t_base_ns) / NS_PER_S
        rate = self._drift_rate_mps[obs["sat"]]
        return np.where(np.isfinite(rate), rate * age_s, 0.0)

    def _slip_events(self, sat, lli, new_base):
        """The loss-of-lock indicators to apply this epoch (uint8[2, n, nf]).

        A base epoch paired again with a newer rover epoch brings no new slip: its slip bits were
        applied when it was first used. Processing backwards, a slip flagged at a receiver's epoch k
        lies between its epochs k-1 and k: it is applied at k-1, i.e. at the rover's next epoch,
        and at the base's next new epoch.
        """
        out = lli.copy()
        if not self.backward:
            if not new_base:
                out[1] &= np.uint8(~LLI_SLIP & 0xFF)
            return out
        out[0] = self._pending_lli[0, sat]
        self._pending_lli[0] = 0
        self._pending_lli[0, sat] = lli[0]
        if new_base:
            out[1] = self._pending_lli[1, sat]
            self._pending_lli[1] = 0
            self._pending_lli[1, sat] = lli[1]
        else:
            out[1] = 0
        return out

    # ------------------------------------------------------------------------------------------
    def _geometry(self, pos, obs):
        # One epoch asks several times at the same point (code screen, measurements): the last kept.
        key = (pos.tobytes(), obs["t_rover_ns"], self._t_base_ns, obs["sat"].tobytes())
        if self._geometry_cache is not None and self._geometry_cache[0] == key:
            return self._geometry_cache[1]
        out = self._geometry_at(pos, obs)
        self._geometry_cache = (key, out)
        return out

    def _geometry_at(self, pos, obs):
        n = obs["sat"].shape[0]
        los = np.empty((n, 3))
        el = np.empty(n)
        sd_range = np.empty(n)
        sd_geometry(pos, self.base_pos_ecef_m, obs["sat_r"], obs["sat_b"], self._doy, self.options.tropo_model,
                    los, el, sd_range)
        sd_range -= obs["dclk_m"]
        return los, el, sd_range

    def _variances(self, el, group):
        """Single-difference phase and code variances [m^2], float64[n, nf] each.

        ``2 (a^2 + a^2 / sin^2 el)`` (RTKLIB 2.4.3 ``varerr`` with ``a = b``), plus the satellite
        clock's unpredictable drift over the age of differential ``(c * stability * age)^2``;
        GLONASS code times :data:`EFACT_GLO` squared (``group``: clock group of each satellite).
        The arrays are shared with later calls for the same ``el`` (read them, never write).
        """
        # The code screen, the measurements and the code solution ask with the geometry cache's
        # ``el`` (one per epoch's satellites): the last answer is kept (held here, so its identity
        # cannot be reused).
        cached = self._variance_cache
        if cached is not None and cached[0] is el and cached[1] == self._age_s:
            return cached[2]
        out = self._variances_of(el, group)
        self._variance_cache = (el, self._age_s, out)
        return out

    def _variances_of(self, el, group):
        a = self.options.phase_std_m
        sin_el = np.maximum(np.sin(el), 0.05)
        var_cp = 2.0 * (a * a + a * a / sin_el**2) + (C_MPS * self.options.sat_clock_stability * self._age_s) ** 2
        out = np.empty((var_cp.shape[0], self.nf))
        out[:] = var_cp[:, None]  # (one column per frequency; a broadcast copy is cheaper than np.repeat)
        var_pr = out * self.options.code_phase_ratio**2
        if self._glo_group is not None:
            glo = group == self._glo_group
            if glo.any():
                var_pr[glo] *= EFACT_GLO**2
        return out, var_pr

    def _code_solution(self, pos0, obs, pr_sd, mask_el):
        """Weighted least squares on DD code from ``pos0`` (a few Gauss-Newton iterations)."""
        pos = pos0.copy()
        x = np.zeros(3)
        amb = np.zeros((obs["sat"].shape[0], self.nf), dtype=np.int64)
        for _ in range(6):
            los, el, sd_range = self._geometry(pos, obs)
            # A linearisation point outside the troposphere model's heights (-100 m..20 km: a code
            # solution or extrapolation gone astray) gives NaN ranges: no rows, never a NaN state.
            ok = np.isfinite(pr_sd) & (el[:, None] >= mask_el) & np.isfinite(sd_range)[:, None]
            select_references(obs["group"], el, ok, N_CLOCK_GROUPS, self._ref)
            var_cp, var_pr = self._variances(el, obs["group"])
            res = pr_sd - sd_range[:, None]
            m = int(np.count_nonzero(ok))
            v = np.zeros(m)
            h = np.zeros((m, 3))
            r = np.zeros((m, m))
            nv = form_dd(obs["group"], los, res, var_pr, obs["lam"], amb, x, ok, self._ref, ROW_CODE,
                         v, h, r, self._row_sat[:m], self._row_f[:m])
            if nv < 3:
                return None, 0, None
            vw = np.empty(nv)
            hw = np.empty((nv, 3))
            if not whiten_blocks(r[:nv, :nv], v[:nv], h[:nv], _POS_COLS, vw, hw):
                return None, 0, None
            n_mat = hw.T @ hw
            try:
                dx = np.linalg.solve(n_mat, hw.T @ vw)
            except np.linalg.LinAlgError:
                return None, 0, None
            pos = pos + dx
            # Within 1 m the range linearisation error is ~1e-7 relative (1 m / 20 000 km): done.
            if np.linalg.norm(dx) < 1.0:
                break
        cov = np.linalg.inv(n_mat)
        return pos, nv, cov

    # ------------------------------------------------------------------------------------------
    def _pdop(self, obs) -> float:
        """Position dilution of precision of the epoch's code geometry, one clock per clock group.

        Satellites above the elevation mask (at the base) with a code at both receivers. With a
        clock per group (the double differences cancel each group's clock), the position block of
        the normal matrix is the sum over the satellites of ``r r^T``, ``r`` the line-of-sight unit
        vector less its group's mean (the clocks eliminated); PDOP is the root of the trace of its
        inverse (closed form, 3x3). Infinite when the geometry is singular.
        """
        d = obs["sat_b"] - self.base_pos_ecef_m
        range_m = np.sqrt(np.einsum("ij,ij->i", d, d))
        pr = obs["pr"]
        # (a NaN in either receiver's code makes the sum NaN)
        ok = (d @ self._up_b >= self._sin_mask * range_m) & np.isfinite(pr[0] + pr[1]).any(axis=1)
        g = obs["group"][ok].astype(np.int64)
        u = d[ok] / range_m[ok][:, None]
        count = np.bincount(g, minlength=N_CLOCK_GROUPS)
        if g.shape[0] < 3 + np.count_nonzero(count):
            return math.inf
        mean = np.zeros((N_CLOCK_GROUPS, 3))
        np.add.at(mean, g, u)
        r = u - mean[g] / count[g][:, None]
        (a00, a01, a02), (_, a11, a12), (_, _, a22) = (r.T @ r).tolist()
        c00, c11, c22 = a11 * a22 - a12 * a12, a00 * a22 - a02 * a02, a00 * a11 - a01 * a01
        det = a00 * c00 - a01 * (a01 * a22 - a12 * a02) + a02 * (a01 * a12 - a11 * a02)
        if not det > 1e-12:
            return math.inf
        return math.sqrt(max((c00 + c11 + c22) / det, 0.0))

    def _too_weak(self, sol, obs) -> bool:
        """Whether the epoch's geometry is beyond :data:`MAX_PDOP` (then ``sol.reason`` says so)."""
        pdop = self._pdop(obs)
        if pdop <= MAX_PDOP:
            return False
        sol.reason = f"satellite geometry too weak: PDOP {pdop:.0f} > {MAX_PDOP:g}"
        return True

    def _dgnss(self, sol, obs):
        o = self.options
        sat = obs["sat"]
        smoothed = np.empty_like(obs["pr"])
        for k in range(2):
            if k == 1 and not self._new_base:
                # The base epoch paired again: its smoothed code was formed when it was new (a second
                # update would count the same code twice).
                held = self._hatch[1][sat]
                smoothed[1] = np.where(np.isfinite(held), held, obs["pr"][1])
                continue
            smoothed[k] = self._hatch_update(k, sat, obs["pr"][k], obs["cp"][k], obs["lam"], obs["lli"][k])
        pr_sd = smoothed[0] - smoothed[1]
        if self._too_weak(sol, obs):
            return sol
        start = self.x[:3] if self._pos_ok else self.base_pos_ecef_m
        pos, nv, cov = self._code_solution(start, obs, pr_sd, np.radians(o.elmask_deg))
        if pos is None:
            sol.reason = "too few double differences"
            return sol
        self.x[:3] = pos
        self._pos_ok = True
        sol.pos_ecef_m = pos
        sol.cov_ecef_m2 = cov
        sol.status = SolStatus.DGNSS
        sol.n_sat = int(sat.shape[0])
        sol.sats = sat.astype(np.int16)
        return sol

    def _hatch_update(self, k, sat, pr, cp, lam, lli):
        """Carrier-smoothed code (Hatch 1982) per satellite and frequency for receiver ``k``."""
        hs = self._hatch[k][sat]
        hn = self._hatch_n[k][sat]
        prev_cp = self._prev_cp[k][sat]
        reset = ~np.isfinite(hs) | ~np.isfinite(cp) | ~np.isfinite(prev_cp) | ((lli & LLI_SLIP) != 0)
        hn = np.where(reset, 1.0, np.minimum(hn + 1.0, self.options.hatch_window))
        pred = hs + (cp - prev_cp) * lam
        out = np.where(reset, pr, pr / hn + pred * (hn - 1.0) / hn)
        out = np.where(np.isfinite(out), out, pr)
        self._hatch[k][sat] = out
        self._hatch_n[k][sat] = hn
        self._prev_cp[k][sat] = cp
        return out

    # ------------------------------------------------------------------------------------------
    def _outage_limit_ns(self):
        return max(self.options.max_outage_epochs, 1) * max(self._dt_s, 1.0) * NS_PER_S

    def _release(self, idx):
        """Free state slots ``idx``: no longer in use, uncorrelated with the rest."""
        self._slot_used[idx] = False
        self.p[idx, :] = 0.0
        self.p[:, idx] = 0.0

    def _free_stale(self, t_ns):
        stale = (self._amb >= 0) & (np.abs(t_ns - self._last_ns) > self._outage_limit_ns())
        if stale.any():
            self._release(self._amb[stale])
            self._amb[stale] = -1
            self._lock[stale] = 0

    def _iono_wanted(self, bl_m: float) -> bool:
        """Whether the ionosphere is estimated at this baseline length (``auto`` with hysteresis)."""
        o = self.options
        if o.iono != "auto":
            return o.iono == "est"
        if not o.iono_std_m_per_10km > 0.0:  # no ionosphere expected: nothing to estimate
            return False
        limit_m = o.iono_auto_km * 1.0e3
        return bl_m > (0.8 * limit_m if self._iono_on else limit_m)

    def _update_iono(self, obs, t_ns):
        """Time update of the single-difference ionosphere states; their state index per satellite row.

        Each satellite's state is its single-difference slant delay on :data:`IONO_REF_FREQ_HZ`
        [m]. A new state starts at 0 with standard deviation ``iono_std_m_per_10km * bl / 10 km``
        times the thin-shell mapping function, then random-walks with ``iono_noise_m_per_10km
        * bl / 10 km`` times the mapping function [m/sqrt(s)]: RTKLIB 2.4.3 ``udion`` priors for
        the vertical delay, mapped to the slant (a slant state needs no mapping function in the
        measurement model, and the mapping error of a thin shell stays out of it). A state survives
        cycle slips (the ionosphere is continuous) and is freed after the same outage as an
        ambiguity.

        Returns
        -------
        int64[n] or None
            State index per satellite row (-1: no slot free, the satellite is not used), or None
            when the ionosphere is not estimated.
        """
        o = self.options
        bl_m = _norm(self.x[:3] - self.base_pos_ecef_m)
        on = self._trop > self._ion0 and self._iono_wanted(bl_m)
        held = self._ion >= 0
        if not on:
            if held.any():
                # The ambiguities take the ionosphere back in (A = N - c I) before its states go.
                sats = np.nonzero(held)[0]
                self._move_iono_into_ambiguities(sats, self._ion[sats], -1.0)
                self._release(self._ion[held])
                self._ion[held] = -1
            self._iono_on = False
            return None
        self._iono_on = True
        stale = held & (np.abs(t_ns - self._ion_last_ns) > self._outage_limit_ns())
        if stale.any():
            self._release(self._ion[stale])
            self._ion[stale] = -1
        sat = obs["sat"]
        _, el, _ = self._geometry(self.x[:3].copy(), obs)
        scale = bl_m / 1.0e4 * _iono_mapping(el)
        idx = self._ion[sat]
        old = idx >= 0
        if old.any():
            oi = idx[old]
            self.p[oi, oi] += (o.iono_noise_m_per_10km * scale[old]) ** 2 * self._dt_s
        new_rows = np.nonzero(~old)[0]
        if new_rows.shape[0]:
            free = np.nonzero(~self._slot_used[self._ion0 : self._trop])[0] + self._ion0
            new_rows = new_rows[: free.shape[0]]
            slots = free[: new_rows.shape[0]]
            self._ion[sat[new_rows]] = slots
            self._slot_used[slots] = True
            self.x[slots] = 0.0
            self.p[slots, :] = 0.0
            self.p[:, slots] = 0.0
            self.p[slots, slots] = (o.iono_std_m_per_10km * scale[new_rows]) ** 2
            # Ambiguities carried over from an epoch without these states hold the ionosphere
            # they absorbed: they become N = A + c I (no-op for ambiguities started this epoch).
            self._move_iono_into_ambiguities(sat[new_rows], slots, 1.0)
        idx = self._ion[sat]
        self._ion_last_ns[sat[idx >= 0]] = t_ns
        return idx

    def _move_iono_into_ambiguities(self, sats, ion_slots, sign):
        """Re-parametrise the ambiguities of ``sats`` when their ionosphere state starts or ends.

        Without a state, a single-difference ambiguity ``A`` absorbs the slant ionosphere ``I``
        (state units: delay on :data:`IONO_REF_FREQ_HZ` [m]) that the phase carries with the
        coefficient ``-c_f = -(f_ref / f)^2 / lambda_f`` [cycles/m]: ``A = N - c_f I``. When
        the state starts (``sign = +1``; its prior already set, uncorrelated) the ambiguity state
        becomes ``N = A + c_f I``; when it ends (``sign = -1``) it goes back to ``A``. Both are
        the linear map ``x <- T x``, ``P <- T P T^T`` with ``T = 1 + sign c_f e_amb e_ion^T``, so
        the filter keeps what it knows and only the model changes. Without it, ambiguities that
        converged with the ionosphere inside them stay tight around ``N - c I`` while the new
        states claim it, and the next fix is biased (simulated urban car, the baseline passing
        6 km: GPS+Galileo fixes 0.3-0.7 m off with correct-looking ratio). Only ambiguities kept
        from an earlier epoch (lock > 0) are mapped: one started this epoch came from this
        epoch's phase minus code, in the new model already.
        """
        amb = self._amb[sats]  # (k, nf) state slot, -1 none
        carried = (amb >= 0) & (self._lock[sats] > 0)
        if self.options.ar_mode == "instantaneous" or not carried.any():
            # (Instantaneous mode restarts every ambiguity from this epoch's phase minus code.)
            return
        kk, ff = np.nonzero(carried)
        a = amb[kk, ff]
        s_ion = np.asarray(ion_slots, dtype=np.int64)[kk]
        c = sign * self._iono_coef[sats[kk], ff] / self._lam[sats[kk], ff]
        self.x[a] += c * self.x[s_ion]
        # T P T^T: the row operations, then the column operations (no ambiguity is an ionosphere slot).
        self.p[a, :] += c[:, None] * self.p[s_ion, :]
        self.p[:, a] += self.p[:, s_ion] * c[None, :]

    def _tropo_wanted(self, bl_m: float) -> bool:
        """Whether the troposphere is estimated at this baseline length (``auto`` with hysteresis)."""
        o = self.options
        if o.tropo != "auto":
            return o.tropo == "est"
        limit_m = o.tropo_auto_km * 1.0e3
        return bl_m > (0.8 * limit_m if self._trop_on else limit_m)

    def _update_tropo(self):
        """Time update of the relative zenith wet delay state; whether it is in use this epoch.

        The state starts at 0 (each receiver's model, ``tropo_model``, is the prior mean) with
        ``tropo_std_m_per_sqrt_km * sqrt(baseline)`` and random-walks with ``tropo_noise_m_per_sqrt_s``.
        Switched off (``auto`` on a short baseline), its slot is released.
        """
        o = self.options
        if self.nx <= self._trop:
            return False
        bl_m = _norm(self.x[:3] - self.base_pos_ecef_m)
        k = self._trop
        if not self._tropo_wanted(bl_m):
            if self._trop_on:
                self._release(np.array([k]))
            self._trop_on = False
            return False
        if not self._trop_on:
            self.x[k] = 0.0
            self.p[k, :] = 0.0
            self.p[:, k] = 0.0
            self.p[k, k] = o.tropo_std_m_per_sqrt_km**2 * max(bl_m / 1.0e3, 1.0)
            self._slot_used[k] = True
            self._trop_on = True
        else:
            self.p[k, k] += o.tropo_noise_m_per_sqrt_s**2 * self._dt_s
        return True

    def _map_wet(self, el):
        """Niell wet mapping function of each satellite at the rover (float64[n])."""
        out = np.empty(el.shape[0])
        wet_mapping_many(np.ascontiguousarray(el, dtype=np.float64), self._lat_rad, out)
        return out

    def _update_ambiguities(self, obs, t_ns, pos):
        """Slip detection and time update of the ambiguity states (one kernel call)."""
        self._free_stale(t_ns)
        sat = obs["sat"]
        n = sat.shape[0]
        have = np.empty((n, self.nf), dtype=bool)
        amb = np.empty((n, self.nf), dtype=np.int64)
        sign = -1.0 if self.backward else 1.0
        dt_s = np.array([sign * self._dt_s, sign * self._dt_base_s])
        ambiguity_time_update(sat, obs["cp"], obs["pr"], obs["dop"], self._half_cycle_slips(sat, obs),
                              obs["lam"], t_ns, dt_s,
                              self._thresholds, self._gf, self._mw, self._mw_n, self._prev_cp, self._prev_dop,
                              self._amb, self._slot_used[: self._ion0], self._lock, self._last_ns, self.x, self.p,
                              have, amb)
        if self.options.ar_mode == "instantaneous":
            self._restart_ambiguities(obs, have, amb)
        # A reset (slip, new or returning satellite) leaves lock at 0 this epoch: the new
        # ambiguity has not been validated yet.
        lock = self._lock[sat]
        self._proven[sat] &= lock > 0
        self._arc[sat] += lock == 0
        return have, amb

    def _restart_ambiguities(self, obs, have, amb):
        """Instantaneous mode: every ambiguity starts again from this epoch's phase minus code.

        The float of an instantaneous fix holds nothing of earlier epochs. The slip detectors still
        run on the carried states, so that a lock count (and the arc of :meth:`_changed_integer`)
        says whether a phase is continuous: an integer fixed on an unbroken arc may not change at
        a later instantaneous fix (simulated urban car, seed 3, GPS L1 + BDS B1I: after four float
        epochs in a street canyon whose codes put the float 7-40 m off, one epoch fixed 23.8 m off
        on 13 of 21 ambiguities at ratio 3.2 and a bootstrapped success rate of 0.999). A
        continuing phase without a code (screened out) is left out: it cannot start an ambiguity
        from this epoch alone.
        """
        carried = have & (self._lock[obs["sat"]] > 0)
        if not carried.any():
            return
        lam = obs["lam"]
        start = obs["cp"][0] - obs["cp"][1] - (obs["pr"][0] - obs["pr"][1]) / lam
        have[carried & ~np.isfinite(start)] = False
        carried &= np.isfinite(start)
        slots = amb[carried]
        self.x[slots] = start[carried]
        self.p[slots, :] = 0.0
        self.p[:, slots] = 0.0
        self.p[slots, slots] = self.options.amb_init_std_cyc**2

    def _half_cycle_slips(self, sat, obs):
        """``obs["lli"]`` (uint8[2, n, nf]) with a slip where a receiver's half-cycle flag changed.

        Receivers that track the carrier before they know its sign (low-cost ones such as u-blox)
        set LLI bit 1 (RINEX 3.05 §5.7) while the phase may be off by half a cycle, and correct the
        phase by half a cycle when they resolve it: the flag's change is a half-cycle jump (as
        RTKLIB 2.4.3's ``detslp_ll`` treats it), and the ambiguity starts again.
        """
        changed = obs["half"] != self._prev_half[:, sat]
        self._prev_half[:, sat] = obs["half"]
        if not changed.any():  # (the usual epoch; the slip kernel only reads its flags)
            return obs["lli"]
        return np.where(changed, obs["lli"] | LLI_SLIP, obs["lli"]).astype(np.uint8)

    def _predicted_position(self, t_ns):
        """Rover position extrapolated from the last two solutions, or None when they are not recent."""
        if len(self._history) < 2:
            return None
        (t0, p0), (t1, p1) = self._history
        step, gap = t1 - t0, t_ns - t1
        if step == 0 or abs(gap) > 1.5 * abs(step) or abs(gap) > 5 * NS_PER_S:
            return None
        return p1 + (p1 - p0) * (gap / step)

    def _position_prior(self, obs, t_ns, mask_el, use_prediction):
        """Set the position state's prior; returns (ok, predicted).

        Kinematic mode re-initialises the position every epoch with a 30 m prior (RTKLIB, dynamics
        off). Its centre only sets the linearisation point: the position extrapolated from the last
        two solutions when they are recent, else a DD code least-squares solution.
        """
        o = self.options
        if o.mode == "static" and self._pos_ok:
            return True, False
        pos0 = self._predicted_position(t_ns) if (use_prediction and o.mode == "kinematic") else None
        predicted = pos0 is not None
        if pos0 is None:
            pr_sd = obs["pr"][0] - obs["pr"][1]
            pos0 = None
            if self._pos_ok:
                pos0, _, _ = self._code_solution(self.x[:3], obs, pr_sd, mask_el)
            if pos0 is None:
                # From the base: the last position may be where the code solution cannot start
                # (an extrapolation gone below the troposphere model's -100 m).
                pos0, _, _ = self._code_solution(self.base_pos_ecef_m, obs, pr_sd, mask_el)
            if pos0 is None:
                return False, False
        self.x[:3] = pos0
        self.p[:3, :] = 0.0
        self.p[:, :3] = 0.0
        self.p[:3, :3] = self._pos_prior_p
        self._pos_ok = True
        return True, predicted

    def _rtk(self, sol, obs):
        o = self.options
        mask_el = self._mask_el_rad
        if self._too_weak(sol, obs):
            # No solution, but the ambiguities and slip detectors follow the phases through the epoch.
            self._update_ambiguities(obs, sol.t_gpst_ns, self.x[:3])
            return sol
        ok, predicted = self._position_prior(obs, sol.t_gpst_ns, mask_el, use_prediction=True)
        if not ok:
            sol.reason = "too few double differences for the code solution"
            return sol
        if o.code_screen_k > 0.0:
            self._screen_codes(obs, mask_el)
        have, amb = self._update_ambiguities(obs, sol.t_gpst_ns, self.x[:3])
        if self._new_base:
            # A slip the detectors found at a new base epoch may be the base's: its rate is void.
            reset = self._lock[obs["sat"]] == 0
            self._drift_rate_mps[obs["sat"][reset.any(axis=1)]] = np.nan
        # Single-difference phase [m] less the base drift: fixed from here on in this epoch.
        obs["sd_cp_m"] = (obs["cp"][0] - obs["cp"][1]) * obs["lam"] - self._base_drift_m(obs)
        ion = self._update_iono(obs, sol.t_gpst_ns)
        self._update_tropo()
        rows = self._measurements(obs, have, amb, mask_el, ion)
        if predicted and (rows is None or rows[-1] < 0.7):
            # The extrapolated position was off (the rover turned or stopped): use the code solution.
            self._position_prior(obs, sol.t_gpst_ns, mask_el, use_prediction=False)
            rows = self._measurements(obs, have, amb, mask_el, ion)
        if rows is None:
            sol.reason = "too few double differences"
            return sol
        drop_pr = np.zeros(have.shape, dtype=bool)
        for attempt in range(2):
            v, h, r, act = rows[:4]
            # (Buffers kept across epochs: p is a few hundred kB.)
            x0, p0 = self._x0, self._p0
            np.copyto(x0, self.x)
            np.copyto(p0, self.p)
            if not ekf_update(self.x, self.p, act, h, v, r) or not np.isfinite(self.x[:3]).all():
                # Back to the prior: a NaN state would stay for every later epoch.
                self.x[:], self.p[:] = x0, p0
                sol.reason = "filter update failed (innovation covariance not positive definite)"
                return sol
            if o.outlier_w > 0.0:
                rows = self._reject_outliers(obs, have, amb, mask_el, ion, rows, x0, p0, drop_pr)
                if rows is None:
                    sol.reason = "too few double differences after outlier rejection"
                    return sol
            if attempt or o.mode != "kinematic" or _norm(self.x[:3] - x0[:3]) < RELINEARISE_M:
                break
            # The prior's centre (a code solution that outliers pulled metres away) is only the
            # linearisation point, but the troposphere model is evaluated there: 30 m of height
            # changes low satellites' DD delays by centimetres. Once more from the updated position.
            centre = self.x[:3].copy()
            self.x[:] = x0
            self.p[:] = p0
            self.x[:3] = centre
            rows = self._measurements(obs, have, amb, mask_el, ion, drop_pr)
            if rows is None:
                sol.reason = "too few double differences"
                return sol
        _, _, _, _, el, cp_ok, pr_ok, ref_cp, _, _ = rows
        sat = obs["sat"]
        sol.pos_ecef_m = self.x[:3].copy()
        sol.cov_ecef_m2 = self.p[:3, :3].copy()
        sol.status = SolStatus.FLOAT
        used = cp_ok.any(axis=1) | pr_ok.any(axis=1)
        sol.n_sat = int(np.count_nonzero(used))
        sol.sats = sat[used].astype(np.int16)
        if o.ar_mode != "off" and np.count_nonzero(cp_ok) >= 5:
            self._resolve(sol, obs, el, cp_ok, ref_cp, amb)
        self._history = [*self._history[-1:], (sol.t_gpst_ns, sol.pos_ecef_m.copy())]
        return sol

    def _measurements(self, obs, have, amb, mask_el, ion=None, drop_pr=None):
        """DD phase and code rows at the current state, gross outliers removed.

        ``ion`` (state index of each satellite's ionosphere, or None) adds the ionosphere states;
        ``drop_pr`` (bool[n, nf], or None) leaves those codes out (rejected by :meth:`_snoop`).

        Returns (v, h, r, act, el, cp_ok, pr_ok, ref_cp, rows, fraction of rows kept) or None;
        ``rows`` is int64[4, m]: satellite row, frequency, kind (:data:`ROW_PHASE` or
        :data:`ROW_CODE`) and reference satellite row of each DD row.
        """
        o = self.options
        los, el, sd_range = self._geometry(self.x[:3].copy(), obs)
        above = (el >= mask_el) & np.isfinite(sd_range)  # NaN ranges: see _code_solution
        lam = obs["lam"]
        cp_ok = have & above[:, None] & (amb >= 0)
        pr_sd = obs["pr"][0] - obs["pr"][1]
        pr_ok = np.isfinite(pr_sd) & above[:, None]
        if drop_pr is not None:
            pr_ok &= ~drop_pr
        if ion is not None:
            cp_ok &= (ion >= 0)[:, None]
            pr_ok &= (ion >= 0)[:, None]
        res_cp = obs["sd_cp_m"] - sd_range[:, None]
        res_pr = pr_sd - sd_range[:, None]
        var_cp, var_pr = self._variances(el, obs["group"])
        group = obs["group"]
        amb_safe = np.maximum(amb, 0)
        ref_cp = np.empty_like(self._ref)
        # A reference phase with an unresolved half cycle would make every double difference of its
        # group half-integer: such satellites are the reference only when nothing else is left.
        half = obs["half"].any(axis=(0, 2))
        select_references(group, np.where(half, el - np.pi, el) if half.any() else el, cp_ok, N_CLOCK_GROUPS, ref_cp)
        nv = form_dd(group, los, res_cp, var_cp, lam, amb_safe, self.x, cp_ok, ref_cp, ROW_PHASE,
                     self._v, self._h, self._r, self._row_sat, self._row_f)
        select_references(group, el, pr_ok, N_CLOCK_GROUPS, self._ref)
        m_pr = int(np.count_nonzero(pr_ok))
        # Code rows straight after the phase rows in the row buffers when they fit (they do unless
        # more satellites than max_sats are tracked): no second set of rows to allocate and join.
        joined = self._h.shape[0] - nv >= m_pr
        v2 = self._v[nv:] if joined else np.zeros(m_pr)
        h2 = self._h[nv:] if joined else np.zeros((m_pr, self.nx))
        r2 = np.zeros((m_pr, m_pr))
        nv2 = form_dd(group, los, res_pr, var_pr, lam, amb_safe, self.x, pr_ok, self._ref, ROW_CODE,
                      v2, h2, r2, self._row_sat[nv:], self._row_f[nv:])
        if ion is not None:
            # Dispersive delay: subtracted from phase, added to code.
            coef = self._iono_coef[obs["sat"]]
            ion_safe = np.maximum(ion, 0)
            add_iono_dd(group, self._row_sat, self._row_f, nv, ref_cp, ion_safe, -coef, self.x, self._v, self._h)
            add_iono_dd(group, self._row_sat[nv:], self._row_f[nv:], nv2, self._ref, ion_safe, coef, self.x, v2, h2)
        if self._trop_on:
            # Not dispersive: the same term on code and phase.
            mw = self._map_wet(el)
            add_tropo_dd(group, self._row_sat, self._row_f, nv, ref_cp, mw, self._trop, self.x, self._v, self._h)
            add_tropo_dd(group, self._row_sat[nv:], self._row_f[nv:], nv2, self._ref, mw, self._trop, self.x, v2, h2)
        if nv + nv2 < 4:
            return None
        if joined:
            v = self._v[: nv + nv2].copy()
            h = self._h[: nv + nv2].copy()
        else:
            v = np.concatenate([self._v[:nv], v2[:nv2]])
            h = np.concatenate([self._h[:nv], h2[:nv2]])
        r = np.zeros((nv + nv2, nv + nv2))
        r[:nv, :nv] = self._r[:nv, :nv]
        r[nv:, nv:] = r2[:nv2, :nv2]
        rs = self._row_sat[: nv + nv2]  # (read here only: meta holds the copy)
        rf = self._row_f[: nv + nv2]
        meta = np.empty((4, nv + nv2), dtype=np.int64)
        meta[0] = rs
        meta[1] = rf
        meta[2, :nv] = ROW_PHASE
        meta[2, nv:] = ROW_CODE
        meta[3, :nv] = ref_cp[group[rs[:nv]], rf[:nv]]
        meta[3, nv:] = self._ref[group[rs[nv:]], rf[nv:]]
        # Codes only: a phase's innovation holds its ambiguity's error, which may be metres for a
        # new ambiguity started from an outlying code; phase outliers are left to _snoop, which
        # weighs them by their ambiguity's variance.
        good = np.abs(v) <= o.max_innovation_m
        good[:nv] = True
        n_good = int(np.count_nonzero(good))
        kept = n_good / good.shape[0]  # (the mean of the booleans, exactly)
        if n_good < good.shape[0]:
            v, h, r, meta = v[good], h[good], r[np.ix_(good, good)], meta[:, good]
        # Every state in use: ambiguities not observed this epoch (below the mask, short outage) stay
        # correlated with the rest, and updating without them would leave P indefinite.
        act = np.flatnonzero(self._slot_used)  # (int64 already)
        return v, h, r, act, el, cp_ok, pr_ok, ref_cp, meta, kept

    def _screen_codes(self, obs, mask_el):
        """Remove gross code outliers before they start ambiguities or reach the slip tests.

        Single-difference code minus the range modelled at the position prior, less the median of
        its clock group and frequency (the receiver clocks), against ``code_screen_k`` times the
        larger of its modelled standard deviation and the epoch's robust spread (1.4826 MAD): a
        code beyond is set to NaN in ``obs`` (its phase continues its ambiguity without it). Groups
        of fewer than 3 satellites are not screened (no majority). RTKLIB 2.4.3 has no such test
        (only ``rejionno`` on the innovations); its single-point ``valsol``/RAIM is the model.
        """
        o = self.options
        _, el, sd_range = self._geometry(self.x[:3].copy(), obs)
        _, var_pr = self._variances(el, obs["group"])
        screen_codes(obs["pr"], sd_range, el, mask_el, obs["group"], N_CLOCK_GROUPS, var_pr, o.code_screen_k)

    def _reject_outliers(self, obs, have, amb, mask_el, ion, rows, x0, p0, drop_pr):
        """Data snooping of the update just made: re-do it without the worst outlier until none is left.

        The most significant outlier (:meth:`_snoop`) beyond ``outlier_w`` is removed and the
        update re-done from the prior ``x0``/``p0``: a code outlier (multipath, NLOS on the code) is
        left out for this epoch; a phase outlier (a slip no detector saw, a reflected carrier)
        restarts that single-difference ambiguity from phase minus code, as a detected slip does.
        At most ``max_outliers`` per epoch (RTKLIB 2.4.3 rejects innovations beyond ``rejionno``
        30 m only, which leaves code errors of 5-30 m in the filter).

        ``drop_pr`` (bool[n, nf]) holds the codes already left out and receives the new ones.
        Returns the rows of the last update (as :meth:`_measurements`), or None when too few are
        left (the state is then the prior's).
        """
        o = self.options
        sat = obs["sat"]
        for _ in range(o.max_outliers):
            worst = self._snoop(rows, x0)
            if worst is None:
                return rows
            kind, i, f = worst
            if kind == ROW_CODE:
                drop_pr[i, f] = True
            else:
                s = amb[i, f]
                start = obs["cp"][0, i, f] - obs["cp"][1, i, f] - (obs["pr"][0, i, f] - obs["pr"][1, i, f]) / obs[
                    "lam"][i, f]
                if np.isfinite(start):  # (without a code, from where it was, with the initial variance)
                    x0[s] = start
                p0[s, :] = 0.0
                p0[:, s] = 0.0
                p0[s, s] = o.amb_init_std_cyc**2
                self._lock[sat[i], f] = 0
                self._proven[sat[i], f] = False
                self._arc[sat[i], f] += 1
            self.x[:] = x0
            self.p[:] = p0
            rows = self._measurements(obs, have, amb, mask_el, ion, drop_pr)
            if rows is None:
                return None
            v, h, r, act = rows[:4]
            if not ekf_update(self.x, self.p, act, h, v, r):
                self.x[:] = x0
                self.p[:] = p0
                return None
        return rows

    def _snoop(self, rows, x0):
        """The most significant single-difference outlier of an update, or None below ``outlier_w``.

        Baarda's w-test on the post-fit residuals ``e = v - H dx`` (covariance ``R - H P+ H^T``),
        for the alternative "one satellite's single difference on one frequency (code or phase) is
        off": the vector ``c`` is one DD row for a satellite, and minus every row of its block for
        the block's reference (Teunissen 2006, "Testing theory", §4.2; applied to RTK by de Jong
        2000): ``w = c^T R^-1 e / sqrt(c^T R^-1 (R - H P+ H^T) R^-1 c)``, standard normal without
        an outlier. Computed block by block, without BLAS (:func:`gnssaug.kernels.kalman.snoop_w`).

        Returns
        -------
        (kind, row, f) or None
            :data:`ROW_CODE` or :data:`ROW_PHASE`, satellite row and frequency of the outlier.
        """
        v, h, r, act = rows[:4]
        meta = rows[8]
        m = v.shape[0]
        if m < 2:
            return None
        cols = act[(h != 0.0).any(axis=0)[act]]
        w = np.empty(2 * m)
        row = np.empty(2 * m, dtype=np.int64)
        is_ref = np.empty(2 * m, dtype=bool)
        nc = snoop_w(r, v, h, cols, self.x, x0, self.p, w, row, is_ref)
        if nc <= 0:
            return None
        j = int(np.argmax(w[:nc]))
        if not w[j] > self.options.outlier_w:
            return None
        i = int(row[j])
        return int(meta[2, i]), int(meta[3 if is_ref[j] else 0, i]), int(meta[1, i])

    def _resolve(self, sol, obs, el, cp_ok, ref_cp, amb):
        o = self.options
        sat = obs["sat"]
        group = obs["group"]
        can = cp_ok & (el[:, None] >= self._ar_mask_el_rad)
        can &= self._lock[sat] >= o.min_lock_epochs
        # A phase with an unresolved half cycle at either receiver may sit half a cycle off an
        # integer ambiguity: it stays in the float solution only (RTKLIB ``ssat.half``).
        can &= ~obs["half"].any(axis=0)
        if self._float_only is not None:
            # GLONASS (FLOAT_ONLY_SYSTEMS): never in the integer set, never validated, remembered or
            # held; the fixed position is conditioned on the others with these as floats.
            can &= ~self._float_only[sat][:, None]
        rows, fs = np.nonzero(can)
        ref = ref_cp[group[rows], fs]
        keep = (ref >= 0) & (ref != rows)
        rows, fs, ref = rows[keep], fs[keep], ref[keep]
        if rows.shape[0] < 4:
            return
        # Partial fixing may drop up to half of the candidate satellites: with 30-40 satellites over
        # tens of km, the weakest eight (low, new) are often not enough; never more, or a ratio test
        # on what is left of a few satellites passes by chance (simulated urban car, GPS+Galileo,
        # 900 s, seed 1: with up to max(8, half) dropped, 98.3 % fixed but 12.8 % of the fixes off
        # by more than 10 cm, vertical errors up to 1.4 m from 3-5 remaining satellites; with up to
        # half, 90.0 % fixed, 7.7 % beyond 10 cm, worst 0.57 m).
        # (np.nonzero gives the rows sorted: the satellites are the runs.)
        max_drops = (1 + int(np.count_nonzero(rows[1:] != rows[:-1]))) // 2
        for _ in range(FIX_VALIDATION_TRIES):
            amb_i = amb[rows, fs]
            amb_j = amb[ref, fs]
            # The drop order only when the full set fails (most epochs fix it at once).
            key = functools.partial(self._drop_order, sat[rows], fs, el[rows])
            res = ambiguity.resolve(self.x, self.p, amb_i, amb_j, key, rows, o.ratio_threshold,
                                    o.failure_rate_bound(), o.partial_ar, max_drops=max_drops,
                                    transforms=self._transforms)
            sol.ratio = res.ratio
            if not res.fixed:
                return
            if res.n_dropped:
                fixed_rows = np.isin(amb_i, res.amb_i)
                f_rows, f_fs, f_ref = rows[fixed_rows], fs[fixed_rows], ref[fixed_rows]
            else:  # (the full set: no copies)
                f_rows, f_fs, f_ref = rows, fs, ref
            worst = self._worst_fixed_residual(obs, f_rows, f_fs, f_ref, res)
            if worst < 0:
                worst = self._changed_integer(sat, f_rows, f_fs, f_ref, res.b_fix_cyc)
                if worst >= 0 and o.ar_mode == "instantaneous":
                    # Its float does not see an undetected slip (every ambiguity starts again each
                    # epoch, no phase outlier is ever flagged): the remembered integer may be the
                    # stale one. This fix leaves the satellite out, and the next may set it anew.
                    self._arc[sat[worst]] += 1
            if worst < 0:
                break
            # A fix whose own phases disagree with it: that satellite is left out and the rest tried.
            keep = rows != worst
            rows, fs, ref = rows[keep], fs[keep], ref[keep]
            if rows.shape[0] < 4:
                return
        else:
            return
        # The integers passed validation (the test below is on the position's precision, not on them).
        self._proven[sat[f_rows], f_fs] = True
        self._remember_integers(sat, f_rows, f_fs, f_ref, res.b_fix_cyc)
        pos, cov = res.pos_ecef_m, res.cov_ecef_m2
        if (o.mode == "kinematic" and o.iono_std_m_per_10km > 0.0 and not self._iono_on
                and self._iono_weighting_matters(res.pos_ecef_m)):
            # (With ionosphere states the conditioned position already accounts for them.)
            shift, dcov = self._iono_weighting(obs, f_rows, f_fs, f_ref, res)
            pos, cov = res.pos_ecef_m + shift, res.cov_ecef_m2 + dcov
            if _worst_sigma_ratio2(cov, self.p[:3, :3]) > FIX_FLOAT_SIGMA_RATIO**2:
                return
        sol.pos_ecef_m = pos
        sol.cov_ecef_m2 = cov
        sol.status = SolStatus.FIX
        if o.ar_mode == "fix-and-hold":
            self._hold(res)

    def _changed_integer(self, sat, rows, fs, ref, b_fix_cyc):
        """Satellite row whose DD integer differs from its last fix within the same arcs, or -1.

        An integer does not change while both ambiguities keep their lock: a fix that gives one
        a new value has followed its float ambiguity where multipath or the unmodelled
        ionosphere carried it past half a cycle (simulated urban car, GPS+Galileo, seed 1: an
        L1-only satellite at 23 deg, its DD ionosphere growing from +0.3 to +0.6 cycle, fixed
        one cycle off for 45 s at ratio 4; fixes 16-19 cm off). The integer of the earlier,
        validated fix stands; the satellite is left out and the rest tried.
        """
        k, ai, aj = self._integer_index(sat, rows, fs, ref)
        same_arcs = ((self._fixed_arc_i_flat[k] == self._arc_flat[ai])
                     & (self._fixed_arc_j_flat[k] == self._arc_flat[aj]))
        changed = same_arcs & (self._fixed_int_flat[k] != np.round(b_fix_cyc))
        first = np.flatnonzero(changed)
        return int(rows[first[0]]) if first.size else -1

    def _remember_integers(self, sat, rows, fs, ref, b_fix_cyc):
        """Keep the DD integers of an accepted fix (see :meth:`_changed_integer`)."""
        k, ai, aj = self._integer_index(sat, rows, fs, ref)
        self._fixed_int_flat[k] = np.round(b_fix_cyc)
        self._fixed_arc_i_flat[k] = self._arc_flat[ai]
        self._fixed_arc_j_flat[k] = self._arc_flat[aj]

    def _integer_index(self, sat, rows, fs, ref):
        """Flat indices of DD ambiguities: integer tables, then arcs of satellite and reference (int64[m] each).

        The tables are (satellite, reference, frequency), the arcs (satellite, frequency), C order.
        """
        si, sj = sat[rows], sat[ref]
        return (si * N_SAT + sj) * self.nf + fs, si * self.nf + fs, sj * self.nf + fs

    def _fixed_dd_phase(self, obs, rows, fs, ref, res, with_h=True):
        """DD phase residuals [m] at the fixed position with the fixed integers, and their geometry.

        Returns (v float64[m], h float64[m, 3] (None unless ``with_h``), el float64[n], var_cp float64[n, nf]).
        """
        los, el, sd_range = self._geometry(res.pos_ecef_m, obs)
        lam = obs["lam"]
        sd_cp_m = obs["sd_cp_m"]
        # DD phase minus fixed integers minus modelled DD range (equal wavelengths within a group).
        v = (sd_cp_m[rows, fs] - sd_cp_m[ref, fs]) - (sd_range[rows] - sd_range[ref]) - lam[rows, fs] * res.b_fix_cyc
        if self._trop_on:
            mw = self._map_wet(el)
            v -= (mw[rows] - mw[ref]) * self.x[self._trop]
        var_cp, _ = self._variances(el, obs["group"])
        return v, (-(los[rows] - los[ref]) if with_h else None), el, var_cp

    def _worst_fixed_residual(self, obs, rows, fs, ref, res):
        """Satellite row whose fixed DD phase residual is beyond ``fix_residual_k`` sigma, or -1.

        RTKLIB 2.4.3 ``valpos`` after ``resamb_LAMBDA``: a fix that passes the ratio test may still
        hold a wrong integer (a new ambiguity started from an outlying code, a slip no test saw);
        its phases then miss the fixed position by a fraction of a wavelength. Residual over the
        DD phase standard deviation (the satellite's and the reference's single differences); not
        applied with ionosphere states (the residuals then hold the DD ionosphere).
        """
        k = self.options.fix_residual_k
        if k <= 0.0 or self._iono_on or rows.shape[0] == 0:
            return -1
        v, _, _, var_cp = self._fixed_dd_phase(obs, rows, fs, ref, res, with_h=False)
        z = np.abs(v) / np.sqrt(var_cp[rows, fs] + var_cp[ref, fs])
        j = int(np.argmax(z))
        return int(rows[j]) if z[j] > k else -1

    def _iono_weighting(self, obs, rows, fs, ref, res):
        """Shift and covariance increase of the fixed position under the ionosphere-weighted model.

        Over a baseline of length ``bl`` the double-difference ionosphere does not cancel. Each
        satellite's single-difference slant delay on its first frequency is treated as a random
        error of standard deviation ``iono_std_m_per_10km * bl / 10 km`` times the single-layer
        mapping function, scaled by ``(f1/f)^2`` on the other frequency (the ionosphere-weighted
        model, Odijk 2002, "Fast precise GPS positioning in the presence of ionospheric delays",
        §4; prior as RTKLIB 2.4.3 ``udion``). The fixed-ambiguity DD phases are solved by
        least squares with and without that error term at the fixed position; the difference is
        added to the conditioned position (zero on short baselines, where the term vanishes).

        Returns
        -------
        float64[3], float64[3, 3]
            Position shift [m] and covariance increase [m^2].
        """
        zero = (np.zeros(3), np.zeros((3, 3)))
        if rows.shape[0] < 4 or not self._iono_weighting_matters(res.pos_ecef_m):
            return zero
        sigma_v_m = self._iono_sigma_m(res.pos_ecef_m)
        v, h, el, var_cp = self._fixed_dd_phase(obs, rows, fs, ref, res)
        lam = obs["lam"]
        m = rows.shape[0]
        r = np.diag(var_cp[rows, fs])
        same_ref = (ref[:, None] == ref[None, :]) & (fs[:, None] == fs[None, :])
        r += np.where(same_ref, var_cp[ref, fs][:, None], 0.0)
        # Ionosphere: d[k, s] = mu_f (+1 at the satellite, -1 at the reference) of row k.
        n = obs["sat"].shape[0]
        mu = (lam[rows, fs] / lam[rows, 0]) ** 2
        d = np.zeros((m, n))
        d[np.arange(m), rows] = mu
        d[np.arange(m), ref] -= mu
        sigma_s_m = sigma_v_m * _iono_mapping(el)
        r_iono = r + (d * sigma_s_m**2) @ d.T
        try:
            pos0, cov0 = _gls(h, v, r)
            pos1, cov1 = _gls(h, v, r_iono)
        except np.linalg.LinAlgError:
            return zero
        return pos1 - pos0, cov1 - cov0

    def _iono_sigma_m(self, pos):
        """Standard deviation of a single-difference vertical ionospheric delay at ``pos`` [m]."""
        bl_m = _norm(pos - self.base_pos_ecef_m)
        return self.options.iono_std_m_per_10km * bl_m / 1.0e4

    def _iono_weighting_matters(self, pos):
        """Whether the ionosphere-weighted model can move a fixed position at ``pos`` at all.

        Largest slant term: mapping <= 3.2 (at the horizon), (f1/f)^2 <= 1.8 (L1/L5). Below 1 % of
        the phase noise it changes the variances by < 1e-4 relative: not worth the two solves (a
        short baseline skips :meth:`_iono_weighting`, whose shift is then exactly zero).
        """
        return not self._iono_sigma_m(pos) * 3.2 * 1.8 < 0.01 * self.options.phase_std_m

    def _drop_order(self, sat, f, el):
        """Rank of each candidate DD ambiguity for partial fixing (lowest is dropped first).

        Ambiguities not yet part of a validated fix since their last reset go first, newest first:
        a new or re-initialised ambiguity can have a small formal variance after a few epochs (the
        other satellites fix the position) while still carrying the unmodelled double-difference
        ionosphere and troposphere that the older ones have averaged, and it is what makes a ratio
        test fail right after a slip or a rising satellite (the "AR filter" of RTKLIB-demo5 b34
        delays such satellites for the same reason). Validated ambiguities follow, lowest
        elevation first (demo5 ``manage_amb_LAMBDA``). In instantaneous mode every float ambiguity
        is this epoch's: lowest elevation first only (with the validated ones kept, urban car, dual
        frequency, seeds 1 and 2: 88.2 -> 78.6 % and 93.6 -> 84.6 % fixed).
        """
        if self.options.ar_mode == "instantaneous":
            order = np.argsort(el, kind="stable")
        else:
            proven = self._proven[sat, f]
            lock = np.where(proven, 0, self._lock[sat, f])
            order = np.lexsort((el, lock, proven))
        rank = np.empty(order.shape[0], dtype=np.float64)
        rank[order] = np.arange(order.shape[0])
        return rank

    def _hold(self, res):
        """Constrain the float DD ambiguities to the fixed integers (fix-and-hold)."""
        nb = res.amb_i.shape[0]
        h = np.zeros((nb, self.nx))
        h[np.arange(nb), res.amb_i] = 1.0
        h[np.arange(nb), res.amb_j] = -1.0
        v = res.b_fix_cyc - (self.x[res.amb_i] - self.x[res.amb_j])
        r = np.eye(nb) * self.options.hold_std_cyc**2
        # Every state in use, not only the held ones: ambiguities left out of the fix (partial AR,
        # below the AR mask) are correlated with the held ones, and updating the held block alone
        # while keeping those cross-covariances leaves P indefinite (RTKLIB's filter() likewise
        # updates every non-zero state).
        act = np.nonzero(self._slot_used)[0].astype(np.int64)
        ekf_update(self.x, self.p, act, h, v, r)


def _norm(v):
    """Euclidean norm of a float64[3] vector as ``np.linalg.norm`` computes it (sqrt of the dot), unchecked."""
    return math.sqrt(v.dot(v))


def _iono_mapping(el_rad):
    """Slant/vertical ratio of the thin-shell ionosphere at 350 km (RTKLIB 2.4.3 ``ionmapf``, ``HION``)."""
    sin_z = 6371.0 / (6371.0 + 350.0) * np.cos(el_rad)
    return 1.0 / np.sqrt(1.0 - sin_z**2)


def _worst_sigma_ratio2(cov_m2, ref_m2):
    """Largest variance ratio of ``cov_m2`` over ``ref_m2`` in any direction (generalised eigenvalue, 3x3).

    ``max_u (u^T C u) / (u^T R u)``: with ``R = L L^T``, the largest eigenvalue of ``L^-1 C L^-T``.
    Infinite when ``ref_m2`` is not positive definite.
    """
    try:
        low = np.linalg.cholesky(ref_m2)
    except np.linalg.LinAlgError:
        return math.inf
    a = np.linalg.solve(low, cov_m2)
    return float(np.linalg.eigvalsh(np.linalg.solve(low, a.T)).max())


def _gls(h, v, r):
    """Generalised least squares ``(H^T R^-1 H)^-1 H^T R^-1 v`` and its covariance."""
    c = np.linalg.cholesky(r)
    hw = np.linalg.solve(c, h)
    vw = np.linalg.solve(c, v)
    cov = np.linalg.inv(hw.T @ hw)
    return cov @ (hw.T @ vw), cov


# ----------------------------------------------------------------------------------------------
# Batch driver
# ----------------------------------------------------------------------------------------------
#: Longest interval between two base epochs [s] over which the base phase drift is estimated: the
#: unmodelled terms are near-linear over a 30 s file interval, not over minutes.
BASE_DRIFT_MAX_GAP_S = 60.0
#: Smoothing time of the drift rate [s] (exponential; one 30 s interval replaces it whole).
BASE_DRIFT_TAU_S = 30.0
#: Largest credible drift of a base phase's unmodelled part [m/s]; beyond it, a missed slip.
BASE_DRIFT_MAX_MPS = 0.1

#: A kinematic update that moves the position further than this from its prior's centre [m] is
#: done again from the updated position (see RtkEngine._rtk).
RELINEARISE_M = 1.0

#: Epochs whose code geometry has a larger PDOP get no solution (RTKLIB 2.4.3 ``prcopt_t.maxgdop``,
#: default 30, applied to GDOP in ``pntpos.c`` ``valsol``, without which ``rtkpos`` has no epoch).
#: With four GPS satellites above 30 deg on the Nagoya pair (PDOP 270-620) the code solution alone
#: is 80-190 m off, and the ratio test then passed at 3-4 on fixes 50-200 m off.
MAX_PDOP = 30.0

#: Fix attempts per epoch when a fixed solution's own phase residuals reject a satellite.
FIX_VALIDATION_TRIES = 3

#: A fixed position is reported only when, under the ionosphere-weighted model (the model that
#: admits the double-difference ionosphere the float filter neglects), its standard deviation in
#: no direction exceeds this many times the float solution's. Partial fixing on a baseline of a
#: few km may keep only a few high satellites: their ionosphere-weighted solution can leave the
#: height undetermined (standard deviations of 0.4-2.9 m against 5-10 cm for the float) while the
#: ratio test passes on their (right) integers, and the residual ionosphere then moves the "fixed"
#: position by 0.1-0.7 m. Such a solution is no better than the float: it stays FLOAT.
FIX_FLOAT_SIGMA_RATIO = 5.0

#: Default bound on the bootstrapped failure rate of an instantaneous fix (``RtkOptions.max_failure_rate``).
#: An instantaneous fix is the integer solution of one epoch's float, whose ambiguities come from that
#: epoch's code (metres of standard deviation): the ratio test with a fixed threshold does not bound
#: the failure rate of such a weak model (Verhagen and Teunissen 2013, "The ratio test for future
#: GNSS ambiguity resolution", GPS Solutions 17), and with partial fixing it passes by chance on a
#: subset. The bootstrapped success rate from the float covariance bounds the integer least-squares
#: failure rate from above; 1e-3 is the customary fixed-failure-rate level (same paper). Simulated
#: urban car (900 s, seeds 1-4, dual / single / GPS+Galileo): without it 0-14.5 % of the
#: instantaneous fixes beyond 10 cm and up to 30 m off, fixes accepted at a success rate of 0.47.
INSTANTANEOUS_MAX_FAILURE_RATE = 1.0e-3

#: Largest time-tag difference [s] at which a base epoch counts as simultaneous with the rover's,
#: so that it may be paired though a few milliseconds later (RTKLIB 2.4.3 ``DTTOL``).
SYNC_TOL_S = 0.025


def _rover_clock_m(pos_ecef_m, obs) -> np.ndarray:
    """The rover's receiver clock bias [m] in its first clock group present (GPS when tracked).

    Returns float64[N_CLOCK_GROUPS], NaN but for that group: the median over the group's
    satellites of a code minus the range (Sagnac included) plus the satellite clock, good to tens
    of nanoseconds (atmosphere and code biases not modelled), enough to date the solution
    (:attr:`gnssaug.solvers.types.Solution.time_ns`) to the microsecond. Double differences never
    need it; a u-blox rover's clock is milliseconds off. One group keeps it to microseconds per epoch.
    """
    out = np.full(N_CLOCK_GROUPS, np.nan)
    rover_clock_m(pos_ecef_m, obs["sat_r"], obs["pr"][0], obs["dclk_m"], obs["clk_b_m"], obs["group"], out)
    return out


def match_base_epochs(rover_t_ns: np.ndarray, base_t_ns: np.ndarray, max_age_s: float,
                      backward: bool = False) -> np.ndarray:
    """Index of the base epoch each rover epoch is processed with, -1 where none is usable.

    Forward (real time): the latest base epoch not newer than the rover's, as a live rover holds
    the latest correction it received (RTKLIB 2.4.3 ``inputobs``); a base that is sparser than the
    rover (5 s or 30 s files) pairs each of its epochs with every rover epoch up to the next one.
    Receivers that tag epochs a few milliseconds off the whole second (u-blox) still pair with the
    base epoch of the same second: up to :data:`SYNC_TOL_S` newer counts as simultaneous. Backward
    (the second pass of a forward-backward combination), mirrored: the earliest base epoch not
    older than the rover's, so the combination sees the base on both sides of each rover epoch.

    Parameters
    ----------
    rover_t_ns, base_t_ns : int64[n], int64[m]
        Epoch times, non-decreasing.
    max_age_s : float
        Largest allowed |rover - base| [s] (age of differential).
    backward : bool
        Pair for processing backwards in time.

    Returns
    -------
    int64[n]
    """
    n, m = rover_t_ns.shape[0], base_t_ns.shape[0]
    if m == 0:
        return np.full(n, -1, dtype=np.int64)
    tol_ns = int(SYNC_TOL_S * NS_PER_S)
    if backward:
        pick = np.searchsorted(base_t_ns, rover_t_ns - tol_ns, side="left")
        inside = pick < m
    else:
        pick = np.searchsorted(base_t_ns, rover_t_ns + tol_ns, side="right") - 1
        inside = pick >= 0
    pick = np.clip(pick, 0, m - 1)
    ok = inside & (np.abs(base_t_ns[pick] - rover_t_ns) <= max_age_s * NS_PER_S)
    return np.where(ok, pick, -1).astype(np.int64)


def _run(engine: RtkEngine, rover, base, pairs, order) -> list[Solution]:
    sols = [None] * len(order)
    for k in order:
        j = pairs[k]
        sols[k] = engine.step(rover.epoch(k), base.epoch(j) if j >= 0 else None)
    return sols


def _combine(fwd: Solution, bwd: Solution) -> Solution:
    """Forward-backward combination of one epoch (covariance-weighted, fixed solutions preferred)."""
    if not bwd.ok:
        return fwd
    if not fwd.ok:
        return bwd
    if (fwd.status == SolStatus.FIX) != (bwd.status == SolStatus.FIX):
        return fwd if fwd.status == SolStatus.FIX else bwd
    try:
        wf = np.linalg.inv(fwd.cov_ecef_m2)
        wb = np.linalg.inv(bwd.cov_ecef_m2)
        cov = np.linalg.inv(wf + wb)
    except np.linalg.LinAlgError:
        return fwd
    out = replace(fwd, pos_ecef_m=cov @ (wf @ fwd.pos_ecef_m + wb @ bwd.pos_ecef_m), cov_ecef_m2=cov)
    if fwd.status == SolStatus.FIX:
        # Two fixes that disagree beyond their noise mean one of them picked wrong integers.
        d = fwd.pos_ecef_m - bwd.pos_ecef_m
        if d @ np.linalg.solve(fwd.cov_ecef_m2 + bwd.cov_ecef_m2, d) > 3.0 * 16.0:
            out.status = SolStatus.FLOAT
        out.ratio = max(fwd.ratio, bwd.ratio)
    return out


def solve_rtk(rover, base, satellites, base_pos_ecef_m, options: RtkOptions | None = None, combined: bool = False,
              glo_fcn=None):
    """Solve every rover epoch of a file pair (forward filter, or forward-backward combination).

    Parameters
    ----------
    rover, base : gnssaug.obs.ObsSeries
        Rover and base observations.
    satellites : object
        Satellite state source (see :class:`RtkEngine`).
    base_pos_ecef_m : float64[3]
        Base position [m].
    options : RtkOptions
    combined : bool
        Also run the filter backwards in time and combine both per epoch (post-processing). The
        forward pass uses, for each rover epoch, the latest base epoch not newer than it (what a
        real-time rover has); the backward pass the earliest not older (see
        :func:`match_base_epochs`), so with a sparse base the combination uses base epochs on
        both sides of the rover's.
    glo_fcn : int8[N_SAT], optional
        GLONASS frequency channels (see :class:`RtkEngine`).

    Returns
    -------
    gnssaug.solvers.types.SolutionSeries
    """
    from gnssaug.solvers.types import SolutionSeries

    options = (options or RtkOptions()).validated()
    pairs = match_base_epochs(rover.t_gpst_ns, base.t_gpst_ns, options.max_age_s)
    n = len(rover)
    sols = _run(RtkEngine(satellites, base_pos_ecef_m, options, glo_fcn=glo_fcn), rover, base, pairs, range(n))
    if combined and options.mode != "dgnss":
        engine = RtkEngine(satellites, base_pos_ecef_m, options, glo_fcn=glo_fcn)
        engine.backward = True
        back_pairs = match_base_epochs(rover.t_gpst_ns, base.t_gpst_ns, options.max_age_s, backward=True)
        back = _run(engine, rover, base, back_pairs, range(n - 1, -1, -1))
        sols = [_combine(f, b) for f, b in zip(sols, back, strict=True)]
    return SolutionSeries.from_solutions(sols)


def warm_up() -> None:
    """Load (or compile, on a cold cache) every RTK kernel once, e.g. at server start.

    Calls each kernel on a tiny problem with the argument types the engine uses, so the first real
    epoch does not pay the compilation or cache-loading time.
    """
    from gnssaug.kernels.dd import dd_ambiguity_cov, fixed_position
    from gnssaug.kernels.lambda_ import lambda_search_from

    n, nf, nx = 4, 2, 3 + 8
    rx = np.array([-3817680.7, 3562839.5, 3650159.2])
    sats = rx * 4.0 + np.arange(n * 3, dtype=np.float64).reshape(n, 3) * 1e5
    los, el, sd = np.empty((n, 3)), np.empty(n), np.empty(n)
    sd_geometry(rx, rx + 1.0, sats, sats, 100.0, True, los, el, sd)
    group = np.zeros(n, dtype=np.int8)
    ok = np.ones((n, nf), dtype=bool)
    ref = np.empty((N_CLOCK_GROUPS, nf), dtype=np.int64)
    select_references(group, el, ok, N_CLOCK_GROUPS, ref)
    amb = (3 + np.arange(n * nf, dtype=np.int64)).reshape(n, nf)
    x, p = np.zeros(nx), np.eye(nx)
    m = n * nf
    v, h, r = np.zeros(m), np.zeros((m, nx)), np.zeros((m, m))
    rows, fs = np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64)
    lam = np.full((n, nf), 0.19)
    nv = form_dd(group, los, np.zeros((n, nf)), np.ones((n, nf)), lam, amb, x, ok, ref, ROW_PHASE, v, h, r, rows, fs)
    add_iono_dd(group, rows, fs, nv, ref, np.arange(n, dtype=np.int64) + 3, -np.ones((n, nf)), x, v, h)
    mw = np.empty(n)
    wet_mapping_many(el, 0.6, mw)
    add_tropo_dd(group, rows, fs, nv, ref, mw, nx - 1, x, v, h)
    act = np.arange(nx, dtype=np.int64)
    ekf_update(x, p, act, np.ascontiguousarray(h[:nv]), v[:nv].copy(), np.ascontiguousarray(r[:nv, :nv]))
    snoop_w(np.ascontiguousarray(r[:nv, :nv]), v[:nv].copy(), np.ascontiguousarray(h[:nv]), act, x, x.copy(), p,
            np.empty(2 * nv), np.empty(2 * nv, dtype=np.int64), np.empty(2 * nv, dtype=bool))
    pr = np.stack([np.full((n, nf), 2.0e7), np.full((n, nf), 2.0e7)])
    screen_codes(pr, np.zeros(n), el, 0.1, group, N_CLOCK_GROUPS, np.ones((n, nf)), 4.0)
    known = np.ones(n, dtype=bool)
    sat = np.arange(n, dtype=np.int64)
    t_ns = np.zeros(N_SAT, dtype=np.int64)
    base_drift_known(sat, 1, t_ns, 60.0, known)
    rows = np.arange(n, dtype=np.int64)
    sig = np.zeros((n, N_BAND))
    flags = np.zeros((n, N_BAND), dtype=np.uint8)
    common_sats(np.arange(n, dtype=np.int16), np.arange(n, dtype=np.int16), np.ones(N_SAT, dtype=bool), rows.copy(),
                rows.copy(), rows.copy())
    take_signals(sat, rows, rows, np.zeros((N_SAT, nf), dtype=np.int64), sig, sig, sig, flags, sig, sig, sig, flags,
                 np.empty((2, n, nf)), np.empty((2, n, nf)), np.empty((2, n, nf)), np.empty((2, n, nf), dtype=np.uint8),
                 np.empty((2, n)))
    rover_clock_m(rx, sats, np.full((n, nf), 2.0e7), np.zeros(n), np.zeros(n), group, np.full(N_CLOCK_GROUPS, np.nan))
    base_drift_update(sat, 1, known, np.zeros((n, nf)), lam, np.zeros((n, nf), dtype=np.uint8),
                      np.zeros((n, nf), dtype=bool), sats, np.zeros(n), np.zeros(n), LLI_SLIP, 0.1, 30.0, t_ns,
                      np.zeros((N_SAT, nf)), np.zeros((N_SAT, 3)), np.zeros(N_SAT), np.zeros((N_SAT, nf)))
    vw, hw = np.empty(nv), np.empty((nv, 3))
    whiten_blocks(r[:nv, :nv], v[:nv], h[:nv], _POS_COLS, vw, hw)
    ai, aj = amb[1:, 0].copy(), np.full(n - 1, amb[0, 0])
    b, qb, qab = np.empty(n - 1), np.empty((n - 1, n - 1)), np.empty((3, n - 1))
    dd_ambiguity_cov(x, p, ai, aj, b, qb, qab)
    cand, s = np.zeros((n - 1, 2)), np.zeros(2)
    lambda_search_from(b, qb, 2, np.eye(n - 1), np.eye(n - 1), cand, s)
    fixed_position(x, p, b, cand[:, 0].copy(), qb, qab, np.empty(3), np.empty((3, 3)))
