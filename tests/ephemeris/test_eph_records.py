"""Record containers: construction, validation, round trips."""

import numpy as np
import pytest

from gnssaug.ephemeris.records import (
    K_ADOT,
    K_AF2,
    K_SQRTA,
    K_TGD2,
    GlonassEphemerides,
    KeplerEphemerides,
    concat_glonass,
    concat_kepler,
    glo_fcn_table,
    ura_index_from_m,
    ura_m_from_index,
)
from gnssaug.errors import InvalidInputError
from gnssaug.gnss import BDS, GLO, GLO_FCN_UNKNOWN, GPS, sat_index


def _kep(sat, toe):
    return {"sat": sat, "toe_gpst_ns": toe, "toc_gpst_ns": toe, "week": 2347, "toe_s": 0.0, "toc_s": 0.0,
            "iode": 7, "sqrta_sqrtm": 5153.6}


def test_kepler_defaults_and_round_trip():
    geo = sat_index(BDS, 1)
    eph = KeplerEphemerides.from_records([_kep(sat_index(GPS, 5), 10), _kep(geo, 20)])
    assert len(eph) == 2
    assert eph.param[0, K_SQRTA] == 5153.6
    assert eph.param[0, K_AF2] == 0.0 and eph.param[0, K_ADOT] == 0.0
    assert np.isnan(eph.param[0, K_TGD2])
    assert eph.is_geo.tolist() == [False, True]
    assert eph.iodc.tolist() == [-1, -1]
    assert eph.ttr_gpst_ns.tolist() == [10, 20]
    again = KeplerEphemerides.from_records(eph.to_records())
    np.testing.assert_array_equal(again.param, eph.param)
    both = concat_kepler([eph, eph.take([1])])
    assert both.sat.tolist() == [eph.sat[0], geo, geo]


def test_kepler_missing_field_and_bad_shape():
    rec = _kep(3, 10)
    del rec["week"]
    with pytest.raises(InvalidInputError, match="week"):
        KeplerEphemerides.from_records([rec])
    eph = KeplerEphemerides.from_records([_kep(3, 10)])
    with pytest.raises(InvalidInputError, match="param"):
        KeplerEphemerides(**{**{f: getattr(eph, f) for f in eph.__dataclass_fields__}, "param": np.zeros((1, 3))})


def test_glonass_and_fcn_table():
    rec = {"sat": sat_index(GLO, 3), "toe_gpst_ns": 5, "tb_s": 1800.0, "pos_m": [1.0, 2.0, 3.0],
           "vel_mps": [0.0, 0.0, 0.0], "acc_mps2": [0.0, 0.0, 0.0], "tau_n_s": 1e-5, "gamma_n": 0.0, "fcn": 5}
    glo = GlonassEphemerides.from_records([rec])
    assert glo.iode.tolist() == [2] and glo.pos_m.shape == (1, 3)
    assert len(concat_glonass([glo, GlonassEphemerides.empty()])) == 1
    table = glo_fcn_table(glo)
    assert table[sat_index(GLO, 3)] == 5 and table[0] == GLO_FCN_UNKNOWN


def test_ura_tables():
    assert ura_m_from_index([0, 6, 15]).tolist()[:2] == [2.4, 24.0]
    assert np.isnan(ura_m_from_index(15))
    assert ura_index_from_m([2.4, 2.0, 3.0, np.nan]).tolist() == [0, 0, 1, 15]
