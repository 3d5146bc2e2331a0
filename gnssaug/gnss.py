"""Constellations, the global satellite index and the signal plan.

The global satellite index ``sat`` numbers every satellite of every system from 0 upwards, in the
order of :data:`SYSTEMS`; arrays of satellites are ``int16`` and sorting them sorts by system, then
PRN. ``prn`` is the number within a system (BeiDou keeps PRN 1-63, SBAS its PRN 120-158), and
``sv`` is the three-character name (``"C07"``) used only at the edges (files, messages, logs).

Each system has up to :data:`N_BAND` observation *slots*; slot ``k`` of a system is one carrier
frequency band. An :class:`gnssaug.obs.ObsEpoch` stores at most one signal per slot, and the
``code`` array says which tracking mode (RINEX attribute letter, as its ASCII code) filled it.
RINEX observation codes and RTCM MSM signal identifiers both map into the slots by table lookup.

References: RINEX 3.05 §5.1 and Table A2-A10 (observation codes); BDS-SIS-ICD-B1I-3.0,
BDS-SIS-ICD-B1C-1.0, BDS-SIS-ICD-B2a-1.0 (BeiDou carrier frequencies); IS-GPS-200, IS-GPS-705;
Galileo OS SIS ICD §2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnssaug.errors import UnknownSatelliteError, UnknownSignalError

# ----------------------------------------------------------------------------------------------
# Systems
# ----------------------------------------------------------------------------------------------
GPS, GLO, GAL, QZS, BDS, SBS, IRN = range(7)
#: System letters in index order (RINEX 3 system identifiers).
SYSTEMS = "GREJCSI"
SYSTEM_NAMES = ("GPS", "GLONASS", "Galileo", "QZSS", "BeiDou", "SBAS", "NavIC")
#: Highest PRN slot per system (SBAS counts PRN 120-158 as slots 1-39).
MAX_PRN = (32, 32, 36, 10, 63, 39, 14)
#: First PRN of each system (SBAS PRNs start at 120).
PRN_BASE = (1, 1, 1, 1, 1, 120, 1)

_offsets = np.concatenate(([0], np.cumsum(MAX_PRN))).astype(np.int16)
SYSTEM_OFFSET = tuple(int(v) for v in _offsets[:-1])
N_SAT = int(_offsets[-1])

#: ``SAT_SYSTEM[sat]``: the system of every global satellite index (int8[N_SAT]).
SAT_SYSTEM = np.repeat(np.arange(len(SYSTEMS), dtype=np.int8), MAX_PRN)
#: ``SAT_PRN[sat]``: the PRN within its system (int16[N_SAT]).
SAT_PRN = np.concatenate(
    [np.arange(PRN_BASE[s], PRN_BASE[s] + MAX_PRN[s], dtype=np.int16) for s in range(len(SYSTEMS))]
)

# BeiDou: BDS-2 is C01-C18, BDS-3 C19 and above; GEO satellites are C01-C05 and C59-C63
# (BDS-SIS-ICD-B1I-3.0 §1; the GEO orbit branch of §5.2.4.12 applies to them).
BDS3_FIRST_PRN = 19
BDS_GEO_PRNS = (1, 2, 3, 4, 5, 59, 60, 61, 62, 63)

#: Clock / inter-system-bias groups: one receiver clock per group in SPP, one reference satellite
#: per group in RTK. BDS-2 and BDS-3 are separate groups.
CLOCK_GROUPS = ("GPS", "GLONASS", "Galileo", "QZSS", "BDS-2", "BDS-3", "SBAS", "NavIC")
N_CLOCK_GROUPS = len(CLOCK_GROUPS)
_GROUP_OF_SYSTEM = (0, 1, 2, 3, 4, 6, 7)
SAT_CLOCK_GROUP = np.array(
    [
        5 if (SAT_SYSTEM[i] == BDS and SAT_PRN[i] >= BDS3_FIRST_PRN) else _GROUP_OF_SYSTEM[SAT_SYSTEM[i]]
        for i in range(N_SAT)
    ],
    dtype=np.int8,
)
#: ``SAT_IS_GEO[sat]``: True for BeiDou GEO satellites.
SAT_IS_GEO = np.zeros(N_SAT, dtype=np.bool_)
for _prn in BDS_GEO_PRNS:
    SAT_IS_GEO[SYSTEM_OFFSET[BDS] + _prn - 1] = True


def system_index(letter: str) -> int:
    """Return the system index of a RINEX system letter (``"C"`` -> :data:`BDS`)."""
    i = SYSTEMS.find(letter)
    if i < 0 or len(letter) != 1:
        raise UnknownSatelliteError(f"unknown GNSS system letter {letter!r}; expected one of {SYSTEMS}")
    return i


def sat_index(system: int, prn: int) -> int:
    """Return the global satellite index of ``prn`` in ``system``.

    Raises
    ------
    UnknownSatelliteError
        If the PRN is outside the system's range.
    """
    slot = prn - PRN_BASE[system]
    if not 0 <= slot < MAX_PRN[system]:
        raise UnknownSatelliteError(f"{SYSTEM_NAMES[system]} PRN {prn} is outside the satellite index")
    return SYSTEM_OFFSET[system] + slot


def parse_sv(sv: str) -> int:
    """Return the global index of a satellite named like ``"C07"``, ``"G 5"`` or ``"S23"``.

    SBAS names follow RINEX: ``S23`` is PRN 123.
    """
    sv = sv.strip()
    if len(sv) < 2:
        raise UnknownSatelliteError(f"cannot read a satellite name from {sv!r}")
    system = system_index(sv[0])
    try:
        number = int(sv[1:])
    except ValueError:
        raise UnknownSatelliteError(f"cannot read a satellite name from {sv!r}") from None
    prn = number + 100 if system == SBS else number
    return sat_index(system, prn)


def sv_name(sat: int) -> str:
    """Return the three-character name (``"C07"``) of a global satellite index."""
    if not 0 <= sat < N_SAT:
        raise UnknownSatelliteError(f"satellite index {sat} is outside 0..{N_SAT - 1}")
    system = int(SAT_SYSTEM[sat])
    prn = int(SAT_PRN[sat])
    return f"{SYSTEMS[system]}{prn - 100 if system == SBS else prn:02d}"


def is_bds3(sat: int) -> bool:
    """True for a BDS-3 satellite (C19 and above)."""
    return int(SAT_CLOCK_GROUP[sat]) == 5


# ----------------------------------------------------------------------------------------------
# Signal plan
# ----------------------------------------------------------------------------------------------
#: Observation slots per satellite in an ObsEpoch.
N_BAND = 6

# GLONASS FDMA: f = f0 + k * df for frequency channel k (GLONASS ICD 5.1 §3.3.1.4).
GLO_G1_HZ, GLO_G1_STEP_HZ = 1602.0e6, 0.5625e6
GLO_G2_HZ, GLO_G2_STEP_HZ = 1246.0e6, 0.4375e6
#: Marker for an unknown GLONASS frequency channel number (valid channels are -7..+6).
GLO_FCN_UNKNOWN = -128


@dataclass(frozen=True)
class Band:
    """One observation slot of a system's signal plan.

    Attributes
    ----------
    name : str
        Signal name used in reports (``"B1I"``, ``"L5"``).
    rinex_band : str
        RINEX 3.03+ band digit of the observation code (``"2"`` for B1I).
    freq_hz : float
        Carrier frequency [Hz]; for GLONASS G1/G2, the channel-0 frequency.
    freq_step_hz : float
        GLONASS FDMA step per frequency channel [Hz]; 0 for CDMA signals.
    attributes : str
        Tracking-mode letters accepted in this slot, most preferred first.
    """

    name: str
    rinex_band: str
    freq_hz: float
    freq_step_hz: float
    attributes: str


def _b(name, band, mhz, attrs, step_mhz=0.0):
    return Band(name, band, mhz * 1e6, step_mhz * 1e6, attrs)


#: The signal plan: ``SIGNAL_PLAN[system][slot]``.
SIGNAL_PLAN: tuple[tuple[Band, ...], ...] = (
    # GPS: IS-GPS-200 (L1, L2), IS-GPS-705 (L5).
    (_b("L1", "1", 1575.42, "CWPYMSLXN"), _b("L2", "2", 1227.60, "WPYCMLSXDN"), _b("L5", "5", 1176.45, "QXI")),
    # GLONASS: FDMA G1/G2 and CDMA G3 (GLONASS ICD 5.1, ICD L3OC).
    (_b("G1", "1", 1602.0, "CP", 0.5625), _b("G2", "2", 1246.0, "CP", 0.4375), _b("G3", "3", 1202.025, "QXI")),
    # Galileo: OS SIS ICD §2.
    (
        _b("E1", "1", 1575.42, "CXBAZ"),
        _b("E5a", "5", 1176.45, "QXI"),
        _b("E5b", "7", 1207.14, "QXI"),
        _b("E6", "6", 1278.75, "CXBAZ"),
        _b("E5", "8", 1191.795, "QXI"),
    ),
    # QZSS: IS-QZSS-PNT.
    (
        _b("L1", "1", 1575.42, "CXSLZB"),
        _b("L2", "2", 1227.60, "LXS"),
        _b("L5", "5", 1176.45, "QXIDPZ"),
        _b("L6", "6", 1278.75, "LXSEZ"),
    ),
    # BeiDou: B1I/B3I/B2I (B1I ICD 3.0, B3I ICD 1.0), B1C (B1C ICD 1.0), B2a (B2a ICD 1.0),
    # B2b (B2b ICD 1.0) shares band 7 with B2I, B2a+b is band 8.
    (
        _b("B1I", "2", 1561.098, "IXQ"),
        _b("B3I", "6", 1268.52, "IXQ"),
        _b("B2I/B2b", "7", 1207.14, "IXQDZP"),
        _b("B1C", "1", 1575.42, "PXDSLZ"),
        _b("B2a", "5", 1176.45, "PXD"),
        _b("B2a+b", "8", 1191.795, "PXD"),
    ),
    # SBAS: L1 C/A and L5.
    (_b("L1", "1", 1575.42, "C"), _b("L5", "5", 1176.45, "QXI")),
    # NavIC: L5 and S.
    (_b("L5", "5", 1176.45, "ABCX"), _b("S", "9", 2492.028, "ABCX")),
)

#: ``BAND_FREQ_HZ[system, slot]``: carrier frequency of each slot, NaN where the slot is unused
#: (float64[7, N_BAND]). GLONASS FDMA slots hold the channel-0 frequency; see :func:`sat_freq_hz`.
BAND_FREQ_HZ = np.full((len(SYSTEMS), N_BAND), np.nan)
#: ``BAND_FREQ_STEP_HZ[system, slot]``: FDMA step per channel (0 for CDMA).
BAND_FREQ_STEP_HZ = np.zeros((len(SYSTEMS), N_BAND))
for _s, _bands in enumerate(SIGNAL_PLAN):
    for _k, _band in enumerate(_bands):
        BAND_FREQ_HZ[_s, _k] = _band.freq_hz
        BAND_FREQ_STEP_HZ[_s, _k] = _band.freq_step_hz


def band_slot(system: int, rinex_band: str, attribute: str, rinex_version: float = 3.04) -> int:
    """Return the observation slot of a RINEX band digit and attribute letter.

    Parameters
    ----------
    system : int
        System index.
    rinex_band : str
        The band digit of the observation code (``"2"`` in ``C2I``).
    attribute : str
        The tracking-mode letter (``"I"`` in ``C2I``).
    rinex_version : float
        The file's RINEX version. Before 3.03, BeiDou B1I was written with band ``1``
        (``C1I``/``L1I``; RINEX 3.02 §5.1); it is mapped to the B1I slot here.

    Returns
    -------
    int
        The slot index.

    Raises
    ------
    UnknownSignalError
        If the band/attribute pair is not in the system's signal plan.
    """
    if system == BDS and rinex_band == "1" and attribute in "IQX" and rinex_version < 3.03:
        return 0
    for k, band in enumerate(SIGNAL_PLAN[system]):
        if band.rinex_band == rinex_band and attribute in band.attributes:
            return k
    raise UnknownSignalError(
        f"{SYSTEM_NAMES[system]} has no signal with band {rinex_band!r} and attribute {attribute!r}"
    )


def attribute_rank(system: int, slot: int, attribute: str) -> int:
    """Preference rank of a tracking mode within a slot (0 is the most preferred)."""
    attrs = SIGNAL_PLAN[system][slot].attributes
    i = attrs.find(attribute)
    return i if i >= 0 else len(attrs)


#: Tracking-mode order per system and slot for rovers that track civil and pilot signals only
#: (u-blox ZED-F9P class receivers, phones, machine-control and 5G modules), most preferred first;
#: ``CIVIL_FIRST[system][slot]``, the same letters as ``SIGNAL_PLAN[system][slot].attributes``.
#:
#: Only GPS L2 differs from the default order: the default puts the semi-codeless P(Y) (``W``) first,
#: which geodetic receivers track on every satellite, but a low-cost rover tracks L2C only and
#: cannot use P(Y) corrections. Here L2C comes first: ``L`` (CL, the dataless pilot whose phase the
#: rover tracks; RTCM MSM signal 2L), ``X`` (CM+CL), ``S`` (CM), ``C``, and only then ``W`` and the
#: other P(Y) modes, which stay for satellites without L2C (GPS IIR). The other slots already rank
#: the civil pilot first (Galileo E1/E6 ``C``, E5a/E5b ``Q``, GPS L5 ``Q``, BDS-3 B1C/B2a ``P``,
#: QZSS L2 ``L``) or carry civil signals only (B1I, B3I, GLONASS C/A). IS-GPS-200 §3.3.1.5 (L2C),
#: RINEX 3.05 Table 4 (attributes).
CIVIL_FIRST: tuple[tuple[str, ...], ...] = tuple(
    tuple("LXSCWPYMDN" if (s == GPS and band.name == "L2") else band.attributes for band in bands)
    for s, bands in enumerate(SIGNAL_PLAN)
)


def civil_rank(system: int, slot: int, attribute: str) -> int:
    """Preference rank of a tracking mode in the :data:`CIVIL_FIRST` order (0 is the most preferred).

    A drop-in for :func:`attribute_rank` where observations go to civil-signal rovers (the MSM4
    profile mountpoint); letters outside the slot's plan rank last.
    """
    attrs = CIVIL_FIRST[system][slot]
    i = attrs.find(attribute)
    return i if i >= 0 else len(attrs)


def sat_freq_hz(sat: np.ndarray, glo_fcn: np.ndarray | None = None) -> np.ndarray:
    """Carrier frequencies of each satellite's slots.

    Parameters
    ----------
    sat : int16[n]
        Global satellite indices.
    glo_fcn : int8[N_SAT], optional
        GLONASS frequency channel number per global index (from the navigation data or the RINEX
        header ``GLONASS SLOT / FRQ #``), :data:`GLO_FCN_UNKNOWN` where unknown. GLONASS FDMA
        slots are NaN where the channel is not known.

    Returns
    -------
    float64[n, N_BAND]
        Frequency [Hz] of each slot, NaN for unused slots.
    """
    sat = np.asarray(sat)
    system = SAT_SYSTEM[sat]
    freq = BAND_FREQ_HZ[system].copy()
    is_fdma = BAND_FREQ_STEP_HZ[system] != 0.0
    if glo_fcn is None:
        freq[is_fdma] = np.nan
    else:
        k = np.asarray(glo_fcn, dtype=np.float64)[sat][:, None]
        fdma_hz = np.where(k == GLO_FCN_UNKNOWN, np.nan, freq + k * BAND_FREQ_STEP_HZ[system])
        freq = np.where(is_fdma, fdma_hz, freq)
    return freq
