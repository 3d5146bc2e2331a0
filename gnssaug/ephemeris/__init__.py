"""Broadcast ephemerides: records, orbit and clock evaluation, per-satellite selection."""
