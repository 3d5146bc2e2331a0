"""The correction service (``gnssaug.server``): NTRIP caster, hub, HTTP API, settings."""
