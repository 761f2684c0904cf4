"""EditSession draws with the render code: its overlay is what `overdash preview` draws, and each
component's box covers the pixels that component draws."""
import base64
import io

import numpy as np
import pytest
from PIL import Image

from overlay.layout.parse import BUNDLED_DIR
from overlay.layout.units import UnitSettings
from pipeline.commands.cli import main
from pipeline.commands.edit.session import EditSession, load_timeline
from pipeline.commands.preview import _demo_background

DEFAULT = (BUNDLED_DIR / "default.xml").read_text()


@pytest.fixture(scope="module")
def demo():
    return EditSession(load_timeline([]), UnitSettings())


def _overlay(answer) -> Image.Image:
    assert answer["ok"], answer
    head = "data:image/png;base64,"
    assert answer["overlay"].startswith(head)
    return Image.open(io.BytesIO(base64.b64decode(answer["overlay"][len(head):])))


def _diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).max())


def test_render_matches_overdash_preview(demo, tmp_path):
    out = tmp_path / "p.png"
    assert main(["preview", "-o", str(out), "--at", "2"]) == 0  # frame 60 of the demo ride, 1920x1080
    answer = demo.render(DEFAULT, 60, "1080p")
    overlay = _overlay(answer)
    assert overlay.mode == "RGBA" and overlay.size == (1920, 1080)
    picture = _demo_background((1920, 1080)).convert("RGBA")
    picture.alpha_composite(overlay)
    assert _diff(picture.convert("RGB"), Image.open(out).convert("RGB")) <= 2
    assert answer["scale"] == 1.0 and answer["values"]["speed"].endswith("kph")
    assert answer["values"]["alt"].endswith(" m")  # short unit labels, as the dashboard writes them


def test_component_boxes_cover_what_each_draws(demo):
    from pipeline.commands.edit import xmledit

    answer = demo.render(DEFAULT, 90, "4k")
    full = np.asarray(_overlay(answer), np.int16)
    components = answer["components"]
    assert [c["index"] for c in components] == list(range(len(components)))
    assert answer["scale"] == 2.0
    for c in components:
        # the pixels that change when this element is deleted are the ones it draws
        x0, y0, x1, y1 = c["box"]
        without = np.asarray(_overlay(demo.render(xmledit.delete(DEFAULT, c["index"]), 90, "4k")), np.int16)
        ys, xs = np.nonzero(np.abs(full - without).max(axis=2) > 0)
        assert len(xs) and x1 > x0 and y1 > y0, c
        assert x0 <= xs.min() and xs.max() < x1 and y0 <= ys.min() and ys.max() < y1, c
        if c["type"] != "frame":  # tight: the box is not much bigger than what is drawn
            assert (x1 - x0) * (y1 - y0) <= 2 * (xs.max() + 1 - xs.min()) * (ys.max() + 1 - ys.min()) + 400, c


def test_layout_error_names_the_line(demo):
    answer = demo.render(DEFAULT.replace('size="56"', 'size="big"', 1), 0, "video")
    assert answer == {"ok": False, "error": {"line": 13, "message": answer["error"]["message"]}}
    assert "size='big'" in answer["error"]["message"] or "big" in answer["error"]["message"]
    assert demo.render(DEFAULT, 0, "nope")["ok"] is False
    assert demo.render(DEFAULT, 10 ** 9, "video")["ok"] is False


def test_background_sizes_cover_and_are_cached(demo):
    jpeg = demo.background(0, "vertical")
    assert Image.open(io.BytesIO(jpeg)).size == (1080, 1920)
    assert demo.background(0, "vertical") is jpeg


def test_video_input(tmp_path):
    from pipeline.commands.demo import make_sample

    video = make_sample(tmp_path, 2, (640, 360))
    session = EditSession(load_timeline([video]), UnitSettings())
    assert session.timeline.size == (640, 360) and session.timeline.count > 30
    answer = session.render(DEFAULT, 30, "video")
    assert _overlay(answer).size == (640, 360) and answer["scale"] == pytest.approx(1 / 3)
    frame = Image.open(io.BytesIO(session.background(30, "video")))
    assert frame.size == (640, 360)
    assert Image.open(io.BytesIO(session.background(30, "1080p"))).size == (1920, 1080)
    assert np.asarray(frame).std() > 5  # a real picture, not the neutral gradient's flat rows
