"""RINEX navigation reader: field-by-field agreement with georinex, RINEX 4, bad input."""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from gnssaug.datasets.rinex.nav import NavFileWarning, read_nav
from gnssaug.ephemeris import records as rec
from gnssaug.errors import FileFormatError
from gnssaug.gnss import BDS, GAL, GLO, GPS, QZS, SAT_SYSTEM, parse_sv
from gnssaug.time import NS_PER_S, NS_PER_WEEK

DATA = Path(__file__).resolve().parents[1] / "data"
MERGED = ("wuhan_wuhn_20250101", "BRDC00IGS_R_20250010000_01D_MN.rnx.gz")

# georinex variable -> our value for Keplerian records (a K_* column, or a function of the records).
_KEPLER_MAP = {
    "SVclockBias": rec.K_AF0, "SVclockDrift": rec.K_AF1, "SVclockDriftRate": rec.K_AF2, "Crs": rec.K_CRS,
    "DeltaN": rec.K_DN, "M0": rec.K_M0, "Cuc": rec.K_CUC, "Eccentricity": rec.K_E, "Cus": rec.K_CUS,
    "sqrtA": rec.K_SQRTA, "Cic": rec.K_CIC, "Omega0": rec.K_OMEGA0, "Cis": rec.K_CIS, "Io": rec.K_I0,
    "Crc": rec.K_CRC, "omega": rec.K_OMEGA, "OmegaDot": rec.K_OMEGADOT, "IDOT": rec.K_IDOT, "TGD": rec.K_TGD,
    "TGD1": rec.K_TGD1, "TGD2": rec.K_TGD2, "BGDe5a": rec.K_BGD_E5A_E1, "BGDe5b": rec.K_BGD_E5B_E1,
    "SVacc": rec.K_ACC_M, "SISA": rec.K_ACC_M,
    "Toe": lambda k: k.toe_s, "IODE": lambda k: k.iode, "IODnav": lambda k: k.iode, "AODE": lambda k: k.iode,
    "IODC": lambda k: k.iodc, "AODC": lambda k: k.iodc, "health": lambda k: k.health,
    "SatH1": lambda k: k.health, "DataSrc": lambda k: k.data_source,
}
_GLO_MAP = {
    "SVclockBias": lambda g: -g.tau_n_s, "SVrelFreqBias": lambda g: g.gamma_n,
    # georinex converts the GLONASS state from km to m
    "X": lambda g: g.pos_m[:, 0], "Y": lambda g: g.pos_m[:, 1], "Z": lambda g: g.pos_m[:, 2],
    "dX": lambda g: g.vel_mps[:, 0], "dY": lambda g: g.vel_mps[:, 1], "dZ": lambda g: g.vel_mps[:, 2],
    "dX2": lambda g: g.acc_mps2[:, 0], "dZ2": lambda g: g.acc_mps2[:, 2], "FreqNum": lambda g: g.fcn,
    "health": lambda g: g.health,
    "AgeOpInfo": lambda g: g.age_d,
}


def _ours(nav, system):
    """Our records of one system: (records, values-by-georinex-name as lists, own-scale toc ns)."""
    if system == GLO:
        g = nav.glonass
        utc = g.toe_gpst_ns - 18 * NS_PER_S  # all test files are after 2017 (18 leap seconds)
        return g, {k: np.asarray(f(g), float).tolist() for k, f in _GLO_MAP.items()}, g.sat, utc
    k = nav.kepler.take(SAT_SYSTEM[nav.kepler.sat] == system)
    offset = -14 * NS_PER_S if system == BDS else 0
    vals = {name: np.asarray(c(k) if callable(c) else k.param[:, c], float).tolist()
            for name, c in _KEPLER_MAP.items()}
    return k, vals, k.sat, k.toc_gpst_ns + offset


# Fields of the first five data lines (clock and orbit). georinex 1.16 shifts the later fields of
# records whose sixth line is cut short after the week (the IGS merged file writes BeiDou that way).
_ORBIT_FIELDS = ("SVclockBias", "SVclockDrift", "SVclockDriftRate", "Crs", "DeltaN", "M0", "Cuc", "Eccentricity",
                 "Cus", "sqrtA", "Cic", "Omega0", "Cis", "Io", "Crc", "omega", "OmegaDot", "IDOT", "Toe", "AODE")


_LETTERS = {GPS: "G", GLO: "R", GAL: "E", BDS: "C", QZS: "J"}


def _georinex_load(path, systems, tmp_path=None):
    georinex = pytest.importorskip("georinex")
    ref_path = path
    if tmp_path is not None and b"\r\n" in path.read_bytes()[:200]:
        # georinex 1.16 reads nothing from CRLF files (the HK files): give it an LF copy
        ref_path = tmp_path / path.name
        ref_path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return georinex.load(ref_path, use={_LETTERS[s] for s in systems})


def _compare_with_georinex(path, systems, fields=None, tmp_path=None, ds=None):
    nav = read_nav(path)
    letters = _LETTERS
    if ds is None:
        ds = _georinex_load(path, systems, tmp_path)
    t_ns = (ds.time.values - np.datetime64("1980-01-06T00:00:00")).astype("timedelta64[ns]").astype(np.int64)
    arrays = {name: ds[name].values for name in ds.data_vars}  # (time, sv); xarray .sel per value is slow
    checked = 0
    for system in systems:
        _, vals, sats, toc = _ours(nav, system)
        names = [n for n in (fields or vals) if n in arrays]
        n_ref = 0
        for isv, sv in enumerate(ds.sv.values):
            if sv[0] != letters[system]:
                continue
            sat = parse_sv(sv[:3])
            for it in np.flatnonzero(np.isfinite(arrays["SVclockBias"][:, isv])):
                n_ref += 1
                cand = np.flatnonzero((sats == sat) & (toc == t_ns[it]))
                assert cand.size, f"{sv} {ds.time.values[it]}: no record read"
                ref = {name: float(arrays[name][it, isv]) for name in names}
                ref = {name: v for name, v in ref.items() if math.isfinite(v)}
                ok = [all(abs(vals[name][c] - v) <= 1e-12 * abs(v) for name, v in ref.items()) for c in cand]
                assert any(ok), f"{sv} {ds.time.values[it]}: fields differ from georinex"
                checked += len(ref)
        assert n_ref == np.count_nonzero(SAT_SYSTEM[sats] == system), f"record count of system {system}"
    return checked


def test_nagoya_mixed_nav_matches_georinex(nagoya_dir):
    checked = _compare_with_georinex(nagoya_dir / "base.nav", (GPS, GLO, GAL, BDS, QZS))
    assert checked > 3000


def test_hk_crlf_files_match_georinex(data_dir, tmp_path):
    folder = data_dir / "hk_tst_20200603"
    assert _compare_with_georinex(folder / "hksc155c.20g", (GLO,), tmp_path=tmp_path) > 300
    assert _compare_with_georinex(folder / "hksc155c.20l", (GAL,), tmp_path=tmp_path) > 1000
    assert _compare_with_georinex(folder / "hksc155c.20n", (GPS,), tmp_path=tmp_path) > 1000
    # georinex 1.16 reads no record of the HK BeiDou files (header "C: BEIDOU"), even as LF text
    assert len(read_nav(data_dir / "hk_tst_20190428" / "hksc1180.19b").kepler) == 356


def test_merged_igs_file_bds_matches_georinex_and_loads_faster(data_dir):
    path = data_dir.joinpath(*MERGED)
    start = time.perf_counter()
    nav = read_nav(path)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    ds = _georinex_load(path, (BDS,))
    peer_s = time.perf_counter() - start
    # Everything (all systems) against the peer reading BeiDou only.
    assert ours_s < peer_s, f"read_nav {ours_s:.2f} s vs georinex (BDS only) {peer_s:.2f} s"
    assert nav.skipped == {"SBAS": 10375}
    counts = np.bincount(SAT_SYSTEM[nav.kepler.sat], minlength=7)
    assert counts.tolist() == [459, 0, 11073, 100, 1120, 0, 218]
    assert len(nav.glonass) == 1186
    assert _compare_with_georinex(path, (BDS,), _ORBIT_FIELDS, ds=ds) > 20000
    # the later fields of one such record, read by hand from the file (C05 2025-01-01 08:00 BDT)
    i = np.flatnonzero((nav.kepler.sat == parse_sv("C05")) & (nav.kepler.toc_s == 288000.0))[0]
    k = nav.kepler
    assert (k.param[i, rec.K_TGD1], k.param[i, rec.K_TGD2], k.param[i, rec.K_ACC_M]) == (2e-10, -9.5e-9, 2.0)
    assert (k.health[i], k.iodc[i], k.ttr_gpst_ns[i] - k.toe_gpst_ns[i]) == (0, 0, 400_000_000)
    np.testing.assert_allclose(nav.bds_klobuchar_alpha, [2.5146e-08, 2.9802e-07, -1.9073e-06, 2.6226e-06])
    np.testing.assert_allclose(nav.gps_klobuchar_beta, [1.5565e05, -2.1299e05, -6.5536e04, 5.2429e05])
    np.testing.assert_allclose(nav.gal_nequick_ai, [167.75, -0.63672, 0.0077209])
    assert nav.leap_seconds == 18
    geo = nav.kepler.is_geo
    assert set(nav.kepler.sat[geo] - nav.kepler.sat[geo].min()) <= {0, 1, 2, 3, 4, 58, 59, 60, 61, 62}
    # Records are sorted by satellite, then toe.
    order = np.lexsort((nav.kepler.toe_gpst_ns, nav.kepler.sat))
    assert np.array_equal(order, np.arange(len(nav.kepler)))
    assert nav.glo_fcn[parse_sv("R01")] == 1


def test_rinex4_records_equal_their_rinex3_source(nagoya_dir):
    v4 = read_nav(DATA / "nav_rinex4_mixed.rnx")
    v3 = read_nav(nagoya_dir / "base.nav")
    assert v4.skipped == {"STO": 1}
    for sv in ("G05", "E04", "C01", "C20"):
        sat = parse_sv(sv)
        legacy = ~np.isin(v4.kepler.msg_type, (rec.NAV_CNV1, rec.NAV_CNAV))
        a = v4.kepler.take(np.flatnonzero((v4.kepler.sat == sat) & legacy)[:1])
        b = v3.kepler.take(np.flatnonzero(v3.kepler.sat == sat)[:1])
        np.testing.assert_array_equal(a.param, b.param)
        for f in ("toe_gpst_ns", "toc_gpst_ns", "ttr_gpst_ns", "week", "iode", "iodc", "health", "is_geo"):
            assert getattr(a, f).tolist() == getattr(b, f).tolist(), (sv, f)
    types = dict(zip(v4.kepler.sat.tolist(), v4.kepler.msg_type.tolist(), strict=True))
    assert types[parse_sv("C01")] == rec.NAV_D2 and types[parse_sv("E04")] == rec.NAV_INAV
    np.testing.assert_array_equal(v4.glonass.pos_m, v3.glonass.take([0]).pos_m)
    cnv1 = v4.kepler.take(v4.kepler.msg_type == rec.NAV_CNV1)
    d1 = v4.kepler.take((v4.kepler.sat == parse_sv("C20")) & (v4.kepler.msg_type == rec.NAV_D1))
    assert len(cnv1) == 1
    p = cnv1.param[0]
    assert (p[rec.K_ADOT], p[rec.K_DN_DOT]) == (0.5, 1e-13)
    assert (p[rec.K_ISC_B1CD], p[rec.K_TGD_B1CP], p[rec.K_TGD_B2AP]) == (2e-9, -3e-9, 4e-9)
    assert np.isnan(p[rec.K_TGD]) and cnv1.iode[0] == 77 and cnv1.iodc[0] == 77
    assert cnv1.toe_gpst_ns[0] == d1.toe_gpst_ns[0] and cnv1.week[0] == d1.week[0]
    cnav = v4.kepler.take(v4.kepler.msg_type == rec.NAV_CNAV)
    lnav = v4.kepler.take((v4.kepler.sat == parse_sv("G05")) & (v4.kepler.msg_type == rec.NAV_LNAV))
    q = cnav.param[0]
    assert (q[rec.K_ADOT], q[rec.K_DN_DOT], q[rec.K_TGD]) == (1.5, 2e-14, lnav.param[0, rec.K_TGD])
    assert (q[rec.K_ISC_L1CA], q[rec.K_ISC_L2C], q[rec.K_ISC_L5I5], q[rec.K_ISC_L5Q5]) == (1e-9, -2e-9, 3e-9, 4e-9)
    # CNAV: toe = toc (the record epoch); transmission time from the t_tm field
    assert cnav.toe_gpst_ns[0] == lnav.toc_gpst_ns[0] and cnav.iode[0] == -1
    assert cnav.ttr_gpst_ns[0] == lnav.ttr_gpst_ns[0]
    np.testing.assert_array_equal(cnav.param[0, :rec.K_IDOT + 1], lnav.param[0, :rec.K_IDOT + 1])
    np.testing.assert_allclose(v4.gps_klobuchar_alpha, [1.8626e-08, 2.2352e-08, -1.1921e-07, -5.9605e-08])
    np.testing.assert_allclose(v4.bds_klobuchar_beta, [2.0275e05, -8.6835e05, 2.0316e06, -1.9661e05])
    np.testing.assert_allclose(v4.gal_nequick_ai, [161.75, 0.66016, 0.019379])


def test_rinex2_gps_and_glonass_equal_their_rinex3_source(nagoya_dir):
    v3 = read_nav(nagoya_dir / "base.nav")
    gps = read_nav(DATA / "nav_rinex211_gps.n")
    glo = read_nav(DATA / "nav_rinex211_glo.g")
    assert len(gps.kepler) == 4 and len(glo.glonass) == 4 and len(glo.kepler) == 0
    for k in range(4):
        i = np.flatnonzero((v3.kepler.sat == gps.kepler.sat[k]) & (v3.kepler.toe_gpst_ns == gps.kepler.toe_gpst_ns[k]))
        np.testing.assert_array_equal(v3.kepler.param[i[0]], gps.kepler.param[k])
        g3, g2 = v3.glonass, glo.glonass
        j = np.flatnonzero((g3.sat == g2.sat[k]) & (g3.toe_gpst_ns == g2.toe_gpst_ns[k]))
        np.testing.assert_array_equal(v3.glonass.pos_m[j[0]], glo.glonass.pos_m[k])
        assert v3.glonass.tau_n_s[j[0]] == glo.glonass.tau_n_s[k]
    np.testing.assert_allclose(gps.gps_klobuchar_alpha, [0.1863e-07, 0.2235e-07, -0.1192e-06, -0.5960e-07])
    assert glo.glo_fcn[glo.glonass.sat[0]] == glo.glonass.fcn[0]


def test_times_are_gpst_and_own_scale_weeks(nagoya_dir):
    nav = read_nav(nagoya_dir / "base.nav")
    k = nav.kepler
    for sv, week, toe_s in (("G05", 2320, 122400.0), ("E04", 2320 - 1024, 115200.0), ("C01", 964, 115200.0)):
        i = np.flatnonzero(k.sat == parse_sv(sv))[0]
        assert (int(k.week[i]), float(k.toe_s[i])) == (week, toe_s), sv
    c01 = np.flatnonzero(k.sat == parse_sv("C01"))[0]
    # BDT = GPST - 14 s: toe of BDT week 964 + 115200 s is GPS week 2320 + 115214 s.
    assert k.toe_gpst_ns[c01] == 2320 * NS_PER_WEEK + 115214 * NS_PER_S
    assert k.toc_gpst_ns[c01] == k.toe_gpst_ns[c01]


def test_bad_number_names_file_and_line(tmp_path):
    text = (DATA / "nav_rinex4_mixed.rnx").read_text().splitlines()
    text[7] = text[7][:30] + "x" + text[7][31:]
    bad = tmp_path / "nav_bad_number.rnx"
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(FileFormatError, match=r"nav_bad_number\.rnx:8: bad number in G05"):
        read_nav(bad)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "not a RINEX file"),
        ("     3.04           O: OBSERVATION DATA M: MIXED            RINEX VERSION / TYPE\n", "not navigation"),
        ("     3.04           N: GNSS NAV DATA    M: MIXED            RINEX VERSION / TYPE\n", "END OF HEADER"),
    ],
)
def test_bad_headers(tmp_path, content, match):
    path = tmp_path / "nav.rnx"
    path.write_text(content)
    with pytest.raises(FileFormatError, match=match):
        read_nav(path)


def test_truncated_record_is_skipped_and_counted(tmp_path):
    lines = (DATA / "nav_rinex4_mixed.rnx").read_text().splitlines()
    # keep the header and the G05 record's first three lines only
    path = tmp_path / "nav_truncated_record.rnx"
    path.write_text("\n".join(lines[:8]) + "\n")
    with pytest.warns(NavFileWarning, match=r"nav_truncated_record\.rnx:5: EPH G05 LNAV record has 3 lines"):
        nav = read_nav(path)
    assert len(nav.kepler) == 0 and nav.skipped == {"incomplete": 1}


def test_missing_file_is_a_file_format_error(tmp_path):
    with pytest.raises(FileFormatError, match="cannot read"):
        read_nav(tmp_path / "absent.rnx")


@pytest.mark.parametrize("packing", ["Z", "bz2", "gz"])
def test_packed_navigation_files(tmp_path, packing):
    """Archives hand out ``brdcDDD0.YYn.Z`` (Unix compress), ``.gz`` and sometimes ``.bz2``."""
    import bz2
    import gzip

    import ncompress

    src = (DATA / "nav_rinex211_gps.n").read_bytes()
    pack = {"Z": ncompress.compress, "bz2": bz2.compress, "gz": gzip.compress}[packing]
    path = tmp_path / f"brdc1760.24n.{packing}"
    path.write_bytes(pack(src))
    got, ref = read_nav(path), read_nav(DATA / "nav_rinex211_gps.n")
    np.testing.assert_array_equal(got.kepler.param, ref.kepler.param)
    path.write_bytes(pack(src)[:60])
    # a cut .Z stream decompresses to a cut text (LZW has no checksum): then the header is incomplete
    with pytest.raises(FileFormatError, match=r"brdc1760\.24n\.\w+(:\d+)?: (cannot decompress|no END OF HEADER)"):
        read_nav(path)
