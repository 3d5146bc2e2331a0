"""Receivers of a simulation: static stations and moving rovers with truth trajectories.

Built-in rovers (positions are plausible places in Hubei, the scenes are synthetic):

``tractor``
    A tractor working a 400 m x 180 m field in the Jianghan plain near Jingzhou in back-and-forth
    passes 6 m apart at 2.5 m/s, turning at the headlands; a tree line to the west blocks the sky
    up to 15 deg, the cab roof gives low multipath reflectors.
``crane``
    A rail-mounted container crane at a Yangtze port (Wuhan Yangluo) travelling along its 500 m
    rails (parallel to the quay, 60 deg from north) at 0.6 m/s with stops of 90 s at each end; the
    antenna is on the crane top 50 m up, its own boom blocks the river-side sky up to 40 deg, and
    the steel structure makes strong multipath.
``airport``
    A service vehicle at Wuhan Tianhe airport driving an apron and taxiway loop of about 3 km at
    8 m/s; the terminal blocks the south-east sky up to 20 deg, parked aircraft and hangars give
    metal reflectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnssaug.datasets.sim.errors import SimError
from gnssaug.datasets.sim.noise import STATION_ENV, ReceiverEnv
from gnssaug.geodesy import ecef_from_llh_deg, enu_rotation, llh_deg_from_ecef


@dataclass(frozen=True)
class Path:
    """A path in a local east/north/up plane, driven at constant speed with optional dwells.

    Attributes
    ----------
    origin_llh_deg : (lat_deg, lon_deg, height_m)
        The ENU origin.
    vertices_enu_m : float64[n, 3]
        Polyline vertices [m].
    speed_mps : float
        Travel speed [m/s].
    mode : str
        ``"loop"`` (closed, the last vertex joins the first) or ``"pingpong"`` (back and forth).
    dwell_s : float
        Stop at each end of a ping-pong path [s].
    """

    origin_llh_deg: tuple[float, float, float]
    vertices_enu_m: np.ndarray
    speed_mps: float
    mode: str = "loop"
    dwell_s: float = 0.0

    def _enu(self, t_s: np.ndarray) -> np.ndarray:
        v = np.asarray(self.vertices_enu_m, dtype=np.float64)
        if self.mode == "loop":
            v = np.vstack([v, v[:1]])
        seg = np.linalg.norm(np.diff(v, axis=0), axis=1)
        cum = np.concatenate(([0.0], np.cumsum(seg)))
        length = cum[-1]
        dist = self.speed_mps * np.asarray(t_s, dtype=np.float64)
        if self.mode == "loop":
            s = np.mod(dist, length)
        else:
            # One cycle: dwell, go, dwell, come back.
            leg_s = length / self.speed_mps
            cycle_s = 2.0 * (leg_s + self.dwell_s)
            tau = np.mod(np.asarray(t_s, dtype=np.float64), cycle_s)
            go = np.clip(tau - self.dwell_s, 0.0, leg_s)
            back = np.clip(tau - 2.0 * self.dwell_s - leg_s, 0.0, leg_s)
            s = self.speed_mps * (go - back)
        out = np.empty((s.size, 3))
        for i in range(3):
            out[:, i] = np.interp(s, cum, v[:, i])
        return out

    def ecef(self, t_s) -> tuple[np.ndarray, np.ndarray]:
        """Positions and velocities (ECEF, float64[E, 3] each) at times ``t_s`` [s from start]."""
        t_s = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        lat, lon, h = self.origin_llh_deg
        origin = ecef_from_llh_deg(lat, lon, h)
        rot = enu_rotation(np.radians(lat), np.radians(lon))  # ECEF -> ENU
        pos = origin + self._enu(t_s) @ rot
        h_s = 0.05  # central difference step: velocity of the piecewise-linear path
        vel = (self._enu(t_s + h_s) - self._enu(t_s - h_s)) @ rot / (2.0 * h_s)
        return pos, vel


@dataclass(frozen=True)
class Receiver:
    """One simulated receiver: a static station (``path`` None) or a rover.

    Attributes
    ----------
    name : str
        File name stem (``<name>.obs``) and marker name.
    pos_ecef_m : float64[3]
        Station position, or the rover's start position.
    env : ReceiverEnv
        Sky, multipath and tracking behaviour.
    path : Path or None
        The rover trajectory.
    """

    name: str
    pos_ecef_m: np.ndarray
    env: ReceiverEnv = STATION_ENV
    path: Path | None = None

    @property
    def is_rover(self) -> bool:
        return self.path is not None

    def states(self, t_s) -> tuple[np.ndarray, np.ndarray]:
        """Antenna positions and velocities (ECEF, float64[E, 3]) at ``t_s`` [s from start]."""
        t_s = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        if self.path is None:
            return np.tile(self.pos_ecef_m, (t_s.size, 1)), np.zeros((t_s.size, 3))
        return self.path.ecef(t_s)


def _tractor_path() -> Path:
    passes, spacing_m, length_m = 30, 6.0, 400.0
    verts = []
    for i in range(passes):
        x = i * spacing_m
        ys = (0.0, length_m) if i % 2 == 0 else (length_m, 0.0)
        verts += [(x, ys[0], 0.0), (x, ys[1], 0.0)]
    return Path((30.352, 112.187, 31.0), np.array(verts), speed_mps=2.5, mode="loop")


def _crane_path() -> Path:
    heading = np.radians(60.0)
    end = 500.0 * np.array([np.sin(heading), np.cos(heading), 0.0])
    return Path((30.641, 114.553, 72.0), np.array([(0.0, 0.0, 0.0), tuple(end)]), 0.6, "pingpong", 90.0)


def _airport_path() -> Path:
    verts = np.array(
        [(0, 0, 0), (900, 0, 0), (1000, 100, 0), (1000, 500, 0), (900, 600, 0), (300, 600, 0),
         (250, 450, 0), (0, 450, 0), (-100, 350, 0), (-100, 100, 0)],
        dtype=np.float64,
    )
    return Path((30.784, 114.208, 36.0), verts, speed_mps=8.0, mode="loop")


ROVER_ENVS = {
    "tractor": ReceiverEnv(
        el_mask_deg=10.0, obstruction_deg=((240.0, 300.0, 15.0),), mp_alpha0=0.4, mp_height_m=(0.3, 2.0),
        mp_gm_sigma_m=0.15, mp_gm_tau_s=10.0, slip_per_sat_hour=0.5, lol_per_sat_hour=0.3,
        cn0_offset_db=-2.0, clock="steered", rx_bias_sigma_m=1.0,
    ),
    "crane": ReceiverEnv(
        el_mask_deg=10.0, obstruction_deg=((130.0, 200.0, 40.0), (300.0, 20.0, 20.0)), mp_alpha0=0.6,
        mp_height_m=(2.0, 20.0), mp_gm_sigma_m=0.25, mp_gm_tau_s=20.0, slip_per_sat_hour=1.0,
        lol_per_sat_hour=0.6, cn0_offset_db=-3.0, clock="steered", rx_bias_sigma_m=1.0,
    ),
    "airport": ReceiverEnv(
        el_mask_deg=10.0, obstruction_deg=((100.0, 190.0, 20.0),), mp_alpha0=0.45, mp_height_m=(0.5, 6.0),
        mp_gm_sigma_m=0.2, mp_gm_tau_s=5.0, slip_per_sat_hour=0.8, lol_per_sat_hour=0.5,
        cn0_offset_db=-3.0, clock="steered", rx_bias_sigma_m=1.0,
    ),
}
_ROVER_PATHS = {"tractor": _tractor_path, "crane": _crane_path, "airport": _airport_path}
ROVER_NAMES = tuple(_ROVER_PATHS)


def rover(name: str) -> Receiver:
    """A built-in rover by name (``tractor``, ``crane``, ``airport``; ``car``: :mod:`.urban`)."""
    from gnssaug.datasets.sim.urban import URBAN_ROVERS, car_rover

    if name in URBAN_ROVERS:
        return car_rover(name)
    if name not in _ROVER_PATHS:
        raise SimError(f"unknown rover {name!r}; built-in rovers are {', '.join(ROVER_NAMES + URBAN_ROVERS)}")
    path = _ROVER_PATHS[name]()
    pos, _ = path.ecef(np.zeros(1))
    return Receiver(name, pos[0], ROVER_ENVS[name], path)


def stations(layout, env: ReceiverEnv = STATION_ENV) -> list[Receiver]:
    """Static receivers for every station of a :class:`~gnssaug.datasets.sim.layout.Layout`."""
    return [Receiver(n, p, env) for n, p in zip(layout.names, layout.pos_ecef_m, strict=True)]


def write_truth_csv(path, t_gpst_ns: np.ndarray, pos_ecef_m: np.ndarray) -> None:
    """Write a rover truth file: GPST time and ECEF / geodetic position per epoch."""
    llh = llh_deg_from_ecef(pos_ecef_m).reshape(-1, 3)
    with open(path, "w") as fh:
        fh.write("t_gpst_ns,x_m,y_m,z_m,lat_deg,lon_deg,height_m\n")
        for t, xyz, p in zip(t_gpst_ns, pos_ecef_m, llh, strict=True):
            fh.write(f"{int(t)},{xyz[0]:.4f},{xyz[1]:.4f},{xyz[2]:.4f},{p[0]:.9f},{p[1]:.9f},{p[2]:.4f}\n")
