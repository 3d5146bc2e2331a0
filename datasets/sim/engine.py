"""The simulation engine: receivers x satellites x epochs -> ObsEpoch streams and ObsSeries.

Work is cut into blocks of epochs (``SimConfig.block_s``). For each block, the true satellite
states (broadcast ephemeris plus the broadcast orbit/clock error) are computed once for all
receivers, then :func:`gnssaug.kernels.sim.simulate_receiver_block` computes each receiver's
observations of every satellite and signal over the block. A receiver's random numbers come from
its own generator, ``PCG64(SeedSequence([seed, crc32(name)]))``, so a receiver's observations
do not depend on which other receivers are simulated; network-wide fields (ionosphere,
troposphere, orbit/clock errors, satellite biases) come from ``SeedSequence([seed, 0])``.

:meth:`Simulator.epochs` streams one ``{name: ObsEpoch}`` per epoch for the replay harness;
:meth:`Simulator.run` collects one :class:`gnssaug.obs.ObsSeries` per receiver.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from gnssaug.datasets.sim.clocks import OrbitClockErrorModel, ReceiverClockModel
from gnssaug.datasets.sim.errors import SimError
from gnssaug.datasets.sim.iono import IonoModel
from gnssaug.datasets.sim.noise import (
    SignalTable,
    code_elevation_bias_m,
    receiver_code_biases_m,
    satellite_code_biases_m,
    signal_table,
)
from gnssaug.datasets.sim.rovers import Receiver
from gnssaug.datasets.sim.tropo import TropoModel
from gnssaug.geodesy import llh_from_ecef
from gnssaug.gnss import N_BAND
from gnssaug.kernels import sim as _k
from gnssaug.obs import ObsEpoch, ObsSeries
from gnssaug.time import NS_PER_DAY, NS_PER_S, datetime_from_gpst_ns, leap_seconds_at_gpst_ns

#: ``states(sat int16[J], t_gpst_ns int64[E]) -> (pos_m[E,J,3], vel_mps[E,J,3], clk_s[E,J],
#: drift_sps[E,J], ok bool[E,J])``: broadcast satellite states (see :mod:`.satellites`).
SatelliteStates = Callable[[np.ndarray, np.ndarray], tuple]

_GEO_RADIUS_M = 35e6  # beyond this the satellite is GEO/IGSO: nominal travel time 0.125 s


@dataclass(frozen=True)
class SimConfig:
    """What to simulate and which error models are on.

    Attributes
    ----------
    start_gpst_ns : int
        First epoch (GPST).
    duration_s : float
        Length of the simulation [s]; epochs are ``start + i / rate_hz`` for ``i < duration*rate``.
    rate_hz : float
        Observation rate [Hz].
    seed : int
        Seed of every random stream.
    iono, tropo, orbit_clock : models
        Error models (each has ``enabled``).
    noise, multipath, slips : bool
        Switch measurement noise, multipath, and slips/losses of lock.
    sat_bias_sigma_m : float
        Satellite code bias sigma per signal [m] (0 switches biases off, with receiver biases).
    block_s : float
        Epochs per block of work [s]; the memory per receiver is a few MB per 60 s.
    """

    start_gpst_ns: int
    duration_s: float = 3600.0
    rate_hz: float = 1.0
    seed: int = 0
    iono: IonoModel = field(default_factory=IonoModel)
    tropo: TropoModel = field(default_factory=TropoModel)
    orbit_clock: OrbitClockErrorModel = field(default_factory=OrbitClockErrorModel)
    noise: bool = True
    multipath: bool = True
    slips: bool = True
    sat_bias_sigma_m: float = 0.3
    block_s: float = 60.0

    @property
    def n_epochs(self) -> int:
        return int(round(self.duration_s * self.rate_hz))

    def epoch_times_ns(self) -> np.ndarray:
        """All epoch time tags, GPST ns (int64[n_epochs])."""
        step_ns = int(round(NS_PER_S / self.rate_hz))
        return self.start_gpst_ns + step_ns * np.arange(self.n_epochs, dtype=np.int64)


@dataclass
class BlockObs:
    """One receiver's observations over a block: arrays [E, J, N_BAND] and ``visible`` [E, J]."""

    pr_m: np.ndarray
    cp_cyc: np.ndarray
    dop_hz: np.ndarray
    cn0_dbhz: np.ndarray
    lli: np.ndarray
    visible: np.ndarray


class _ReceiverState:
    """Per-receiver random stream, constant parameters and tracking state across blocks."""

    def __init__(self, rx: Receiver, config: SimConfig, sat: np.ndarray):
        self.rx = rx
        seq = np.random.SeedSequence([config.seed, zlib.crc32(rx.name.encode())])
        self.rng = np.random.Generator(np.random.PCG64(seq))
        env = rx.env
        n_sat = sat.size
        self.mp_height_m = self.rng.uniform(*env.mp_height_m, n_sat)
        self.mp_phase_rad = self.rng.uniform(0.0, 2.0 * np.pi, n_sat)
        bias_sigma = env.rx_bias_sigma_m if config.sat_bias_sigma_m > 0 else 0.0
        self.rx_bias_m = receiver_code_biases_m(self.rng, sat, bias_sigma)
        self.clock = ReceiverClockModel(kind=env.clock)
        self.clock_rng_seed = int(self.rng.integers(0, 2**63))
        self.horizon_rad = env.horizon_rad()
        self.amb_cyc = np.zeros((n_sat, N_BAND))
        self.lock_s = np.zeros(n_sat)
        self.gm_m = np.zeros((n_sat, N_BAND))
        self.clk_s = None
        self.drift_sps = None


class Simulator:
    """Simulate receivers observing GPS, Galileo and BeiDou satellites.

    Parameters
    ----------
    config : SimConfig
    receivers : sequence of Receiver
        Stations and rovers (names must be unique).
    sat : int16[J]
        The satellites to simulate (those with ephemerides; see :mod:`.satellites`).
    sat_states : SatelliteStates
        Broadcast satellite states (the simulator adds the orbit/clock error).
    group_delay_m : float64[J, N_BAND], optional
        Broadcast satellite group delays times c per slot (TGD/BGD), added to the code so that a
        user who removes them sees unbiased code (a random residual bias stays on top).
    """

    def __init__(self, config: SimConfig, receivers, sat: np.ndarray, sat_states: SatelliteStates,
                 group_delay_m: np.ndarray | None = None):
        self.config = config
        self.receivers = list(receivers)
        names = [r.name for r in self.receivers]
        if len(set(names)) != len(names):
            raise SimError("receiver names must be unique")
        if config.n_epochs <= 0:
            raise SimError(f"nothing to simulate: duration {config.duration_s} s at {config.rate_hz} Hz")
        self.sat = np.asarray(sat, dtype=np.int16)
        if self.sat.size == 0:
            raise SimError("no satellites to simulate")
        self._sat_states = sat_states
        self.signals: SignalTable = signal_table(self.sat)
        net = np.random.Generator(np.random.PCG64(np.random.SeedSequence([config.seed, 0])))
        self.ion_params = config.iono.params(net)
        self.tropo_params = config.tropo.params(net)
        self.orbit_params = config.orbit_clock.params(net, self.sat)
        sigma = config.sat_bias_sigma_m
        self.sat_bias_m = satellite_code_biases_m(net, self.signals, sigma) if sigma > 0 else np.zeros(
            self.signals.freq_hz.shape
        )
        self.el_bias_m = code_elevation_bias_m(self.sat) if sigma > 0 else np.zeros((self.sat.size, N_BAND, 2))
        if group_delay_m is not None:
            self.sat_bias_m = self.sat_bias_m + np.where(np.isnan(self.signals.freq_hz), 0.0, group_delay_m)
        self.times_ns = config.epoch_times_ns()
        t0 = self.times_ns[:1]
        pos0 = sat_states(self.sat, t0)[0][0]
        radius = np.linalg.norm(pos0, axis=1)
        self.tau_nom_s = np.where(np.nan_to_num(radius) > _GEO_RADIUS_M, 0.125, 0.075)
        day = datetime_from_gpst_ns(int(config.start_gpst_ns))
        self.doy = float(day.timetuple().tm_yday)
        self._sigma_code = self.signals.sigma_code_m * (1.0 if config.noise else 0.0)

    # ------------------------------------------------------------------------------------------
    def _true_sat_states(self, t_ns: np.ndarray):
        """True satellite states at ``t - tau_nom`` for a block: broadcast plus orbit/clock error."""
        out_pos = np.empty((t_ns.size, self.sat.size, 3))
        out_vel = np.empty_like(out_pos)
        out_clk = np.empty((t_ns.size, self.sat.size))
        out_drift = np.empty_like(out_clk)
        out_ok = np.zeros((t_ns.size, self.sat.size), dtype=bool)
        for tau in np.unique(self.tau_nom_s):
            cols = self.tau_nom_s == tau
            pos, vel, clk, drift, ok = self._sat_states(self.sat[cols], t_ns - int(round(tau * NS_PER_S)))
            out_pos[:, cols], out_vel[:, cols], out_clk[:, cols] = pos, vel, clk
            out_drift[:, cols], out_ok[:, cols] = drift, ok
        out_ok &= np.isfinite(out_pos).all(axis=2) & np.isfinite(out_clk)
        out_pos[~out_ok] = 0.0
        out_pos[~out_ok, 0] = 1.0  # a harmless dummy for unusable satellites
        out_vel[~out_ok] = 0.0
        out_clk[~out_ok] = 0.0
        out_drift[~out_ok] = 0.0
        t_s = (t_ns - self.config.start_gpst_ns) / NS_PER_S
        OrbitClockErrorModel.apply(self.orbit_params, t_s, out_pos, out_vel, out_clk, out_drift)
        return out_pos, out_vel, out_clk, out_drift, out_ok

    def _clock(self, st: _ReceiverState, t_s_all: np.ndarray):
        if st.clk_s is None:
            rng = np.random.Generator(np.random.PCG64(st.clock_rng_seed))
            st.clk_s, st.drift_sps = st.clock.offsets(rng, t_s_all)
        return st.clk_s, st.drift_sps

    def _simulate_one(self, st: _ReceiverState, block: slice, sats, t_s, sod_s) -> BlockObs:
        cfg = self.config
        rx, env = st.rx, st.rx.env
        n_e = t_s.size
        pos, vel = rx.states(t_s)
        clk, drift = self._clock(st, (self.times_ns - cfg.start_gpst_ns) / NS_PER_S)
        llh = llh_from_ecef(pos).reshape(-1, 3)
        zhd, zwd = cfg.tropo.zenith_delays_m(self.tropo_params, llh, t_s, self.doy)
        shape = (n_e, self.sat.size, N_BAND)
        out = BlockObs(
            np.empty(shape), np.empty(shape), np.empty(shape), np.empty(shape),
            np.empty(shape, dtype=np.uint8), np.empty(shape[:2], dtype=bool),
        )
        per_epoch = 1.0 / (3600.0 * cfg.rate_hz)
        slip_p = env.slip_per_sat_hour * per_epoch if cfg.slips else 0.0
        lol_p = env.lol_per_sat_hour * per_epoch if cfg.slips else 0.0
        _k.simulate_receiver_block(
            t_s, sod_s, self.doy,
            *sats, self.tau_nom_s,
            self.signals.freq_hz, self._sigma_code, self.signals.cn0_offset_db + env.cn0_offset_db,
            self.signals.cn0_loss_slope, self.sat_bias_m, self.el_bias_m,
            np.ascontiguousarray(pos), np.ascontiguousarray(vel), clk[block], drift[block], st.rx_bias_m,
            zhd, zwd, self.ion_params,
            np.radians(env.el_mask_deg), st.horizon_rad,
            env.mp_alpha0 if cfg.multipath else 0.0, st.mp_height_m, st.mp_phase_rad,
            env.mp_gm_sigma_m if cfg.multipath else 0.0, env.mp_gm_tau_s, 1.0 / cfg.rate_hz,
            slip_p, lol_p, 1.0 if cfg.noise else 0.0, st.rng,
            st.amb_cyc, st.lock_s, st.gm_m,
            out.pr_m, out.cp_cyc, out.dop_hz, out.cn0_dbhz, out.lli, out.visible,
        )
        return out

    def blocks(self) -> Iterator[tuple[np.ndarray, dict[str, BlockObs]]]:
        """Yield ``(t_gpst_ns[E], {name: BlockObs})`` block by block."""
        cfg = self.config
        states = [_ReceiverState(rx, cfg, self.sat) for rx in self.receivers]
        per_block = max(1, int(round(cfg.block_s * cfg.rate_hz)))
        leap_ns = leap_seconds_at_gpst_ns(int(cfg.start_gpst_ns)) * NS_PER_S
        for lo in range(0, self.times_ns.size, per_block):
            block = slice(lo, min(lo + per_block, self.times_ns.size))
            t_ns = self.times_ns[block]
            sats = self._true_sat_states(t_ns)
            t_s = (t_ns - cfg.start_gpst_ns) / NS_PER_S
            sod_s = ((t_ns - leap_ns) % NS_PER_DAY) / NS_PER_S
            yield t_ns, {st.rx.name: self._simulate_one(st, block, sats, t_s, sod_s) for st in states}

    def epoch_obs(self, block: BlockObs, e: int, t_ns: int) -> ObsEpoch:
        """Epoch ``e`` of a block as an :class:`ObsEpoch`."""
        vis = block.visible[e]
        codes = np.where(np.isnan(block.pr_m[e, vis]), 0, self.signals.code[vis]).astype(np.uint8)
        return ObsEpoch(
            int(t_ns), self.sat[vis], block.pr_m[e, vis], block.cp_cyc[e, vis],
            block.dop_hz[e, vis].astype(np.float32), block.cn0_dbhz[e, vis].astype(np.float32),
            block.lli[e, vis], codes,
        )

    def epochs(self) -> Iterator[tuple[int, dict[str, ObsEpoch]]]:
        """Stream the network: ``(t_gpst_ns, {name: ObsEpoch})`` per epoch, without files."""
        for t_ns, obs in self.blocks():
            for e, t in enumerate(t_ns):
                yield int(t), {name: self.epoch_obs(b, e, t) for name, b in obs.items()}

    def run(self) -> dict[str, ObsSeries]:
        """Simulate everything and return one :class:`ObsSeries` per receiver."""
        parts: dict[str, list] = {rx.name: [] for rx in self.receivers}
        times = []
        for t_ns, obs in self.blocks():
            times.append(t_ns)
            for name, b in obs.items():
                parts[name].append(b)
        t_all = np.concatenate(times)
        return {name: self.series_of(t_all, blocks) for name, blocks in parts.items()}

    def series_of(self, t_ns: np.ndarray, blocks: list[BlockObs]) -> ObsSeries:
        """Consecutive blocks of one receiver (epochs ``t_ns``) as an :class:`ObsSeries`."""
        visible = np.concatenate([b.visible for b in blocks])
        _, j_idx = np.nonzero(visible)
        counts = visible.sum(axis=1)

        def rows(name, dtype):
            return np.concatenate([getattr(b, name)[b.visible] for b in blocks]).astype(dtype, copy=False)

        pr = rows("pr_m", np.float64)
        code = np.where(np.isnan(pr), 0, self.signals.code[j_idx]).astype(np.uint8)
        return ObsSeries(
            t_gpst_ns=np.asarray(t_ns, dtype=np.int64),
            offsets=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
            flag=np.zeros(t_ns.size, dtype=np.uint8),
            sat=self.sat[j_idx],
            pr_m=pr,
            cp_cyc=rows("cp_cyc", np.float64),
            dop_hz=rows("dop_hz", np.float32),
            cn0_dbhz=rows("cn0_dbhz", np.float32),
            lli=rows("lli", np.uint8),
            code=code,
        )
