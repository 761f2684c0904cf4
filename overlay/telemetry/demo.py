"""Built-in demo telemetry for designing layouts without a video: a 10-minute ride on a
loop with hills, every metric the vocabulary knows, deterministic. A lap starts every
LAP seconds (lap 1 at t = 0), so lap, lap.time and lap.last show too."""
from __future__ import annotations

import numpy as np

from overlay.telemetry.derived import add_derived
from overlay.telemetry.timeseries import Telemetry, Timeseries

START_UTC = 1726056000.0  # 2024-09-11 12:00:00 UTC
ORIGIN = (46.5197, 6.6323)  # Lausanne: lake shore and hills
LAP = 150.0  # seconds


def demo_telemetry(seconds: float = 600.0, rate: float = 10.0) -> Telemetry:
    t = np.arange(0.0, seconds, 1.0 / rate)
    phase = 2 * np.pi * t / seconds
    # A 6 x 3 km oval ridden once, speed swinging 15–45 km/h with the hills.
    lat = ORIGIN[0] + 0.0135 * np.sin(phase)
    lon = ORIGIN[1] + 0.0195 * (1 - np.cos(phase))
    alt = 420 + 180 * (1 - np.cos(phase)) / 2 + 12 * np.sin(7 * phase)
    speed = (30 + 15 * np.sin(3 * phase)) / 3.6
    gps = Timeseries(t, {
        "lat": lat, "lon": lon, "alt": alt, "speed": speed, "speed3d": speed,
        "gps-lock": np.full(len(t), 3.0), "gps-dop": np.full(len(t), 1.2),
        "timestamp": START_UTC + t, "gps-ok": np.ones(len(t)),
    })
    sensors = Timeseries(t, {
        "hr": 128 + 30 * np.sin(3 * phase - 0.6),
        "cadence": 85 + 8 * np.sin(5 * phase),
        "power": 210 + 90 * np.sin(3 * phase + 0.3),
        "temp": 21 + 2 * np.sin(phase),
    })
    lean = Timeseries(t, {"lean": 35 * np.sin(6 * phase) * np.abs(np.sin(3 * phase))})  # degrees, + = right
    accl = Timeseries(t, {"accl.x": 0.8 * np.sin(9 * phase), "accl.y": 9.81 + 0.3 * np.cos(5 * phase),
                          "accl.z": 0.4 * np.sin(4 * phase)})
    tel = add_derived(Telemetry({"gps": gps, "sensors": sensors, "accl": accl, "lean": lean},
                                source="demo", device="demo"))
    return tel.with_times(0.0, np.arange(0.0, seconds, LAP))
