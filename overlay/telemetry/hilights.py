"""GoPro HiLight tags (the button press markers) as lap markers.

Where a GoPro MP4 keeps its HiLights (all in `moov/udta`, so reading them costs
no media data):

* `HMMT` box (HERO4–HERO7; later cameras still write it "for legacy tools"):
  a big-endian uint32 count, then that many uint32 times in milliseconds of
  video. Cameras reserve room (e.g. 100 slots, zero-filled) and fill it in;
  entries past the count are ignored. Manual (button) HiLights only.
* `GPMF` box (HERO6/HERO8 and later, MAX): the global-settings GPMF holds a
  DEVC with DVID 'HLMT' ("Highlights") whose STRM carries `HLMT` samples of
  TYPE 'LLLllfFff': time, in, out (ms), latitude, longitude (1e-7 deg),
  altitude, a type FourCC, confidence and score (gpmf-parser issue #21,
  answered by GoPro). Only type 'MANL' (the button was pressed) is a lap
  marker: 'AIMU', 'AACD', 'FUSE', ... are the camera's automatic guesses.
  An HLMT item without a TYPE (plain numbers) is read as manual times in ms.

Both forms are read and joined; times closer than MERGE_SECONDS are one press
(a camera that writes a press to both keeps it once). Not supported: HiLights
added later in GoPro Quik or the phone app after download (they are not in the
file), and HLMT items inside the timed telemetry track (no public description
of their timing was found); raw GPMF dumps (.raw/.gpmd) have no `udta`, so no
HiLights.

Times are seconds on the video timeline (the video's first frame = 0): the
milliseconds are movie time, shifted by the video track's leading empty edit
(none on camera files). For chapters (GX01…, GX02…) each file's HiLights are
taken as relative to that file's own first frame and shifted like its
telemetry (overlay.telemetry.chapters).

Laps: a HiLight marks the START of a new lap. With at least one HiLight, lap 1
starts at the recording's first frame (t = 0) and every HiLight starts the
next lap (`hilight_laps`); without HiLights there are no laps (lap metrics NaN,
shown as '-').
"""
from __future__ import annotations

import os
import struct
import warnings
from pathlib import Path

import numpy as np

from overlay.telemetry.gpmf import Decoder, Payload, parse_type
from overlay.telemetry.mp4 import Movie, read_mp4

MERGE_SECONDS = 0.1  # HiLights closer than this are one button press
MANUAL = "MANL"  # HLMT type of a HiLight made by pressing the button
_UNSET = object()


def hilights(path: str | os.PathLike) -> np.ndarray:
    """HiLight times of a GoPro MP4/MOV (seconds, video timeline, sorted); empty if it has none.

    A raw GPMF file (.raw/.gpmd/.gpmf/.bin, or any file starting with 'DEVC') has none."""
    from overlay.telemetry.gopro import RAW_SUFFIXES  # gopro imports this module

    path = Path(path)
    if path.suffix.lower() in RAW_SUFFIXES:
        return np.zeros(0)
    if path.is_file():
        with open(path, "rb") as fh:
            if fh.read(4) == b"DEVC":
                return np.zeros(0)
    return movie_hilights(read_mp4(path))


def movie_hilights(movie: Movie, udta_gpmf: Payload | None | object = _UNSET) -> np.ndarray:
    """HiLights of an MP4 index (see the module notes). `udta_gpmf`: the decoded udta GPMF
    payload if the caller has it already (None: none or undecodable), else decoded here."""
    if udta_gpmf is _UNSET:
        blob = movie.user_data.get("GPMF")
        udta_gpmf = Decoder().decode(blob, 0, label="udta box") if blob else None
    times = np.concatenate([hmmt_times(movie.user_data.get("HMMT", b"")), hlmt_times(udta_gpmf)])
    video = movie.video
    if video is not None:
        times = times - video.presentation_start
    return merge_close(times[np.isfinite(times) & (times >= 0)])


def hmmt_times(blob: bytes) -> np.ndarray:
    """Seconds from an HMMT box payload: uint32 count, then count uint32 milliseconds."""
    if len(blob) < 4:
        return np.zeros(0)
    count = struct.unpack_from(">I", blob, 0)[0]
    room = (len(blob) - 4) // 4
    if count > room:
        warnings.warn(f"HMMT box: {count} HiLights announced, room for {room}; reading {room}", stacklevel=2)
        count = room
    return np.frombuffer(blob, ">u4", count, 4).astype(np.float64) / 1000.0


def hlmt_times(payload: Payload | None) -> np.ndarray:
    """Seconds of the manual ('MANL') HiLights in a decoded udta GPMF payload."""
    out: list[np.ndarray] = []
    for stream in payload.streams if payload is not None else ():
        if stream.fourcc != "HLMT" or not len(stream):
            continue
        ms = stream.values[:, 0]
        kind = _type_column(stream)
        if kind is not None:
            ms = ms[kind == MANUAL]
        out.append(ms / 1000.0)
    return np.concatenate(out) if out else np.zeros(0)


def _type_column(stream) -> np.ndarray | None:
    """The HiLight type FourCC per sample (the first 'F' field of the TYPE), or None."""
    if stream.meta.type is None or stream.raw.dtype.names is None:
        return None
    try:
        fields = parse_type(stream.meta.type)
    except ValueError:
        return None
    index = next((i for i, (char, _) in enumerate(fields) if char == "F"), None)
    if index is None:
        return None
    return np.array([bytes(v).decode("latin-1") for v in stream.raw[f"f{index}"]])


def merge_close(times: np.ndarray, gap: float = MERGE_SECONDS) -> np.ndarray:
    """Sorted times with each run of times closer than `gap` to the previous kept once (its first)."""
    t = np.sort(np.asarray(times, dtype=np.float64))
    if len(t) < 2:
        return t
    keep = np.concatenate([[True], np.diff(t) >= gap])
    return t[keep]


def hilight_laps(times: np.ndarray) -> np.ndarray:
    """Lap start times from HiLights: lap 1 at the first frame (0), then one lap per HiLight;
    no HiLights, no laps. A HiLight within MERGE_SECONDS of the start is the start itself."""
    t = np.asarray(times, dtype=np.float64)
    if not len(t):
        return np.zeros(0)
    return merge_close(np.concatenate([[0.0], t[t >= MERGE_SECONDS]]))
