"""gnssaug: a BeiDou-first ground-based augmentation service.

The ``gnssaug`` package is the GNSS core (no I/O, no network): time scales, constellations and
signals, observation epochs, broadcast ephemerides, atmosphere models, solvers and their numba
kernels. The RTCM codec, the station registry, the server and the data sets live in
``gnssaug.rtcm``, ``gnssaug.stations``, ``gnssaug.server`` and ``gnssaug.datasets``.
"""

__version__ = "0.1.0"
