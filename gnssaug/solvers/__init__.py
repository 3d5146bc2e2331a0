"""Positioning solvers: SPP, DGNSS, RTK, network RTK, and ambiguity resolution."""
