"""Station layouts: the built-in synthetic Hubei network and layouts read from CSV or TOML.

The Hubei layout is **synthetic**: 91 points on a square mesh of about 48 km clipped to a
hand-drawn, approximate outline of Hubei province (29.1-33.3 N, 108.4-116.1 E). Heights come from
a smooth made-up terrain: a few tens of metres in the Jianghan plain in the east, rising to over
1,000 m in the western mountains (Wudang, Shennongjia, Enshi), with a bump for the Dabie hills in
the north-east. No point is a real station.

Layout files have a header row and one station per line, either ``name,lat_deg,lon_deg,height_m``
(ellipsoidal height) or ``name,x_m,y_m,z_m`` (ECEF); TOML files hold the same fields in a
``[[station]]`` array of tables.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gnssaug.datasets.sim.errors import LayoutError
from gnssaug.geodesy import ecef_from_llh_deg, llh_deg_from_ecef

#: Approximate outline of Hubei (lon_deg, lat_deg), hand-drawn; good to some 20 km.
HUBEI_OUTLINE_DEG = np.array(
    [
        (108.4, 29.9), (109.2, 29.15), (110.6, 29.5), (111.8, 29.7), (112.9, 29.4), (113.8, 29.1),
        (114.5, 29.3), (115.5, 29.7), (116.1, 29.9), (115.9, 30.5), (115.6, 31.2), (114.8, 31.5),
        (114.1, 31.9), (113.4, 31.9), (112.9, 32.4), (112.0, 32.7), (111.3, 33.2), (110.6, 33.3),
        (109.7, 33.1), (109.1, 32.6), (109.5, 32.0), (109.9, 31.5), (109.1, 31.1), (108.6, 30.6),
    ]
)
HUBEI_N_STATIONS = 91
#: Published coordinate of IGS WUH2, co-located with WUHN (data README): a metre-level reference.
WUHN_ECEF_M = np.array([-2267750.2, 5009154.6, 3221294.4])


@dataclass(frozen=True)
class Layout:
    """Named receiver positions.

    Attributes
    ----------
    names : tuple[str, ...]
        Station names (used as file names ``<name>.obs``; four characters in the built-in layout).
    pos_ecef_m : float64[n, 3]
        True antenna reference points, ECEF [m].
    """

    names: tuple[str, ...]
    pos_ecef_m: np.ndarray

    def __post_init__(self):
        pos = np.ascontiguousarray(self.pos_ecef_m, dtype=np.float64)
        if pos.ndim != 2 or pos.shape != (len(self.names), 3):
            raise LayoutError(f"pos_ecef_m must have shape ({len(self.names)}, 3), got {pos.shape}")
        if len(set(self.names)) != len(self.names):
            raise LayoutError("station names must be unique")
        object.__setattr__(self, "pos_ecef_m", pos)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def llh_deg(self) -> np.ndarray:
        """Latitude [deg], longitude [deg], ellipsoidal height [m] (float64[n, 3])."""
        return llh_deg_from_ecef(self.pos_ecef_m).reshape(-1, 3)

    def subset(self, names) -> Layout:
        """The layout restricted to ``names`` (in that order)."""
        index = {n: i for i, n in enumerate(self.names)}
        missing = [n for n in names if n not in index]
        if missing:
            raise LayoutError(f"unknown stations {missing}")
        rows = [index[n] for n in names]
        return Layout(tuple(names), self.pos_ecef_m[rows])


def _inside(lon: np.ndarray, lat: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd point-in-polygon test, vectorised over points."""
    inside = np.zeros(lon.shape, dtype=bool)
    x0, y0 = poly[-1]
    for x1, y1 in poly:
        crosses = (y1 > lat) != (y0 > lat)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = x0 + (lat - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (lon < x_cross)
        x0, y0 = x1, y1
    return inside


def _mesh(spacing_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Square mesh points (lon, lat) [deg] of the given spacing inside the Hubei outline."""
    km_per_deg_lat = 111.0
    km_per_deg_lon = 111.0 * np.cos(np.radians(31.2))
    lats = np.arange(29.0, 33.4, spacing_km / km_per_deg_lat)
    lons = np.arange(108.3, 116.2, spacing_km / km_per_deg_lon)
    lon, lat = (a.ravel() for a in np.meshgrid(lons, lats))
    keep = _inside(lon, lat, HUBEI_OUTLINE_DEG)
    return lon[keep], lat[keep]


def synthetic_height_m(lon_deg: np.ndarray, lat_deg: np.ndarray) -> np.ndarray:
    """Made-up smooth terrain height [m] over Hubei (plain in the east, mountains in the west)."""
    lon = np.asarray(lon_deg, dtype=float)
    lat = np.asarray(lat_deg, dtype=float)
    west = 1250.0 / (1.0 + np.exp((lon - 110.9) / 0.35))  # western mountains
    dabie = 450.0 * np.exp(-((lon - 115.6) ** 2 + (lat - 31.0) ** 2) / 0.12)  # north-east hills
    hills = 60.0 * (1.0 + np.sin(3.1 * lon) * np.cos(2.3 * lat))  # gentle relief
    return 25.0 + west + dabie + hills * (lon < 113.5)


def hubei91() -> Layout:
    """The built-in synthetic 91-station Hubei layout (names ``HB01``..``HB91``, west to east)."""
    # The mesh spacing is chosen as the one in 45-50 km that yields 91 points inside the outline.
    best = None
    for spacing_km in np.arange(45.0, 50.0, 0.05):
        lon, lat = _mesh(float(spacing_km))
        if best is None or abs(lon.size - HUBEI_N_STATIONS) < abs(best[0].size - HUBEI_N_STATIONS):
            best = (lon, lat)
        if lon.size == HUBEI_N_STATIONS:
            break
    lon, lat = best
    if lon.size != HUBEI_N_STATIONS:
        raise LayoutError(f"the Hubei mesh has {lon.size} points, not {HUBEI_N_STATIONS}")
    order = np.lexsort((lat, lon))
    lon, lat = lon[order], lat[order]
    height = synthetic_height_m(lon, lat)
    names = tuple(f"HB{i + 1:02d}" for i in range(lon.size))
    return Layout(names, ecef_from_llh_deg(lat, lon, height))


def _float(value: str, path, line: int, field: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise LayoutError(f"{path}:{line}: field {field!r} is not a number: {value!r}") from None
    if not np.isfinite(out):
        raise LayoutError(f"{path}:{line}: field {field!r} is not finite: {value!r}")
    return out


_LLH_FIELDS = ("lat_deg", "lon_deg", "height_m")
_XYZ_FIELDS = ("x_m", "y_m", "z_m")


def _layout_from_rows(rows, path) -> Layout:
    """Build a layout from (line, mapping) rows holding a name and LLH or ECEF fields."""
    names, points = [], []
    for line, row in rows:
        name = str(row.get("name", "")).strip()
        if not name:
            raise LayoutError(f"{path}:{line}: field 'name' is empty")
        if all(f in row for f in _LLH_FIELDS):
            lat, lon, h = (_float(row[f], path, line, f) for f in _LLH_FIELDS)
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 360.0):
                raise LayoutError(f"{path}:{line}: latitude/longitude out of range: {lat}, {lon}")
            points.append(ecef_from_llh_deg(lat, lon, h))
        elif all(f in row for f in _XYZ_FIELDS):
            xyz = np.array([_float(row[f], path, line, f) for f in _XYZ_FIELDS])
            if not 6.0e6 < np.linalg.norm(xyz) < 6.5e6:
                raise LayoutError(f"{path}:{line}: ECEF position is not near the Earth's surface")
            points.append(xyz)
        else:
            raise LayoutError(
                f"{path}:{line}: need fields name,lat_deg,lon_deg,height_m or name,x_m,y_m,z_m; got {sorted(row)}"
            )
        if name in names:
            raise LayoutError(f"{path}:{line}: duplicate station name {name!r}")
        names.append(name)
    if not names:
        raise LayoutError(f"{path}: no stations")
    return Layout(tuple(names), np.array(points))


def read_layout(path) -> Layout:
    """Read a layout from a CSV file (header row) or a TOML file (``[[station]]`` tables).

    Parameters
    ----------
    path : str or Path
        ``.toml`` files are read as TOML, anything else as CSV.

    Raises
    ------
    LayoutError
        For a missing header field, a non-numeric value or a duplicate name (naming file and line).
    """
    path = Path(path)
    text = path.read_text()
    if path.suffix.lower() == ".toml":
        import tomllib

        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise LayoutError(f"{path}: {exc}") from None
        tables = doc.get("station", [])
        if not isinstance(tables, list):
            raise LayoutError(f"{path}: expected a [[station]] array of tables")
        return _layout_from_rows(((i + 1, t) for i, t in enumerate(tables)), path)
    reader = csv.DictReader(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
    if reader.fieldnames is None:
        raise LayoutError(f"{path}:1: no header row")
    reader.fieldnames = [f.strip() for f in reader.fieldnames]
    return _layout_from_rows(((i + 2, {k: v for k, v in r.items() if k}) for i, r in enumerate(reader)), path)


def resolve_layout(spec: str) -> Layout:
    """A layout from a command-line value: ``hubei91`` or a file path."""
    if spec == "hubei91":
        return hubei91()
    return read_layout(spec)


def write_stations_csv(path, layout: Layout) -> None:
    """Write the truth file ``stations.csv``: name, ECEF [m] and latitude/longitude/height."""
    llh = layout.llh_deg
    with open(path, "w", newline="") as fh:
        fh.write("name,x_m,y_m,z_m,lat_deg,lon_deg,height_m\n")
        for name, xyz, p in zip(layout.names, layout.pos_ecef_m, llh, strict=True):
            fh.write(f"{name},{xyz[0]:.4f},{xyz[1]:.4f},{xyz[2]:.4f},{p[0]:.9f},{p[1]:.9f},{p[2]:.4f}\n")
