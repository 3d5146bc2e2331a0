"""Satellite index and signal plan (gnssaug.gnss)."""

import numpy as np
import pytest

from gnssaug import gnss
from gnssaug.errors import UnknownSatelliteError, UnknownSignalError


@pytest.mark.parametrize("sv", ["G01", "G32", "R24", "E36", "J07", "C01", "C19", "C63", "S23", "I14"])
def test_sv_round_trip(sv):
    assert gnss.sv_name(gnss.parse_sv(sv)) == sv


def test_index_is_sorted_by_system_then_prn():
    sats = [gnss.parse_sv(s) for s in ("G05", "R01", "E11", "J02", "C01", "C60", "S20", "I01")]
    assert sats == sorted(sats)
    assert gnss.N_SAT == sum(gnss.MAX_PRN)


def test_beidou_groups_and_geo():
    assert gnss.SAT_CLOCK_GROUP[gnss.parse_sv("C18")] == gnss.CLOCK_GROUPS.index("BDS-2")
    assert gnss.SAT_CLOCK_GROUP[gnss.parse_sv("C19")] == gnss.CLOCK_GROUPS.index("BDS-3")
    geo = {gnss.sv_name(i) for i in np.flatnonzero(gnss.SAT_IS_GEO)}
    assert geo == {"C01", "C02", "C03", "C04", "C05", "C59", "C60", "C61", "C62", "C63"}


@pytest.mark.parametrize("bad", ["X01", "C64", "G00", "G", "Gxx"])
def test_bad_names_raise(bad):
    with pytest.raises(UnknownSatelliteError):
        gnss.parse_sv(bad)


def test_rinex_302_b1i_label():
    # RINEX 3.02 wrote BeiDou B1I as C1I; 3.03+ writes C2I, and band 1 is B1C.
    assert gnss.band_slot(gnss.BDS, "1", "I", 3.02) == gnss.band_slot(gnss.BDS, "2", "I", 3.04) == 0
    assert gnss.SIGNAL_PLAN[gnss.BDS][gnss.band_slot(gnss.BDS, "1", "P", 3.04)].name == "B1C"
    with pytest.raises(UnknownSignalError):
        gnss.band_slot(gnss.GPS, "7", "Q")


def test_frequencies():
    sat = np.array([gnss.parse_sv("C07"), gnss.parse_sv("R01")], dtype=np.int16)
    fcn = np.full(gnss.N_SAT, gnss.GLO_FCN_UNKNOWN, dtype=np.int8)
    f = gnss.sat_freq_hz(sat, fcn)
    assert f[0, 0] == pytest.approx(1561.098e6) and f[0, 1] == pytest.approx(1268.52e6)
    assert np.isnan(f[1, 0])
    fcn[gnss.parse_sv("R01")] = 1
    f = gnss.sat_freq_hz(sat, fcn)
    assert f[1, 0] == pytest.approx(1602.5625e6) and f[1, 1] == pytest.approx(1246.4375e6)
