"""The commands users run, one module each (render, preview, info, export, profiles, demo).

They resolve what a run needs once, in the main process, and hand it to the
engine (`pipeline`); the engine never imports a command. `sources` is the one
place that loads the telemetry a run needs.
"""
