"""Atmosphere models: troposphere (Saastamoinen and mapping) and ionosphere (GPS and BDS Klobuchar)."""
