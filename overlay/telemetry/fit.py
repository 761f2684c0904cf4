"""FIT activity files (Garmin, Wahoo, Hammerhead ...) into the Telemetry model, on UTC time.

Only `record` messages (global number 20) become rows, decoded by fitdecode
with no data processor (values stay plain numbers: no datetime objects, no
unit rewriting) and without the CRC check (a pure-Python loop over every
byte that costs ~40 % of the load; a damaged file still stops at the first
unparsable message, and what was read up to there is kept with a note).

Columns, per record (missing fields are NaN):

    timestamp                      -> t, timestamp (FIT epoch 1989-12-31 -> POSIX)
    position_lat / position_long   -> lat / lon (semicircles * 180 / 2**31 -> degrees)
    enhanced_altitude, altitude    -> alt (m; enhanced preferred)
    enhanced_speed, speed          -> speed (m/s; enhanced preferred)
    distance                       -> odo (m, the device's own odometer)
    heart_rate                     -> hr
    cadence (+ fractional_cadence) -> cadence (rpm)
    power                          -> power (W)
    temperature                    -> temp (degC)
    gps_accuracy                   -> gps-accuracy (m)
    any other numeric field        -> fit.<name>, e.g. fit.grade, fit.left_right_balance
    developer fields               -> dev.<field_name> (e.g. dev.charge); one whose
                                      native_field_num names a standard field (a Stryd
                                      'Power') also fills that column where the
                                      standard field is missing.

Files with no position at all (indoor rides, trainers) get only a 'sensors'
stream. Stream layout and duplicate timestamps: overlay.telemetry.filedata.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from overdash import InputError
from overlay.telemetry.filedata import build_telemetry
from overlay.telemetry.timeseries import Telemetry

FIT_EPOCH = 631065600.0  # 1989-12-31T00:00:00Z
SEMICIRCLE = 180.0 / 2**31
RECORD = 20  # global message number of 'record'
RENAME = {
    "timestamp": "timestamp", "position_lat": "lat", "position_long": "lon",
    "altitude": "alt", "enhanced_altitude": "alt.enhanced", "speed": "speed", "enhanced_speed": "speed.enhanced",
    "distance": "odo", "heart_rate": "hr", "cadence": "cadence", "fractional_cadence": "cadence.fraction",
    "power": "power", "temperature": "temp", "gps_accuracy": "gps-accuracy",
}
# record field numbers (FIT profile) a developer field's native_field_num may name
NATIVE = {2: "alt", 3: "hr", 4: "cadence", 5: "odo", 6: "speed", 7: "power", 13: "temp"}


def _sanitise(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_-." else "_" for c in name.strip()).lower() or "unnamed"


def read_records(path: Path) -> tuple[dict[str, tuple[list[int], list[float]]], int, list[str], str | None, dict[str, str]]:
    """Raw record columns as (row indices, values) per name, the record count, notes, the device
    and which standard column each developer column may stand in for."""
    import fitdecode

    cols: dict[str, tuple[list[int], list[float]]] = {}
    native: dict[str, str] = {}
    notes: list[str] = []
    device = None
    n = 0
    data_frame = fitdecode.FIT_FRAME_DATA
    try:
        with fitdecode.FitReader(str(path), processor=None, check_crc=fitdecode.CrcCheck.DISABLED,
                                 error_handling=fitdecode.ErrorHandling.RAISE) as reader:
            for frame in reader:
                if frame.frame_type != data_frame:
                    continue
                if frame.global_mesg_num != RECORD:
                    if frame.global_mesg_num == 0 and device is None:  # file_id
                        device = _device(frame)
                    continue
                for fd in frame.fields:
                    value = fd.value
                    if value is None or value.__class__ not in (int, float):
                        continue
                    field = fd.field
                    if field is None:
                        name = f"fit.unknown_{fd.def_num}"
                    elif field.field_type == "devfield":
                        name = f"dev.{_sanitise(field.name or f'field_{field.def_num}')}"
                        if field.native_field_num in NATIVE:
                            native[name] = NATIVE[field.native_field_num]
                    else:
                        name = RENAME.get(field.name) or f"fit.{field.name}"
                    entry = cols.get(name)
                    if entry is None:
                        entry = cols[name] = ([], [])
                    entry[0].append(n)
                    entry[1].append(value)
                n += 1
    except fitdecode.FitHeaderError as exc:
        raise InputError(f"{path}: not a FIT file ({exc})") from exc
    except (fitdecode.FitError, EOFError, ValueError, KeyError, IndexError) as exc:  # keep what was read
        if not n:
            raise InputError(f"{path}: unreadable FIT file ({exc})") from exc
        notes.append(f"FIT file damaged after {n} records ({exc}); the rest was not read")
    return cols, n, notes, device, native


def _device(frame) -> str | None:
    values = {fd.name: fd.value for fd in frame.fields if fd.value is not None}
    maker = values.get("manufacturer")
    product = values.get("product_name") or values.get("garmin_product") or values.get("product")
    parts = [str(p) for p in (maker, product) if p not in (None, "")]
    return " ".join(parts) or None


def load_fit(path: str | os.PathLike) -> Telemetry:
    """A FIT file's record messages as Telemetry ('gps' and/or 'sensors' streams) on UTC time."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    raw, n, notes, device, native = read_records(path)
    columns: dict[str, np.ndarray] = {}
    for name, (idx, values) in raw.items():
        col = np.full(n, np.nan)
        col[np.asarray(idx, dtype=np.intp)] = np.asarray(values, dtype=np.float64)
        columns[name] = col
    ts = columns.pop("timestamp", None)
    if ts is None or not np.isfinite(ts).any():
        raise InputError(f"{path}: no timed record messages (is this an activity FIT file?)")
    keep = np.isfinite(ts)
    if not keep.all():
        notes.append(f"{int((~keep).sum())} records without a timestamp were dropped")
        columns = {k: v[keep] for k, v in columns.items()}
        ts = ts[keep]
    for base in ("alt", "speed"):  # enhanced (32-bit) value where written, else the 16-bit one
        enhanced = columns.pop(f"{base}.enhanced", None)
        if enhanced is not None:
            plain = columns.get(base)
            columns[base] = enhanced if plain is None else np.where(np.isfinite(enhanced), enhanced, plain)
    fraction = columns.pop("cadence.fraction", None)
    if fraction is not None and "cadence" in columns:
        columns["cadence"] = columns["cadence"] + np.nan_to_num(fraction)
    for dev, standard in native.items():
        if dev in columns:
            std = columns.get(standard)
            columns[standard] = columns[dev].copy() if std is None else np.where(np.isfinite(std), std, columns[dev])
    for axis in ("lat", "lon"):
        if axis in columns:
            col = columns[axis] * SEMICIRCLE
            col[np.abs(col) > 180.0] = np.nan
            columns[axis] = col
    return build_telemetry(ts + FIT_EPOCH, columns, source=str(path), device=device, notes=tuple(notes))
