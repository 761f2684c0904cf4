"""`overdash edit` in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven by selenium.

Each test starts its own `overdash edit --no-browser --port 0 --layout FILE` (the demo ride over
the neutral 1920x1080 background) on a layout written here, opens the page in the module's one
browser, acts as a user would (drag, type, click) and checks what the page shows, what the
source becomes and what lands in the file. Elements are found by their data-testid (the
contract the page is built against). Nothing here times anything: waits only bound how long a
broken page may take to fail.

Without chromium/chromedriver/selenium every test skips ("browser missing: ..."); CI turns that
skip into a failure (tests/support/required_skips.py).
"""
from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support.browser import EditServer, chromium, console, console_problems
from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e
WAIT_S = 20.0   # the longest a page may take to show what a step asks for

# A design canvas half the demo picture's size: the layout scale is 2 picture px per layout px,
# so a drag's picture pixels must be halved into the file.
LAYOUT = """<?xml version="1.0" encoding="utf-8"?>
<!-- browser test layout: every comment here must survive every edit -->
<layout width="960" height="540">
    <!-- a title, top left -->
    <component type="text" name="title" x="100" y="80" size="40" rgb="255,255,0">Hello</component>
    <translate name="panel" x='500' y='300'>
        <component type="metric" name="speed" metric="speed" units="speed" dp="0" x="20" y="40" size="48"/>
    </translate>
    <component type="text" name="note"   x="700" y="60" size="24">note</component>
</layout>
"""
PICTURE = (1920, 1080)
LAYOUT_SCALE = 2.0

# What the page shows, measured in its own coordinates: the picture (the background <img>) and
# each component box relative to it, in displayed (CSS) pixels.
STATE_JS = """
const p = document.querySelector('[data-testid=preview]');
if (!p) return null;
const imgs = [...p.querySelectorAll('img')];
const bg = imgs.find(i => i.src.includes('/api/background'));
const ov = imgs.find(i => i !== bg && i.getAttribute('src'));
const err = document.querySelector('[data-testid=error]');
const shown = e => !!e && !e.hidden && e.offsetParent !== null && e.textContent.trim() !== '';
const info = i => i && {src: i.src.length > 200 ? i.src.length + ':' + i.src.slice(-120) : i.src,
                        complete: i.complete, w: i.naturalWidth, h: i.naturalHeight};
const r = (bg || p).getBoundingClientRect();
return {
  display: [r.width, r.height], bg: info(bg), ov: info(ov),
  boxes: [...p.querySelectorAll('[data-testid=component]')].map(b => {
    const q = b.getBoundingClientRect();
    return {index: +b.dataset.index, name: b.dataset.name, type: b.dataset.type,
            selected: b.classList.contains('selected'),
            rect: [q.left - r.left, q.top - r.top, q.right - r.left, q.bottom - r.top]};
  }),
  source: document.querySelector('[data-testid=source]').value,
  error: shown(err) ? err.textContent.trim() : '',
  status: (document.querySelector('[data-testid=status]') || {}).textContent || '',
};
"""


# ------------------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def driver():
    with chromium() as d:
        yield d


class Editor:
    """One `overdash edit` and the browser showing its page."""

    def __init__(self, driver, server: EditServer, layout: Path):
        self.driver, self.server, self.layout = driver, server, layout

    # --- reading the page
    def state(self) -> dict:
        return self.driver.execute_script(STATE_JS)

    def wait(self, what: str, check, timeout: float = WAIT_S):
        """Poll the page state until check(state) is truthy; its value, or fail saying `what`."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.state()
            got = st and check(st)
            if got:
                return got
            if time.monotonic() > deadline:
                pytest.fail(f"page never showed {what} within {timeout:.0f} s; last state: {_brief(st)}")
            time.sleep(0.05)

    def ready(self) -> dict:
        return self.wait("the picture and its boxes", lambda s: _loaded(s) and s["boxes"] and s)

    def box(self, st: dict, name: str) -> dict:
        found = [b for b in st["boxes"] if b["name"] == name]
        assert len(found) == 1, f"one box named {name!r} expected: {st['boxes']}"
        return found[0]

    def k(self, st: dict) -> float:
        """Picture px per displayed px."""
        return st["bg"]["w"] / st["display"][0]

    def element(self, testid: str, name: str | None = None):
        from selenium.webdriver.common.by import By
        css = f'[data-testid="{testid}"]' + (f'[data-name="{name}"]' if name is not None else "")
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def overlay_pixels(self) -> np.ndarray:
        src = self.driver.execute_script(
            "const p = document.querySelector('[data-testid=preview]');"
            "const i = [...p.querySelectorAll('img')].find(i => !i.src.includes('/api/background'));"
            "if (i.src.startsWith('data:')) return i.src;"
            "const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;"
            "c.getContext('2d').drawImage(i, 0, 0); return c.toDataURL('image/png');")
        data = base64.b64decode(src.split(",", 1)[1])
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))

    # --- acting
    def type_source(self, text: str) -> None:
        """Replace the whole source as a user would: select all, type the new text."""
        from selenium.webdriver.common.keys import Keys
        area = self.element("source")
        area.click()
        area.send_keys(Keys.CONTROL, "a")
        area.send_keys(text)

    def click(self, testid: str, name: str | None = None, shift: bool = False) -> None:
        """Click an element; a box the page redrew meanwhile (each render draws them anew) is found again."""
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys
        for attempt in range(5):
            el = self.element(testid, name)
            chain = ActionChains(self.driver)
            chain = chain.key_down(Keys.SHIFT).click(el).key_up(Keys.SHIFT) if shift else chain.click(el)
            try:
                chain.perform()
                return
            except StaleElementReferenceException:
                if attempt == 4:
                    raise

    def api(self, path: str, body: dict | None = None) -> tuple[int, dict | str]:
        """The server as the page talks to it (token header; same origin on POST)."""
        headers = {"X-Overdash-Token": self.server.token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers.update({"Content-Type": "application/json", "Origin": self.server.base})
        request = urllib.request.Request(self.server.base + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                raw, status, kind = answer.read(), answer.status, answer.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raw, status, kind = exc.read(), exc.code, exc.headers.get("Content-Type", "")
        return status, (json.loads(raw) if "json" in kind else raw.decode(errors="replace"))

    def problems(self) -> list[dict]:
        """Console errors and warnings from this server's page (an earlier test's page left aside)."""
        other = re.compile(r"https?://(127\.0\.0\.1|localhost):(\d+)")
        return [e for e in console_problems(console(self.driver))
                if all(int(m.group(2)) == self.server.port for m in other.finditer(e["message"]))]


@pytest.fixture
def editor(driver, tmp_path):
    """The test layout in a file, `overdash edit --layout` on it, its page loaded; stopped cleanly after."""
    def open_editor(text: str = LAYOUT) -> Editor:
        layout = tmp_path / "mine.xml"
        layout.write_text(text)
        server = EditServer.start(tmp_path, "--layout", layout)
        opened.append(server)
        console(driver)  # drop what an earlier page logged
        driver.get(server.url)
        ed = Editor(driver, server, layout)
        ed.ready()
        return ed

    opened: list[EditServer] = []
    yield open_editor
    for server in opened:
        assert server.alive(), f"overdash edit died during the test:\n{server.stderr()}"
        status, err = server.stop()
        assert status == 0 and "overdash edit: stopped" in err, f"exit {status}:\n{err}"


def _loaded(st) -> bool:
    return bool(st and st["bg"] and st["ov"] and st["bg"]["complete"] and st["ov"]["complete"]
                and st["bg"]["w"] > 0 and st["ov"]["w"] > 0)


def _brief(st) -> str:
    if not st:
        return repr(st)
    return json.dumps({k: v for k, v in st.items() if k != "source"})[:1500]


def _moved(st, name: str, before: dict):
    """The box named `name` when it has moved from `before` (picture-displayed px), else None."""
    now = [b for b in st["boxes"] if b["name"] == name]
    return now and now[0]["rect"][:2] != before["rect"][:2] and now[0]


def _parses(text: str) -> ET.Element:
    return ET.fromstring(text.encode())


def _elements(text: str, name: str) -> list[ET.Element]:
    return [el for el in _parses(text).iter() if el.get("name") == name]


COMMENTS = re.findall(r"<!--.*?-->", LAYOUT)


# ------------------------------------------------------------------------------ tests

def test_page_loads_clean_showing_the_picture_and_one_box_per_drawn_component(editor):
    ed = editor()
    st = ed.ready()
    assert not (problems := ed.problems()), problems
    assert (st["bg"]["w"], st["bg"]["h"]) == PICTURE == (st["ov"]["w"], st["ov"]["h"])
    status, state = ed.api("/api/state")
    assert status == 200 and state["video"]["width"] == PICTURE[0] and state["source"] == LAYOUT
    # the layout's three components and its translate each draw something: one box each
    assert sorted((b["type"], b["name"]) for b in st["boxes"]) == sorted(
        [("text", "title"), ("translate", "panel"), ("metric", "speed"), ("text", "note")])
    _, render = ed.api("/api/render", {"source": LAYOUT, "frame": 0, "size": "video"})
    drawn = {c["index"] for c in render["components"] if c["box"][2] > c["box"][0] and c["box"][3] > c["box"][1]}
    assert {b["index"] for b in st["boxes"]} == drawn
    # each box sits where the server says its component drew, in displayed px
    k = ed.k(st)
    for b in st["boxes"]:
        want = next(c["box"] for c in render["components"] if c["index"] == b["index"])
        assert np.allclose(np.array(b["rect"]) * k, want, atol=2), (b, want)
    # the overlay is the layout drawn: opaque yellow pixels in the title's box, nothing mid-picture
    px = ed.overlay_pixels()
    x0, y0, x1, y1 = (round(v) for v in next(c["box"] for c in render["components"] if c["name"] == "title"))
    title = px[y0:y1, x0:x1]
    yellow = (title[..., 0] > 200) & (title[..., 1] > 200) & (title[..., 2] < 80) & (title[..., 3] > 200)
    assert yellow.sum() > 200
    assert px[500:560, 100:900, 3].max() == 0
    assert ed.element("save").get_attribute("disabled") is not None  # nothing to save yet


def test_dragging_a_box_moves_it_in_the_picture_and_in_the_saved_file(editor):
    from selenium.webdriver.common.action_chains import ActionChains

    ed = editor()
    st = ed.ready()
    before = ed.box(st, "title")
    k = ed.k(st)
    dx, dy = 60, 30  # displayed px
    ActionChains(ed.driver).drag_and_drop_by_offset(ed.element("component", "title"), dx, dy).perform()
    ed.wait("the moved source", lambda s: s["source"] != LAYOUT)
    moved = ed.wait("the title's box moved", lambda s: _moved(s, "title", before))
    for got, was, d in zip(moved["rect"][:2], before["rect"][:2], (dx, dy)):
        assert abs((got - was) * k - d * k) <= 2, (moved, before, k)
    x = 100 + round(dx * k / LAYOUT_SCALE)
    y = 80 + round(dy * k / LAYOUT_SCALE)
    source = ed.state()["source"]
    got = _elements(source, "title")[0]
    assert abs(int(got.get("x")) - x) <= 1 and abs(int(got.get("y")) - y) <= 1, (got.attrib, x, y)
    expected = LAYOUT.replace('name="title" x="100" y="80"', f'name="title" x="{got.get("x")}" y="{got.get("y")}"')
    assert source == expected  # only those two values changed: comments, quoting, spacing kept

    save = ed.element("save")
    assert save.get_attribute("disabled") is None
    save.click()
    ed.wait("'saved' in the status line", lambda s: "saved" in s["status"].lower() and "unsaved" not in
            s["status"].lower())
    assert ed.layout.read_text() == expected
    assert ed.element("save").get_attribute("disabled") is not None
    assert not (problems := ed.problems()), problems


def test_typing_in_the_source_redraws_and_undo_redo_step_through_it(editor):
    ed = editor()
    st = ed.ready()
    first_overlay, title_before = st["ov"]["src"], ed.box(st, "title")
    first_pixels = ed.overlay_pixels()
    changed = LAYOUT.replace(">Hello<", ">Hello, wide world<")
    ed.type_source(changed)
    st = ed.wait("a new overlay after typing", lambda s: s["ov"]["src"] != first_overlay and _loaded(s) and s)
    assert st["source"] == changed and not st["error"]
    wide = ed.wait("the title's box widened",
                   lambda s: (b := ed.box(s, "title"))["rect"][2] > title_before["rect"][2] + 20 and b)
    assert wide["rect"][:2] == pytest.approx(title_before["rect"][:2], abs=1)
    assert np.abs(ed.overlay_pixels().astype(int) - first_pixels).max() > 100

    ed.click("undo")
    st = ed.wait("the first source back", lambda s: s["source"] == LAYOUT and s)
    ed.wait("the first picture back", lambda s: s["ov"]["src"] == first_overlay)
    assert np.abs(ed.overlay_pixels().astype(int) - first_pixels).max() <= 1
    ed.click("redo")
    ed.wait("the typed source again", lambda s: s["source"] == changed and s["ov"]["src"] != first_overlay)
    assert not (problems := ed.problems()), problems


def test_a_broken_layout_shows_its_line_and_the_page_recovers(editor):
    ed = editor()
    st = ed.ready()
    good_overlay = st["ov"]["src"]
    broken = LAYOUT.replace("    </translate>\n", "")
    ed.type_source(broken)
    st = ed.wait("the error", lambda s: s["error"] and s)
    m = re.search(r"line (\d+)", st["error"])
    assert m and 1 <= int(m.group(1)) <= broken.count("\n") + 1, st["error"]
    assert st["ov"]["src"] == good_overlay  # the last good picture stays
    status, state = ed.api("/api/state")
    assert status == 200 and state["video"]["width"] == PICTURE[0]  # the server still answers

    fixed = LAYOUT.replace("x='500' y='300'", "x='300' y='300'")
    panel = ed.box(st, "panel")
    ed.type_source(fixed)
    st = ed.wait("the error gone and a new picture", lambda s: not s["error"] and s["ov"]["src"] != good_overlay
                 and _moved(s, "panel", panel) and s)
    moved = ed.box(st, "panel")
    assert (panel["rect"][0] - moved["rect"][0]) * ed.k(st) == pytest.approx(200 * LAYOUT_SCALE, abs=2)
    assert not (problems := ed.problems()), problems


def test_selecting_fills_the_attribute_panel_and_editing_a_number_changes_the_source(editor):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    ed = editor()
    ed.ready()
    ed.click("component", "title")
    st = ed.wait("the title selected", lambda s: ed.box(s, "title")["selected"] and s)
    assert [b["name"] for b in st["boxes"] if b["selected"]] == ["title"]
    panel = ed.element("attributes")
    rows = {row.get_attribute("data-attr") for row in panel.find_elements(By.CSS_SELECTOR, "[data-attr]")}
    assert {"x", "y", "size", "rgb"} <= rows, rows
    # the source selects the title's start line (line 5)
    caret = ed.driver.execute_script("return document.querySelector('[data-testid=source]').selectionStart")
    assert LAYOUT.count("\n", 0, caret) + 1 == 5

    size = panel.find_element(By.CSS_SELECTOR, '[data-attr="size"] input[type="number"]')
    assert size.get_attribute("value") == "40"
    size.send_keys(Keys.CONTROL, "a")
    size.send_keys("64", Keys.TAB)
    want = LAYOUT.replace('size="40"', 'size="64"')
    ed.wait("size=64 in the source", lambda s: s["source"] == want)
    assert not (problems := ed.problems()), problems


def test_palette_add_delete_duplicate_and_group_edit_the_source(editor):
    from selenium.webdriver.support.select import Select

    ed = editor()
    ed.ready()
    # duplicate the title: a copy right after it, +20,+20
    ed.click("component", "title")
    ed.wait("the title selected", lambda s: ed.box(s, "title")["selected"])
    ed.click("duplicate")
    source = ed.wait("two titles", lambda s: len(_elements(s["source"], "title")) == 2 and s["source"])
    a, b = _elements(source, "title")
    assert (int(b.get("x")) - int(a.get("x")), int(b.get("y")) - int(a.get("y"))) == (20, 20) and b.text == a.text
    assert all(c in source for c in COMMENTS)
    ed.click("undo")
    ed.wait("the first source again", lambda s: s["source"] == LAYOUT and len(s["boxes"]) == 4)

    # group the title and the note (siblings, not next to each other) into a translate
    ed.click("component", "title")
    ed.wait("the title selected", lambda s: ed.box(s, "title")["selected"])
    ed.click("component", "note", shift=True)
    ed.wait("title and note selected", lambda s: {b["name"] for b in s["boxes"] if b["selected"]} ==
            {"title", "note"})
    ed.click("group-translate")
    source = ed.wait("a new translate", lambda s: s["source"].count("<translate") == 2 and s["source"])
    groups = [el for el in _parses(source) if el.tag == "translate" and el.get("name") is None]
    assert len(groups) == 1 and (groups[0].get("x"), groups[0].get("y")) == ("0", "0"), source
    assert [el.get("name") for el in groups[0]] == ["title", "note"]
    assert all(c in source for c in COMMENTS)
    ed.wait("the grouped layout drawn", lambda s: not s["error"] and len(s["boxes"]) == 5)
    ed.click("undo")
    ed.wait("the first source again", lambda s: s["source"] == LAYOUT and len(s["boxes"]) == 4)

    # delete the note
    ed.click("component", "note")
    ed.wait("the note selected", lambda s: ed.box(s, "note")["selected"])
    ed.click("delete")
    source = ed.wait("no note", lambda s: not _elements(s["source"], "note") and s["source"])
    assert len(_elements(source, "title")) == 1 and all(c in source for c in COMMENTS)
    ed.wait("the note's box gone", lambda s: len(s["boxes"]) == 3 and not s["error"])

    # add a text component from the palette
    Select(ed.element("palette")).select_by_value("text")
    ed.click("add")
    source = ed.wait("a new component", lambda s: s["source"].count("<component") == 3 and s["source"])
    added = [el for el in _parses(source).iter("component") if el.get("name") is None]
    assert len(added) == 1 and added[0].get("type") == "text" and added[0].text == "Text", source
    assert all(c in source for c in COMMENTS)
    ed.wait("the added component drawn", lambda s: len(s["boxes"]) == 4 and not s["error"])
    assert not (problems := ed.problems()), problems


def test_a_change_on_disk_shows_in_the_status_line(editor):
    ed = editor()
    ed.ready()
    ed.layout.write_text(LAYOUT.replace(">Hello<", ">changed elsewhere<"))
    ed.wait("'changed on disk' in the status line", lambda s: "changed on disk" in s["status"], timeout=10)
    assert ed.element("reload").is_displayed() and ed.element("keep").is_displayed()
    ed.click("reload")
    ed.wait("the disk's text loaded", lambda s: ">changed elsewhere<" in s["source"] and "changed on disk"
            not in s["status"])
    assert not (problems := ed.problems()), problems


def test_the_size_select_switches_the_picture_size(editor):
    from selenium.webdriver.support.select import Select

    ed = editor()
    ed.ready()
    Select(ed.element("size")).select_by_value("vertical")
    st = ed.wait("a vertical picture", lambda s: _loaded(s) and s["bg"]["w"] == 1080 and s["ov"]["w"] == 1080 and s)
    assert (st["bg"]["h"], st["ov"]["h"]) == (1920, 1920)
    assert st["display"][1] > st["display"][0]  # shown upright
    assert not (problems := ed.problems()), problems


def test_the_resize_handle_changes_the_size_by_the_dragged_amount(editor):
    from selenium.webdriver.common.action_chains import ActionChains

    ed = editor()
    st = ed.ready()
    k = ed.k(st)
    ed.click("component", "speed")
    ed.wait("the speed box selected", lambda s: ed.box(s, "speed")["selected"])
    handle = ed.element("resize")
    d = 40  # displayed px, down and right
    ActionChains(ed.driver).drag_and_drop_by_offset(handle, d, d).perform()
    ed.wait("the resized source", lambda s: s["source"] != LAYOUT)
    got = int(_elements(ed.state()["source"], "speed")[0].get("size"))
    assert abs(got - (48 + round(d * k / LAYOUT_SCALE))) <= 1, (got, k)
    assert not (problems := ed.problems()), problems


def test_the_time_slider_shows_another_moment(editor):
    from selenium.webdriver.common.keys import Keys

    clock = '    <component type="datetime" name="clock" x="100" y="400" size="30" format="%H:%M:%S"/>\n'
    ed = editor(LAYOUT.replace("</layout>", clock + "</layout>"))
    st = ed.ready()
    label = ed.element("time-label").text
    ed.element("time").send_keys(Keys.END)  # the last frame of the demo ride
    moved = ed.wait("another frame's picture", lambda s: _loaded(s) and s["bg"]["src"] != st["bg"]["src"]
                    and s["ov"]["src"] != st["ov"]["src"] and s)
    assert "frame=" in moved["bg"]["src"] and "frame=0&" not in moved["bg"]["src"]
    assert ed.element("time-label").text != label  # and the clock on the dashboard shows the new time
    assert not (problems := ed.problems()), problems


def test_the_page_without_its_token_is_forbidden(editor):
    from selenium.webdriver.common.by import By

    ed = editor()
    ed.driver.delete_all_cookies()
    ed.driver.get(ed.server.base + "/")
    assert "forbidden" in ed.driver.find_element(By.TAG_NAME, "body").text
    try:
        urllib.request.urlopen(ed.server.base + "/", timeout=10)
        pytest.fail("the page answered without its token")
    except urllib.error.HTTPError as exc:
        assert exc.code == 403
    console(ed.driver)  # the refused load is logged by the browser, as it should be


INNER = """
from tests.support.browser import chromium

def test_needs_the_browser():
    with chromium():
        pass
"""


@pytest.mark.parametrize("env, outcome", [({"OVERDASH_REQUIRE_BROWSER": "0"}, "skipped"), ({"CI": "true"}, "failure")])
def test_a_missing_browser_skips_by_name_and_fails_on_ci(tmp_path, env, outcome):
    """No chromedriver: a skip naming it and `make setup`; where CI requires the browser, a failure."""
    (tmp_path / "test_inner.py").write_text(INNER)
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "OVERDASH_REQUIRE_BROWSER")}
    environ.update(PYTHONPATH=str(ROOT), OVERDASH_CHROMEDRIVER=str(tmp_path / "no-chromedriver"), **env)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-rA",
                           "--basetemp", str(tmp_path / "base"), "--rootdir", str(tmp_path),
                           "--junitxml", str(tmp_path / "junit.xml"), str(tmp_path / "test_inner.py")],
                          capture_output=True, text=True, timeout=120, env=environ, cwd=tmp_path)
    case = next(ET.parse(tmp_path / "junit.xml").iter("testcase"))
    assert [child.tag for child in case] == [outcome], proc.stdout
    assert f"browser missing: {tmp_path / 'no-chromedriver'} (apt: chromium-driver)" in proc.stdout
    assert "make setup" in proc.stdout
