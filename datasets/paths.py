"""Where the shared real GNSS data sets are found.

The data are read in place, never copied into the project. The folder is
``$GNSSAUG_DATA_DIR`` when set, else ``../shared/data`` beside the repository (the layout of a
development checkout and of CI).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "GNSSAUG_DATA_DIR"
_REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The folder of the shared real data sets (it may not exist on a user's machine)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    for root in (_REPO_ROOT, Path.cwd()):
        candidate = (root / ".." / "shared" / "data").resolve()
        if candidate.is_dir():
            return candidate
    return (_REPO_ROOT / ".." / "shared" / "data").resolve()


def shared_data_file(*parts: str) -> Path:
    """A path inside the shared data folder; raises FileNotFoundError naming the setting if absent."""
    path = shared_data_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; set {ENV_VAR} to the folder of the shared GNSS data")
    return path
