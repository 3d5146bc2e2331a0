"""Broadcast ephemeris records as structs of arrays, and the navigation data of a file or stream.

Two record families cover every system:

- :class:`KeplerEphemerides` for GPS (LNAV, CNAV), Galileo (I/NAV, F/NAV), QZSS, BeiDou (D1, D2,
  CNAV-1, CNAV-2) and NavIC: Keplerian elements with harmonic corrections, one row per record.
  The float parameters live in one ``float64[n, K]`` matrix ``param`` whose columns are named by
  the ``K_*`` constants below, so a numba kernel receives one contiguous array.
- :class:`GlonassEphemerides` for GLONASS FDMA: PZ-90 state vectors with luni-solar accelerations.

Times are absolute GPST nanoseconds (``*_gpst_ns``) for computation, and also kept as the raw week
and seconds of week of the system's *own* time scale (GPS week/GPST, GST week/GST, BDT week/BDT,
for the RTCM codec that must write them back bit-exactly).

The RTCM codec converts messages 1019 (GPS), 1020 (GLONASS), 1042 (BDS), 1044 (QZSS), 1045
(Galileo F/NAV) and 1046 (Galileo I/NAV) to and from these records; every field those messages
carry has a home here (RTCM 10403.3 Tables 3.5-21, 3.5-22, 3.5-100, 3.5-104, 3.5-106,
3.5-107, 3.5-110).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from gnssaug.errors import InvalidInputError
from gnssaug.gnss import GLO_FCN_UNKNOWN, N_SAT, SAT_IS_GEO

# ----------------------------------------------------------------------------------------------
# Keplerian parameter columns. Units and sources: IS-GPS-200 Table 20-III (GPS LNAV, also QZSS),
# IS-GPS-200 §30.3.3.1 (CNAV), Galileo OS SIS ICD §5.1.1-§5.1.5, BDS-SIS-ICD-B1I-3.0 §5.2.4,
# BDS-SIS-ICD-B1C-1.0 §6.2 (CNAV-1), BDS-SIS-ICD-B2a-1.0 §6.2 (CNAV-2).
# ----------------------------------------------------------------------------------------------
K_AF0 = 0  #: clock bias a_f0 [s]
K_AF1 = 1  #: clock drift a_f1 [s/s]
K_AF2 = 2  #: clock drift rate a_f2 [s/s^2]
K_CRS = 3  #: sine harmonic correction to the orbit radius C_rs [m]
K_CRC = 4  #: cosine harmonic correction to the orbit radius C_rc [m]
K_CUS = 5  #: sine harmonic correction to the argument of latitude C_us [rad]
K_CUC = 6  #: cosine harmonic correction to the argument of latitude C_uc [rad]
K_CIS = 7  #: sine harmonic correction to the inclination C_is [rad]
K_CIC = 8  #: cosine harmonic correction to the inclination C_ic [rad]
K_DN = 9  #: mean motion difference Delta n [rad/s]
K_M0 = 10  #: mean anomaly at reference time M_0 [rad]
K_E = 11  #: eccentricity e [-]
K_SQRTA = 12  #: square root of the semi-major axis sqrt(A) [sqrt(m)] (CNAV: of A_ref + Delta A at toe)
K_OMEGA0 = 13  #: longitude of the ascending node at the weekly epoch Omega_0 [rad]
K_I0 = 14  #: inclination at reference time i_0 [rad]
K_OMEGA = 15  #: argument of perigee omega [rad]
K_OMEGADOT = 16  #: rate of right ascension Omega_dot [rad/s]
K_IDOT = 17  #: rate of inclination IDOT [rad/s]
#: Group delay 1 [s]: GPS/QZSS T_GD; BeiDou T_GD1 (B1I); Galileo BGD(E1,E5a); NavIC T_GD.
K_TGD = 18
#: Group delay 2 [s]: BeiDou T_GD2 (B2I); Galileo BGD(E1,E5b); NaN for systems without it.
K_TGD2 = 19
K_BGD_E5A_E1 = K_TGD  #: Galileo alias of :data:`K_TGD` (BGD E1-E5a) [s]
K_BGD_E5B_E1 = K_TGD2  #: Galileo alias of :data:`K_TGD2` (BGD E1-E5b) [s]
K_TGD1 = K_TGD  #: BeiDou alias of :data:`K_TGD` (T_GD1, B1I) [s]
#: Signal-in-space accuracy [m]: GPS URA (RINEX: metres of the URA index), Galileo SISA,
#: BeiDou URA; NaN where unknown (use :func:`ura_m_from_index` for RTCM indices).
K_ACC_M = 20
K_FIT_H = 21  #: curve fit interval [h] (GPS: 4 h unless the fit flag says otherwise); NaN if unknown
K_ADOT = 22  #: rate of semi-major axis A_dot [m/s] (CNAV types; 0 for legacy)
K_DN_DOT = 23  #: rate of mean motion difference Delta n_dot [rad/s^2] (CNAV types; 0 for legacy)
K_L2_CODES = 24  #: GPS codes on L2 channel (0-3, IS-GPS-200 §20.3.3.3.1.2); NaN otherwise
K_L2P_FLAG = 25  #: GPS L2 P data flag (0/1); NaN otherwise
#: BDS-3 CNAV group delays [s] (BDS-SIS-ICD-B1C-1.0 §6.2.8, B2a-1.0 §6.2.8); NaN if not broadcast.
K_TGD_B1CP = 26
K_TGD_B2AP = 27
K_ISC_B1CD = 28
K_ISC_B2AD = 29
#: GPS CNAV inter-signal corrections [s] (IS-GPS-200 §30.3.3.3.1.1); NaN if not broadcast.
K_ISC_L1CA = 30
K_ISC_L2C = 31
K_ISC_L5I5 = 32
K_ISC_L5Q5 = 33
#: Number of parameter columns.
N_KEPLER_PARAM = 34

KEPLER_PARAM_NAMES = (
    "af0_s", "af1_sps", "af2_sps2", "crs_m", "crc_m", "cus_rad", "cuc_rad", "cis_rad", "cic_rad",
    "dn_radps", "m0_rad", "e", "sqrta_sqrtm", "omega0_rad", "i0_rad", "omega_rad", "omegadot_radps",
    "idot_radps", "tgd_s", "tgd2_s", "acc_m", "fit_h", "adot_mps", "dn_dot_radps2", "l2_codes",
    "l2p_flag", "tgd_b1cp_s", "tgd_b2ap_s", "isc_b1cd_s", "isc_b2ad_s", "isc_l1ca_s", "isc_l2c_s",
    "isc_l5i5_s", "isc_l5q5_s",
)
#: Columns that default to 0 (not NaN) when a message does not carry them.
_ZERO_DEFAULT = (K_AF2, K_ADOT, K_DN_DOT)

# Navigation message types (``msg_type``), as in RINEX 4 ``> EPH`` record types.
NAV_LNAV, NAV_CNAV, NAV_CNV2, NAV_INAV, NAV_FNAV, NAV_D1, NAV_D2, NAV_CNV1, NAV_CNV3 = range(9)
NAV_TYPE_NAMES = ("LNAV", "CNAV", "CNV2", "INAV", "FNAV", "D1", "D2", "CNV1", "CNV3")

# Galileo data source bits (RINEX 3.05 Table A8, the "Data sources" field).
GAL_SRC_INAV_E1B = 1
GAL_SRC_FNAV_E5A = 2
GAL_SRC_INAV_E5B = 4
GAL_SRC_CLK_E5A = 256  #: af0-af2 and SISA refer to E5a,E1 (F/NAV clock)
GAL_SRC_CLK_E5B = 512  #: af0-af2 and SISA refer to E5b,E1 (I/NAV clock)


def _as(name, values, dtype, n, shape=None):
    arr = np.ascontiguousarray(values, dtype=dtype)
    want = (n,) if shape is None else (n, *shape)
    if arr.shape != want:
        raise InvalidInputError(f"{name} must have shape {want}, got {arr.shape}")
    return arr


def _coerce(obj, dtypes: dict, float_rows: dict) -> None:
    """Validate and convert the arrays of a frozen record dataclass in place (n from ``sat``)."""
    if np.ndim(obj.sat) != 1:
        raise InvalidInputError("sat must be a 1-D array")
    n = np.asarray(obj.sat).shape[0]
    set_ = object.__setattr__
    for name, dtype in dtypes.items():
        set_(obj, name, _as(name, getattr(obj, name), dtype, n))
    for name, shape in float_rows.items():
        set_(obj, name, _as(name, getattr(obj, name), np.float64, n, shape))
    if np.any((obj.sat < 0) | (obj.sat >= N_SAT)):
        raise InvalidInputError(f"sat holds values outside 0..{N_SAT - 1}")


_KEPLER_DTYPES = {
    "sat": np.int16, "msg_type": np.int8, "toe_gpst_ns": np.int64, "toc_gpst_ns": np.int64,
    "ttr_gpst_ns": np.int64, "week": np.int32, "toe_s": np.float64, "toc_s": np.float64, "iode": np.int32,
    "iodc": np.int32, "health": np.int32, "data_source": np.int32, "is_geo": np.bool_,
}
_GLO_DTYPES = {
    "sat": np.int16, "toe_gpst_ns": np.int64, "tb_s": np.float64, "tk_s": np.float64, "tau_n_s": np.float64,
    "gamma_n": np.float64, "delta_tau_n_s": np.float64, "fcn": np.int8, "health": np.int32, "age_d": np.int32,
    "iode": np.int32, "acc_m": np.float64,
}


class _RecordSet:
    """Shared behaviour of the record classes: length, selection, the empty set."""

    def __len__(self) -> int:
        return int(self.sat.shape[0])

    def take(self, index):
        """The records selected by an index or boolean mask, as a new object of the same class."""
        return type(self)(**{f: getattr(self, f)[index] for f in self.__dataclass_fields__})

    @classmethod
    def empty(cls):
        """No records."""
        return cls.from_records([])


@dataclass(frozen=True)
class KeplerEphemerides(_RecordSet):
    """Keplerian broadcast ephemerides of GPS, Galileo, QZSS, BeiDou and NavIC (n records).

    Attributes
    ----------
    sat : int16[n]
        Global satellite index (:mod:`gnssaug.gnss`).
    msg_type : int8[n]
        Navigation message type, one of the ``NAV_*`` constants (RINEX 4 record type).
    toe_gpst_ns, toc_gpst_ns : int64[n]
        Ephemeris and clock reference times as absolute GPST nanoseconds.
    ttr_gpst_ns : int64[n]
        Transmission time of the message (GPST ns); equal to ``toe_gpst_ns`` where unknown.
    week : int32[n]
        Week of ``toe`` in the system's own scale: GPS week (GPS, QZSS, NavIC; continuous, not
        modulo 1024), GST week (Galileo; GST week 0 = GPS week 1024), BDT week (BeiDou).
    toe_s, toc_s : float64[n]
        Seconds of week of toe and toc in the system's own time scale (GPST, GST, BDT).
    param : float64[n, N_KEPLER_PARAM]
        The float parameters, columns named by the ``K_*`` constants (units in their comments).
    iode : int32[n]
        Issue of data, ephemeris: GPS/QZSS IODE, Galileo IODnav, BeiDou AODE (RINEX 3 stores AODE;
        RINEX 4 CNAV: IODE), NavIC IODEC.
    iodc : int32[n]
        GPS/QZSS IODC, BeiDou AODC (CNAV: IODC); -1 where not broadcast.
    health : int32[n]
        Raw health word: GPS/QZSS 6-bit SV health, Galileo health bits as RINEX 3 (E5b/E1B/E5a DVS
        and HS), BeiDou SatH1 (CNAV: health), NavIC health. 0 is healthy for every system.
    data_source : int32[n]
        Galileo data source bits (``GAL_SRC_*``); 0 for the other systems.
    is_geo : bool[n]
        BeiDou GEO satellite (orbit computed with the GEO branch of BDS-SIS-ICD-B1I-3.0
        §5.2.4.12).
    """

    sat: np.ndarray
    msg_type: np.ndarray
    toe_gpst_ns: np.ndarray
    toc_gpst_ns: np.ndarray
    ttr_gpst_ns: np.ndarray
    week: np.ndarray
    toe_s: np.ndarray
    toc_s: np.ndarray
    param: np.ndarray
    iode: np.ndarray
    iodc: np.ndarray
    health: np.ndarray
    data_source: np.ndarray
    is_geo: np.ndarray

    def __post_init__(self):
        _coerce(self, _KEPLER_DTYPES, {"param": (N_KEPLER_PARAM,)})

    def column(self, k: int) -> np.ndarray:
        """The parameter column ``k`` (a ``K_*`` constant) as a float64[n] view."""
        return self.param[:, k]

    @classmethod
    def from_records(cls, records: Sequence[Mapping]) -> KeplerEphemerides:
        """Build from a list of dicts.

        Each dict holds the attribute names above (``sat``, ``toe_gpst_ns`` ... ; ``param`` not
        needed) and the parameters by their names in :data:`KEPLER_PARAM_NAMES` (``"sqrta_sqrtm"``,
        ``"tgd_s"`` ...). Missing parameters are NaN (``af2_s``, ``adot_mps``, ``dn_dot_radps2``:
        0); missing ``ttr_gpst_ns`` is ``toe_gpst_ns``; ``is_geo`` defaults to the satellite table
        (:data:`gnssaug.gnss.SAT_IS_GEO`); ``iodc`` to -1; ``msg_type``, ``health``,
        ``data_source`` to 0.
        """
        n = len(records)
        param = np.full((n, N_KEPLER_PARAM), np.nan)
        param[:, list(_ZERO_DEFAULT)] = 0.0
        cols = {f: [] for f in _KEPLER_FIELDS if f != "param"}
        defaults = {"msg_type": 0, "iodc": -1, "health": 0, "data_source": 0}
        for i, rec in enumerate(records):
            for k, name in enumerate(KEPLER_PARAM_NAMES):
                if name in rec:
                    param[i, k] = rec[name]
            for f in cols:
                if f in rec:
                    cols[f].append(rec[f])
                elif f == "ttr_gpst_ns":
                    cols[f].append(rec["toe_gpst_ns"])
                elif f == "is_geo":
                    cols[f].append(bool(SAT_IS_GEO[int(rec["sat"])]))
                elif f in defaults:
                    cols[f].append(defaults[f])
                else:
                    raise InvalidInputError(f"ephemeris record {i} lacks the field {f!r}")
        return cls(param=param, **{f: np.array(v) if v else np.zeros(0) for f, v in cols.items()})

    def to_records(self) -> list[dict]:
        """The inverse of :meth:`from_records` (plain Python values)."""
        out = []
        for i in range(len(self)):
            rec = {f: getattr(self, f)[i].item() for f in _KEPLER_FIELDS if f != "param"}
            rec.update({name: float(self.param[i, k]) for k, name in enumerate(KEPLER_PARAM_NAMES)})
            out.append(rec)
        return out


_KEPLER_FIELDS = tuple(KeplerEphemerides.__dataclass_fields__)


@dataclass(frozen=True)
class GlonassEphemerides(_RecordSet):
    """GLONASS FDMA broadcast ephemerides (n records; GLONASS ICD 5.1 §4.4, RTCM 1020).

    Attributes
    ----------
    sat : int16[n]
        Global satellite index.
    toe_gpst_ns : int64[n]
        Reference time t_b as absolute GPST nanoseconds.
    tb_s : float64[n]
        t_b as seconds of the day in Moscow time (UTC(SU) + 3 h).
    tk_s : float64[n]
        Message frame time t_k [s of the UTC day]; NaN where unknown.
    pos_m, vel_mps, acc_mps2 : float64[n, 3]
        PZ-90 position [m], velocity [m/s] and luni-solar acceleration [m/s^2] at t_b.
    tau_n_s : float64[n]
        Satellite clock offset tau_n [s] (the clock correction is ``-tau_n + gamma_n (t - t_b)``).
    gamma_n : float64[n]
        Relative frequency offset gamma_n [-].
    delta_tau_n_s : float64[n]
        Time difference between the L2 and L1 transmissions Delta tau_n [s]; NaN if not broadcast.
    fcn : int8[n]
        Frequency channel number (-7..+6).
    health : int32[n]
        B_n health flag (0 healthy; RINEX "health" field).
    age_d : int32[n]
        Age of operational information E_n [days].
    iode : int32[n]
        Issue of data: t_b / 15 min (the 7-bit t_b index), as RTKLIB and RTCM 1020 use it.
    acc_m : float64[n]
        Accuracy F_T [m] where known (RINEX 3.05 URAI), else NaN.
    """

    sat: np.ndarray
    toe_gpst_ns: np.ndarray
    tb_s: np.ndarray
    tk_s: np.ndarray
    pos_m: np.ndarray
    vel_mps: np.ndarray
    acc_mps2: np.ndarray
    tau_n_s: np.ndarray
    gamma_n: np.ndarray
    delta_tau_n_s: np.ndarray
    fcn: np.ndarray
    health: np.ndarray
    age_d: np.ndarray
    iode: np.ndarray
    acc_m: np.ndarray

    def __post_init__(self):
        _coerce(self, _GLO_DTYPES, {name: (3,) for name in ("pos_m", "vel_mps", "acc_mps2")})

    @classmethod
    def from_records(cls, records: Sequence[Mapping]) -> GlonassEphemerides:
        """Build from a list of dicts keyed by the attribute names (``pos_m`` as 3 values).

        Defaults: ``tk_s``, ``delta_tau_n_s``, ``acc_m`` NaN; ``health``, ``age_d`` 0; ``iode``
        from ``tb_s`` (``tb_s // 900``).
        """
        cols = {f: [] for f in _GLO_FIELDS}
        defaults = {"tk_s": np.nan, "delta_tau_n_s": np.nan, "acc_m": np.nan, "health": 0, "age_d": 0}
        for i, rec in enumerate(records):
            for f in _GLO_FIELDS:
                if f in rec:
                    cols[f].append(rec[f])
                elif f == "iode":
                    cols[f].append(int(rec["tb_s"] // 900))
                elif f in defaults:
                    cols[f].append(defaults[f])
                else:
                    raise InvalidInputError(f"GLONASS ephemeris record {i} lacks the field {f!r}")
        n = len(records)
        arrays = {f: np.array(v) if n else np.zeros((0, 3) if f in _GLO_VEC else 0) for f, v in cols.items()}
        return cls(**arrays)

    def to_records(self) -> list[dict]:
        """The inverse of :meth:`from_records` (plain Python values, vectors as lists)."""
        return [{f: getattr(self, f)[i].tolist() for f in _GLO_FIELDS} for i in range(len(self))]


_GLO_FIELDS = tuple(GlonassEphemerides.__dataclass_fields__)
_GLO_VEC = ("pos_m", "vel_mps", "acc_mps2")


def concat_kepler(parts: Iterable[KeplerEphemerides]) -> KeplerEphemerides:
    """Concatenate Keplerian record sets (order kept)."""
    parts = list(parts)
    if not parts:
        return KeplerEphemerides.empty()
    return KeplerEphemerides(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in _KEPLER_FIELDS})


def concat_glonass(parts: Iterable[GlonassEphemerides]) -> GlonassEphemerides:
    """Concatenate GLONASS record sets (order kept)."""
    parts = list(parts)
    if not parts:
        return GlonassEphemerides.empty()
    return GlonassEphemerides(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in _GLO_FIELDS})


#: GPS URA index -> nominal URA [m] (IS-GPS-200 §20.3.3.3.1.3; the upper bound of each range,
#: RINEX convention). Index 15 means "no accuracy prediction" (NaN).
_URA_M = (2.4, 3.4, 4.85, 6.85, 9.65, 13.65, 24.0, 48.0, 96.0, 192.0, 384.0, 768.0, 1536.0, 3072.0, 6144.0)


def ura_m_from_index(index) -> np.ndarray:
    """Nominal URA [m] of GPS/BeiDou URA indices (NaN for 15 or out-of-range indices)."""
    idx = np.asarray(index, dtype=np.int64)
    table = np.array((*_URA_M, np.nan))
    return table[np.clip(idx, 0, 15)] * np.where((idx >= 0) & (idx <= 15), 1.0, np.nan)


def ura_index_from_m(ura_m) -> np.ndarray:
    """Smallest URA index whose nominal value is >= ``ura_m`` (15 for NaN or larger values)."""
    u = np.asarray(ura_m, dtype=np.float64)
    idx = np.searchsorted(np.array(_URA_M), np.where(np.isnan(u), np.inf, u) - 1e-9)
    return np.minimum(idx, 15).astype(np.int32)


@dataclass(frozen=True)
class NavData:
    """Everything a navigation file or stream provides.

    Attributes
    ----------
    kepler : KeplerEphemerides
        GPS, Galileo, QZSS, BeiDou and NavIC records.
    glonass : GlonassEphemerides
        GLONASS FDMA records.
    gps_klobuchar_alpha, gps_klobuchar_beta : float64[4]
        GPS Klobuchar coefficients (IS-GPS-200 §20.3.3.5.2.5; units s, s/semicircle^k); NaN if absent.
    bds_klobuchar_alpha, bds_klobuchar_beta : float64[4]
        BeiDou Klobuchar coefficients (BDS-SIS-ICD-B1I-3.0 §5.2.4.7); NaN if absent. With several
        sets in a file (IGS merged files: one per satellite and time mark), the first one.
    bds_klobuchar_hourly : float64[24, 8]
        BeiDou Klobuchar sets by the hour of day (BDT) they were broadcast in, ``[alpha0..3, beta0..3]``;
        row ``h`` holds the set whose RINEX 3.04 header time mark is hour ``h`` (``A`` = 00h-01h ...
        ``X`` = 23h-24h, §5.2 / Table A5), NaN rows for hours without one. BDS updates these
        regional coefficients every 2 h, so a solver uses the latest set at or before each epoch.
    gal_nequick_ai : float64[3]
        Galileo NeQuick G effective ionisation coefficients ai0 [sfu], ai1 [sfu/deg], ai2
        [sfu/deg^2] (Galileo OS SIS ICD §5.1.6); NaN if absent.
    bds_bdgim_alpha : float64[9]
        BeiDou global ionosphere model (BDGIM) broadcast coefficients alpha1..alpha9 [TECu]
        (BDS-SIS-ICD-B1C-1.0, BDGIM parameters; RINEX 4.00 ``> ION C.. CNVX`` BDGIM record); NaN if
        absent. Stored for a later BDGIM model: no solver uses them yet.
    glo_fcn : int8[N_SAT]
        GLONASS frequency channel per global satellite index, ``GLO_FCN_UNKNOWN`` elsewhere.
    leap_seconds : int
        GPS - UTC [s] from the header; -1 if absent.
    skipped : dict[str, int]
        Records not used, by reason (``"SBAS"``, ``"incomplete"`` ...), so nothing vanishes silently.
    """

    kepler: KeplerEphemerides
    glonass: GlonassEphemerides
    gps_klobuchar_alpha: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    gps_klobuchar_beta: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    bds_klobuchar_alpha: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    bds_klobuchar_beta: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    gal_nequick_ai: np.ndarray = field(default_factory=lambda: np.full(3, np.nan))
    bds_bdgim_alpha: np.ndarray = field(default_factory=lambda: np.full(9, np.nan))
    bds_klobuchar_hourly: np.ndarray = field(default_factory=lambda: np.full((24, 8), np.nan))
    glo_fcn: np.ndarray = field(default_factory=lambda: np.full(N_SAT, GLO_FCN_UNKNOWN, dtype=np.int8))
    leap_seconds: int = -1
    skipped: dict = field(default_factory=dict)


def glo_fcn_table(glonass: GlonassEphemerides) -> np.ndarray:
    """``int8[N_SAT]`` frequency channel per satellite from GLONASS records (last record wins)."""
    table = np.full(N_SAT, GLO_FCN_UNKNOWN, dtype=np.int8)
    table[glonass.sat] = glonass.fcn
    return table
