"""The urban car rover: street canyon, NLOS, tracking flags, F9P signal set, time tags."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.constants import C_MPS
from gnssaug.datasets.sim import urban
from gnssaug.datasets.sim.urban import (
    BLOCKED,
    LOS,
    NLOS,
    UrbanBlockObs,
    apply_urban_effects,
    canyon_mask_rad,
    f9p_signal_table,
    new_car_state,
    nlos_extra_path_m,
    urban_path,
)
from gnssaug.gnss import BAND_FREQ_HZ, BDS, GAL, GPS, N_BAND, sat_index

DEG = np.pi / 180.0


def test_canyon_hides_the_sky_across_the_street_not_along_it():
    heading = 30.0 * DEG
    az = heading + np.array([0.0, 180.0, 90.0, 270.0, 45.0]) * DEG
    mask = canyon_mask_rad(az, heading, 40.0 * DEG, 55.0 * DEG)
    np.testing.assert_allclose(mask[:2], 0.0, atol=1e-12)  # along the street: open
    np.testing.assert_allclose(mask[2:4], [55.0 * DEG, 40.0 * DEG])  # right, left front seen square on
    assert mask[4] == pytest.approx(np.arctan(np.tan(55.0 * DEG) * np.sin(45.0 * DEG)))


def test_nlos_extra_path_is_the_wall_reflection_and_needs_a_reflecting_wall():
    el, az, heading = 30.0 * DEG, 90.0 * DEG, 0.0
    extra = nlos_extra_path_m(el, az, heading, 5.0, 15.0, 50.0 * DEG, 50.0 * DEG)
    assert extra == pytest.approx(2.0 * 15.0 * np.cos(el))
    # A low far front (the specular point would be above its top) reflects nothing.
    assert np.isnan(nlos_extra_path_m(el, az, heading, 5.0, 15.0, 50.0 * DEG, 20.0 * DEG))
    # Nor when the near front also hides the far front's face from the satellite.
    assert np.isnan(nlos_extra_path_m(10.0 * DEG, az, heading, 5.0, 15.0, 80.0 * DEG, 60.0 * DEG))


def test_route_drives_a_grid_with_stops_and_turns():
    path = urban_path(seed=0, duration_s=1800.0)
    t = np.arange(0.0, 1800.0, 1.0)
    pos, vel = path.ecef(t)
    speed = np.linalg.norm(vel, axis=1)
    assert speed.max() <= 12.0 + 1e-6
    assert np.linalg.norm(np.diff(pos, axis=0), axis=1).max() <= 12.0 + 1e-6
    assert np.percentile(speed[speed > 1.0], 75) > 8.0
    stopped = np.concatenate(([0], (speed < 0.01).astype(int), [0]))
    runs = np.diff(np.nonzero(np.diff(stopped))[0])[::2]
    assert (runs >= 10).sum() >= 5  # stops at junctions of 10-40 s
    heading = np.round(np.degrees(path.street_at(t)["heading_rad"])) % 360
    assert set(np.unique(heading)) == {35.0, 125.0, 215.0, 305.0}  # the grid's four directions
    assert path.street_at(t)["open"].mean() < 0.3


def test_f9p_signal_set():
    sats = [sat_index(GPS, 1), sat_index(GPS, 13), sat_index(GAL, 5), sat_index(BDS, 11), sat_index(BDS, 30)]
    table = f9p_signal_table(np.array(sats, dtype=np.int16))
    codes = [[chr(c) if c else "" for c in row] for row in table.code]
    assert codes[0][:3] == ["C", "L", ""]  # GPS IIF: L1 C/A + L2C, no L5
    assert codes[1][:3] == ["C", "", ""]  # GPS IIR G13: no L2C
    assert codes[2][:3] == ["C", "", "Q"]  # Galileo E1 + E5b, no E5a
    assert codes[3][:3] == ["I", "", "I"]  # BDS-2: B1I + B2I, no B3I
    assert codes[4] == ["I", "", "", "", "", ""]  # BDS-3: B1I only
    assert np.array_equal(np.isfinite(table.freq_hz), table.code != 0)


def _one_satellite_block(n_e: int, pr0_m: float = 2.2e7):
    """A block of one Galileo satellite: open-sky observations of a constant range."""
    shape = (n_e, 1, N_BAND)
    freq = np.full((1, N_BAND), np.nan)
    freq[0, 0] = BAND_FREQ_HZ[GAL, 0]
    pr = np.full(shape, np.nan)
    pr[:, 0, 0] = pr0_m
    cp = np.full(shape, np.nan)
    cp[:, 0, 0] = pr0_m / (C_MPS / freq[0, 0])
    obs = UrbanBlockObs(pr.copy(), cp.copy(), np.zeros(shape), np.full(shape, 40.0), np.zeros(shape, np.uint8),
                        np.ones((n_e, 1), dtype=bool))
    return obs, freq, pr, cp


def _street(n_e: int, heading_rad: float = 0.0, open_=False):
    """A street running north, fronts 50 deg high, car 5 m from the right front, 15 m from the left."""
    return {"heading_rad": np.full(n_e, heading_rad), "open": np.full(n_e, open_),
            "d_m": np.tile([15.0, 5.0], (n_e, 1)), "mask_rad": np.full((n_e, 2), 50.0 * DEG),
            "front_id": np.tile([1, 2], (n_e, 1))}


def test_nlos_adds_the_same_positive_extra_path_to_code_and_phase_without_flags():
    n_e = 20
    obs, freq, pr, cp = _one_satellite_block(n_e)
    el = np.full((n_e, 1), 30.0 * DEG)
    az = np.full((n_e, 1), 90.0 * DEG)  # east: across the street, behind the right front
    car = new_car_state(np.array([[ord("C")] + [0] * (N_BAND - 1)], np.uint8), np.random.default_rng(3),
                        tag_offset_ms=4)
    apply_urban_effects(obs, az, el, _street(n_e), freq, np.zeros((1, N_BAND)), car)
    assert (obs.path_state[:, 0] == NLOS).all()
    expected = 2.0 * 15.0 * np.cos(30.0 * DEG)  # reflected by the left front, 15 m away
    clock_m = C_MPS * 0.004
    np.testing.assert_allclose(obs.pr_m[:, 0, 0] - pr[:, 0, 0], expected + clock_m, rtol=0, atol=1e-6)
    lam = C_MPS / freq[0, 0]
    resid_cyc = obs.cp_cyc[:, 0, 0] - cp[:, 0, 0] - (expected + clock_m) / lam
    flagged = (obs.lli[:, 0, 0] & 2) != 0
    # The rest is the arc's integer ambiguity (plus half a cycle while the half-cycle flag is up).
    frac = np.abs(resid_cyc - np.round(resid_cyc * 2) / 2)
    assert frac.max() < 1e-5
    assert np.ptp(resid_cyc[~flagged]) == pytest.approx(0.0, abs=1e-5)
    assert obs.lli[0, 0, 0] & 1 and not (obs.lli[1:, 0, 0] & 1).any()  # one arc: no loss-of-lock flag
    assert (obs.cn0_dbhz[:, 0, 0] < 40.0 - 5.9).all()  # reflection loss


def test_satellite_along_the_street_stays_direct_and_blocked_one_is_lost():
    n_e = 5
    for az_deg, state in ((0.0, LOS), (180.0, LOS)):
        obs, freq, pr, _ = _one_satellite_block(n_e)
        car = new_car_state(np.array([[ord("C")] + [0] * (N_BAND - 1)], np.uint8), np.random.default_rng(1))
        apply_urban_effects(obs, np.full((n_e, 1), az_deg * DEG), np.full((n_e, 1), 20.0 * DEG), _street(n_e), freq,
                            np.zeros((1, N_BAND)), car)
        assert (obs.path_state[:, 0] == state).all()
        assert np.isfinite(obs.pr_m[:, 0, 0]).all()
    # Low across the street on the left (west): hidden by the left front, the right one too low to reflect.
    street = _street(n_e)
    street["mask_rad"][:, 1] = 10.0 * DEG
    obs, freq, _, _ = _one_satellite_block(n_e)
    car = new_car_state(np.array([[ord("C")] + [0] * (N_BAND - 1)], np.uint8), np.random.default_rng(1))
    apply_urban_effects(obs, np.full((n_e, 1), 270.0 * DEG), np.full((n_e, 1), 20.0 * DEG), street, freq,
                        np.zeros((1, N_BAND)), car)
    assert (obs.path_state[:, 0] == BLOCKED).all()
    assert not obs.visible.any() and np.isnan(obs.pr_m).all()


def test_new_arcs_flag_loss_of_lock_and_sometimes_half_cycles():
    n_e, n_j = 12, 3000
    shape = (n_e, n_j, N_BAND)
    freq = np.full((n_j, N_BAND), np.nan)
    freq[:, 0] = BAND_FREQ_HZ[GPS, 0]
    obs = UrbanBlockObs(np.full(shape, 2.2e7), np.full(shape, 1.1e8), np.zeros(shape), np.full(shape, 40.0),
                        np.zeros(shape, np.uint8), np.ones((n_e, n_j), dtype=bool))
    obs.pr_m[..., 1:] = np.nan
    obs.cp_cyc[..., 1:] = np.nan
    cp_in = obs.cp_cyc.copy()
    code = np.zeros((n_j, N_BAND), np.uint8)
    code[:, 0] = ord("C")
    car = new_car_state(code, np.random.default_rng(7), tag_offset_ms=3)
    street = _street(n_e, open_=True)
    apply_urban_effects(obs, np.zeros((n_e, n_j)), np.full((n_e, n_j), 60.0 * DEG), street, freq,
                        np.zeros((n_j, N_BAND)), car)
    lli = obs.lli[..., 0]
    assert (lli[0] & 1).all()  # every arc starts with the loss-of-lock flag
    half_arcs = (lli[0] & 2) != 0
    assert half_arcs.mean() == pytest.approx(urban.HALF_CYCLE_ARC_FRACTION, abs=0.03)
    # The flag lasts 1-6 s from the start of the arc, then clears for good.
    flagged = (lli & 2) != 0
    duration = flagged.sum(axis=0)
    assert duration[half_arcs].min() >= 1 and duration.max() <= urban.HALF_CYCLE_MAX_S
    first_clear = np.argmax(~flagged, axis=0)
    assert all(not flagged[first_clear[j]:, j].any() for j in np.nonzero(half_arcs)[0][:200])
    # While flagged, the phase is off by half a cycle in about half the arcs; after, integer.
    lam = C_MPS / freq[0, 0]
    resid = obs.cp_cyc[..., 0] - cp_in[..., 0] - C_MPS * 0.003 / lam
    after = resid[-1] - np.round(resid[-1])
    assert np.abs(after).max() < 1e-5
    during = resid[0, half_arcs] - resid[-1, half_arcs]
    assert set(np.round(during * 2) / 2) <= {0.0, 0.5} and 0.3 < np.mean(np.round(during * 2) / 2 == 0.5) < 0.7


@pytest.fixture(scope="module")
def urban_files(data_dir, tmp_path_factory):
    """The car and its base simulated for 120 s (seed 2) and written to RINEX."""
    from gnssaug.datasets.rinex import read_obs
    from gnssaug.datasets.sim.cli import DEFAULT_NAV
    from gnssaug.datasets.sim.output import build_simulator, write_outputs
    from gnssaug.datasets.sim.urban import urban_base_layout

    folder = tmp_path_factory.mktemp("urban")
    layout = urban_base_layout()
    sim = build_simulator(layout, ["car"], data_dir.joinpath(*DEFAULT_NAV), duration_s=120.0, seed=2)
    write_outputs(sim, folder, layout)
    rover_header, rover = read_obs(folder / "car.obs", systems="GEC")
    _, base = read_obs(folder / "BASE.obs", systems="GEC")
    return sim, folder, rover, base


def test_rover_file_has_the_f9p_signals_and_the_base_everything(urban_files):
    _, folder, rover, base = urban_files
    head = (folder / "car.obs").read_text().split("END OF HEADER")[0]
    types = {line[0]: line[7:60].split() for line in head.splitlines() if "SYS / # / OBS TYPES" in line}
    assert [t for t in types["G"] if t[0] == "C"] == ["C1C", "C2L"]
    assert [t for t in types["E"] if t[0] == "C"] == ["C1C", "C7Q"]
    assert [t for t in types["C"] if t[0] == "C"] == ["C2I", "C7I"]
    base_head = (folder / "BASE.obs").read_text().split("END OF HEADER")[0]
    assert "C2W" in base_head and "C6I" in base_head and "C2L" not in base_head


def test_rover_tags_run_whole_milliseconds_ahead_with_the_clock_in_the_code(urban_files):
    _, folder, rover, base = urban_files
    offset_ns = rover.t_gpst_ns - np.round(rover.t_gpst_ns / 1e9).astype(np.int64) * 1_000_000_000
    assert np.unique(offset_ns).size == 1
    assert offset_ns[0] % 1_000_000 == 0 and 2e6 <= offset_ns[0] <= 6e6
    assert (base.t_gpst_ns % 1_000_000_000 == 0).all()
    # Same satellite, same second: the rover code is longer by its clock offset, up to the base's own
    # clock (kept within 0.5 ms) and the geometry of 5 km (the same for every satellite within 10 km).
    ep_r, ep_b = rover.epoch(10), base.epoch(10)
    common, i_r, i_b = np.intersect1d(ep_r.sat, ep_b.sat, return_indices=True)
    diff = ep_r.pr_m[i_r, 0] - ep_b.pr_m[i_b, 0] - C_MPS * offset_ns[0] * 1e-9
    assert common.size > 5 and np.nanmax(diff) - np.nanmin(diff) < 10e3
    assert abs(np.nanmedian(diff)) < C_MPS * 0.5e-3 + 10e3


def test_canyon_in_the_simulation_blocks_across_not_along(urban_files):
    sim, _, _, _ = urban_files
    blocks = sim.urban_log["car"]
    state = np.concatenate([b.path_state for b in blocks])
    el = np.concatenate([b.el_rad for b in blocks])
    path = sim.receivers[-1].path
    t_s = (sim.times_ns - sim.config.start_gpst_ns) / 1e9
    street = path.street_at(t_s)
    pos, _ = path.ecef(t_s)
    az, _ = urban._azel(sim._true_sat_states(sim.times_ns)[0], pos, path.origin_llh_deg)
    rel = np.abs(np.sin(az - street["heading_rad"][:, None]))
    in_canyon = ~street["open"][:, None] & (state >= 0) & (el > 15.0 * DEG)
    along = in_canyon & (rel < 0.2)
    across_low = in_canyon & (rel > 0.9) & (el < 25.0 * DEG)
    assert along.sum() > 50 and across_low.sum() > 50
    assert (state[along] == LOS).mean() > 0.99
    assert (state[across_low] != LOS).mean() > 0.6  # fronts hide 30-60 deg; one in seven is a gap


def test_effects_can_be_switched_off_one_by_one():
    from gnssaug.datasets.sim.errors import SimError
    from gnssaug.datasets.sim.urban import UrbanEffects

    eff = UrbanEffects.without(["nlos", "tag_offset"])
    assert not eff.nlos and not eff.tag_offset and eff.canyon and eff.half_cycle
    with pytest.raises(SimError, match="unknown urban effects"):
        UrbanEffects.without(["multipath"])
    # Without NLOS, the satellite behind the right front is lost instead of reflected.
    n_e = 5
    obs, freq, _, _ = _one_satellite_block(n_e)
    car = new_car_state(np.array([[ord("C")] + [0] * (N_BAND - 1)], np.uint8), np.random.default_rng(3),
                        effects=eff)
    apply_urban_effects(obs, np.full((n_e, 1), 90.0 * DEG), np.full((n_e, 1), 30.0 * DEG), _street(n_e), freq,
                        np.zeros((1, N_BAND)), car)
    assert (obs.path_state[:, 0] == BLOCKED).all() and car.tag_offset_ns == 0
