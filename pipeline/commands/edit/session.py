"""What `overdash edit` keeps between requests: the ride and video loaded once, backgrounds,
frame tables; and drawing a layout's TEXT with the very code `render` uses.

Drawing goes through pipeline.commands.dashboard (build_dashboard, compose), so the
picture in the browser is what a render writes, pixel for pixel. What makes it
interactive is what is kept: the telemetry (read once), each frame table by the
columns it holds (typing in the XML rarely changes which metrics a layout reads),
and decoded backgrounds by (frame, size).
"""
from __future__ import annotations

import base64
import io
import re
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from overdash import InputError, OverdashError
from overdash.lru import LRU
from pipeline.commands.edit import xmledit
from pipeline.commands.edit.vocab import sized

NEUTRAL_SIZE = (1920, 1080)
NEUTRAL_FPS = Fraction(30)
SIZES = {"1080p": ("1080p", 1920, 1080), "4k": ("4K", 3840, 2160), "vertical": ("vertical 9:16", 1080, 1920)}
_WHERE = re.compile(r"^(?:[^:\n]*:)?(\d+): ?")


@dataclass(frozen=True)
class Timeline:
    telemetry: object
    count: int
    fps: Fraction
    size: tuple[int, int]
    zone: object = None
    video: object = None        # encoders.probe.VideoInfo when IN is a video
    path: Path | None = None


def load_timeline(inputs, *, gpx=None, fit=None, altitude: str = "msl", laps=None) -> Timeline:
    """The demo ride (no IN), a ride file alone, or a video with its own or a merged ride."""
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.sources import is_ride_file, load_ride_only, load_source

    inputs = [Path(p) for p in inputs]
    for path in inputs + [Path(p) for p in (gpx, fit) if p]:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
    if not inputs:
        from overlay.telemetry.demo import demo_telemetry
        from pipeline.commands.sources import apply_lap_options

        telemetry = apply_lap_options(demo_telemetry(), laps)
        return Timeline(telemetry, int(telemetry["gps"].span[1] * NEUTRAL_FPS), NEUTRAL_FPS, NEUTRAL_SIZE)
    config = RenderConfig(input=inputs[0], output=inputs[0].with_suffix(".edit.mp4"), workers=1,
                          more_inputs=tuple(inputs[1:]), gpx=Path(gpx) if gpx else None,
                          fit=Path(fit) if fit else None, altitude=altitude, quiet=True, laps=laps)
    if is_ride_file(inputs[0]):
        ride = load_ride_only(config)
        return Timeline(ride.telemetry, max(1, int(ride.duration * NEUTRAL_FPS)), NEUTRAL_FPS, NEUTRAL_SIZE,
                        ride.zone, path=inputs[0])
    source = load_source(config, say=lambda text: None)
    video = source.video
    return Timeline(source.telemetry, video.frame_count, video.fps, (video.display_width, video.display_height),
                    source.zone, video, inputs[0])


def layout_error(exc: Exception) -> dict:
    """{"line", "message"} from a parser/xmledit message ("layout:12: …", "line 12: …")."""
    text = str(exc)
    m = _WHERE.match(text) or re.match(r"^line (\d+): ?", text)
    return {"line": int(m.group(1)) if m else None, "message": text[m.end():] if m else text}


def cover(image, size: tuple[int, int]):
    """`image` scaled to cover `size` and centre-cropped (unchanged when it already fits)."""
    from PIL import Image

    if image.size == size:
        return image
    s = max(size[0] / image.width, size[1] / image.height)
    w, h = max(size[0], round(image.width * s)), max(size[1], round(image.height * s))
    scaled = image.resize((w, h), Image.Resampling.BILINEAR)
    x, y = (w - size[0]) // 2, (h - size[1]) // 2
    return scaled.crop((x, y, x + size[0], y + size[1]))


class EditSession:
    """One editing session: `render(source, frame, size)` answers the page's /api/render."""

    def __init__(self, timeline: Timeline, units, *, font: str | None = None, map_options: dict | None = None):
        self.timeline = timeline
        self.units = units
        self.font = font
        self.map_options = map_options or {}
        self.tables: dict = {}
        self._backgrounds: LRU[bytes] = LRU(64, budget=256 << 20, size_of=len)
        self._frames: LRU[object] = LRU(8)
        self._draw = threading.Lock()
        self._decode = threading.Lock()

    # --- sizes and backgrounds ----------------------------------------------------------------
    def sizes(self) -> list[dict]:
        w, h = self.timeline.size
        rows = [{"id": "video", "label": f"video {w}x{h}", "width": w, "height": h}]
        return rows + [{"id": key, "label": f"{label} {sw}x{sh}", "width": sw, "height": sh}
                       for key, (label, sw, sh) in SIZES.items()]

    def size(self, size_id) -> tuple[int, int]:
        for row in self.sizes():
            if row["id"] == size_id:
                return row["width"], row["height"]
        raise InputError(f"size {size_id!r}: use one of {', '.join(r['id'] for r in self.sizes())}")

    def frame_number(self, frame) -> int:
        if not isinstance(frame, int) or isinstance(frame, bool) or not 0 <= frame < self.timeline.count:
            raise InputError(f"frame {frame!r}: give a frame from 0 to {self.timeline.count - 1}")
        return frame

    def background(self, frame: int, size_id: str) -> bytes:
        """JPEG of frame `frame` (or the neutral background) covering the size `size_id`."""
        size = self.size(size_id)
        frame = self.frame_number(frame)
        key = (frame if self.timeline.video else 0, size)
        with self._decode:
            jpeg = self._backgrounds.get(key, lambda: self._jpeg(cover(self._picture(key[0]), size)))
        assert jpeg is not None, "get with make always answers"
        return jpeg

    def _picture(self, frame: int):
        from pipeline.commands.preview import _demo_background, _video_frame

        if self.timeline.video is None:
            return _demo_background(self.timeline.size)
        path = self.timeline.path
        assert path is not None, "a video timeline has its file"
        return self._frames.get(frame, lambda: _video_frame(path, self.timeline.video, frame))

    @staticmethod
    def _jpeg(image) -> bytes:
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=88)
        return out.getvalue()

    # --- drawing ------------------------------------------------------------------------------
    def dashboard(self, layout, size: tuple[int, int]):
        """The Dashboard render would build for `layout` (parsed) at `size`."""
        from pipeline.commands.dashboard import build_dashboard

        t = self.timeline
        return build_dashboard("layout", t.telemetry, t.count, t.fps, size, self.units, font=self.font, zone=t.zone,
                               layout=layout, tables=self.tables, empty_ok=True, **self.map_options)

    def overlay(self, layout, frame: int, size: tuple[int, int]):
        """(RGBA overlay image, Renderer, FrameTable): the dashboard alone at `frame`, as compose draws it."""
        from PIL import Image

        from pipeline.commands.dashboard import compose

        with self._draw:
            dash = self.dashboard(layout, size)
            picture = compose(dash, frame, Image.new("RGBA", size, (0, 0, 0, 0)))
            return picture, dash.painter.prebuilt, dash.table

    def render(self, source: str, frame, size_id) -> dict:
        start = time.perf_counter()
        try:
            size = self.size(size_id)
            frame = self.frame_number(frame)
            from overlay.layout import parse_layout

            layout = parse_layout(source, "layout")
            doc = xmledit.Document(source)
            picture, renderer, table = self.overlay(layout, frame, size)
            components = component_boxes(doc, renderer)
        except OverdashError as exc:
            return {"ok": False, "error": layout_error(exc)}
        png = io.BytesIO()
        picture.save(png, "PNG", compress_level=1)
        return {"ok": True, "overlay": "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii"),
                "components": components, "scale": renderer.scaling.scale,
                "values": self.values(table, frame), "ms": round((time.perf_counter() - start) * 1000, 1)}

    def values(self, table, frame: int) -> dict[str, str]:
        """Each metric at `frame`, formatted, in the unit the command line chose for its kind."""
        from overlay.frametable import base_unit, column_key
        from overlay.layout.metrics import METRIC_TABLE
        from overlay.layout.units import fallback_label, resolve_unit

        out = {}
        for m in METRIC_TABLE:
            unit = resolve_unit(m.setting, self.units) if m.setting else None
            key = column_key(m.name, unit)
            if key not in table.columns:
                key, unit = m.name, base_unit(m.name)
            v = table.value(key, frame)
            if v != v:  # NaN: missing here
                out[m.name] = "–"
                continue
            label = fallback_label(unit)
            label = f" {label}" if label else ""
            out[m.name] = f"{v:.6g}{label}" if abs(v) >= 1000 else f"{v:.2f}{label}"
        return out

    def scale(self, source: str, size_id) -> float:
        """Picture px per layout px of `source` at size `size_id` (the move op's divisor)."""
        from overlay.layout import parse_layout
        from overlay.widgets.base import Scaling

        size = self.size(size_id)
        return Scaling.fit(parse_layout(source, "layout").design_for(size), size).scale

    def group_size(self, source: str, indices) -> tuple[float, float]:
        """Layout px (width, height), from its container's origin, that covers what `indices` draw."""
        from overlay.layout import parse_layout

        layout = parse_layout(source, "layout")
        doc = xmledit.Document(source)
        size = self.timeline.size
        _, renderer, _ = self.overlay(layout, 0, size)
        boxes = {c["index"]: c for c in component_boxes(doc, renderer)}
        sc = renderer.scaling
        w = h = 1.0
        for i in indices:
            c = boxes.get(i)
            if c and c["box"] != [0, 0, 0, 0]:
                ox, oy = c["origin"]
                w = max(w, (c["box"][2] - sc.dx) / sc.scale - ox)
                h = max(h, (c["box"][3] - sc.dy) / sc.scale - oy)
        return w, h


def component_boxes(doc: xmledit.Document, renderer) -> list[dict]:
    """One entry per element of the source (contract numbering), with the picture-pixel box of what
    it draws: the drawables the renderer compiled for it (before static parts were merged into
    layers), inside any frame that clips them and inside the picture. Containers: the union of
    their contents (a frame: its panel). The renderer's own layout tree (units and maps resolved)
    has the source's shape, so the two are walked side by side."""
    from overlay.layout.nodes import Component, Frame
    from overlay.widgets.base import union

    sc = renderer.scaling
    w, h = renderer.video_size
    index = {id(el): i for i, el in enumerate(doc.elements)}
    out: dict[int, dict] = {}

    def clip(box, area):
        if box is None:
            return None
        b = (max(box[0], area[0]), max(box[1], area[1]), min(box[2], area[2]), min(box[3], area[3]))
        return b if b[2] > b[0] and b[3] > b[1] else None

    def drawn(node, offset, area):
        """Box of everything `node` (a parsed node) draws at layout `offset`, inside `area`."""
        if isinstance(node, Component):
            return clip(union(p.bbox() for p in renderer.parts_of.get(id(node), ())), area)
        o = (offset[0] + node.x, offset[1] + node.y)
        if isinstance(node, Frame):
            panel = sc.xy(*o) + sc.xy(o[0] + node.width, o[1] + node.height)
            return clip(panel, area)
        return union(drawn(c, o, area) for c in node.children)

    def visit(elements, nodes, offset, area):
        for el, node in zip(elements, nodes):
            box = drawn(node, offset, area)
            i = index[id(el)]
            sizes = vocab_sized(node)
            out[i] = {"index": i, "type": node.type if isinstance(node, Component) and el.tag == "component"
                      else (el.attr("type").value if el.tag == "component" and el.attr("type") else el.tag),
                      "name": node.name, "line": el.line, "box": list(box) if box else [0, 0, 0, 0],
                      "sized": bool(sizes), "origin": list(offset)}
            if el.tag != "component":
                o = (offset[0] + node.x, offset[1] + node.y)
                inner = area
                if isinstance(node, Frame):
                    inner = clip(sc.xy(*o) + sc.xy(o[0] + node.width, o[1] + node.height), area) or (0, 0, 0, 0)
                visit(el.children, node.children, o, inner)

    visit(doc.root.children, renderer.layout.children, (0.0, 0.0), (0, 0, w, h))
    return [out[i] for i in sorted(out)]


def vocab_sized(node) -> list[str]:
    from overlay.layout.nodes import Component, Frame

    if isinstance(node, Component):
        return sized(node.attrs)
    return ["width", "height"] if isinstance(node, Frame) else []
