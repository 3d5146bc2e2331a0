"""RINEX 4.00 navigation: every record type read or skipped by its own line count.

``nav_rinex4_all_record_types.rnx`` holds one record of every RINEX 4.00 type (EPH LNAV, CNAV,
CNV2 for GPS/QZSS; INAV, FNAV; D1, D2, CNV1-less CNV2, CNV3; FDMA with its 4.00 fifth line; SBAS;
NavIC LNAV; STO; EOP; ION Klobuchar for GPS/QZSS/NavIC/BDS, NeQuick G, BDGIM). Its legacy records
were copied from real files (Nagoya ``base.nav``, the IGS merged WUHN file) and are also in
``nav_rinex305_legacy_twin.rnx`` in RINEX 3.05 layout, so both must give the same orbits.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from gnssaug.datasets.rinex.nav import NavFileWarning, read_nav
from gnssaug.ephemeris import records as rec
from gnssaug.ephemeris.store import EphStore
from gnssaug.gnss import parse_sv
from gnssaug.time import NS_PER_S

DATA = Path(__file__).resolve().parents[1] / "data"
V4 = DATA / "nav_rinex4_all_record_types.rnx"
V3 = DATA / "nav_rinex305_legacy_twin.rnx"
LEGACY = (rec.NAV_LNAV, rec.NAV_INAV, rec.NAV_FNAV, rec.NAV_D1, rec.NAV_D2)


def _read(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", NavFileWarning)  # the clean file must not warn
        return read_nav(path)


def _v4_lines():
    return V4.read_text().splitlines()


def _record_at(lines, marker):
    start = lines.index(marker)
    stop = next((k for k in range(start + 1, len(lines)) if lines[k].startswith(">")), len(lines))
    return start, stop


def test_every_record_type_is_read_or_skipped():
    nav = _read(V4)
    assert nav.skipped == {"SBAS": 1, "STO": 1, "EOP": 1, "ION J LNAV": 1, "ION I LNAV": 1}
    names = sorted((int(s), rec.NAV_TYPE_NAMES[t]) for s, t in zip(nav.kepler.sat, nav.kepler.msg_type, strict=True))
    g05, j02, e04, c01, c20, i02 = (parse_sv(sv) for sv in ("G05", "J02", "E04", "C01", "C20", "I02"))
    assert names == sorted([(g05, "LNAV"), (g05, "CNV2"), (j02, "LNAV"), (j02, "CNAV"), (j02, "CNV2"),
                            (e04, "INAV"), (e04, "FNAV"), (c01, "D2"), (c20, "D1"), (c20, "CNV2"),
                            (c20, "CNV3"), (i02, "LNAV")])
    assert len(nav.glonass) == 1


def test_legacy_records_equal_their_rinex3_twin():
    v4, v3 = _read(V4), _read(V3)
    a = v4.kepler.take(np.isin(v4.kepler.msg_type, LEGACY))
    b = v3.kepler
    assert len(a) == len(b) == 7
    np.testing.assert_array_equal(a.param, b.param)
    for name in ("sat", "msg_type", "toe_gpst_ns", "toc_gpst_ns", "ttr_gpst_ns", "week", "toe_s", "iode", "iodc",
                 "health", "data_source", "is_geo"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name
    g4, g3 = v4.glonass, v3.glonass
    for name in ("sat", "toe_gpst_ns", "tb_s", "tk_s", "tau_n_s", "gamma_n", "fcn", "health", "age_d"):
        assert getattr(g4, name).tolist() == getattr(g3, name).tolist(), name
    np.testing.assert_array_equal(np.c_[g4.pos_m, g4.vel_mps, g4.acc_mps2], np.c_[g3.pos_m, g3.vel_mps, g3.acc_mps2])
    # the RINEX 4.00 fifth GLONASS line carries the L1/L2 delay difference, absent in the twin
    assert g4.delta_tau_n_s[0] == pytest.approx(-2.793967723846e-09) and np.isnan(g3.delta_tau_n_s[0])


@pytest.mark.parametrize("gal_source", ["inav", "fnav"])
def test_legacy_orbits_equal_their_rinex3_twin(gal_source):
    v4, v3 = _read(V4), _read(V3)
    legacy = v4.kepler.take(np.isin(v4.kepler.msg_type, LEGACY))
    s4 = EphStore(kepler=legacy, glonass=v4.glonass, gal_source=gal_source)
    s3 = EphStore(v3, gal_source=gal_source)
    sats = np.concatenate([np.unique(v3.kepler.sat), v3.glonass.sat]).astype(np.int16)
    times = np.concatenate([[v3.kepler.toe_gpst_ns[v3.kepler.sat == s][0] for s in np.unique(v3.kepler.sat)],
                            v3.glonass.toe_gpst_ns]) + 600 * NS_PER_S
    a, b = s4.sat_states(sats, times), s3.sat_states(sats, times)
    assert a.valid.all() and b.valid.all()
    np.testing.assert_array_equal(a.pos_ecef_m, b.pos_ecef_m)
    np.testing.assert_array_equal(a.clk_s, b.clk_s)


def test_modernised_records_fields():
    nav = _read(V4)
    k = nav.kepler
    g05 = k.take((k.sat == parse_sv("G05")) & (k.msg_type == rec.NAV_CNV2))
    p = g05.param[0]
    assert (p[rec.K_ADOT], p[rec.K_DN_DOT], p[rec.K_TGD]) == (2.5, 3e-14, -1.1e-08)
    assert (p[rec.K_ISC_L1CA], p[rec.K_ISC_L5Q5]) == (1e-9, 4e-9)
    # CNV2 transmission time is on the tenth line (after the L1C ISCs), toe = toc
    assert g05.ttr_gpst_ns[0] % (7 * 86400 * NS_PER_S) == 115218 * NS_PER_S
    assert g05.toe_gpst_ns[0] == g05.toc_gpst_ns[0]
    j02 = k.take((k.sat == parse_sv("J02")) & np.isin(k.msg_type, (rec.NAV_CNAV, rec.NAV_CNV2)))
    assert len(j02) == 2 and (j02.ttr_gpst_ns[0] == j02.ttr_gpst_ns[1])
    c20 = k.take(k.sat == parse_sv("C20"))
    cnv2 = c20.take(c20.msg_type == rec.NAV_CNV2)
    assert cnv2.param[0, rec.K_ISC_B2AD] == 5e-9 and cnv2.param[0, rec.K_TGD_B2AP] == 4e-9
    assert (cnv2.iode[0], cnv2.iodc[0]) == (77, 77)
    cnv3 = c20.take(c20.msg_type == rec.NAV_CNV3)
    d1 = c20.take(c20.msg_type == rec.NAV_D1)
    assert cnv3.health[0] == 0 and cnv3.ttr_gpst_ns[0] == d1.ttr_gpst_ns[0]
    assert cnv3.toe_gpst_ns[0] == d1.toe_gpst_ns[0]


def test_ionosphere_records_kept_where_rinex3_header_values_are():
    nav = _read(V4)
    # the QZSS Klobuchar record comes first in the file: it must not become the GPS set
    np.testing.assert_allclose(nav.gps_klobuchar_alpha, [1.8626e-08, 2.2352e-08, -1.1921e-07, -5.9605e-08])
    np.testing.assert_allclose(nav.gps_klobuchar_beta, [1.2902e05, 1.6384e05, -1.9661e05, -2.6214e05])
    np.testing.assert_allclose(nav.bds_klobuchar_alpha, [2.5146e-08, 2.9802e-07, -1.9073e-06, 2.6226e-06])
    np.testing.assert_allclose(nav.gal_nequick_ai, [161.75, 0.66016, 0.019379])
    np.testing.assert_array_equal(nav.bds_bdgim_alpha, [11.5, 2.25, 0.875, -1.5, 0.625, 0.25, -0.125, 0.5, 1.75])
    assert np.isnan(_read(V3).bds_bdgim_alpha).all()


def test_record_missing_a_line_is_skipped_with_warning(tmp_path):
    lines = _v4_lines()
    start, stop = _record_at(lines, "> EPH C20 CNV3")
    del lines[stop - 2]  # CNV3 loses its seventh line: 8 lines where its layout has 9
    path = tmp_path / "nav_cnv3_short.rnx"
    path.write_text("\n".join(lines) + "\n")
    with pytest.warns(NavFileWarning, match=rf"nav_cnv3_short\.rnx:{start + 1}: EPH C20 CNV3 record has 8 lines"):
        nav = read_nav(path)
    assert nav.skipped["incomplete"] == 1
    assert rec.NAV_CNV3 not in nav.kepler.msg_type.tolist() and len(nav.kepler) == 11


def test_records_run_together_are_skipped_with_warning(tmp_path):
    lines = _v4_lines()
    start, _ = _record_at(lines, "> EPH E04 FNAV")
    del lines[start]  # the FNAV record's lines now follow the INAV record's
    path = tmp_path / "nav_missing_marker.rnx"
    path.write_text("\n".join(lines) + "\n")
    with pytest.warns(NavFileWarning, match=r"EPH E04 INAV record has 16 lines, its layout has 8"):
        nav = read_nav(path)
    assert nav.skipped["bad line count"] == 1
    assert parse_sv("E04") not in nav.kepler.sat.tolist() and len(nav.kepler) == 10


def test_unknown_record_types_are_skipped_by_their_marker(tmp_path):
    lines = _v4_lines()
    # RINEX 4.02 GLONASS CDMA and a future record kind: unknown layouts, skipped whole
    lines += ["> EPH R05 L1OC", "R05 2024 06 24 08 15 00 1.0E-05", "     1.0", "     2.0",
              "> XYZ G01 LNAV", "    anything"]
    path = tmp_path / "nav_future_types.rnx"
    path.write_text("\n".join(lines) + "\n")
    nav = _read(path)
    assert nav.skipped["R L1OC"] == 1 and nav.skipped["XYZ"] == 1 and len(nav.kepler) == 12


def test_eph_of_a_layout_not_in_the_table_is_skipped_not_guessed(tmp_path):
    lines = _v4_lines()
    start, stop = _record_at(lines, "> EPH G05 CNV2")
    lines[start] = "> EPH G05 CNV9"  # a message type of a later RINEX version
    path = tmp_path / "nav_unknown_message.rnx"
    path.write_text("\n".join(lines) + "\n")
    nav = _read(path)
    assert nav.skipped["G CNV9"] == 1 and rec.NAV_CNV2 not in nav.kepler.msg_type[nav.kepler.sat == parse_sv("G05")]


def _fortran_d(value: float) -> str:
    """``value`` as a Fortran D19.12 field (``-0.177423004061D-03``), as older writers print it."""
    if value == 0.0:
        return " 0.000000000000D+00"
    exp = int(np.floor(np.log10(abs(value)))) + 1
    mantissa = value / 10.0**exp
    if round(abs(mantissa), 12) >= 1.0:
        mantissa, exp = mantissa / 10.0, exp + 1
    return f"{mantissa: .12f}D{exp:+03d}"


def test_rinex3_fortran_d_numbers_blank_prn_and_spare_fields(tmp_path):
    """Older writers: ``G 5`` for G05, ``0.xxxD+yy`` numbers, spare fields filled on the last line."""
    lines = V3.read_text().splitlines()
    end = next(i for i, line in enumerate(lines) if "END OF HEADER" in line) + 1
    out = lines[:end]
    body = lines[end:]
    for i, line in enumerate(body):
        first = not line.startswith(" ")
        c0 = 23 if first else 4
        cells = [line[j:j + 19] for j in range(c0, len(line), 19)]
        text = "".join(_fortran_d(float(c)) if c.strip() else " " * 19 for c in cells)
        last = i + 1 == len(body) or not body[i + 1].startswith(" ")
        if last and line[:1] == " " and len(cells) < 4:  # spares of the last line written as zeros
            text = text.ljust(19 * 2) + " 0.000000000000D+00" * (4 - max(len(cells), 2))
        head = (line[0] + line[1:3].replace("0", " ", 1) + line[3:23]) if first else line[:4]
        out.append(head + text)
    path = tmp_path / "nav_fortran_d_spares.rnx"
    path.write_text("\n".join(out) + "\n")
    text = path.read_text()
    assert "G 5 2024" in text and "-0.177423004061D-03" in text and "E+" not in text.split("END OF HEADER")[1]
    got, ref = _read(path), _read(V3)
    assert got.kepler.sat.tolist() == ref.kepler.sat.tolist() and got.skipped == ref.skipped
    np.testing.assert_allclose(got.kepler.param, ref.kepler.param, rtol=1e-11, atol=1e-25)
    for name in ("toe_gpst_ns", "toc_gpst_ns", "iode", "iodc", "health", "msg_type"):
        assert getattr(got.kepler, name).tolist() == getattr(ref.kepler, name).tolist(), name
    np.testing.assert_allclose(got.glonass.pos_m, ref.glonass.pos_m, rtol=1e-11)


def test_bds_klobuchar_records_fill_the_hourly_table(tmp_path):
    nav = _read(V4)
    np.testing.assert_allclose(nav.bds_klobuchar_hourly[0], [2.5146e-08, 2.9802e-07, -1.9073e-06, 2.6226e-06,
                                                             2.0275e05, -8.6835e05, 2.0316e06, -1.9661e05])
    assert np.isnan(nav.bds_klobuchar_hourly[1:]).all()
    lines = _v4_lines()
    start, stop = _record_at(lines, "> ION C20 D1D2")
    later = [line.replace("2024 06 24 00 00 00", "2024 06 24 02 00 00").replace("2.5146", "3.5146")
             for line in lines[start:stop]]
    path = tmp_path / "nav_bds_klobuchar_two_hours.rnx"
    path.write_text("\n".join(lines + later) + "\n")
    nav = _read(path)
    assert nav.bds_klobuchar_hourly[2, 0] == pytest.approx(3.5146e-08) and np.isnan(nav.bds_klobuchar_hourly[1]).all()
    assert nav.bds_klobuchar_alpha[0] == pytest.approx(2.5146e-08)  # the first set stays the file's set


def test_glonass_record_without_the_400_fifth_line_is_read(tmp_path):
    lines = _v4_lines()
    _, stop = _record_at(lines, "> EPH R01 FDMA")
    del lines[stop - 1]  # as RINEX 3 writes it: 4 lines
    path = tmp_path / "nav_glonass_four_lines.rnx"
    path.write_text("\n".join(lines) + "\n")
    nav = _read(path)
    assert len(nav.glonass) == 1 and np.isnan(nav.glonass.delta_tau_n_s[0])
    np.testing.assert_array_equal(nav.glonass.pos_m, _read(V3).glonass.pos_m)


def test_rinex3_file_with_a_rinex2_file_type_letter(tmp_path):
    lines = V3.read_text().splitlines()
    lines[0] = "     3.02           G: GLONASS NAV DATA".ljust(60) + "RINEX VERSION / TYPE"
    path = tmp_path / "nav_v3_type_g.rnx"
    path.write_text("\n".join(lines) + "\n")
    got, ref = _read(path), _read(V3)
    np.testing.assert_array_equal(got.glonass.pos_m, ref.glonass.pos_m)
    assert got.kepler.sat.tolist() == ref.kepler.sat.tolist()
