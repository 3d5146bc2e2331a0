"""Signals, measurement noise, multipath, biases and tracking events of the simulator.

Signals per satellite (as transmitted in 2025)
    GPS: L1 C/A (``1C``) and semi-codeless L2 P(Y) (``2W``) on all satellites, L5 (``5Q``) on
    Block IIF and III (:data:`GPS_L5_PRNS`). Galileo: E1 (``1C``), E5a (``5Q``), E5b (``7Q``).
    BDS-2 (C01-C18): B1I (``2I``), B3I (``6I``), B2I (``7I``). BDS-3 MEO/IGSO (C19-C58): B1I,
    B3I, B1C (``1P``), B2a (``5P``). BDS-3 GEO (C59-C63): B1I, B3I only.

Noise
    C/N0 = 25 + 21 sqrt(sin el) dB-Hz plus a per-signal offset (B3I and the pilots of modern
    signals +2..3 dB; semi-codeless L2 P(Y) -3 dB and a squaring loss growing as the signal
    weakens, :data:`L2W_LOSS_SLOPE`) and 0.7 dB of jitter; the curve and offsets are those
    of the real WUHN receiver (Trimble NetR9, choke ring) by elevation on 2025-01-01; code noise at 45 dB-Hz per signal
    (:data:`CODE_SIGMA_45_M`) scaled by 10^(-(C/N0-45)/40). Thermal DLL noise alone grows as
    1/sqrt(C/N0) (exponent /20), but the real WUHN code-minus-phase spread grows only about half as
    fast (in dB) towards the horizon (carrier-aided, smoothed tracking), so the flatter law is used;
    phase noise sqrt(B/C/N0)/(2 pi) cycles with a 10 Hz loop (PLL thermal noise).
    Reference: Springer Handbook of GNSS (2017), §14.3.

Multipath (station-specific)
    A specular reflector towards each satellite at height ``h`` (drawn per receiver and satellite)
    with a reflection ratio ``alpha0 exp(-el/15 deg)``: code error ``alpha d cos(psi)/(1+alpha
    cos(psi))`` (narrow correlator, d = 2 h sin el) and phase error ``atan2(alpha sin psi, 1 + alpha
    cos psi)`` (decimetres and millimetres), plus a diffuse Gauss-Markov code term.

    BeiDou GEO and IGSO signals arrive ~3 dB weaker than MEO ones (36,000-40,000 km instead of
    ~22,000 km of path: 4-5 dB more spreading loss, partly offset by transmit power; WUHN shows
    2-5 dB), so their C/N0 offset is -3 dB.

BDS-2 satellite-induced code variations
    BDS-2 IGSO and MEO code carries an elevation-dependent bias of up to ~1 m (Wanninger & Beer
    2015, GPS Solutions 19:639, Table 2 corrections at 0, 10, ..., 90 deg; the simulated code
    carries minus the correction). BDS-3 and GEO satellites have none.

Biases, ambiguities, slips
    Satellite code biases per signal (``sat_bias_sigma_m``, common to all receivers) and receiver
    code biases per system and signal; a random integer ambiguity per arc; cycle slips and losses
    of lock at configurable rates per satellite-hour, five times likelier near the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gnssaug.gnss import BDS, BDS3_FIRST_PRN, GAL, GPS, N_BAND, SAT_IS_GEO, SAT_PRN, SAT_SYSTEM

#: GPS satellites with L5 (Block IIF and III, 2025).
GPS_L5_PRNS = frozenset((1, 3, 4, 6, 8, 9, 10, 11, 14, 18, 23, 24, 25, 26, 27, 28, 30, 32))
#: Systems the simulator generates.
SIM_SYSTEMS = (GPS, GAL, BDS)

#: Extra C/N0 loss of semi-codeless GPS L2 P(Y) tracking per dB of L1 C/N0 below 46 dB-Hz (WUHN:
#: L2W is 3 dB below L1 at the zenith and 13 dB below it near the horizon).
L2W_LOSS_SLOPE = 0.9
# (system, slot) -> (RINEX attribute, code sigma at 45 dB-Hz [m], C/N0 offset [dB]).
_SIGNALS = {
    (GPS, 0): ("C", 0.25, 0.0),
    (GPS, 1): ("W", 0.35, -3.0),
    (GPS, 2): ("Q", 0.12, 2.0),
    (GAL, 0): ("C", 0.20, 0.0),
    (GAL, 1): ("Q", 0.10, 2.0),
    (GAL, 2): ("Q", 0.10, 2.0),
    (BDS, 0): ("I", 0.25, -1.0),
    (BDS, 1): ("I", 0.12, 3.0),
    (BDS, 2): ("I", 0.25, 2.0),
    (BDS, 3): ("P", 0.20, 1.0),
    (BDS, 4): ("P", 0.10, 2.0),
}
CODE_SIGMA_45_M = {key: value[1] for key, value in _SIGNALS.items()}


def _slots(sat: int) -> tuple[int, ...]:
    system, prn = int(SAT_SYSTEM[sat]), int(SAT_PRN[sat])
    if system == GPS:
        return (0, 1, 2) if prn in GPS_L5_PRNS else (0, 1)
    if system == GAL:
        return (0, 1, 2)
    if system == BDS:
        if prn < BDS3_FIRST_PRN:
            return (0, 1, 2)
        return (0, 1) if SAT_IS_GEO[sat] else (0, 1, 3, 4)
    return ()


@dataclass(frozen=True)
class SignalTable:
    """Per satellite and slot: frequency (NaN: not transmitted), attribute, code sigma, C/N0 terms."""

    freq_hz: np.ndarray
    code: np.ndarray
    sigma_code_m: np.ndarray
    cn0_offset_db: np.ndarray
    cn0_loss_slope: np.ndarray


def signal_table(sat: np.ndarray) -> SignalTable:
    """The signals each satellite transmits (see the module docstring).

    Parameters
    ----------
    sat : int16[J]
        Global satellite indices (GPS, Galileo, BeiDou).

    Returns
    -------
    SignalTable
        Arrays of shape [J, N_BAND].
    """
    from gnssaug.gnss import BAND_FREQ_HZ

    n = sat.size
    freq = np.full((n, N_BAND), np.nan)
    code = np.zeros((n, N_BAND), dtype=np.uint8)
    sigma = np.zeros((n, N_BAND))
    offset = np.zeros((n, N_BAND))
    slope = np.zeros((n, N_BAND))
    for i, s in enumerate(sat):
        system = int(SAT_SYSTEM[s])
        for k in _slots(int(s)):
            attr, sig, off = _SIGNALS[(system, k)]
            freq[i, k] = BAND_FREQ_HZ[system, k]
            code[i, k] = ord(attr)
            sigma[i, k] = sig
            offset[i, k] = off
            if (system, k) == (GPS, 1):
                slope[i, k] = L2W_LOSS_SLOPE
        if system == BDS and (SAT_IS_GEO[s] or int(SAT_PRN[s]) in BDS_IGSO_PRNS):
            offset[i] += _HIGH_ORBIT_CN0_DB
    return SignalTable(freq, code, sigma, offset, slope)


# Wanninger & Beer (2015) Table 2: corrections [m] at elevations 0, 10, ..., 90 deg for B1, B2, B3.
_WB_IGSO = ((-0.55, -0.40, -0.34, -0.23, -0.15, -0.04, 0.09, 0.19, 0.27, 0.35),
            (-0.71, -0.36, -0.33, -0.19, -0.14, -0.03, 0.08, 0.17, 0.24, 0.33),
            (-0.27, -0.23, -0.21, -0.15, -0.11, -0.04, 0.05, 0.14, 0.19, 0.32))
_WB_MEO = ((-0.47, -0.38, -0.32, -0.23, -0.11, 0.06, 0.34, 0.69, 0.97, 1.05),
           (-0.40, -0.31, -0.26, -0.18, -0.06, 0.09, 0.28, 0.48, 0.64, 0.69),
           (-0.22, -0.15, -0.13, -0.10, -0.04, 0.05, 0.14, 0.27, 0.36, 0.47))
_BDS2_IGSO_PRNS = (6, 7, 8, 9, 10, 13, 16)
_BDS2_MEO_PRNS = (11, 12, 14)
_WB_SLOTS = (0, 2, 1)  # B1I, B2I, B3I slots of the table rows B1, B2, B3
#: BeiDou IGSO satellites (BDS-2 and BDS-3), with the GEOs weaker than MEOs at the ground.
BDS_IGSO_PRNS = frozenset((6, 7, 8, 9, 10, 13, 16, 31, 38, 39, 40, 56))
_HIGH_ORBIT_CN0_DB = -3.0
#: Number of elevation nodes (0..90 deg every 10 deg) of :func:`code_elevation_bias_m`.
N_EL_NODES = 10


def code_elevation_bias_m(sat: np.ndarray) -> np.ndarray:
    """Elevation-dependent code bias [m] per satellite, slot and 10-degree node (float64[J, N_BAND, 10]).

    Non-zero only for BDS-2 IGSO and MEO satellites (see the module docstring).
    """
    out = np.zeros((sat.size, N_BAND, N_EL_NODES))
    for i, s in enumerate(sat):
        if SAT_SYSTEM[s] != BDS:
            continue
        prn = int(SAT_PRN[s])
        table = _WB_IGSO if prn in _BDS2_IGSO_PRNS else _WB_MEO if prn in _BDS2_MEO_PRNS else None
        if table is None:
            continue
        for row, slot in enumerate(_WB_SLOTS):
            out[i, slot] = -np.asarray(table[row])
    return out


@dataclass(frozen=True)
class ReceiverEnv:
    """A receiver's surroundings and tracking behaviour.

    Attributes
    ----------
    el_mask_deg : float
        Elevation mask [deg].
    obstruction_deg : tuple of (az_from_deg, az_to_deg, min_el_deg)
        Sectors (clockwise from north) where the sky is blocked below ``min_el_deg``.
    mp_alpha0 : float
        Specular reflection ratio at the horizon (0.15 choke ring on a pillar .. 0.6 metal nearby).
    mp_height_m : (float, float)
        Range of reflector heights below the antenna [m].
    mp_gm_sigma_m, mp_gm_tau_s : float
        Diffuse code multipath at zenith [m] and its correlation time [s].
    slip_per_sat_hour, lol_per_sat_hour : float
        Cycle slips and losses of lock per satellite-hour high in the sky.
    cn0_offset_db : float
        Antenna gain and receiver quality relative to a geodetic station [dB].
    clock : str
        ``"jump"`` or ``"steered"`` (see :mod:`gnssaug.datasets.sim.clocks`).
    rx_bias_sigma_m : float
        Receiver code bias sigma per system and signal [m].
    """

    el_mask_deg: float = 5.0
    obstruction_deg: tuple = ()
    mp_alpha0: float = 0.3
    mp_height_m: tuple[float, float] = (1.5, 8.0)
    mp_gm_sigma_m: float = 0.05
    mp_gm_tau_s: float = 60.0
    slip_per_sat_hour: float = 0.05
    lol_per_sat_hour: float = 0.05
    cn0_offset_db: float = 0.0
    clock: str = "jump"
    rx_bias_sigma_m: float = 1.0
    extra: dict = field(default_factory=dict, compare=False)

    def horizon_rad(self, n_bins: int = 360) -> np.ndarray:
        """Minimum elevation per azimuth bin of 360/n_bins degrees [rad] (float64[n_bins])."""
        out = np.zeros(n_bins)
        centres = (np.arange(n_bins) + 0.5) * 360.0 / n_bins
        for az0, az1, el in self.obstruction_deg:
            inside = (centres - az0) % 360.0 <= (az1 - az0) % 360.0
            out[inside] = np.maximum(out[inside], el)
        return np.radians(out)


#: Environment of a reference station: geodetic antenna on a pillar or roof, open sky.
STATION_ENV = ReceiverEnv()


def satellite_code_biases_m(rng: np.random.Generator, table: SignalTable, sigma_m: float = 0.5) -> np.ndarray:
    """Satellite code biases per signal [m] (float64[J, N_BAND], 0 where not transmitted).

    The first slot of each satellite is the clock reference signal (its bias is in the clock).
    """
    out = sigma_m * rng.standard_normal(table.freq_hz.shape)
    out[:, 0] = 0.0
    out[np.isnan(table.freq_hz)] = 0.0
    return out


def receiver_code_biases_m(rng: np.random.Generator, sat: np.ndarray, sigma_m: float) -> np.ndarray:
    """Receiver code biases per system and signal [m], expanded to float64[J, N_BAND]."""
    per_group = sigma_m * rng.standard_normal((8, N_BAND))
    group = np.where((SAT_SYSTEM[sat] == BDS) & (SAT_PRN[sat] >= BDS3_FIRST_PRN), 7, SAT_SYSTEM[sat])
    return per_group[group]
