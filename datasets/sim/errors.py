"""The simulator's exception hierarchy."""

from gnssaug.errors import GnssError


class SimError(GnssError):
    """Raised when a simulation cannot be set up: a bad layout file, unknown rover, empty sky."""


class LayoutError(SimError):
    """Raised for a malformed layout file; the message names the file, line and field."""
