"""Data sets (``gnssaug.datasets``): RINEX reading and writing, simulator, replay, metrics vs truth."""
