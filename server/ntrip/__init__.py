"""NTRIP 1.0/2.0 caster: sans-IO protocol (``protocol``) and the asyncio listener (``caster``)."""
