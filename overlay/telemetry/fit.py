"""FIT activity files (Garmin, Wahoo, Hammerhead ...) into the Telemetry model, on UTC time.

Only `record` messages (global number 20) become rows. The bytes are read by
overlay.telemetry.fitfile (our own reader: one pass over the messages, then
the records of each definition decoded together with numpy; ~1.3 s for a
million records where fitdecode took ~30 s). What the values mean comes from
the FIT profile as fitdecode ships it (field names, scale, offset, components
such as speed -> enhanced_speed, accumulated components, enum types), applied
as fitdecode applies it with no data processor, so the columns are the ones
the fitdecode-based loader gave (tests/test_fit_fast.py holds it as the
reference); fitdecode itself only decodes the file_id message, for the device
name. CRCs are not checked; a damaged file keeps what was read before the
damage, with a note; bytes after the last FIT file are ignored, with a note.

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
    enhanced_respiration_rate,
      respiration_rate             -> respiration (breaths/min; enhanced preferred)
    event gear changes             -> gear.front, gear.rear (overlay.telemetry.fitevents)
    any other numeric field        -> fit.<name>, e.g. fit.grade, fit.left_right_balance
    developer fields               -> dev.<field_name> (e.g. dev.charge); one whose
                                      native_field_num names a standard field (a Stryd
                                      'Power') also fills that column where the
                                      standard field is missing.

Laps: every `lap` message (global 19) starts a lap at its start_time (else at
its timestamp minus total_elapsed_time), kept as the Telemetry's `laps`
(UTC); a file with one lap message has one lap. The activity's `start` (what
elapsed time counts from) is the first lap's start, else the first record.

Files with no position at all (indoor rides, trainers) get only a 'sensors'
stream. Stream layout and duplicate timestamps: overlay.telemetry.filedata.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from overdash import InputError
from overlay.telemetry.filedata import build_telemetry
from overlay.telemetry.fitevents import gear_columns
from overlay.telemetry.fitfile import (
    FILE_ID,
    RECORD,
    TIMESTAMP,
    FitHeaderError,
    Scan,
    gather,
    scalar_fields,
    scan,
)
from overlay.telemetry.timeseries import Telemetry, sorted_unique

FIT_EPOCH = 631065600.0  # 1989-12-31T00:00:00Z
SEMICIRCLE = 180.0 / 2**31
RENAME = {
    "timestamp": "timestamp", "position_lat": "lat", "position_long": "lon",
    "altitude": "alt", "enhanced_altitude": "alt.enhanced", "speed": "speed", "enhanced_speed": "speed.enhanced",
    "distance": "odo", "heart_rate": "hr", "cadence": "cadence", "fractional_cadence": "cadence.fraction",
    "power": "power", "temperature": "temp", "gps_accuracy": "gps-accuracy",
    "respiration_rate": "respiration", "enhanced_respiration_rate": "respiration.enhanced",
}
# record field numbers (FIT profile) a developer field's native_field_num may name
NATIVE = {2: "alt", 3: "hr", 4: "cadence", 5: "odo", 6: "speed", 7: "power", 13: "temp"}


def _sanitise(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_-." else "_" for c in name.strip()).lower() or "unnamed"


def _column(name: str) -> str:
    return RENAME.get(name) or f"fit.{name}"


@dataclass(frozen=True)
class _Component:
    """A value packed in a record field's bits (FIT profile 'components'), e.g. speed -> enhanced_speed."""
    column: str
    target: int  # the field number it fills
    bits: int
    bit_offset: int
    scale: float | None
    offset: float | None
    accumulate: bool
    enum: np.ndarray | None  # raw values the target's type names (fitdecode makes those strings: skipped)


@dataclass(frozen=True)
class _Spec:
    column: str
    scale: float | None
    offset: float | None
    enum: np.ndarray | None
    components: tuple[_Component, ...]


def _enum_keys(field) -> np.ndarray | None:
    enum = getattr(field.type, "enum", None)
    return np.array(sorted(enum)) if enum else None


def _record_profile() -> dict[int, _Spec]:
    """The record message of the FIT profile (as fitdecode ships it): name, scale, offset, components per field."""
    from fitdecode import profile

    fields = profile.MESSAGE_TYPES[RECORD].fields
    out = {}
    for num, f in fields.items():
        comps = tuple(_Component(_column(fields[c.def_num].name), c.def_num, c.bits, c.bit_offset, c.scale, c.offset,
                                 bool(c.accumulate), _enum_keys(fields[c.def_num])) for c in f.components or ())
        out[num] = _Spec(_column(f.name), f.scale, f.offset, _enum_keys(f), comps)
    return out


_PROFILE: dict[int, _Spec] | None = None


def _finish(raw: np.ndarray, valid: np.ndarray, scale, offset, enum) -> np.ndarray:
    """Raw numbers -> float64 values, scale and offset applied, NaN where there is no number (or, for a field
    of an enumerated type, where the type names the value: fitdecode makes those strings, which are skipped)."""
    if enum is not None:
        valid = valid & ~np.isin(raw, enum)
    out = raw.astype(np.float64)
    if scale:
        out /= scale
    if offset:
        out -= offset
    if not valid.all():
        out[~valid] = np.nan
    return out


def _valid(raw: np.ndarray, base) -> np.ndarray:
    return ~np.isnan(raw) if base.invalid is None else raw != base.invalid


class _Accumulation:
    """Values whose real value is only known in file order: compressed timestamps (5-bit offsets from the last
    full timestamp) and accumulated components (a counter's low bits). Collected per accumulator, resolved at once."""

    def __init__(self, bits: int):
        self.bits = bits
        self.keys: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.base: list[np.ndarray] = []
        self.sinks: list[tuple[np.ndarray, np.ndarray, object]] = []  # (event slice, rows into out, finish)

    def add(self, keys, values, base: bool, sink=None) -> None:
        start = sum(len(k) for k in self.keys)
        self.keys.append(np.asarray(keys, dtype=np.int64))
        self.values.append(np.asarray(values, dtype=np.int64))
        self.base.append(np.full(len(keys), base))
        if sink is not None:
            self.sinks.append((slice(start, start + len(keys)),) + sink)

    def resolve(self) -> None:
        if not self.sinks:
            return
        keys, vals, base = (np.concatenate(x) for x in (self.keys, self.values, self.base))
        order = np.argsort(keys, kind="stable")
        v, b = vals[order], base[order]
        full = 1 << self.bits
        mask = full - 1
        prev = np.empty_like(v)
        prev[:1] = 0  # the accumulator starts at 0
        prev[1:] = v[:-1] & mask
        wrap = ~b & (v < prev)  # a rolled-over counter
        seg = np.cumsum(b)
        wraps = np.cumsum(wrap)
        seg_value = np.concatenate(([0], v[b]))
        seg_wraps = np.concatenate(([0], wraps[b]))
        acc = np.where(b, v, (seg_value[seg] & ~mask) + v + full * (wraps - seg_wraps[seg]))
        result = np.empty_like(acc)
        result[order] = acc
        for part, out, rows, finish in self.sinks:
            out[rows] = finish(result[part])


def _record_columns(data: bytes, sc: Scan) -> tuple[dict[str, np.ndarray], dict[str, str], int]:
    """Every record message's fields as float64 columns (NaN where absent), by first appearance; the developer
    columns that may stand in for a standard one; the record count."""
    global _PROFILE
    if _PROFILE is None:
        _PROFILE = _record_profile()
    profile = _PROFILE
    u8 = np.frombuffer(data, dtype=np.uint8)
    offsets = [np.frombuffer(g.offsets, dtype=np.int64) for g in sc.records]
    n = sum(len(o) for o in offsets)
    if len(offsets) == 1:
        rows_of = [np.arange(n)]
    else:
        everything = np.concatenate(offsets) if offsets else np.empty(0, dtype=np.int64)
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(everything, kind="stable")] = np.arange(n)
        bounds = np.cumsum([0] + [len(o) for o in offsets])
        rows_of = [rank[a:b] for a, b in zip(bounds[:-1], bounds[1:])]

    stamps = _Accumulation(5)  # compressed timestamps
    accumulators: dict[int, _Accumulation] = {}
    compressed = False
    for fs in sc.file_starts:  # every FIT file starts with the accumulators at 0
        stamps.add([2 * fs - 1], [0], True)
    groups = []  # (rows, outputs [(column, values)])
    for g, offs, rows in zip(sc.records, offsets, rows_of):
        d = g.definition
        recs = gather(u8, d, offs)
        keys = 2 * (offs - 1)  # event keys: 2 * header position (+1 for a compressed header)
        outs: list[tuple[str, np.ndarray]] = []
        for i, f in enumerate(d.fields):
            if f.dev is not None:
                if f.scalar:
                    raw = recs[f"f{i}"]
                    name = f"dev.{_sanitise(f.dev.name or f'field_{f.num}')}"
                    outs.append((name, _finish(raw, _valid(raw, f.base), None, None, None)))
                continue
            spec = profile.get(f.num)
            if f.scalar:
                raw = recs[f"f{i}"]
                valid = _valid(raw, f.base)
                if f.num == TIMESTAMP:
                    stamps.add(keys[valid], raw[valid], True)
            elif f.base.kind == "byte" and f"b{i}" in (recs.dtype.names or ()):
                raw = recs[f"b{i}"]
                valid = ~(raw == 0xFF).all(axis=1)
            else:
                continue  # strings, arrays: not numbers
            if spec is None:
                if raw.ndim == 1:
                    outs.append((f"fit.unknown_{f.num}", _finish(raw, valid, None, None, None)))
                continue
            for c in spec.components:
                if raw.ndim == 2:  # byte array: one little-endian number
                    if c.bit_offset >= 8 * f.size:
                        continue
                    number = np.zeros(len(raw), dtype=np.uint64)
                    for k in range(f.size):
                        number |= raw[:, k].astype(np.uint64) << np.uint64(8 * k)
                elif raw.dtype.kind == "f":
                    number = raw
                else:
                    number = raw.astype(np.uint64 if raw.dtype.kind == "u" else np.int64)
                if raw.dtype.kind != "f":
                    number = ((number >> number.dtype.type(c.bit_offset)) & number.dtype.type((1 << c.bits) - 1))
                    number = number.astype(np.int64)
                finish = partial(_finish_component, c=c)
                if c.accumulate:
                    values = np.full(len(raw), np.nan)
                    acc = accumulators.get(c.target)
                    if acc is None:
                        acc = accumulators[c.target] = _Accumulation(c.bits)
                    hit = np.flatnonzero(valid)
                    acc.add(keys[hit], number[hit], False, (values, hit, finish))
                else:
                    values = finish(np.where(valid, number, 0), valid)
                outs.append((c.column, values))
            if raw.ndim == 1:
                outs.append((spec.column, _finish(raw, valid, spec.scale, spec.offset, spec.enum)))
        header = u8[offs - 1]
        packed = np.flatnonzero(header & 0x80)
        if len(packed):
            compressed = True
            values = np.full(len(offs), np.nan)
            stamps.add(keys[packed] + 1, header[packed] & 0x1F, False, (values, packed, lambda acc: acc))
            outs.append(("timestamp", values))
        groups.append((rows, outs))
    # accumulators restart at every record definition holding a field they accumulate from, and at every file
    for target, acc in accumulators.items():
        resets = [2 * p for p, d in sc.record_definitions
                  if any(c.target == target and c.accumulate for f in d.fields if f.dev is None
                         for c in (profile[f.num].components if f.num in profile else ()))]
        resets += [2 * fs - 1 for fs in sc.file_starts]
        acc.add(resets, np.zeros(len(resets)), True)
        acc.resolve()
    if compressed or any(u8[np.frombuffer(g.offsets, dtype=np.int64) - 1].max(initial=0) & 0x80 for g in sc.timed) \
            or len(sc.other_compressed):
        compressed = True
    if compressed:  # other messages move the timestamp on too
        for g in sc.timed + [g for g in sc.laps if all(g is not t for t in sc.timed)]:
            offs = np.frombuffer(g.offsets, dtype=np.int64)
            recs = gather(u8, g.definition, offs)
            keys = 2 * (offs - 1)
            for i, f in enumerate(g.definition.fields):
                if f.num == TIMESTAMP and f.dev is None and f.scalar:
                    raw = recs[f"f{i}"]
                    valid = _valid(raw, f.base)
                    stamps.add(keys[valid], raw[valid], True)
            header = u8[offs - 1]
            packed = np.flatnonzero(header & 0x80)
            stamps.add(keys[packed] + 1, header[packed] & 0x1F, False)
        other = np.frombuffer(sc.other_compressed, dtype=np.int64)
        stamps.add(2 * (other - 1) + 1, u8[other - 1] & 0x1F, False)
        stamps.resolve()

    columns: dict[str, np.ndarray] = {}
    first: dict[str, tuple[int, int]] = {}
    native: dict[str, str] = {}
    for rows, outs in groups:
        for k, (name, values) in enumerate(outs):
            ok = ~np.isnan(values)
            if ok.all():
                r, v = rows, values
            else:
                r, v = rows[ok], values[ok]
            if not len(r):
                continue
            col = columns.get(name)
            if col is None:
                col = columns[name] = np.full(n, np.nan)
            col[r] = v
            key = (int(r[0]), k)
            if name not in first or key < first[name]:
                first[name] = key
    for g in sc.records:  # developer fields naming a standard one
        for f in g.definition.fields:
            if f.dev is not None and f.dev.native in NATIVE:
                name = f"dev.{_sanitise(f.dev.name or f'field_{f.num}')}"
                if name in columns:
                    native[name] = NATIVE[f.dev.native]
    order = sorted(columns, key=first.__getitem__)
    return {k: columns[k] for k in order}, {k: native[k] for k in order if k in native}, n


def _finish_component(number: np.ndarray, valid: np.ndarray | None = None, *, c: _Component) -> np.ndarray:
    """A component's value: its own scale and offset; the enum check is on the scaled value (as fitdecode)."""
    out = number.astype(np.float64)
    if c.scale:
        out /= c.scale
    if c.offset:
        out -= c.offset
    if valid is None:
        valid = np.ones(len(out), dtype=bool)
    if c.enum is not None:
        valid = valid & ~np.isin(out, c.enum)
    if not valid.all():
        out[~valid] = np.nan
    return out


LAP_START_TIME, LAP_TOTAL_ELAPSED = 2, 7  # lap message field numbers (FIT profile)


def lap_starts(data: bytes, sc: Scan) -> np.ndarray:
    """Start of every lap message (FIT seconds, sorted): start_time, else timestamp - total_elapsed_time."""
    u8 = np.frombuffer(data, dtype=np.uint8)
    out = []
    for g in sc.laps:
        offs = np.frombuffer(g.offsets, dtype=np.int64)
        if not len(offs):
            continue
        got = scalar_fields(u8, g.definition, offs, (LAP_START_TIME, TIMESTAMP, LAP_TOTAL_ELAPSED))
        nan = np.full(len(offs), np.nan)
        start = got.get(LAP_START_TIME, nan)
        end = got.get(TIMESTAMP, nan) - got.get(LAP_TOTAL_ELAPSED, nan) / 1000.0
        out.append(np.where(np.isfinite(start), start, end))
    starts = np.concatenate(out) if out else np.zeros(0)
    return sorted_unique(starts[np.isfinite(starts)])


def read_records(path: Path, laps: list | None = None, gears: dict | None = None
                 ) -> tuple[dict[str, np.ndarray], int, list[str], str | None, dict[str, str]]:
    """Record columns (float64, NaN where a record lacks the field; not yet converted), the record count, notes,
    the device and which standard column each developer column may stand in for. A `laps` list, if given,
    receives the lap start times (FIT seconds); a `gears` dict the gear columns at the records
    (overlay.telemetry.fitevents), which are events, not record fields."""
    data = path.read_bytes()
    try:
        sc = scan(data)
    except FitHeaderError as exc:
        raise InputError(f"{path}: not a FIT file ({exc})") from exc
    notes: list[str] = []
    columns, native, n = _record_columns(data, sc)
    if gears is not None and "timestamp" in columns:
        gears.update(gear_columns(data, sc, columns["timestamp"]))
    if laps is not None:
        laps.extend(lap_starts(data, sc).tolist())
    if sc.damage:
        if not n:
            raise InputError(f"{path}: unreadable FIT file ({sc.damage})")
        notes.append(f"FIT file damaged after {n} records ({sc.damage}); the rest was not read")
    if sc.trailing:
        notes.append(f"{sc.trailing} bytes after the end of the FIT data were ignored")
    return columns, n, notes, _device_of(data, sc.file_ids), native


def _device_of(data: bytes, file_ids: list[int]) -> str | None:
    """Maker and product from the first file_id message that names them, decoded by fitdecode (one message:
    its manufacturer and product tables are the FIT profile's)."""
    import fitdecode

    for end in file_ids[:4]:
        try:
            with fitdecode.FitReader(io.BytesIO(data[:end]), processor=None, check_crc=fitdecode.CrcCheck.DISABLED,
                                     error_handling=fitdecode.ErrorHandling.IGNORE) as reader:
                for frame in reader:
                    if frame.frame_type == fitdecode.FIT_FRAME_DATA and frame.global_mesg_num == FILE_ID:
                        device = _device(frame)
                        if device:
                            return device
        except (fitdecode.FitError, EOFError, ValueError, KeyError, IndexError):
            pass
    return None


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
    laps: list[float] = []
    gears: dict[str, np.ndarray] = {}
    columns, n, notes, device, native = read_records(path, laps, gears)
    columns.update(gears)
    ts = columns.pop("timestamp", None)
    if ts is None or not np.isfinite(ts).any():
        raise InputError(f"{path}: no timed record messages (is this an activity FIT file?)")
    keep = np.isfinite(ts)
    if not keep.all():
        notes.append(f"{int((~keep).sum())} records without a timestamp were dropped")
        columns = {k: v[keep] for k, v in columns.items()}
        ts = ts[keep]
    for base in ("alt", "speed", "respiration"):  # enhanced (wider) value where written, else the plain one
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
    lap_utc = np.asarray(laps, dtype=np.float64) + FIT_EPOCH
    return build_telemetry(ts + FIT_EPOCH, columns, source=str(path), device=device, notes=tuple(notes),
                           laps=lap_utc, start=float(lap_utc.min()) if len(lap_utc) else None)
