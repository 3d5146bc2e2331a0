"""Broadcast ephemeris messages <-> :mod:`gnssaug.ephemeris.records` (RTCM 10403.3 §3.5.5-§3.5.8).

1019 (GPS), 1044 (QZSS), 1042 (BeiDou), 1045 (Galileo F/NAV), 1046 (Galileo I/NAV) convert to and from
:class:`~gnssaug.ephemeris.records.KeplerEphemerides` rows, 1020 to and from
:class:`~gnssaug.ephemeris.records.GlonassEphemerides` rows. Angles travel in semicircles and become
radians with the ICD value of pi (IS-GPS-200 §20.3.3.4.3: 3.1415926535898). Weeks that the messages
carry modulo 1024 (GPS, QZSS) or 4096 (GST) are resolved near a reference time; GLONASS t_b (Moscow
time of day) is resolved to the day nearest the reference.

Fields a record has no home for (GLONASS P1-P4, N_A, tau_c, tau_GPS, ...) are written as zero when a
record is encoded; a message -> record -> message round trip keeps every field a record carries.
"""

from __future__ import annotations

import math

from gnssaug.constants import NS_PER_S
from gnssaug.ephemeris import records as rec
from gnssaug.gnss import BDS, GAL, GLO, GPS, QZS, SAT_IS_GEO, SAT_PRN, SAT_SYSTEM, sat_index
from gnssaug.rtcm.errors import FieldRangeError
from gnssaug.rtcm.messages import Message
from gnssaug.time import NS_PER_DAY, NS_PER_WEEK, leap_seconds_at_gpst_ns

SC_RAD = 3.1415926535898  # semicircle -> rad (IS-GPS-200 §20.3.3.4.3; also Galileo, BDS ICDs)
_BDT_OFFSET_NS = 14 * NS_PER_S
_GLOT_OFFSET_NS = 3 * 3600 * NS_PER_S
_BDT_WEEK0 = 1356
_GST_WEEK0 = 1024
EPHEMERIS_TYPES = (1019, 1020, 1042, 1044, 1045, 1046)

# message field name -> (record parameter name, factor: record = message * factor)
_KEPLER_MAP = (
    ("af0_s", "af0_s", 1.0), ("af1_sps", "af1_sps", 1.0), ("af2_sps2", "af2_sps2", 1.0),
    ("crs_m", "crs_m", 1.0), ("crc_m", "crc_m", 1.0), ("cus_rad", "cus_rad", 1.0), ("cuc_rad", "cuc_rad", 1.0),
    ("cis_rad", "cis_rad", 1.0), ("cic_rad", "cic_rad", 1.0), ("delta_n_scps", "dn_radps", SC_RAD),
    ("m0_sc", "m0_rad", SC_RAD), ("ecc", "e", 1.0), ("sqrt_a_sqrtm", "sqrta_sqrtm", 1.0),
    ("omega0_sc", "omega0_rad", SC_RAD), ("i0_sc", "i0_rad", SC_RAD), ("omega_sc", "omega_rad", SC_RAD),
    ("omega_dot_scps", "omegadot_radps", SC_RAD), ("idot_scps", "idot_radps", SC_RAD),
)


def _resolve_week(week_mod: int, modulus: int, ref_week: int) -> int:
    return week_mod + modulus * round((ref_week - week_mod) / modulus)


def _sisa_m(index: int) -> float:
    # Galileo SISA index -> metres (Galileo OS SIS ICD §5.1.11, Table 89); 255: no accuracy prediction.
    if index < 50:
        return 0.01 * index
    if index < 75:
        return 0.5 + 0.02 * (index - 50)
    if index < 100:
        return 1.0 + 0.04 * (index - 75)
    if index < 126:
        return 2.0 + 0.16 * (index - 100)
    return math.nan


def _sisa_index(acc_m: float) -> int:
    if not math.isfinite(acc_m):
        return 255
    for i in range(126):
        if _sisa_m(i) >= acc_m - 1e-9:
            return i
    return 255


def _fit_hours(system: int, flag: int) -> float:
    # Curve-fit flag -> hours: GPS 0 = 4 h (IS-GPS-200 §20.3.3.4.3.1), QZSS 0 = 2 h (IS-QZSS-PNT §4.1.2);
    # flag 1 means longer, written as the next RINEX step.
    base = 2.0 if system == QZS else 4.0
    return base + 2.0 * flag


def _week_toe(system: int, v: dict, t_ref_gpst_ns: int) -> tuple[int, int]:
    # (week in the system's own scale, GPS week of that week's start)
    ref_week = t_ref_gpst_ns // NS_PER_WEEK
    if system == BDS:
        return v["week"], v["week"] + _BDT_WEEK0
    if system == GAL:
        week = _resolve_week(v["week"], 4096, ref_week - _GST_WEEK0)
        return week, week + _GST_WEEK0
    week = _resolve_week(v["week"], 1024, ref_week)
    return week, week


def message_to_kepler(message: Message, t_ref_gpst_ns: int) -> dict:
    """A record dict (for :meth:`KeplerEphemerides.from_records`) of a 1019/1042/1044/1045/1046 message.

    Parameters
    ----------
    message : Message
        The decoded ephemeris message.
    t_ref_gpst_ns : int
        A time within half a GPS week rollover period (GPS/QZSS weeks are sent modulo 1024).
    """
    t, v = message.msg_type, message.values
    system = {1019: GPS, 1044: QZS, 1042: BDS, 1045: GAL, 1046: GAL}[t]
    prn = v["prn_minus_192"] if t == 1044 else v["prn"]
    sat = sat_index(system, prn)
    week, gps_week = _week_toe(system, v, t_ref_gpst_ns)
    offset = -_BDT_OFFSET_NS if system == BDS else 0
    toe_ns = gps_week * NS_PER_WEEK + round(v["toe_s"] * NS_PER_S) - offset
    toc_ns = gps_week * NS_PER_WEEK + round(v["toc_s"] * NS_PER_S) - offset
    # toc is in the same week as toe unless they straddle a week boundary
    toc_ns += NS_PER_WEEK * round((toe_ns - toc_ns) / NS_PER_WEEK)
    r = {"sat": sat, "week": week, "toe_s": v["toe_s"], "toc_s": v["toc_s"], "toe_gpst_ns": toe_ns,
         "toc_gpst_ns": toc_ns}
    for msg_name, rec_name, factor in _KEPLER_MAP:
        r[rec_name] = v[msg_name] * factor
    if system in (GPS, QZS):
        r.update(msg_type=rec.NAV_LNAV, iode=v["iode"], iodc=v["iodc"], health=v["health"], tgd_s=v["tgd_s"],
                 acc_m=float(rec.ura_m_from_index(v["ura_index"])), fit_h=_fit_hours(system, v["fit_interval"]),
                 l2_codes=v["l2_codes"], l2p_flag=v.get("l2p_data_flag", math.nan))
    elif system == BDS:
        r.update(msg_type=rec.NAV_D2 if SAT_IS_GEO[sat] else rec.NAV_D1, iode=v["aode"], iodc=v["aodc"],
                 health=v["health"], tgd_s=v["tgd1_s"], tgd2_s=v["tgd2_s"],
                 acc_m=float(rec.ura_m_from_index(v["urai"])))
    else:
        fnav = t == 1045
        if fnav:
            health = (v["e5a_validity"] << 3) | (v["e5a_health"] << 4)
            source = rec.GAL_SRC_FNAV_E5A | rec.GAL_SRC_CLK_E5A
        else:
            health = v["e1b_validity"] | (v["e1b_health"] << 1) | (v["e5b_validity"] << 6) | (v["e5b_health"] << 7)
            source = rec.GAL_SRC_INAV_E1B | rec.GAL_SRC_INAV_E5B | rec.GAL_SRC_CLK_E5B
        r.update(msg_type=rec.NAV_FNAV if fnav else rec.NAV_INAV, iode=v["iod_nav"], health=health,
                 data_source=source, tgd_s=v["bgd_e5a_e1_s"], tgd2_s=math.nan if fnav else v["bgd_e5b_e1_s"],
                 acc_m=_sisa_m(v["sisa_index"]))
    return r


def kepler_to_message(eph: rec.KeplerEphemerides, i: int) -> Message:
    """The RTCM message (1019, 1042, 1044, 1045 or 1046) of Keplerian record ``i``.

    Raises
    ------
    FieldRangeError
        If a parameter does not fit its data field, or the record's system has no RTCM message.
    """
    sat = int(eph.sat[i])
    system = int(SAT_SYSTEM[sat])
    prn = int(SAT_PRN[sat])
    p = {name: float(eph.param[i, k]) for k, name in enumerate(rec.KEPLER_PARAM_NAMES)}
    v = {msg_name: p[rec_name] / factor for msg_name, rec_name, factor in _KEPLER_MAP}
    v["toe_s"] = float(eph.toe_s[i])
    v["toc_s"] = float(eph.toc_s[i])
    week = int(eph.week[i])

    def nz(x, default=0.0):
        return default if not math.isfinite(x) else x

    if system in (GPS, QZS):
        v.update(iode=int(eph.iode[i]), iodc=max(int(eph.iodc[i]), 0), health=int(eph.health[i]),
                 tgd_s=nz(p["tgd_s"]), ura_index=int(rec.ura_index_from_m(p["acc_m"])), week=week % 1024,
                 fit_interval=int(nz(p["fit_h"], 0.0) > _fit_hours(system, 0)), l2_codes=int(nz(p["l2_codes"])))
        if system == GPS:
            v.update(prn=prn, l2p_data_flag=int(nz(p["l2p_flag"])))
            return Message(1019, v)
        v["prn_minus_192"] = prn
        return Message(1044, v)
    if system == BDS:
        v.update(prn=prn, week=week, aode=int(eph.iode[i]), aodc=max(int(eph.iodc[i]), 0),
                 health=int(eph.health[i]) & 1, tgd1_s=nz(p["tgd_s"]), tgd2_s=nz(p["tgd2_s"]),
                 urai=int(rec.ura_index_from_m(p["acc_m"])))
        return Message(1042, v)
    if system == GAL:
        h = int(eph.health[i])
        v.update(prn=prn, week=week % 4096, iod_nav=int(eph.iode[i]), sisa_index=_sisa_index(p["acc_m"]),
                 bgd_e5a_e1_s=nz(p["tgd_s"]))
        # RINEX 3 marks F/NAV by its data-source bits, RINEX 4 by the record type
        if int(eph.msg_type[i]) == rec.NAV_FNAV or int(eph.data_source[i]) & rec.GAL_SRC_FNAV_E5A:
            v.update(e5a_validity=(h >> 3) & 1, e5a_health=(h >> 4) & 3)
            return Message(1045, v)
        v.update(bgd_e5b_e1_s=nz(p["tgd2_s"]), e1b_validity=h & 1, e1b_health=(h >> 1) & 3,
                 e5b_validity=(h >> 6) & 1, e5b_health=(h >> 7) & 3)
        return Message(1046, v)
    raise FieldRangeError("DF002", system, "no RTCM ephemeris message for this system")


def message_to_glonass(message: Message, t_ref_gpst_ns: int) -> dict:
    """A record dict (for :meth:`GlonassEphemerides.from_records`) of a 1020 message.

    ``t_b`` (Moscow time of day) is placed on the day nearest ``t_ref_gpst_ns``.
    """
    v = message.values
    tb_s = v["tb_min"] * 60.0
    leap_ns = leap_seconds_at_gpst_ns(t_ref_gpst_ns) * NS_PER_S
    ref_glot = t_ref_gpst_ns - leap_ns + _GLOT_OFFSET_NS
    tb_ns = round(tb_s * NS_PER_S)
    t_glot = tb_ns + NS_PER_DAY * round((ref_glot - tb_ns) / NS_PER_DAY)
    tk = v["tk"]
    tk_s = (tk >> 7) * 3600.0 + ((tk >> 1) & 0x3F) * 60.0 + (tk & 1) * 30.0
    return {
        "sat": sat_index(GLO, v["slot"]), "toe_gpst_ns": t_glot - _GLOT_OFFSET_NS + leap_ns, "tb_s": tb_s,
        "tk_s": tk_s,
        "pos_m": [v["x_km"] * 1e3, v["y_km"] * 1e3, v["z_km"] * 1e3],
        "vel_mps": [v["vx_kmps"] * 1e3, v["vy_kmps"] * 1e3, v["vz_kmps"] * 1e3],
        "acc_mps2": [v["ax_kmps2"] * 1e3, v["ay_kmps2"] * 1e3, v["az_kmps2"] * 1e3],
        "tau_n_s": v["tau_n_s"], "gamma_n": v["gamma"], "delta_tau_n_s": v["delta_tau_s"],
        "fcn": v["fcn_plus7"] - 7, "health": v["bn_msb"], "age_d": v["en_day"], "iode": int(v["tb_min"] // 15),
    }


def glonass_to_message(eph: rec.GlonassEphemerides, i: int) -> Message:
    """The 1020 message of GLONASS record ``i`` (fields without a record home are zero)."""
    tk_s = float(eph.tk_s[i]) if math.isfinite(eph.tk_s[i]) else 0.0
    tk_s = tk_s % 86_400.0
    h, rem = divmod(int(tk_s), 3600)
    tk = (h << 7) | ((rem // 60) << 1) | int(rem % 60 >= 30)
    pos, vel, acc = eph.pos_m[i] / 1e3, eph.vel_mps[i] / 1e3, eph.acc_mps2[i] / 1e3

    def nz(x):
        return float(x) if math.isfinite(x) else 0.0

    v = {"slot": int(SAT_PRN[eph.sat[i]]), "fcn_plus7": int(eph.fcn[i]) + 7, "almanac_health": 0,
         "health_available": 0, "p1": 0, "tk": tk, "bn_msb": int(eph.health[i]) & 1, "p2": 0,
         "tb_min": round(float(eph.tb_s[i]) / 60.0 / 15.0) * 15.0,
         "vx_kmps": vel[0], "x_km": pos[0], "ax_kmps2": acc[0], "vy_kmps": vel[1], "y_km": pos[1],
         "ay_kmps2": acc[1], "vz_kmps": vel[2], "z_km": pos[2], "az_kmps2": acc[2], "p3": 0,
         "gamma": nz(eph.gamma_n[i]), "p": 0, "ln3": 0, "tau_n_s": nz(eph.tau_n_s[i]),
         "delta_tau_s": nz(eph.delta_tau_n_s[i]), "en_day": int(eph.age_d[i]) & 31, "p4": 0, "ft": 0, "nt_day": 0,
         "glo_m": 0, "additional": 0, "na_day": 0, "tau_c_s": 0.0, "n4": 0, "tau_gps_s": 0.0, "ln5": 0}
    return Message(1020, v)


def messages_to_nav(messages, t_ref_gpst_ns: int) -> rec.NavData:
    """NavData of the ephemeris messages in ``messages`` (other messages are ignored)."""
    kepler, glo, seen = [], [], set()
    for m in messages:
        if isinstance(m, Message) and m.msg_type in EPHEMERIS_TYPES:
            key = (m.msg_type, *(v for v in m.values.values()))  # a stream repeats each record: keep one
            if key in seen:
                continue
            seen.add(key)
            if m.msg_type == 1020:
                glo.append(message_to_glonass(m, t_ref_gpst_ns))
            else:
                kepler.append(message_to_kepler(m, t_ref_gpst_ns))
    g = rec.GlonassEphemerides.from_records(glo)
    return rec.NavData(rec.KeplerEphemerides.from_records(kepler), g, glo_fcn=rec.glo_fcn_table(g))


def nav_to_messages(nav: rec.NavData) -> list[Message]:
    """RTCM messages of every record of ``nav`` that has one (NavIC and CNAV records are skipped)."""
    out = []
    k = nav.kepler
    for i in range(len(k)):
        system = int(SAT_SYSTEM[k.sat[i]])
        if system in (GPS, QZS, BDS, GAL) and int(k.msg_type[i]) in (rec.NAV_LNAV, rec.NAV_D1, rec.NAV_D2,
                                                                       rec.NAV_INAV, rec.NAV_FNAV):
            out.append(kepler_to_message(k, i))
    out.extend(glonass_to_message(nav.glonass, i) for i in range(len(nav.glonass)))
    return out

