"""The metric names a layout may use (`metric=`): one table, read by the parser, the frame table and the docs.

Before this table the names lived in overlay.widgets.attrs (a tuple), their units in
overlay.frametable / overlay.telemetry.timeseries, and their meaning only in prose
outside the repository, so the three drifted. Now `overlay.widgets.attrs.METRICS`
and `METRIC_ALIASES` are derived from `METRIC_TABLE`, `overlay.frametable.base_unit`
reads the units from it, and docs/layout-xml.md is generated from it (a test fails
when the committed page and this table disagree).

Pure data, no numpy or pint: workers import it through overlay.widgets.attrs.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One layout metric.

    unit:    the pint unit string of its frame-table column before any `units=` conversion
             ("dimensionless": a plain number; None: not known, also converted as a plain number);
    setting: which command-line unit setting (overlay.layout.units.UnitSettings field, chosen
             in a layout with units="speed" / "altitude" / "distance" / "temperature") is meant
             to convert it, None when none of them fits;
    doc:     one line for docs/layout-xml.md;
    labels:  for a metric that is a name rather than a number: the names, whose 1-based
             position is what its frame-table column holds (the table is all floats; NaN: none).
             Text shows the name and show-when compares it with a quoted name.
    """

    name: str
    unit: str | None
    setting: str | None
    doc: str
    labels: tuple[str, ...] = ()


_SPEED = "meter / second"
# What the event detector finds (overlay.telemetry.events): the names the `event` metric shows.
EVENT_KINDS = ("airtime", "braking", "cornering", "top-speed", "hilight")
_ACCEL = "meter / second ** 2"

METRIC_TABLE: tuple[Metric, ...] = (
    # GPS (camera GPS or the ride file's track)
    Metric("lat", "degree", None, "Latitude of the position fix."),
    Metric("lon", "degree", None, "Longitude of the position fix."),
    Metric("alt", "meter", "altitude", "Altitude from the GPS or the ride file."),
    Metric("speed", _SPEED, "speed",
           "Ground speed as recorded (camera GPS or ride file); where nothing records speed, cspeed."),
    Metric("speed3d", _SPEED, "speed", "Speed in three dimensions, climbing and descending included (GoPro GPS)."),
    Metric("cspeed", _SPEED, "speed", "Speed computed from the distance between GPS fixes over about a second."),
    Metric("vspeed", _SPEED, None, "Vertical speed: the change of altitude per second, positive when climbing."),
    Metric("codo", "meter", "distance", "Distance travelled since the start, added up from GPS fixes."),
    Metric("odo", "meter", "distance", "Distance since the start as the ride file's device counted it "
                                       "(FIT distance); where nothing records one, codo."),
    Metric("dist", "meter", "distance", "Distance from the previous GPS fix to this one (a step of codo)."),
    Metric("cgrad", "percent", None, "Gradient: altitude change over distance travelled, in percent; "
                                     "missing when barely moving."),
    Metric("gradient", "percent", None, "Gradient as the ride file records it (FIT grade), in percent; "
                                        "where nothing records one, cgrad."),
    Metric("cog", "degree", None, "Course over ground: direction of travel, clockwise from north, "
                                  "taken across about a second; missing when barely moving."),
    Metric("azi", "degree", None, "Bearing from this GPS fix to the next one, clockwise from north."),
    Metric("gps-lock", "dimensionless", None, "GPS fix: 0 none, 2 for 2D, 3 for 3D."),
    Metric("gps-dop", "dimensionless", None, "Dilution of precision of the GPS fix: lower is better."),
    Metric("timestamp", "second", None, "The frame's time in UTC as seconds since 1970 (what datetime shows)."),
    Metric("gps-packet", "dimensionless", None, "GoPro: number of the GPMF payload the GPS fix came in, "
                                                "from 0 (about one a second)."),
    Metric("gps-packet-index", "dimensionless", None, "GoPro: position of the GPS fix within its payload, "
                                                      "from 0."),
    # sensors (ride file or camera)
    Metric("hr", "1 / minute", None, "Heart rate in beats per minute."),
    Metric("cadence", "1 / minute", None, "Cadence in revolutions (or steps) per minute."),
    Metric("power", "watt", None, "Power."),
    Metric("temp", "degC", "temperature", "Temperature (ride file or the camera's own sensor)."),
    Metric("respiration", "1 / minute", None, "Respiration rate in breaths per minute (FIT)."),
    Metric("gear.front", "dimensionless", None, "Front gear (chainring) number from the FIT gear change events, "
                                                "held until the next change."),
    Metric("gear.rear", "dimensionless", None, "Rear gear (sprocket) number from the FIT gear change events, "
                                               "held until the next change."),
    Metric("sdps", "centimeter", None, "The FIT developer field named Sdps, in centimetres."),
    # camera motion sensors, in the camera's axes
    Metric("accl.x", _ACCEL, None, "Accelerometer, x axis of the camera."),
    Metric("accl.y", _ACCEL, None, "Accelerometer, y axis of the camera."),
    Metric("accl.z", _ACCEL, None, "Accelerometer, z axis of the camera."),
    Metric("accel", "standard_gravity", None, "Total acceleration (length of the accelerometer vector): "
                                              "1 g at rest."),
    Metric("grav.x", None, None, "Direction of gravity, x axis of the camera (a unit vector)."),
    Metric("grav.y", None, None, "Direction of gravity, y axis of the camera (a unit vector)."),
    Metric("grav.z", None, None, "Direction of gravity, z axis of the camera (a unit vector)."),
    Metric("ori.roll", "radian", None, "Camera orientation: roll."),
    Metric("ori.pitch", "radian", None, "Camera orientation: pitch."),
    Metric("ori.yaw", "radian", None, "Camera orientation: yaw."),
    Metric("lean", "degree", None, "Lean angle, positive when the top of the camera tips right "
                                   "(from gravity, else from orientation)."),
    # times (overlay.frametimes.TIME_METRICS has the rules)
    Metric("elapsed", "second", None, "Time since the start: the ride file's start when it has one, "
                                      "else the video's first frame."),
    Metric("moving", "second", None, "Moving time: stops longer than a few seconds are not counted."),
    Metric("lap", "dimensionless", None, "Lap number, from 1; missing without laps."),
    Metric("lap.time", "second", None, "Time since the current lap began."),
    Metric("lap.last", "second", None, "Duration of the previous lap; missing during the first."),
    Metric("lap.n", "dimensionless", None, "Laps completed so far: 0 until the first lap is done "
                                           "(lap is the number of the lap running); missing without laps."),
    Metric("lap.best", "second", None, "The best lap completed so far; missing until a lap is done."),
    Metric("lap.delta", "second", None, "Live delta: time into this lap minus the best lap's time to the same "
                                        "point (the same fraction of its path); negative is faster. Needs GPS."),
    Metric("lap.predicted", "second", None, "Predicted time of this lap: lap.best plus lap.delta."),
    Metric("sector.time", "second", None, "Time since the current sector began (with --sector-line)."),
    Metric("sector.delta", "second", None, "Time gained (negative) or lost in the current sector against the "
                                           "best lap: lap.delta now minus lap.delta when the sector began."),
    # events (overlay.telemetry.events has the thresholds)
    Metric("event", "dimensionless", None, "The moment being shown: airtime, braking, cornering, top-speed or hilight; "
                                "from its start until 5 s after its end, else missing.",
           labels=EVENT_KINDS),
    Metric("event.value", "dimensionless", None, "The event's size: airtime in seconds, braking and cornering in g, "
                                      "top-speed in m/s, hilight the press's number."),
    Metric("event.age", "second", None, "Seconds since the event began."),
)

# Other names accepted for a metric: alias -> name in METRIC_TABLE.
ALIASES: dict[str, str] = {"cad": "cadence"}

# Running statistics: metric="speed.max". Computed from the first frame to each frame,
# missing values skipped (overlay.frametable.running).
STAT_DOCS: dict[str, str] = {
    "min": "Lowest value so far.",
    "max": "Highest value so far.",
    "avg": "Average so far, over time (every frame counts equally).",
}
STATS: tuple[str, ...] = tuple(STAT_DOCS)

BY_NAME: dict[str, Metric] = {m.name: m for m in METRIC_TABLE}
NAMES: tuple[str, ...] = tuple(m.name for m in METRIC_TABLE)


def lookup(name: str) -> Metric | None:
    """The table entry for a metric name or alias (no statistics suffix), else None."""
    return BY_NAME.get(ALIASES.get(name, name))


def _check() -> None:
    """Fail at import on a table that cannot be parsed unambiguously."""
    if len(BY_NAME) != len(METRIC_TABLE):
        raise RuntimeError("METRIC_TABLE: duplicate metric names")
    for alias, target in ALIASES.items():
        if alias in BY_NAME or target not in BY_NAME:
            raise RuntimeError(f"metric alias {alias!r} -> {target!r}: clashes with a name or points nowhere")
    for name in NAMES + tuple(ALIASES):
        if name.rpartition(".")[2] in STATS:
            raise RuntimeError(f"metric {name!r} ends in a statistics suffix")


_check()
