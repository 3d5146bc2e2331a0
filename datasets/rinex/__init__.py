"""RINEX files: observations (:mod:`.obs`) and navigation data (:mod:`.nav`)."""

from .nav import NavFileWarning, read_nav
from .obs import ObsFileWarning, ObsHeader, read_obs, read_obs_header, write_obs

__all__ = ["NavFileWarning", "ObsFileWarning", "ObsHeader", "read_nav", "read_obs", "read_obs_header", "write_obs"]
