"""A low-cost rover driving in a city: the ``car`` rover and its urban effects.

The scene is synthetic but placed plausibly: a street grid in central Hankou (Wuhan), streets
running 35 deg and 125 deg from north (Hankou's grid follows the Yangtze), blocks 150-300 m
long, streets 20-40 m wide between the building fronts. A car drives the grid at 8-12 m/s,
stops at junctions (traffic lights, 10-40 s) and turns; the base is a geodetic station on a
roof 4.7 km to the north-north-west (open sky, :data:`~gnssaug.datasets.sim.noise.STATION_ENV`).

How it is simulated
    The car is first simulated by the ordinary engine as an open-sky receiver moving along the
    truth trajectory (patch-antenna C/N0, car multipath and clock: :data:`CAR_ENV`), tracking
    the signals of a u-blox ZED-F9P (:func:`f9p_signal_table`); :class:`UrbanSimulator` then
    applies the city to its observations, block by block, from the true geometry (satellite
    azimuth and elevation at the truth position, the street the car is in):

    street canyon (:func:`canyon_mask_rad`)
        Each side of each street is a row of building fronts 30-120 m long, each hiding the sky
        perpendicular to the street up to 30-60 deg (one in seven is a gap or a low building,
        5-15 deg). A wall parallel to the street hides a satellite at azimuth ``alpha`` from the
        street direction below ``atan(tan(m) |sin alpha|)``: the whole mask across the street,
        none along it; it changes at every turn. In the junction box (the crossing street's
        width) the fronts are absent and the sky is open.
    NLOS reception (:func:`nlos_extra_path_m`)
        A blocked satellite is still received when the opposite front reflects it: the specular
        point must lie below that front's top and the incoming ray must clear the blocking front
        (plane geometry, Groves 2013, *Principles of GNSS, inertial and multisensor integrated
        navigation systems*, 2nd ed., §4.4 and §9.4). The reflected path is longer by
        ``2 d cos(el) |sin alpha|`` (``d``: distance from the antenna to the reflecting front):
        a few to tens of metres, added to code AND phase, changing smoothly while the reflection
        lasts (no loss-of-lock flag); the signal loses 6-12 dB (reflection loss and the patch's
        rejection of the left-hand polarised reflection). Doppler stays that of the direct path
        (the extra path changes by centimetres per second). Fronts are set back 0-3 m each: when
        the reflection moves on to the next front, the path steps by ``2 dd cos(el) |sin alpha|``
        (up to 5 m), which the loop either follows (a phase jump without a flag) or loses the
        satellite (:data:`REFLECTOR_CHANGE_LOSS_P`).
    tracking
        Any change of a satellite's path (direct -> blocked or reflected and back) is a jump of
        metres in the carrier the tracking loop cannot follow: the receiver loses the satellite
        and re-acquires it 1-3 s after the signal is back, with a new arc (LLI bit 0 on its first
        epoch, a new integer ambiguity). The second frequency is re-acquired 0-2 s after the
        first (aided by it). Code is output down to :data:`CODE_MIN_CN0_DBHZ`, phase only from
        :data:`PHASE_MIN_CN0_DBHZ` (measured on the real F9P file of the shared TST 2020 data:
        phase never below 27 dB-Hz, code down to 8; moved to the simulated C/N0 scale by
        :data:`UBLOX_CN0_SCALE_DB`). A new arc carries the half-cycle flag
        (LLI bit 1) with probability :data:`HALF_CYCLE_ARC_FRACTION` for 1-6 s (TST 2020 F9P:
        19 % of arcs, 90 % of the flagged ones for at most 2 s, 99 % within 5 s) and its phase
        is then off by half a cycle half of the time, until the flag clears. Undeclared integer
        slips happen at :data:`UNDECLARED_SLIPS_PER_SAT_HOUR` (five times likelier on weak
        signals).
    patch antenna and receiver
        C/N0 5 dB below a geodetic antenna, code noise 1.5 times the geodetic receiver's at the
        same C/N0 (wide correlator, no choke ring; Odolinski & Teunissen 2017, GPS Solutions
        21:1315, find low-cost receiver code noisier than survey grade), strong car-roof
        multipath; calibrated on the code-minus-phase spread of the real F9P file (see
        :data:`CODE_NOISE_FACTOR`).
    time tags
        The receiver's clock runs a whole number of milliseconds (2-6 ms) ahead of GPST and
        tags its epochs in its own time (the TST F9P files tag epochs 3-4 ms after the second):
        the tag, code and phase carry the same offset; the truth stays at the true epochs.
    signal set (u-blox ZED-F9P, as in the TST 2020 file's header)
        GPS L1 C/A + L2C (``C2L``; Block IIR satellites have no L2C: single-frequency), Galileo
        E1 + E5b (``C7Q``), BDS B1I + B2I (BDS-3 broadcasts no B2I: single-frequency B1I). The
        base tracks everything (GPS L2 semi-codeless ``C2W``, E5a, B3I, B1C, B2a), so base and
        rover differ in tracking mode on GPS L2 (a satellite C2L-C2W code bias of about 0.1 m
        that does not cancel between receivers). QZSS is not simulated.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from gnssaug.constants import C_MPS
from gnssaug.datasets.sim.engine import BlockObs, Simulator
from gnssaug.datasets.sim.errors import SimError
from gnssaug.datasets.sim.layout import Layout
from gnssaug.datasets.sim.noise import ReceiverEnv, SignalTable, signal_table
from gnssaug.datasets.sim.rovers import Receiver
from gnssaug.geodesy import ecef_from_llh_deg, enu_rotation
from gnssaug.gnss import BDS, BDS3_FIRST_PRN, GAL, GPS, N_BAND, SAT_PRN, SAT_SYSTEM
from gnssaug.obs import LLI_HALF_CYCLE, LLI_SLIP, ObsEpoch, ObsSeries

#: Names of the urban rovers (``gnssaug sim --rovers car``).
URBAN_ROVERS = ("car",)
#: Centre of the street grid: central Hankou, Wuhan (latitude, longitude [deg], ellipsoidal height
#: of the antenna on the car roof [m]). The scene is synthetic.
CAR_ORIGIN_LLH = (30.5850, 114.2750, 20.0)
#: The base: a geodetic antenna on a roof 4.7 km north-north-west of the grid centre.
CAR_BASE_LLH = (30.6230, 114.2500, 45.0)
#: Bearing of the grid's first street direction [deg from north].
GRID_BEARING_DEG = 35.0

#: GPS satellites with L2C in 2025: Block IIR-M, IIF and III (the Block IIR PRNs 2, 13, 16, 19, 20,
#: 21, 22 have none).
GPS_L2C_PRNS = frozenset((1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 17, 18, 23, 24, 25, 26, 27, 28, 29, 30,
                          31, 32))
#: L2C is transmitted 1.5 dB weaker than L1 C/A (IS-GPS-200N Table 3-Va: -160.0 vs -158.5 dBW).
L2C_CN0_OFFSET_DB = -1.5
#: Code noise at 45 dB-Hz of L2C (CM+CL, a full-power civil code like L1 C/A) [m].
L2C_CODE_SIGMA_45_M = 0.25
#: Satellite C2L-C2W code bias sigma [m] (multi-GNSS DSB products: a few tenths of a nanosecond).
L2C_DSB_SIGMA_M = 0.1

#: The car's receiver and surroundings: patch antenna 5 dB below a geodetic one, car-roof and
#: street multipath (reflectors 0.3-3 m below the antenna, strong diffuse code multipath with a
#: short correlation time while moving), losses of lock and declared slips as a receiver under
#: trees and passing trucks, the receiver clock steered (its millisecond offset is added by
#: :class:`UrbanSimulator`).
CAR_ENV = ReceiverEnv(
    el_mask_deg=5.0, mp_alpha0=0.6, mp_height_m=(0.3, 3.0), mp_gm_sigma_m=0.2, mp_gm_tau_s=3.0,
    slip_per_sat_hour=1.0, lol_per_sat_hour=2.0, cn0_offset_db=-5.0, clock="steered", rx_bias_sigma_m=1.0,
)
#: Code noise of the low-cost receiver relative to the engine's geodetic law at the same C/N0.
#: With the diffuse multipath of :data:`CAR_ENV` (0.2 m at the zenith) it gives the car a
#: code-minus-phase (MP1) spread (seed 1, 900 s) of 0.56 m (GPS) and 0.71 m (BDS-2) above 55 deg,
#: 0.92 and 1.07 m at 20-35 deg; the real F9P of the shared TST 2020 file
#: (16 min in Tsim Sha Tsui, few arcs) shows 0.36 m (GPS) and 0.61 m (BDS-2) above 55 deg, 0.56
#: and 0.32 m at 20-35 deg. Factor 2 with 0.5 m diffuse multipath gave 0.9-1.3 m: too noisy.
CODE_NOISE_FACTOR = 1.5
#: How much higher a u-blox reports C/N0 than the simulated car [dB]: the engine's C/N0 curve is on
#: the scale of the WUHN Trimble NetR9 and the car is 5 dB below it, while the real TST 2020 F9P
#: reads 25/39/43/46/48 dB-Hz at its 5/25/50/75/95th percentiles of L1 rows, the simulated car
#: (seed 1, 600 s) 21/31/34/38/40: the same shape, 8 dB apart. Thresholds measured on the real
#: F9P's scale are moved by this much.
UBLOX_CN0_SCALE_DB = 8.0
#: C/N0 below which the receiver outputs no code / no phase [dB-Hz, simulated scale]: the real F9P
#: file has no phase below 27 dB-Hz and code down to 8 dB-Hz.
CODE_MIN_CN0_DBHZ = 8.0 - UBLOX_CN0_SCALE_DB
PHASE_MIN_CN0_DBHZ = 27.0 - UBLOX_CN0_SCALE_DB
#: Fraction of new arcs that start with the half-cycle flag (TST 2020 F9P: 51 of 269 L1 arcs).
HALF_CYCLE_ARC_FRACTION = 0.19
HALF_CYCLE_MAX_S = 6.0
#: Integer slips without a flag per satellite-hour at high C/N0 (x5 below :data:`WEAK_CN0_DBHZ`).
UNDECLARED_SLIPS_PER_SAT_HOUR = 0.5
#: A weak signal for the phase-lock loop: 35 dB-Hz on the real F9P's scale [dB-Hz, simulated scale].
WEAK_CN0_DBHZ = 35.0 - UBLOX_CN0_SCALE_DB
#: Re-acquisition after the signal is back [s] and the delay of the second frequency [s].
REACQ_S = (1.0, 3.0)
SECOND_FREQ_DELAY_S = (0.0, 2.0)
#: Probability that the tracking loop loses a reflected signal when the reflection moves to the
#: next building front (a step of up to 5 m in path over the second the car takes to pass the
#: corner: Doppler steps a 10 Hz loop may or may not follow; no published rate, half of them).
REFLECTOR_CHANGE_LOSS_P = 0.5
#: Reflection loss of an NLOS signal [dB].
NLOS_LOSS_DB = (6.0, 12.0)
#: Receiver time-tag offset: whole milliseconds ahead of GPST.
TAG_OFFSET_MS = (2, 6)

# Path states of a satellite.
BLOCKED, LOS, NLOS = 0, 1, 2


@dataclass(frozen=True)
class UrbanEffects:
    """Switches of the urban effects (all on by default), to see which effect costs an engine what.

    Attributes
    ----------
    canyon : bool
        Street-canyon masks (off: open sky everywhere, NLOS off too).
    nlos : bool
        Reception of hidden satellites by reflection (off: hidden satellites are lost).
    half_cycle : bool
        Half-cycle flags and half-cycle phase offsets at the start of arcs.
    undeclared_slips : bool
        Integer slips without a flag.
    tag_offset : bool
        Receiver clock and time tags milliseconds ahead of GPST (off: on the second).
    code_noise : bool
        The low-cost receiver's extra code noise (:data:`CODE_NOISE_FACTOR`).
    """

    canyon: bool = True
    nlos: bool = True
    half_cycle: bool = True
    undeclared_slips: bool = True
    tag_offset: bool = True
    code_noise: bool = True

    @classmethod
    def without(cls, names) -> UrbanEffects:
        """All effects but ``names`` (an iterable of attribute names); SimError on an unknown name."""
        known = set(cls.__dataclass_fields__)
        bad = sorted(set(names) - known)
        if bad:
            raise SimError(f"unknown urban effects {bad}; known: {', '.join(sorted(known))}")
        return cls(**{n: n not in set(names) for n in known})


# ----------------------------------------------------------------------------------------------
# Signal set
# ----------------------------------------------------------------------------------------------
def f9p_signal_table(sat: np.ndarray) -> SignalTable:
    """The signals a u-blox ZED-F9P tracks of each satellite (see the module docstring).

    Parameters
    ----------
    sat : int16[J]
        Global satellite indices.

    Returns
    -------
    SignalTable
        Arrays [J, N_BAND]: the engine's table with the untracked slots removed (NaN frequency,
        code 0) and GPS L2 as L2C (``L``, no squaring loss).
    """
    base = signal_table(sat)
    freq, code = base.freq_hz.copy(), base.code.copy()
    sigma, offset, slope = base.sigma_code_m.copy(), base.cn0_offset_db.copy(), base.cn0_loss_slope.copy()
    system, prn = SAT_SYSTEM[sat], SAT_PRN[sat]
    keep = np.zeros(freq.shape, dtype=bool)
    keep[:, 0] = True
    gps_l2c = (system == GPS) & np.isin(prn, list(GPS_L2C_PRNS))
    keep[gps_l2c, 1] = True
    keep[system == GAL, 2] = True  # E5b
    keep[(system == BDS) & (prn < BDS3_FIRST_PRN), 2] = True  # B2I (BDS-2 only)
    code[gps_l2c, 1] = ord("L")
    sigma[gps_l2c, 1] = L2C_CODE_SIGMA_45_M
    offset[gps_l2c, 1] = offset[gps_l2c, 0] + L2C_CN0_OFFSET_DB
    slope[gps_l2c, 1] = 0.0
    keep &= np.isfinite(freq)
    freq[~keep] = np.nan
    code[~keep] = 0
    sigma[~keep] = 0.0
    return SignalTable(freq, code, sigma, offset, slope)


# ----------------------------------------------------------------------------------------------
# Scene and trajectory
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StreetGrid:
    """A rectangular street grid in the plane of the first street direction ``u`` and ``v`` (to its right).

    Attributes
    ----------
    u_m, v_m : float64[nu], float64[nv]
        Coordinates of the streets: the streets running along ``v`` sit at ``u = u_m[i]`` and
        those running along ``u`` at ``v = v_m[j]`` [m].
    width_u_m, width_v_m : float64[nu], float64[nv]
        Widths between building fronts of those streets [m].
    fronts : dict
        ``(axis, index, side) -> float64[n, 4]`` rows ``(start_m, end_m, mask_perp_rad, setback_m)``
        along the street; ``axis`` 0 is a street along ``u`` (index into ``v_m``), 1 along ``v``;
        ``side`` 0 left, 1 right (facing increasing coordinate). ``setback_m`` moves a front back
        from the street's nominal edge.
    """

    u_m: np.ndarray
    v_m: np.ndarray
    width_u_m: np.ndarray
    width_v_m: np.ndarray
    fronts: dict = field(compare=False)

    def front(self, axis: int, index: int, side: int, along_m: float) -> tuple[int, float, float]:
        """The front of one side of a street at a position along it: (number along the street,
        perpendicular mask elevation [rad], setback [m])."""
        rows = self.fronts[(axis, index, side)]
        k = min(int(np.searchsorted(rows[:, 1], along_m)), rows.shape[0] - 1)
        return k, float(rows[k, 2]), float(rows[k, 3])


def street_grid(rng: np.random.Generator, n_streets: int = 12, length_m: float = 4000.0) -> StreetGrid:
    """A random grid: blocks 150-300 m, streets 20-40 m wide, fronts 30-120 m hiding 30-60 deg and
    set back 0-3 m."""
    u = np.concatenate(([0.0], np.cumsum(rng.uniform(150.0, 300.0, n_streets - 1))))
    v = np.concatenate(([0.0], np.cumsum(rng.uniform(150.0, 300.0, n_streets - 1))))
    u, v = u - u[n_streets // 2], v - v[n_streets // 2]
    fronts = {}
    for axis, coords in ((0, v), (1, u)):
        for index in range(coords.size):
            for side in (0, 1):
                edges = np.cumsum(rng.uniform(30.0, 120.0, int(2 * length_m / 30.0)))
                edges = edges - length_m
                gap = rng.random(edges.size) < 1.0 / 7.0
                mask_deg = np.where(gap, rng.uniform(5.0, 15.0, edges.size), rng.uniform(30.0, 60.0, edges.size))
                setback = rng.uniform(0.0, 3.0, edges.size)
                fronts[(axis, index, side)] = np.column_stack([np.roll(edges, 1), edges, np.radians(mask_deg),
                                                               setback])
    return StreetGrid(u, v, rng.uniform(20.0, 40.0, n_streets), rng.uniform(20.0, 40.0, n_streets), fronts)


#: Time step of the trajectory tables [s].
_STEP_S = 0.1
_ACCEL_MPS2, _BRAKE_MPS2, _TURN_MPS = 1.5, 2.0, 5.0


def _drive(length_m: float, v0: float, v_cruise: float, v_end: float) -> np.ndarray:
    """Distances [m] every :data:`_STEP_S` along a leg: accelerate, cruise, brake to ``v_end``."""
    s, v, out = 0.0, v0, []
    while s < length_m - 1e-6:
        v_brake = np.sqrt(max(v_end**2 + 2.0 * _BRAKE_MPS2 * (length_m - s), 0.0))
        v = min(v_cruise, v + _ACCEL_MPS2 * _STEP_S, v_brake)
        v = max(v, 0.3)  # creep to the line rather than stop short of it
        s = min(s + v * _STEP_S, length_m)
        out.append(s)
    return np.array(out)


@dataclass(frozen=True)
class UrbanPath:
    """The car's trajectory on a :class:`StreetGrid`, tabulated every 0.1 s.

    Provides ``ecef(t_s)`` like :class:`~gnssaug.datasets.sim.rovers.Path`, and the street the car
    is in (:meth:`street_at`).

    Attributes
    ----------
    grid : StreetGrid
    t_s : float64[n]
        Table times [s from start].
    uv_m : float64[n, 2]
        Position in the grid plane [m].
    axis, index : int64[n]
        The street: ``axis`` 0 runs along ``u`` (index into ``grid.v_m``), 1 along ``v``.
    forward : float64[n]
        +1 when driving towards increasing coordinate along the street, -1 otherwise.
    junction_open : bool[n]
        Inside a junction box (no building fronts).
    """

    grid: StreetGrid
    t_s: np.ndarray
    uv_m: np.ndarray
    axis: np.ndarray
    index: np.ndarray
    forward: np.ndarray
    junction_open: np.ndarray
    origin_llh_deg: tuple = CAR_ORIGIN_LLH
    bearing_deg: float = GRID_BEARING_DEG

    def _rows(self, t_s) -> np.ndarray:
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        if t.size and (t.min() < -1e-9 or t.max() > self.t_s[-1] + 1e-9):
            raise SimError(f"the car's route covers 0..{self.t_s[-1]:.0f} s, asked {t.min():.1f}..{t.max():.1f} s")
        return np.clip(np.rint(t / _STEP_S).astype(np.int64), 0, self.t_s.size - 1)

    def enu(self, t_s) -> np.ndarray:
        """East/north/up from the grid centre [m] (float64[E, 3]), interpolated in the table."""
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        u = np.interp(t, self.t_s, self.uv_m[:, 0])
        v = np.interp(t, self.t_s, self.uv_m[:, 1])
        b = np.radians(self.bearing_deg)
        east = u * np.sin(b) + v * np.cos(b)  # v points 90 deg clockwise of u
        north = u * np.cos(b) - v * np.sin(b)
        return np.column_stack([east, north, np.zeros_like(u)])

    def ecef(self, t_s) -> tuple[np.ndarray, np.ndarray]:
        """Positions and velocities (ECEF, float64[E, 3]) at ``t_s`` [s from start]."""
        t_s = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        self._rows(t_s)
        lat, lon, h = self.origin_llh_deg
        origin = ecef_from_llh_deg(lat, lon, h)
        rot = enu_rotation(np.radians(lat), np.radians(lon))
        pos = origin + self.enu(t_s) @ rot
        h_s = 0.05
        t_hi = np.minimum(t_s + h_s, self.t_s[-1])
        t_lo = np.maximum(t_s - h_s, 0.0)
        vel = (self.enu(t_hi) - self.enu(t_lo)) @ rot / (t_hi - t_lo)[:, None]
        return pos, vel

    def street_at(self, t_s) -> dict:
        """The street at each time: heading [rad from north], junction flag, and per side (left,
        right of the direction of travel) the distance to the fronts [m], their mask [rad] and an
        identifier of each front (``front_id``, int64)."""
        rows = self._rows(t_s)
        out = {"heading_rad": np.empty(rows.size), "open": self.junction_open[rows].copy(),
               "d_m": np.empty((rows.size, 2)), "mask_rad": np.empty((rows.size, 2)),
               "front_id": np.empty((rows.size, 2), dtype=np.int64)}
        b = np.radians(self.bearing_deg)
        for i, r in enumerate(rows):
            axis, index, fwd = int(self.axis[r]), int(self.index[r]), float(self.forward[r])
            turn = (0.0 if axis == 0 else 0.5 * np.pi) + (0.0 if fwd > 0 else np.pi)
            out["heading_rad"][i] = (b + turn) % (2 * np.pi)
            width = (self.grid.width_v_m if axis == 0 else self.grid.width_u_m)[index]
            along = self.uv_m[r, axis]
            # The car keeps to the right-hand lane: a quarter of the width right of the centre line.
            near_right, far_left = width / 4.0, 3.0 * width / 4.0
            sides = (0, 1) if fwd > 0 else (1, 0)  # grid sides seen as (left, right) of travel
            for col, (side, d_m) in enumerate(zip(sides, (far_left, near_right), strict=True)):
                k, mask, setback = self.grid.front(axis, index, side, along)
                out["d_m"][i, col] = d_m + setback
                out["mask_rad"][i, col] = mask
                out["front_id"][i, col] = ((axis * 100 + index) * 2 + side) * 100_000 + k
        return out


def urban_path(seed: int = 0, duration_s: float = 7200.0) -> UrbanPath:
    """The car's route: a random drive on a random Hankou street grid (both from ``seed``).

    Legs run junction to junction at a cruise speed of 8-12 m/s each; at 40 % of the junctions the
    car stops 10-40 s at the stop line (half the crossing street's width plus 2 m before the
    centre); it goes straight at half of them and turns left or right otherwise (never leaving the
    grid), at 5 m/s through turns; acceleration 1.5 m/s^2, braking 2 m/s^2.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(b"urban-route")])))
    grid = street_grid(rng)
    nu, nv = grid.u_m.size, grid.v_m.size
    node = np.array([nu // 2, nv // 2])
    direction = np.array([1, 0])
    parts_uv, parts_meta = [], []
    t_total, v_now = 0.0, 0.0
    while t_total < duration_s:
        nxt = node + direction
        if not (0 <= nxt[0] < nu and 0 <= nxt[1] < nv):
            direction = np.array([direction[1], -direction[0]]) * (1 if rng.random() < 0.5 else -1)
            continue
        p0 = np.array([grid.u_m[node[0]], grid.v_m[node[1]]])
        p1 = np.array([grid.u_m[nxt[0]], grid.v_m[nxt[1]]])
        axis = 0 if direction[0] != 0 else 1
        index = int(node[1] if axis == 0 else node[0])
        cross_w = (grid.width_u_m[nxt[0]] if axis == 0 else grid.width_v_m[nxt[1]])
        length = float(np.linalg.norm(p1 - p0))
        stop = rng.random() < 0.4
        turn = rng.random() < 0.5
        v_cruise = rng.uniform(8.0, 12.0)
        v_end = _TURN_MPS if turn else v_cruise
        if stop:
            line = length - cross_w / 2.0 - 2.0
            s = np.concatenate([_drive(line, v_now, v_cruise, 0.0),
                                np.full(int(round(rng.uniform(10.0, 40.0) / _STEP_S)), line),
                                line + _drive(length - line, 0.0, _TURN_MPS, v_end)])
        else:
            s = _drive(length, v_now, v_cruise, v_end)
        unit = (p1 - p0) / length
        parts_uv.append(p0 + s[:, None] * unit)
        start_w = grid.width_u_m[node[0]] if axis == 0 else grid.width_v_m[node[1]]
        is_open = (s < start_w / 2.0) | (s > length - cross_w / 2.0)
        fwd = float(np.sign(unit[axis]))
        parts_meta.append(np.column_stack([np.full(s.size, axis), np.full(s.size, index), np.full(s.size, fwd),
                                           is_open]))
        t_total += s.size * _STEP_S
        v_now = v_end
        node = nxt
        if turn:
            direction = np.array([direction[1], -direction[0]]) * (1 if rng.random() < 0.5 else -1)
    uv = np.vstack([[[grid.u_m[nu // 2], grid.v_m[nv // 2]]], *parts_uv])
    meta = np.vstack([parts_meta[0][:1], *parts_meta])
    t = _STEP_S * np.arange(uv.shape[0])
    return UrbanPath(grid, t, uv, meta[:, 0].astype(np.int64), meta[:, 1].astype(np.int64), meta[:, 2],
                     meta[:, 3].astype(bool))


def car_rover(name: str = "car", seed: int = 0, duration_s: float = 7200.0) -> Receiver:
    """The ``car`` rover: its route (:func:`urban_path`) and :data:`CAR_ENV`."""
    path = urban_path(seed, duration_s)
    pos, _ = path.ecef(np.zeros(1))
    return Receiver(name, pos[0], CAR_ENV, path)


def urban_base_layout() -> Layout:
    """The car's base station (``BASE``, :data:`CAR_BASE_LLH`) as a one-station layout."""
    return Layout(("BASE",), ecef_from_llh_deg(*CAR_BASE_LLH)[None, :])


# ----------------------------------------------------------------------------------------------
# Urban effects
# ----------------------------------------------------------------------------------------------
def canyon_mask_rad(az_rad, heading_rad, mask_left_rad, mask_right_rad):
    """Elevation below which the street's walls hide a satellite [rad].

    A wall parallel to the street that rises to ``m`` seen perpendicularly rises to
    ``atan(tan(m) |sin(az - heading)|)`` in direction ``az``: the full mask across the street,
    zero along it.

    Parameters
    ----------
    az_rad : float64[...]
        Satellite azimuths [rad from north].
    heading_rad : float64[...]
        Street direction of travel [rad from north] (broadcast against ``az_rad``).
    mask_left_rad, mask_right_rad : float64[...]
        Perpendicular masks of the fronts left and right of the direction of travel.
    """
    rel = np.sin(np.asarray(az_rad) - np.asarray(heading_rad))
    mask = np.where(rel > 0.0, mask_right_rad, mask_left_rad)
    return np.arctan(np.tan(mask) * np.abs(rel))


def nlos_extra_path_m(el_rad, az_rad, heading_rad, d_near_m, d_far_m, mask_near_rad, mask_far_rad):
    """Extra path [m] of the reflection off the opposite front; NaN where no reflection reaches the car.

    The blocked satellite is on the ``near`` side (its front at ``d_near_m``, hiding up to
    ``mask_near_rad`` perpendicularly); the reflecting front is on the far side at ``d_far_m``.
    With ``s = |sin(az - heading)|`` the horizontal run to the far front along the ray is
    ``d_far / s``: the specular point is ``d_far tan(el) / s`` above the antenna and must be below
    the far front's top (``d_far tan(mask_far)``); the incoming ray passes over the near front
    ``(2 d_far + d_near) tan(el) / s`` above the antenna, which must clear it
    (``d_near tan(mask_near)``). The extra path of a reflection off a vertical plane at ``d_far``
    is ``2 d_far cos(el) s``.
    """
    s = np.abs(np.sin(np.asarray(az_rad) - np.asarray(heading_rad)))
    s_safe = np.maximum(s, 1e-6)
    tan_el = np.tan(el_rad)
    below_top = d_far_m * tan_el / s_safe < d_far_m * np.tan(mask_far_rad)
    clears = (2.0 * d_far_m + d_near_m) * tan_el / s_safe > d_near_m * np.tan(mask_near_rad)
    extra = 2.0 * d_far_m * np.cos(el_rad) * s
    return np.where(below_top & clears & (s > 1e-3), extra, np.nan)


@dataclass
class _CarState:
    """Tracking state of one urban receiver across blocks ([J] and [J, N_BAND] arrays)."""

    path_state: np.ndarray
    reflector: np.ndarray
    wait_s: np.ndarray
    second_delay_s: np.ndarray
    nlos_loss_db: np.ndarray
    had_phase: np.ndarray
    amb_cyc: np.ndarray
    half_left_s: np.ndarray
    half_cyc: np.ndarray
    dsb_m: np.ndarray
    rng: np.random.Generator
    tag_offset_ns: int
    effects: UrbanEffects = field(default_factory=UrbanEffects)


@dataclass
class UrbanBlockObs(BlockObs):
    """A block of an urban receiver: :class:`BlockObs` plus the per-slot signal codes [J, N_BAND],
    the time-tag offset [ns] and the path state of every satellite per epoch [E, J]
    (:data:`BLOCKED`, :data:`LOS`, :data:`NLOS`; -1 below the horizon), its extra path [m],
    elevation [rad] and whether its phase took an unflagged jump (an undeclared slip, or a
    reflection moving to the next front) at that epoch."""

    code: np.ndarray = None
    tag_offset_ns: int = 0
    path_state: np.ndarray = None
    extra_path_m: np.ndarray = None
    el_rad: np.ndarray = None
    hidden_slip: np.ndarray = None


def _azel(sat_pos_m: np.ndarray, rx_pos_m: np.ndarray, origin_llh_deg) -> tuple[np.ndarray, np.ndarray]:
    """Azimuth and elevation [rad] (float64[E, J]) of satellites seen from receiver positions."""
    rot = enu_rotation(np.radians(origin_llh_deg[0]), np.radians(origin_llh_deg[1]))
    los = (sat_pos_m - rx_pos_m[:, None, :]) @ rot.T
    az = np.arctan2(los[..., 0], los[..., 1]) % (2 * np.pi)
    return az, np.arctan2(los[..., 2], np.hypot(los[..., 0], los[..., 1]))


class UrbanSimulator(Simulator):
    """A :class:`Simulator` whose urban rovers (path :class:`UrbanPath`) drive in a city.

    Same parameters as :class:`Simulator`. Urban rovers track the F9P signal set
    (:func:`f9p_signal_table`) and get the effects of the module docstring; every other receiver
    is simulated as by :class:`Simulator`. ``urban_log[name]`` collects, per block, the time tags,
    path states and extra paths (for diagnosis). ``effects`` (:class:`UrbanEffects`, settable
    before simulating) switches effects off.
    """

    def __init__(self, *args, effects: UrbanEffects | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.effects = effects or UrbanEffects()
        self.rover_signals = f9p_signal_table(self.sat)
        self._rover_sigma = self.rover_signals.sigma_code_m * (1.0 if self.config.noise else 0.0)
        self.urban_log: dict[str, list] = {}

    def is_urban(self, rx: Receiver) -> bool:
        return isinstance(rx.path, UrbanPath)

    def receiver_obs_types(self, rx: Receiver) -> dict[str, list[str]]:
        """RINEX observation types of one receiver (the F9P set for urban rovers)."""
        from gnssaug.datasets.rinex.obs_write import signal_obs_types

        return signal_obs_types(self.sat, (self.rover_signals if self.is_urban(rx) else self.signals).code)

    def blocks(self):
        self._car_states: dict[str, _CarState] = {}
        return super().blocks()

    def _simulate_one(self, st, block, sats, t_s, sod_s) -> BlockObs:
        if not self.is_urban(st.rx):
            return super()._simulate_one(st, block, sats, t_s, sod_s)
        saved = self.signals, self._sigma_code
        self.signals, self._sigma_code = self.rover_signals, self._rover_sigma
        try:
            out = super()._simulate_one(st, block, sats, t_s, sod_s)
        finally:
            self.signals, self._sigma_code = saved
        car = self._car_states.get(st.rx.name)
        if car is None:
            car = self._car_states[st.rx.name] = self._new_car_state(st.rx)
        pos, _ = st.rx.states(t_s)
        az, el = _azel(sats[0], pos, st.rx.path.origin_llh_deg)
        street = st.rx.path.street_at(t_s)
        urban = UrbanBlockObs(out.pr_m, out.cp_cyc, out.dop_hz, out.cn0_dbhz, out.lli, out.visible,
                              code=self.rover_signals.code, tag_offset_ns=car.tag_offset_ns)
        apply_urban_effects(urban, az, el, street, self.rover_signals.freq_hz, self._rover_sigma, car,
                            1.0 / self.config.rate_hz)
        self.urban_log.setdefault(st.rx.name, []).append(urban)
        return urban

    def _new_car_state(self, rx: Receiver) -> _CarState:
        seq = np.random.SeedSequence([self.config.seed, zlib.crc32(f"urban-{rx.name}".encode())])
        return new_car_state(self.rover_signals.code, np.random.Generator(np.random.PCG64(seq)),
                             effects=self.effects)

    def series_of(self, t_ns: np.ndarray, blocks: list[BlockObs]) -> ObsSeries:
        series = super().series_of(t_ns, blocks)
        if not blocks or not isinstance(blocks[0], UrbanBlockObs):
            return series
        _, j_idx = np.nonzero(np.concatenate([b.visible for b in blocks]))
        code = np.where(np.isnan(series.pr_m), 0, blocks[0].code[j_idx]).astype(np.uint8)
        return replace(series, t_gpst_ns=np.asarray(t_ns, dtype=np.int64) + blocks[0].tag_offset_ns, code=code)

    def epoch_obs(self, block: BlockObs, e: int, t_ns: int) -> ObsEpoch:
        ep = super().epoch_obs(block, e, t_ns)
        if not isinstance(block, UrbanBlockObs):
            return ep
        code = np.where(np.isnan(ep.pr_m), 0, block.code[block.visible[e]]).astype(np.uint8)
        return replace(ep, t_gpst_ns=int(t_ns) + block.tag_offset_ns, code=code)


def new_car_state(code: np.ndarray, rng: np.random.Generator, tag_offset_ms: int | None = None,
                  effects: UrbanEffects | None = None) -> _CarState:
    """The initial tracking state of an urban receiver.

    Parameters
    ----------
    code : uint8[J, N_BAND]
        Tracked signal codes (:func:`f9p_signal_table`); L2C slots get a C2L-C2W satellite bias.
    rng : numpy.random.Generator
        The receiver's urban random stream (kept in the state).
    tag_offset_ms : int, optional
        Receiver clock and time-tag offset [ms]; default drawn from :data:`TAG_OFFSET_MS` (0 when
        ``effects.tag_offset`` is off).
    effects : UrbanEffects, optional
        The effects switched on (default all).
    """
    effects = effects or UrbanEffects()
    n = code.shape[0]
    dsb = np.zeros((n, N_BAND))
    dsb[:, 1] = np.where(code[:, 1] == ord("L"), L2C_DSB_SIGMA_M * rng.standard_normal(n), 0.0)
    if tag_offset_ms is None:
        tag_offset_ms = int(rng.integers(TAG_OFFSET_MS[0], TAG_OFFSET_MS[1] + 1))
    if not effects.tag_offset:
        tag_offset_ms = 0
    return _CarState(
        path_state=np.full(n, -1), reflector=np.full(n, -1), wait_s=np.zeros(n), second_delay_s=np.zeros(n),
        nlos_loss_db=np.zeros(n), had_phase=np.zeros((n, N_BAND), dtype=bool), amb_cyc=np.zeros((n, N_BAND)),
        half_left_s=np.zeros((n, N_BAND)), half_cyc=np.zeros((n, N_BAND)), dsb_m=dsb, rng=rng,
        tag_offset_ns=int(tag_offset_ms) * 1_000_000, effects=effects,
    )


def save_urban_log(sim: UrbanSimulator, name: str, path) -> None:
    """Write an urban rover's per-epoch path states to ``path`` (``.npz``) for diagnosis.

    Arrays: ``sat`` int16[J], ``t_true_ns`` int64[E] (true epochs), ``path_state`` int8[E, J],
    ``extra_path_m`` and ``el_deg`` float32[E, J], ``hidden_slip`` bool[E, J].
    """
    blocks = sim.urban_log.get(name)
    if not blocks:
        raise SimError(f"no urban log of {name!r}: simulate first")
    np.savez_compressed(
        path, sat=sim.sat, t_true_ns=sim.times_ns[: sum(b.path_state.shape[0] for b in blocks)],
        path_state=np.concatenate([b.path_state for b in blocks]),
        extra_path_m=np.concatenate([b.extra_path_m for b in blocks]).astype(np.float32),
        el_deg=np.degrees(np.concatenate([b.el_rad for b in blocks])).astype(np.float32),
        hidden_slip=np.concatenate([b.hidden_slip for b in blocks]),
    )


def apply_urban_effects(obs: UrbanBlockObs, az_rad, el_rad, street: dict, freq_hz, sigma45_m, car: _CarState,
                        dt_s: float = 1.0) -> None:
    """Apply the city to one block of an open-sky receiver's observations, in place.

    Parameters
    ----------
    obs : UrbanBlockObs
        Arrays [E, J, N_BAND] (``path_state`` and ``extra_path_m`` [E, J] are filled in).
    az_rad, el_rad : float64[E, J]
        True satellite directions from the truth position.
    street : dict
        :meth:`UrbanPath.street_at` of the block's epochs.
    freq_hz : float64[J, N_BAND]
        Carrier frequencies of the tracked signals (NaN: not tracked).
    sigma45_m : float64[J, N_BAND]
        The engine's code sigma at 45 dB-Hz of each signal [m] (zeros: no extra code noise).
    car : _CarState
        Tracking state carried across blocks (modified).
    dt_s : float
        Epoch interval [s].
    """
    n_e, n_j, _ = obs.pr_m.shape
    rng = car.rng
    lam_m = C_MPS / freq_hz
    obs.path_state = np.full((n_e, n_j), -1, dtype=np.int8)
    obs.extra_path_m = np.full((n_e, n_j), np.nan)
    obs.el_rad = np.asarray(el_rad)
    obs.hidden_slip = np.zeros((n_e, n_j), dtype=bool)
    slip_p = UNDECLARED_SLIPS_PER_SAT_HOUR * dt_s / 3600.0 if car.effects.undeclared_slips else 0.0
    for e in range(n_e):
        up = obs.visible[e]
        cond, extra, reflector = _path_condition(az_rad[e], el_rad[e], street, e, car.effects)
        cond = np.where(up, cond, -1)
        # A change of path while tracked: the loop loses the satellite; re-acquisition 1-3 s after the
        # signal is back, the second frequency up to 2 s later. The reflection moving to the next
        # front changes the extra path by 2 (setback difference) cos(el) |sin alpha|: the loop
        # follows it or loses the satellite (REFLECTOR_CHANGE_LOSS_P).
        hop = (car.path_state == NLOS) & (cond == NLOS) & (reflector != car.reflector)
        changed = (car.path_state >= 0) & (cond != car.path_state)
        lost_hop = hop & (rng.random(n_j) < REFLECTOR_CHANGE_LOSS_P)
        changed |= lost_hop
        obs.hidden_slip[e] = hop & ~lost_hop
        car.reflector = reflector
        car.wait_s[changed] = rng.uniform(*REACQ_S, changed.sum())
        car.second_delay_s[changed] = rng.uniform(*SECOND_FREQ_DELAY_S, changed.sum())
        fresh = (car.path_state < 0) & (cond > 0)
        car.wait_s[fresh & ~changed] = 0.0
        new_nlos = (cond == NLOS) & (changed | fresh)
        car.nlos_loss_db[new_nlos] = rng.uniform(*NLOS_LOSS_DB, new_nlos.sum())
        car.path_state = cond.copy()
        waiting = car.wait_s > 0.0
        car.wait_s = np.maximum(car.wait_s - dt_s, 0.0)
        car.second_delay_s = np.where(waiting, car.second_delay_s, np.maximum(car.second_delay_s - dt_s, 0.0))
        tracked = (cond > 0) & ~waiting
        obs.path_state[e] = np.where(up, cond, -1)
        obs.extra_path_m[e] = np.where(cond == NLOS, extra, np.nan)
        _signal_effects(obs, e, tracked, extra, car, lam_m, sigma45_m, slip_p)


def _path_condition(az, el, street: dict, e: int, effects: UrbanEffects) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Path state (BLOCKED/LOS/NLOS), NLOS extra path [m] and reflecting front (-1: none) of every
    satellite at epoch ``e``."""
    heading = street["heading_rad"][e]
    if street["open"][e] or not effects.canyon:
        return np.full(az.shape, LOS), np.full(az.shape, np.nan), np.full(az.shape, -1)
    mask_l, mask_r = street["mask_rad"][e]
    d_l, d_r = street["d_m"][e]
    mask = canyon_mask_rad(az, heading, mask_l, mask_r)
    right = np.sin(az - heading) > 0.0
    d_near, d_far = np.where(right, d_r, d_l), np.where(right, d_l, d_r)
    m_near, m_far = np.where(right, mask_r, mask_l), np.where(right, mask_l, mask_r)
    extra = nlos_extra_path_m(el, az, heading, d_near, d_far, m_near, m_far)
    if not effects.nlos:
        extra = np.full(az.shape, np.nan)
    los = el >= mask
    cond = np.where(los, LOS, np.where(np.isfinite(extra), NLOS, BLOCKED))
    far_id = np.where(right, street["front_id"][e][0], street["front_id"][e][1])
    return cond, np.where(los, np.nan, extra), np.where(cond == NLOS, far_id, -1)


def _signal_effects(obs: UrbanBlockObs, e: int, tracked, extra, car: _CarState, lam_m, sigma45_m,
                    slip_p: float) -> None:
    """Per-signal effects at epoch ``e``: outages, NLOS path, thresholds, arcs, half cycles, slips."""
    rng = car.rng
    pr, cp, cn0, lli = obs.pr_m[e], obs.cp_cyc[e], obs.cn0_dbhz[e], obs.lli[e]
    nlos = np.isfinite(extra) & tracked
    cn0 -= np.where(nlos, car.nlos_loss_db, 0.0)[:, None]
    # The receiver clock runs tag_offset ahead of GPST: code and phase carry it like the time tag.
    extra_m = np.where(nlos, extra, 0.0)[:, None] + C_MPS * car.tag_offset_ns * 1e-9
    pr += extra_m + car.dsb_m
    cp += extra_m / lam_m
    # The engine drew noise of sigma45 10^(-(C/N0-45)/40); the rest of CODE_NOISE_FACTOR in quadrature.
    factor = CODE_NOISE_FACTOR if car.effects.code_noise else 1.0
    extra_sigma = np.sqrt(factor**2 - 1.0) * sigma45_m * 10.0 ** (-(np.nan_to_num(cn0) - 45.0) / 40.0)
    pr += extra_sigma * rng.standard_normal(pr.shape)
    off = ~tracked[:, None] | ~(cn0 >= CODE_MIN_CN0_DBHZ)
    off[:, 1:] |= (car.second_delay_s > 0.0)[:, None]
    no_phase = off | ~(cn0 >= PHASE_MIN_CN0_DBHZ)
    for arr in (pr, obs.dop_hz[e], cn0):
        arr[off] = np.nan
    cp[no_phase] = np.nan
    lli[no_phase] = 0
    has = np.isfinite(cp)
    start = has & (~car.had_phase | ((lli & LLI_SLIP) != 0))
    car.had_phase = has
    n_start = int(start.sum())
    car.amb_cyc[start] = rng.integers(-500_000, 500_000, n_start)
    half = start & (rng.random(start.shape) < HALF_CYCLE_ARC_FRACTION) & car.effects.half_cycle
    car.half_left_s[half] = np.minimum(np.ceil(rng.exponential(1.5, half.sum())), HALF_CYCLE_MAX_S)
    car.half_cyc[start] = np.where(rng.random(n_start) < 0.5, 0.5, 0.0)
    low = np.where(cn0 < WEAK_CN0_DBHZ, 5.0, 1.0)
    slip = has & ~start & (rng.random(has.shape) < slip_p * low)
    car.amb_cyc[slip] += rng.choice([-3, -2, -1, 1, 2, 3], int(slip.sum()))
    obs.hidden_slip[e] |= slip.any(axis=1)
    flagged = has & (car.half_left_s > 0.0)
    cp += car.amb_cyc + np.where(flagged, car.half_cyc, 0.0)
    lli |= np.where(start, LLI_SLIP, 0).astype(np.uint8) | np.where(flagged, LLI_HALF_CYCLE, 0).astype(np.uint8)
    car.half_left_s = np.where(flagged, car.half_left_s - 1.0, 0.0)
    obs.visible[e] &= np.isfinite(pr).any(axis=1)

