"""Signals, measurement noise, multipath, biases and tracking events of the simulator.

Signals per satellite (as transmitted in 2025)
    GPS: L1 C/A (``1C``) and semi-codeless L2 P(Y) (``2W``) on all satellites, L5 (``5Q``) on
    Block IIF and III (:data:`GPS_L5_PRNS`). Galileo: E1 (``1C``), E5a (``5Q``), E5b (``7Q``).
    BDS-2 (C01-C18): B1I (``2I``), B3I (``6I``), B2I (``7I``). BDS-3 MEO/IGSO (C19-C58): B1I,
    B3I, B1C (``1P``), B2a (``5P``). BDS-3 GEO (C59-C63): B1I, B3I only.

Noise
    C/N0 = 30 + 20 sqrt(sin el) dB-Hz plus a per-signal offset (L2 semi-codeless -4 dB, pilots of
    modern signals +2 dB) and 0.7 dB of jitter; code noise at 45 dB-Hz per signal
    (:data:`CODE_SIGMA_45_M`) scaled by 10^(-(C/N0-45)/20) (DLL thermal noise grows as
    1/sqrt(C/N0)); phase noise sqrt(B/C/N0)/(2 pi) cycles with a 10 Hz loop (PLL thermal noise).
    Reference: Springer Handbook of GNSS (2017), §14.3.

Multipath (station-specific)
    A specular reflector towards each satellite at height ``h`` (drawn per receiver and satellite)
    with a reflection ratio ``alpha0 exp(-el/15 deg)``: code error ``alpha d cos(psi)/(1+alpha
    cos(psi))`` (narrow correlator, d = 2 h sin el) and phase error ``atan2(alpha sin psi, 1 + alpha
    cos psi)`` (decimetres and millimetres), plus a diffuse Gauss-Markov code term.

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

# (system, slot) -> (RINEX attribute, code sigma at 45 dB-Hz [m], C/N0 offset [dB]).
_SIGNALS = {
    (GPS, 0): ("C", 0.30, 0.0),
    (GPS, 1): ("W", 0.40, -4.0),
    (GPS, 2): ("Q", 0.12, 2.0),
    (GAL, 0): ("C", 0.20, 0.0),
    (GAL, 1): ("Q", 0.10, 2.0),
    (GAL, 2): ("Q", 0.10, 2.0),
    (BDS, 0): ("I", 0.30, 0.0),
    (BDS, 1): ("I", 0.12, 2.0),
    (BDS, 2): ("I", 0.25, 0.0),
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
    """Per satellite and slot: frequency (NaN: not transmitted), attribute, code sigma, C/N0 offset."""

    freq_hz: np.ndarray
    code: np.ndarray
    sigma_code_m: np.ndarray
    cn0_offset_db: np.ndarray


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
    for i, s in enumerate(sat):
        system = int(SAT_SYSTEM[s])
        for k in _slots(int(s)):
            attr, sig, off = _SIGNALS[(system, k)]
            freq[i, k] = BAND_FREQ_HZ[system, k]
            code[i, k] = ord(attr)
            sigma[i, k] = sig
            offset[i, k] = off
    return SignalTable(freq, code, sigma, offset)


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
