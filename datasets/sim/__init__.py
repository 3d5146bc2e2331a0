"""Network simulator (``gnssaug.datasets.sim``): realistic GPS, Galileo and BeiDou observations.

Satellites come from real broadcast ephemerides; stations from a layout (the built-in synthetic
Hubei network, or a CSV/TOML file); rovers from trajectories with truth. Every error source
(ionosphere, troposphere, orbit/clock, receiver clock, noise, multipath, biases, ambiguities,
slips) is a documented, switchable and seeded model. See :mod:`gnssaug.datasets.sim.engine`.
"""

from gnssaug.datasets.sim.errors import SimError

__all__ = ["SimError"]
