"""GoPro HiLight tags as lap markers: the HMMT box (older cameras) and the udta GPMF 'HLMT' device
(newer ones), written into a copy of a real camera file, read back exactly, and turned into laps
(lap 1 from the first frame, a new lap at each HiLight) through load_gopro, chapters and a render plan."""
from __future__ import annotations

import math
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from overlay.telemetry.chapters import load_gopro_chapters
from overlay.telemetry.gopro import load_gopro
from overlay.telemetry.gpmf import _walk
from overlay.telemetry.hilights import MERGE_SECONDS, hilight_laps, hilights, hlmt_times, hmmt_times, merge_close
from overlay.telemetry.mp4 import read_mp4
from tests.support.paths import SHARED_DATA, needs_device_file

DATA = SHARED_DATA / "gopro"
MAX = DATA / "max-heromode.mp4"
needs_max = needs_device_file("gopro/max-heromode.mp4")


# --- a small MP4 box rewriter --------------------------------------------------------------------------------

def _boxes(buf: bytes, start: int, end: int):
    """(type, box start, payload start, box end) of the boxes in buf[start:end]; 32/64-bit sizes."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", buf, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", buf, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        yield kind, pos, pos + header, pos + size
        pos += size


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _shift_chunk_offsets(moov: bytes, delta: int) -> bytes:
    """moov with every stco/co64 entry moved by delta bytes (its media moved in the file)."""
    out = bytearray(moov)

    def walk(start: int, end: int) -> None:
        for kind, _, ps, pe in _boxes(out, start, end):
            if kind in (b"trak", b"mdia", b"minf", b"stbl"):
                walk(ps, pe)
            elif kind in (b"stco", b"co64"):
                count = struct.unpack_from(">I", out, ps + 4)[0]
                dtype = ">u4" if kind == b"stco" else ">u8"
                table = np.frombuffer(bytes(out[ps + 8:pe]), dtype, count).astype(np.int64) + delta
                assert table.min() >= 0 and (kind == b"co64" or table.max() < 2 ** 32)
                raw = table.astype(dtype).tobytes()
                out[ps + 8:ps + 8 + len(raw)] = raw

    walk(8, len(out))
    return bytes(out)


def _top(data: bytes) -> dict[bytes, tuple[int, int]]:
    return {kind: (s, e) for kind, s, _, e in _boxes(data, 0, len(data))}


def set_udta_box(src: Path, dst: Path, kind: bytes, payload: bytes | None) -> None:
    """Copy src to dst with moov/udta/<kind> replaced by `payload` (appended if absent; removed if
    None). udta and moov sizes are rewritten; when moov precedes mdat the media moves by the size
    change, so every chunk offset (stco/co64) moves with it."""
    data = src.read_bytes()
    ms, me = _top(data)[b"moov"]
    moov = data[ms:me]
    children = []
    for k, s, ps, e in _boxes(moov, 8, len(moov)):
        if k == b"udta":
            subs = [(sk, moov[ss:se]) for sk, ss, _, se in _boxes(moov, ps, e)]
            found = any(sk == kind for sk, _ in subs)
            subs = [(sk, _box(kind, payload) if sk == kind else raw) for sk, raw in subs
                    if sk != kind or payload is not None]
            if not found and payload is not None:
                subs.append((kind, _box(kind, payload)))
            children.append(_box(b"udta", b"".join(raw for _, raw in subs)))
        else:
            children.append(moov[s:e])
    new = _box(b"moov", b"".join(children))
    if ms < _top(data).get(b"mdat", (0, 0))[0]:
        new = _shift_chunk_offsets(new, len(new) - len(moov))
    dst.write_bytes(data[:ms] + new + data[me:])


def moov_first(src: Path, dst: Path) -> None:
    """Copy src (ftyp, mdat, moov) to dst as ftyp, moov, mdat ('faststart'), chunk offsets fixed."""
    data = src.read_bytes()
    top = _top(data)
    (fs, fe), (ds, de), (ms, me) = top[b"ftyp"], top[b"mdat"], top[b"moov"]
    assert fe == ds and de == ms == len(data) - (me - ms)  # the layout this helper knows
    moov = _shift_chunk_offsets(data[ms:me], me - ms)
    dst.write_bytes(data[fs:fe] + moov + data[ds:de])


# --- payloads ------------------------------------------------------------------------------------------------

def hmmt(ms: list[int], room: int = 0) -> bytes:
    """HMMT payload: count, the times, and `room` zero slots as cameras reserve."""
    return struct.pack(f">I{len(ms)}I", len(ms), *ms) + bytes(4 * room)


def klv(key: str, type_char: str, size: int, repeat: int, data: bytes) -> bytes:
    assert len(data) == size * repeat
    return struct.pack(">4scBH", key.encode(), type_char.encode(), size, repeat) + data + bytes(-len(data) & 3)


def text(key: str, value: str) -> bytes:
    return klv(key, "c", 1, len(value), value.encode("latin-1"))


def hlmt_device(entries: list[tuple[int, str]]) -> bytes:
    """The udta GPMF 'Highlights' device as GoPro describes it (gpmf-parser issue #21): one HLMT
    struct per HiLight: time, in, out (ms), lat, lon (1e-7 deg), alt, type FourCC, confidence, score."""
    samples = b"".join(struct.pack(">IIIiif4sff", t, t - 200, t + 200, 463000000, 70000000, 500.0,
                                   kind.encode(), 80.0, 50.0) for t, kind in entries)
    strm = (klv("TSMP", "L", 4, 1, struct.pack(">I", len(entries)))
            + text("RMRK", "struct: Time (ms), in (ms), out (ms), Location XYZ (deg,deg,m), Type, Confidence (%) Score")
            + text("TYPE", "LLLllfFff")
            + klv("SCAL", "l", 4, 9, struct.pack(">9i", 1, 1, 1, 10000000, 10000000, 1, 1, 1, 1))
            + (klv("HLMT", "?", 36, len(entries), samples) if entries else b""))
    body = klv("DVID", "F", 4, 1, b"HLMT") + text("DVNM", "Highlights") + klv("STRM", "\0", 1, len(strm), strm)
    return klv("DEVC", "\0", 1, len(body), body)


def udta_gpmf_with(entries: list[tuple[int, str]]) -> bytes:
    """max-heromode's udta GPMF with its (empty) HLMT device replaced, zero-padded to the same size."""
    blob = read_mp4(MAX).user_data["GPMF"]
    kept = b""
    for key, _, size, repeat, start, kids in _walk(blob, 0, len(blob)):
        dvid = next((blob[k[4]:k[4] + 4] for k in kids if k[0] == "DVID"), None)
        if dvid != b"HLMT":
            kept += blob[start - 8:start + ((size * repeat + 3) & ~3)]
    new = kept + hlmt_device(entries)
    assert len(new) <= len(blob)
    return new + bytes(len(blob) - len(new))


def with_hmmt(tmp_path: Path, ms: list[int], name: str = "hmmt.mp4", room: int = 0) -> Path:
    out = tmp_path / name
    set_udta_box(MAX, out, b"HMMT", hmmt(ms, room))
    return out


# --- the sample files have none ------------------------------------------------------------------------------

@needs_device_file("gopro/max-heromode.mp4", "gopro/hero5.raw", "gopro/hero9-rotation.gpmd")
def test_sample_files_have_no_hilights():
    movie = read_mp4(MAX)
    assert movie.user_data["HMMT"][:4] == bytes(4)  # HMMT with a count of 0 (room reserved)
    assert hilights(MAX).size == 0
    tel = load_gopro(MAX)
    assert tel.laps.size == 0
    for raw in ("hero5.raw", "hero9-rotation.gpmd"):
        assert hilights(DATA / raw).size == 0


# --- the box rewriter keeps the file valid -------------------------------------------------------------------

@needs_max
def test_rewriting_udta_keeps_the_telemetry(tmp_path):
    before = load_gopro(MAX)["gps"]
    patched = with_hmmt(tmp_path, [2500])
    size = patched.stat().st_size
    assert size == MAX.stat().st_size - 404 + 8  # count + 100 reserved slots gone, count + 1 time in
    after = load_gopro(patched)["gps"]
    np.testing.assert_array_equal(before.t, after.t)
    np.testing.assert_array_equal(before["lat"], after["lat"])
    # moov first: the media moves, chunk offsets must follow (or the GPMF payloads read garbage)
    fast = tmp_path / "fast.mp4"
    moov_first(patched, fast)
    fast2 = tmp_path / "fast2.mp4"
    set_udta_box(fast, fast2, b"HMMT", hmmt([2500, 6000, 9000]))  # grows moov by 8 bytes
    top = _top(fast2.read_bytes())
    assert top[b"moov"][0] < top[b"mdat"][0]
    moved = load_gopro(fast2)
    np.testing.assert_array_equal(moved["gps"]["lat"], before["lat"])
    np.testing.assert_array_equal(hilights(fast2), [2.5, 6.0, 9.0])


# --- HMMT (HERO5-HERO7 and later) ----------------------------------------------------------------------------

@needs_max
@pytest.mark.parametrize("ms", [[2500], [1234, 5678, 10001], [7000, 3000]])
def test_hmmt_times_read_back_exactly(tmp_path, ms):
    path = with_hmmt(tmp_path, ms, room=3)  # zero slots after the count are not HiLights
    np.testing.assert_array_equal(hilights(path), np.sort(np.array(ms)) / 1000.0)
    tel = load_gopro(path)
    np.testing.assert_array_equal(tel.laps, np.concatenate([[0.0], np.sort(ms) / 1000.0]))
    assert any("HiLight" in note for note in tel.notes)


def test_hmmt_payload_forms():
    assert hmmt_times(b"").size == 0
    assert hmmt_times(hmmt([], room=100)).size == 0
    np.testing.assert_array_equal(hmmt_times(hmmt([1, 2000, 4294967295])), [0.001, 2.0, 4294967.295])
    with pytest.warns(UserWarning, match="room for 1"):
        np.testing.assert_array_equal(hmmt_times(struct.pack(">II", 5, 1500)), [1.5])


# --- HLMT in the udta GPMF (HERO8 and later, MAX) ------------------------------------------------------------

@needs_max
def test_hlmt_manual_hilights_read_back_exactly(tmp_path):
    path = tmp_path / "hlmt.mp4"
    entries = [(8200, "MANL"), (3865, "FUSE"), (1500, "MANL"), (9000, "AIMU"), (4321, "MANL")]
    set_udta_box(MAX, path, b"GPMF", udta_gpmf_with(entries))
    np.testing.assert_array_equal(hilights(path), [1.5, 4.321, 8.2])  # the camera's own guesses are no laps
    tel = load_gopro(path)
    np.testing.assert_array_equal(tel.laps, [0.0, 1.5, 4.321, 8.2])
    assert tel.device == "GoPro Max"  # the rest of the udta GPMF still reads


@needs_max
def test_hlmt_without_entries_and_with_hmmt_too(tmp_path):
    empty = tmp_path / "empty.mp4"
    set_udta_box(MAX, empty, b"GPMF", udta_gpmf_with([]))
    assert hilights(empty).size == 0
    # a camera that writes the same press to HMMT and HLMT keeps it once; others join
    both = tmp_path / "both.mp4"
    set_udta_box(MAX, tmp_path / "step.mp4", b"GPMF", udta_gpmf_with([(2500, "MANL"), (7000, "MANL")]))
    set_udta_box(tmp_path / "step.mp4", both, b"HMMT", hmmt([2500, 2530, 5000]))
    np.testing.assert_array_equal(hilights(both), [2.5, 5.0, 7.0])


def test_hlmt_times_of_nothing():
    assert hlmt_times(None).size == 0


def test_merge_and_laps_rules():
    np.testing.assert_array_equal(merge_close([3.0, 1.0, 1.05, 1.2]), [1.0, 1.2, 3.0])
    assert hilight_laps(np.zeros(0)).size == 0
    np.testing.assert_array_equal(hilight_laps([4.0, 2.0]), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(hilight_laps([0.0, MERGE_SECONDS / 2, 3.0]), [0.0, 3.0])  # a press at the start


# --- chapters -------------------------------------------------------------------------------------------------

@needs_max
def test_chapters_shift_and_join_hilights(tmp_path):
    one = with_hmmt(tmp_path, [2500], "GX010042.MP4")
    two = with_hmmt(tmp_path, [1000, 4000], "GX020042.MP4")
    bare = tmp_path / "GX030042.MP4"
    shutil.copy(MAX, bare)
    d = read_mp4(MAX).video.duration
    tel = load_gopro_chapters([one, two, bare])
    np.testing.assert_allclose(tel.laps, [0.0, 2.5, d + 1.0, d + 4.0])
    # HiLights only in a later chapter: lap 1 still starts at the recording's first frame, not at the join
    tel = load_gopro_chapters([bare, two])
    np.testing.assert_allclose(tel.laps, [0.0, d + 1.0, d + 4.0])
    assert load_gopro_chapters([bare, bare]).laps.size == 0
    assert load_gopro_chapters([one]).laps.tolist() == [0.0, 2.5]


# --- in a render plan ----------------------------------------------------------------------------------------

def _plan(path: Path, tmp_path: Path):
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.render import plan_render

    layout = tmp_path / "laps.xml"  # a render keeps only the columns its layout reads: this one reads the laps
    layout.write_text('<layout><component type="metric" x="0" y="0" metric="lap"/>'
                      '<component type="metric" x="0" y="40" metric="lap.time"/>'
                      '<component type="metric" x="0" y="80" metric="lap.last"/></layout>')
    return plan_render(RenderConfig(input=path, output=tmp_path / "o.mp4", workers=1, quiet=True, layout=str(layout)))


needs_ffprobe = pytest.mark.skipif(not shutil.which("ffprobe"), reason="no ffprobe")


@needs_max
@needs_ffprobe
def test_plan_shows_lap_2_from_the_hilight_frame(tmp_path):
    path = with_hmmt(tmp_path, [2500, 6000])
    plan = _plan(path, tmp_path)
    table = plan.painter.table
    t = np.arange(table.count) * float(1 / plan.fps)
    lap, lap_time, last = table.columns["lap"], table.columns["lap.time"], table.columns["lap.last"]
    first2 = int(np.argmax(t >= 2.5 - 1e-6))  # the first frame at or after the HiLight
    first3 = int(np.argmax(t >= 6.0 - 1e-6))
    assert lap[0] == 1 and lap_time[0] == 0 and math.isnan(last[0])
    assert np.all(lap[:first2] == 1) and np.all(lap[first2:first3] == 2) and np.all(lap[first3:] == 3)
    assert lap_time[first2] == pytest.approx(t[first2] - 2.5, abs=1e-6)
    assert last[first2] == pytest.approx(2.5) and last[first3] == pytest.approx(3.5)
    assert lap_time[first3 - 1] == pytest.approx(t[first3 - 1] - 2.5, abs=1e-6)


@needs_max
@needs_ffprobe
def test_plan_without_hilights_has_no_laps(tmp_path):
    plan = _plan(MAX, tmp_path)
    for key in ("lap", "lap.time", "lap.last"):
        assert np.isnan(plan.painter.table.columns[key]).all()
