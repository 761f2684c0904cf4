"""The editor's server over real HTTP on 127.0.0.1: every refusal, the cookie flow, every route,
and `overdash edit` as a process (its URL line, a clean stop on SIGTERM)."""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from overlay.layout.parse import BUNDLED_DIR
from overlay.layout.units import UnitSettings
from pipeline.commands.edit import layout_start
from pipeline.commands.edit.server import Editor, EditServer
from pipeline.commands.edit.session import EditSession, load_timeline

DEFAULT = (BUNDLED_DIR / "default.xml").read_text()
SMALL = '<layout>\n  <component type="text" x="10" y="20" size="40">Hi</component>\n</layout>\n'


@pytest.fixture(scope="module")
def session():
    return EditSession(load_timeline([]), UnitSettings())


@pytest.fixture
def server(session, tmp_path):
    path = tmp_path / "mine.xml"
    path.write_text(SMALL)
    srv = EditServer(Editor(session, SMALL, path), 0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def request(srv, method, path, body=None, *, token=True, host=None, origin=True, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    h = {"Host": host or f"127.0.0.1:{srv.port}"}
    if token:
        h["X-Overdash-Token"] = srv.token if token is True else token
    if origin and method == "POST":
        h["Origin"] = origin if isinstance(origin, str) else f"http://127.0.0.1:{srv.port}"
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for k, v in h.items():
        conn.putheader(k, v)
    if data is not None and "Content-Length" not in h:
        conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    return resp, payload


def js(srv, path, body):
    resp, payload = request(srv, "POST", path, body)
    assert resp.status == 200, payload
    return json.loads(payload)


# --- refusals ---------------------------------------------------------------------------------

def test_token_is_required(server):
    for token in (False, "wrong-token"):
        resp, body = request(server, "GET", "/api/state", token=token)
        assert (resp.status, body) == (403, b"forbidden: token")
    resp, body = request(server, "GET", f"/api/state?token={server.token}x", token=False)
    assert resp.status == 403


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1", "localhost:1", "127.0.0.1:{port}.evil"])
def test_host_must_be_this_server(server, host):
    resp, body = request(server, "GET", "/api/state", host=host.format(port=server.port))
    assert (resp.status, body) == (403, b"forbidden: host")


@pytest.mark.parametrize("origin", [False, "http://evil.example", "http://127.0.0.1:1", "null"])
def test_post_needs_same_origin(server, origin):
    resp, body = request(server, "POST", "/api/render", {"source": SMALL, "frame": 0, "size": "video"},
                         origin=origin)
    assert (resp.status, body) == (403, b"forbidden: origin")


@pytest.mark.parametrize("path", ["/nope", "/index.html", "/static/editor.js", "/../../etc/passwd",
                                  "/editor.js/../x", "/%2e%2e/%2e%2e/etc/passwd", "//etc/passwd", "/api/"])
def test_unknown_paths_are_404(server, path):
    resp, _ = request(server, "GET", path)
    assert resp.status == 404


def test_body_too_big_is_413(server):
    resp, _ = request(server, "POST", "/api/render", b"{}", headers={"Content-Length": str(3 * 1024 * 1024)})
    assert resp.status == 413
    resp, _ = request(server, "POST", "/api/render", b"not json")
    assert resp.status == 400
    assert request(server, "GET", "/api/file")[0].status == 200  # still answering


def test_every_answer_carries_the_security_headers(server):
    for path in ("/", "/editor.js", "/api/state", "/nope"):
        resp, _ = request(server, "GET", path)
        assert resp.getheader("Cache-Control") == "no-store"
        assert resp.getheader("X-Content-Type-Options") == "nosniff"
        assert "script-src 'self'" in resp.getheader("Content-Security-Policy")


# --- the cookie flow and static files ----------------------------------------------------------

def test_token_in_query_sets_the_cookie_that_later_requests_carry(server):
    resp, body = request(server, "GET", f"/?token={server.token}", token=False)
    assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/html")
    assert b"editor.js" in body
    cookie = resp.getheader("Set-Cookie")
    assert cookie == f"overdash_token={server.token}; HttpOnly; SameSite=Strict; Path=/"
    resp, body = request(server, "GET", "/editor.js", token=False, headers={"Cookie": cookie.split(";")[0]})
    assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/javascript")
    resp, _ = request(server, "GET", "/editor.css", token=False, headers={"Cookie": "overdash_token=bad"})
    assert resp.status == 403


# --- routes -------------------------------------------------------------------------------------

def test_state(server):
    resp, body = request(server, "GET", "/api/state")
    state = json.loads(body)
    assert state["source"] == SMALL and state["can_save"] is True and state["layout_path"].endswith("mine.xml")
    assert state["file_mtime"] == str(os.stat(state["layout_path"]).st_mtime_ns)  # a string: exact in JS
    assert state["video"]["name"] is None and (state["video"]["width"], state["video"]["height"]) == (1920, 1080)
    assert state["video"]["frames"] > 100 and state["video"]["fps"] == 30.0
    assert [s["id"] for s in state["sizes"]] == ["video", "1080p", "4k", "vertical"]
    vocab = state["vocabulary"]
    assert vocab["components"]["metric"]["sized"] == ["size"]
    assert vocab["components"]["bar"]["sized"] == ["width", "height"]
    assert {"name", "kind", "default", "doc"} <= set(vocab["components"]["metric"]["attrs"][0])
    assert set(vocab["containers"]) == {"translate", "frame", "composite"}
    assert any(m["name"] == "speed" for m in vocab["metrics"]) and "kph" in vocab["units"]


def test_background(server):
    resp, body = request(server, "GET", "/api/background?frame=3&size=4k")
    assert resp.status == 200 and resp.getheader("Content-Type") == "image/jpeg" and body[:2] == b"\xff\xd8"
    assert request(server, "GET", "/api/background?frame=x&size=4k")[0].status == 400
    assert request(server, "GET", "/api/background?frame=1&size=8k")[0].status == 400


def test_render_and_layout_errors_keep_the_server_answering(server):
    answer = js(server, "/api/render", {"source": SMALL, "frame": 5, "size": "video"})
    assert answer["ok"] and answer["overlay"].startswith("data:image/png;base64,")
    [c] = answer["components"]
    assert (c["index"], c["type"], c["name"], c["line"], c["sized"]) == (0, "text", None, 2, True)
    assert 0 <= c["box"][0] <= 10 < c["box"][2] and isinstance(answer["ms"], float) and answer["scale"] == 1.0
    bad = js(server, "/api/render", {"source": SMALL.replace("Hi</component>", "Hi</compnent>"), "frame": 5,
                                     "size": "video"})
    assert bad["ok"] is False and bad["error"]["line"] == 2 and bad["error"]["message"]
    bad = js(server, "/api/render", {"source": SMALL.replace('size="40"', 'size="x"'), "frame": 5, "size": "video"})
    assert bad["ok"] is False and bad["error"]["line"] == 2 and "size" in bad["error"]["message"]
    assert js(server, "/api/render", {"source": SMALL, "frame": 5, "size": "video"})["ok"]


def test_edit_ops(server):
    moved = js(server, "/api/edit", {"source": SMALL, "op": "move", "index": 0, "dx": 31, "dy": -4, "size": "4k"})
    assert moved == {"ok": True, "source": SMALL.replace('x="10" y="20"', 'x="41" y="16"')}  # no design size: 1:1
    designed = SMALL.replace("<layout>", '<layout width="1920" height="1080">')
    moved = js(server, "/api/edit", {"source": designed, "op": "move", "index": 0, "dx": 31, "dy": -4, "size": "4k"})
    assert moved == {"ok": True, "source": designed.replace('x="10" y="20"', 'x="26" y="18"')}  # 4k: scale 2
    assert js(server, "/api/edit", {"source": SMALL, "op": "set", "index": 0, "attrs": {"size": 50, "x": None}}) == {
        "ok": True, "source": SMALL.replace(' x="10"', "").replace('size="40"', 'size="50"')}
    assert js(server, "/api/edit", {"source": SMALL, "op": "delete", "index": 0})["source"] == "<layout>\n</layout>\n"
    dup = js(server, "/api/edit", {"source": SMALL, "op": "duplicate", "index": 0})["source"]
    assert dup.count("<component") == 2 and 'x="30" y="40"' in dup
    added = js(server, "/api/edit", {"source": SMALL, "op": "add", "type": "metric", "after": None})["source"]
    assert '  <component type="metric" x="100" y="100" metric="speed"/>\n</layout>' in added
    framed = js(server, "/api/edit", {"source": SMALL, "op": "group", "indices": [0], "kind": "frame"})["source"]
    w, h = (int(v) for v in re.search(r'<frame x="0" y="0" width="(\d+)" height="(\d+)">', framed).groups())
    answer = js(server, "/api/render", {"source": SMALL, "frame": 0, "size": "video"})
    assert (w, h) == (answer["components"][0]["box"][2], answer["components"][0]["box"][3])
    wrong = js(server, "/api/edit", {"source": SMALL, "op": "twist", "index": 0})
    assert wrong["ok"] is False and "twist" in wrong["error"]["message"]
    assert js(server, "/api/edit", {"source": SMALL, "op": "delete", "index": 4})["ok"] is False


def test_save_file_and_conflicts(server):
    path = server.editor.layout_path
    state = json.loads(request(server, "GET", "/api/state")[1])
    saved = js(server, "/api/save", {"source": SMALL + "<!-- 1 -->\n", "base_mtime": state["file_mtime"],
                                     "force": False})
    assert saved["ok"] and path.read_text() == SMALL + "<!-- 1 -->\n" and "warning" not in saved
    assert json.loads(request(server, "GET", "/api/file")[1]) == {"mtime": saved["mtime"],
                                                                    "source": SMALL + "<!-- 1 -->\n"}
    time.sleep(0.01)
    path.write_text("changed outside")
    conflict = js(server, "/api/save", {"source": "mine", "base_mtime": saved["mtime"], "force": False})
    assert conflict["ok"] is False and conflict["conflict"] is True and path.read_text() == "changed outside"
    forced = js(server, "/api/save", {"source": "<layout>", "base_mtime": saved["mtime"], "force": True})
    assert forced["ok"] and "warning" in forced and path.read_text() == "<layout>"  # work in progress is kept
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_bundled_layout_cannot_save(session):
    source, path = layout_start("motor")
    assert path is None and "<layout" in source
    answer = Editor(session, source, None).save({"source": source})
    assert answer == {"ok": False, "error": "give --layout FILE to save"}


# --- the command --------------------------------------------------------------------------------

def test_overdash_edit_serves_and_stops_on_sigterm(tmp_path):
    layout = tmp_path / "new.xml"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.commands.cli", "edit", "--no-browser", "--port", "0",
                             "--layout", str(layout)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        line = proc.stdout.readline()
        m = re.fullmatch(r"overdash edit: http://127\.0\.0\.1:(\d+)/\?token=([\w-]{32})\n", line)
        assert m, line
        port, token = int(m.group(1)), m.group(2)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/state", headers={"X-Overdash-Token": token})
        state = json.loads(conn.getresponse().read())
        assert state["source"] == DEFAULT and state["file_mtime"] is None and not layout.exists()
        conn.close()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and err.strip().endswith("overdash edit: stopped")
    assert out == ""
