"""The GNSS core's exception hierarchy.

Every error raised on purpose by :mod:`gnssaug` (core, solvers, ephemerides) derives from
:class:`GnssError`, so a caller can catch the core's errors in one place. Each class says when it
is raised. Insufficient data for a solution is a solution *status*, never an exception.
"""


class GnssError(Exception):
    """Base class of every error raised on purpose by the GNSS core."""


class InvalidInputError(GnssError, ValueError):
    """Raised when arrays or values handed to the core have the wrong shape, type or range."""


class UnknownSatelliteError(InvalidInputError):
    """Raised when a satellite name or number does not exist in the global satellite index."""


class UnknownSignalError(InvalidInputError):
    """Raised when an observation code or band does not belong to a constellation's signal plan."""


class FileFormatError(GnssError):
    """Raised when an input file is malformed; the message names the file and the line.

    Parameters
    ----------
    path : str
        The file that was being read.
    line : int or None
        The 1-based line number where the problem was found, when known.
    message : str
        What was wrong.
    """

    def __init__(self, path, line, message):
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class EphemerisError(GnssError):
    """Raised when no usable broadcast ephemeris exists for a satellite and time that must have one."""


class UsageError(GnssError):
    """Raised by a command-line subcommand for a request it cannot carry out (bad option values)."""
