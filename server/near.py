"""NEAR mountpoints: pick the nearest healthy station to a rover's GGA position, with hysteresis."""

from __future__ import annotations

import math

from gnssaug.stations.registry import llh_to_ecef


def choose_station(rover_llh: tuple[float, float, float], candidates: dict[str, tuple[float, float, float]],
                   current: str | None, hysteresis_m: float) -> str | None:
    """The station a NEAR client should receive.

    Parameters
    ----------
    rover_llh : (lat_deg, lon_deg, h_m)
        The rover's position from its GGA.
    candidates : dict
        Healthy stations: mountpoint -> ARP ECEF (m).
    current : str or None
        The station the client receives now.
    hysteresis_m : float
        Stay on ``current`` while it is healthy and no candidate is closer by more than this, so a
        rover half-way between two stations does not flip between them.

    Returns
    -------
    str or None
        A mountpoint, or None when there is no healthy station.
    """
    if not candidates:
        return None
    rover = llh_to_ecef(rover_llh)
    dist = {m: math.dist(rover, xyz) for m, xyz in candidates.items()}
    best = min(dist, key=lambda m: (dist[m], m))
    if current in dist and dist[best] + hysteresis_m >= dist[current]:
        return current
    return best
