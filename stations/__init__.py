"""Reference stations (``gnssaug.stations``): registry, ingest, epoch assembly, health."""
