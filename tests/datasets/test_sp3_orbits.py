"""SP3 reading and Lagrange interpolation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gnssaug.datasets.sp3 import Sp3Orbits, read_sp3
from gnssaug.errors import FileFormatError, InvalidInputError
from gnssaug.gnss import parse_sv
from gnssaug.time import NS_PER_S, gpst_ns_from_calendar

WUM = ("wuhan_wuhn_20250101", "WUM0MGXFIN_20250010000_01D_05M_ORB.SP3")
T0 = int(gpst_ns_from_calendar(2025, 1, 1))


def _circular(t_s):
    """A circular MEO test orbit [m] (radius 26 560 km, period 43 082 s, inclined 55 deg)."""
    r, w, inc = 26_560e3, 2 * math.pi / 43_082.0, math.radians(55.0)
    u = w * np.asarray(t_s)
    return np.stack([r * np.cos(u), r * np.sin(u) * math.cos(inc), r * np.sin(u) * math.sin(inc)], axis=-1)


def _write_sp3(path, n_epochs=24, step_s=900, bad=()):
    """A small SP3-d file of one satellite (G01) on the circular orbit; ``bad`` epochs get missing values."""
    lines = [f"#dP2025  1  1  0  0  0.00000000 {n_epochs:6d} ORBIT IGS20 FIT  TST",
             f"## 2347 259200.00000000 {step_s:14.8f} 60676 0.0000000000000",
             "+    1   G01" + "  0" * 16, "%c G  cc GPS ccc cccc cccc cccc cccc ccccc ccccc ccccc ccccc"]
    for k in range(n_epochs):
        t = k * step_s
        h, rest = divmod(t, 3600)
        lines.append(f"*  2025  1  1 {h:2d} {rest // 60:2d}  0.00000000")
        x, y, z = _circular(t) / 1e3
        clk = 999999.999999 if k in bad else 12.5 + 1e-3 * k
        if k in bad:
            x = y = z = 0.0
        lines.append(f"PG01{x:14.6f}{y:14.6f}{z:14.6f}{clk:14.6f}")
    lines.append("EOF")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def wum(data_dir):
    return read_sp3(data_dir.joinpath(*WUM))


def test_read_wum_product(wum):
    sp3 = wum
    assert sp3.t_gpst_ns.size == 288 and sp3.sat.size == 119
    assert sp3.t_gpst_ns[0] == T0 and np.all(np.diff(sp3.t_gpst_ns) == 300 * NS_PER_S)
    assert sp3.frame == "IGS20" and sp3.agency == "WHU"
    assert np.all(np.diff(sp3.sat) > 0)
    c = sp3.column([parse_sv("C01"), parse_sv("R06")])
    assert c[0] >= 0 and c[1] == -1  # R06 is not in the file
    radius = np.linalg.norm(sp3.pos_ecef_m[:, c[0]], axis=1)
    assert np.all(np.abs(radius - 42_164e3) < 100e3)  # a GEO


def test_interpolation_of_dropped_real_epochs(wum):
    """Every other 5-min epoch removed: order-10 Lagrange at 10-min spacing recovers them to mm."""
    sp3 = wum
    thin = Sp3Orbits(sat=sp3.sat, t_gpst_ns=sp3.t_gpst_ns[::2], pos_ecef_m=sp3.pos_ecef_m[::2],
                     clk_s=sp3.clk_s[::2])
    sats = np.array([parse_sv(s) for s in ("G05", "E02", "C08", "C21", "R01")], dtype=np.int16)
    mid = sp3.t_gpst_ns[1:-1:2][20:-20]  # away from the ends, where the window is one-sided
    q_sat = np.repeat(sats, mid.size)
    q_t = np.tile(mid, sats.size)
    got = thin.position_at(q_sat, q_t)
    want = sp3.pos_ecef_m[np.searchsorted(sp3.t_gpst_ns, q_t), sp3.column(q_sat)]
    err = np.linalg.norm(got - want, axis=1)
    assert np.nanmax(err) < 0.01
    exact = thin.position_at(q_sat[:3], thin.t_gpst_ns[30])
    np.testing.assert_array_equal(exact, thin.pos_ecef_m[30, thin.column(q_sat[:3])])


def test_interpolation_against_analytic_orbit_and_missing_values(tmp_path):
    sp3 = read_sp3(_write_sp3(tmp_path / "orbit.sp3", bad=(20,)))
    assert np.isnan(sp3.pos_ecef_m[20]).all() and np.isnan(sp3.clk_s[20]).all()
    assert sp3.clk_s[1, 0] == pytest.approx(12.501e-6)
    sat = np.full(5, parse_sv("G01"), dtype=np.int16)
    t_s = np.array([6 * 900 + 450.0, 7 * 900 + 123.0, 8 * 900 + 1.0, 2 * 900 + 77.0, 21 * 900.0 + 450])
    got = sp3.position_at(sat, T0 + (t_s * NS_PER_S).astype(np.int64))
    err = np.linalg.norm(got - _circular(t_s), axis=1)
    assert np.all(err[:4] < 1e-3)  # mm on a smooth orbit at 15-min spacing
    assert np.isnan(got[4]).all()  # the window holds the missing epoch
    outside = sp3.position_at(sat[:1], T0 - NS_PER_S)
    assert np.isnan(outside).all()
    clk = sp3.clock_at(sat[:1], T0 + 450 * NS_PER_S)
    assert clk[0] == pytest.approx(12.5005e-6)
    with pytest.raises(InvalidInputError):
        Sp3Orbits(sat=sp3.sat, t_gpst_ns=sp3.t_gpst_ns[:5], pos_ecef_m=sp3.pos_ecef_m[:5],
                  clk_s=sp3.clk_s[:5]).position_at(sat[:1], T0)


def test_bad_files(tmp_path):
    path = tmp_path / "bad.sp3"
    path.write_text("not an sp3 file\n")
    with pytest.raises(FileFormatError, match="not an SP3"):
        read_sp3(path)
    good = _write_sp3(tmp_path / "x.sp3", n_epochs=3).read_text().splitlines()
    good[5] = good[5][:10] + "abc" + good[5][13:]
    path.write_text("\n".join(good) + "\n")
    with pytest.raises(FileFormatError, match=r"bad\.sp3:6: bad number"):
        read_sp3(path)
