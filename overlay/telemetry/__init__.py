"""Telemetry sources (GoPro GPMF, later GPX/FIT) read into one Timeseries model."""
