"""The editor's local web server: stdlib http.server, 127.0.0.1 only, one token per session.

The server reads the user's video and writes their layout file, so every request
is checked before any route runs: the Host header (a DNS-rebinding page names
another host), the session token (header, query or cookie) and, for writes, the
Origin (a cross-site form cannot forge it). Routes are a fixed table and static
files are served by NAME from another fixed table: nothing in a request path ever
reaches the filesystem. A handler's error is a 500 answer, never a dead server.
"""
from __future__ import annotations

import hmac
import json
import sys
import threading
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from overdash import InputError, OverdashError
from overdash.files import atomic_write
from pipeline.commands.edit import xmledit

MAX_BODY = 2 * 1024 * 1024
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
          "/editor.js": ("editor.js", "text/javascript; charset=utf-8"),
          "/editor.css": ("editor.css", "text/css; charset=utf-8")}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'",
}
COOKIE = "overdash_token"


class Editor:
    """What the routes act on: the session (drawing), the layout text and the file it saves to."""

    def __init__(self, session, source: str, layout_path: Path | None, name: str | None = None):
        self.session = session
        self.source = source
        self.layout_path = layout_path
        self.name = name
        self._save = threading.Lock()

    def mtime(self) -> str | None:
        """The file's version as the page sees it: its mtime in ns, as a string (an opaque token to the
        page; as a number it would be rounded, since a JavaScript number holds 53 bits)."""
        try:
            return str(self.layout_path.stat().st_mtime_ns) if self.layout_path else None
        except FileNotFoundError:
            return None

    def state(self) -> dict:
        from pipeline.commands.edit.vocab import vocabulary

        t = self.session.timeline
        w, h = t.size
        return {"source": self.source, "layout_path": str(self.layout_path) if self.layout_path else None,
                "can_save": self.layout_path is not None, "file_mtime": self.mtime(),
                "video": {"name": t.path.name if t.path else None, "width": w, "height": h, "fps": float(t.fps),
                          "frames": t.count, "duration": float(t.count / t.fps)},
                "sizes": self.session.sizes(), "vocabulary": vocabulary()}

    def file(self) -> dict:
        mtime = self.mtime()
        if mtime is None:
            return {"mtime": None, "source": None}
        assert self.layout_path is not None, "a file with an mtime has a path"
        return {"mtime": mtime, "source": self.layout_path.read_bytes().decode("utf-8", errors="replace")}

    def save(self, body: dict) -> dict:
        source = _field(body, "source", str)
        if self.layout_path is None:
            return {"ok": False, "error": "give --layout FILE to save"}
        with self._save:
            now = self.mtime()
            if now is not None and now != str(body.get("base_mtime")) and not body.get("force"):
                return {"ok": False, "conflict": True,
                        "error": f"{self.layout_path} changed on disk since it was loaded or saved"}
            try:
                atomic_write(self.layout_path, source.encode("utf-8"))
            except OSError as exc:
                return {"ok": False, "error": f"{self.layout_path}: cannot write: {exc.strerror or exc}"}
            self.source = source
            answer: dict = {"ok": True, "mtime": self.mtime()}
        try:
            from overlay.layout import parse_layout

            parse_layout(source, "layout")
        except OverdashError as exc:
            answer["warning"] = f"saved, but the layout does not parse: {exc}"
        return answer

    def edit(self, body: dict) -> dict:
        from pipeline.commands.edit.session import layout_error

        source = _field(body, "source", str)
        op = body.get("op")
        try:
            if op == "set":
                attrs = _field(body, "attrs", dict)
                new = xmledit.set_attrs(source, _field(body, "index", int),
                                        {str(k): None if v is None else str(v) for k, v in attrs.items()})
            elif op == "move":
                scale = self.session.scale(source, body.get("size", "video"))
                new = xmledit.move(source, _field(body, "index", int), _number(body, "dx"), _number(body, "dy"),
                                   scale)
            elif op == "delete":
                new = xmledit.delete(source, _field(body, "index", int))
            elif op == "duplicate":
                new = xmledit.duplicate(source, _field(body, "index", int))
            elif op == "add":
                after = None if body.get("after") is None else _field(body, "after", int)
                new = xmledit.add(source, _field(body, "type", str), after)
            elif op == "group":
                indices = _field(body, "indices", list)
                kind = _field(body, "kind", str)
                size = self.session.group_size(source, indices) if kind == "frame" else None
                new = xmledit.group(source, indices, kind, size)
            else:
                raise InputError(f"unknown op {op!r}: use set, move, delete, duplicate, add or group")
        except OverdashError as exc:
            return {"ok": False, "error": layout_error(exc)}
        return {"ok": True, "source": new}


def _field(body: dict, name: str, kind: type):
    value = body.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InputError(f"request: {name!r} must be {kind.__name__}")
    return value


def _number(body: dict, name: str) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"request: {name!r} must be a number")
    return float(value)


class EditServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, editor: Editor, port: int = 0, token: str | None = None):
        import secrets

        self.editor = editor
        self.token = token or secrets.token_urlsafe(24)
        super().__init__(("127.0.0.1", port), Handler)
        self.port = self.server_address[1]
        self.hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self.origins = {f"http://{h}" for h in self.hosts}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"


class Handler(BaseHTTPRequestHandler):
    server: EditServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # noqa: A002 - http.server's name
        pass  # the terminal shows the one URL line, not a line per request

    # --- answers ------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _text(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    def _json(self, value, status: int = 200) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    # --- checks -------------------------------------------------------------------------------
    def _token(self, query: dict) -> str | None:
        given = self.headers.get("X-Overdash-Token") or (query.get("token") or [None])[0]
        if given is None and self.headers.get("Cookie"):
            try:
                morsel = SimpleCookie(self.headers["Cookie"]).get(COOKIE)
            except CookieError:
                morsel = None
            given = morsel.value if morsel else None
        return given

    def _allowed(self, query: dict) -> bool:
        if self.headers.get("Host") not in self.server.hosts:
            self._text(403, "forbidden: host")
            return False
        given = self._token(query)
        if not given or not hmac.compare_digest(given.encode(), self.server.token.encode()):
            self._text(403, "forbidden: token")
            return False
        return True

    # --- methods ------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    def _guarded(self, route) -> None:
        try:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if self._allowed(query):
                route(url.path, query)
        except Exception as exc:  # noqa: BLE001 - one request fails, the server goes on
            self.close_connection = True
            try:
                self._json({"ok": False, "error": {"message": f"{type(exc).__name__}: {exc}"}}, 500)
            except OSError:
                pass

    def _get(self, path: str, query: dict) -> None:
        editor = self.server.editor
        if path in STATIC:
            name, content_type = STATIC[path]
            extra = None
            if path == "/" and query.get("token"):
                extra = {"Set-Cookie": f"{COOKIE}={self.server.token}; HttpOnly; SameSite=Strict; Path=/"}
            self._send(200, (STATIC_DIR / name).read_bytes(), content_type, extra)
        elif path == "/api/state":
            self._json(editor.state())
        elif path == "/api/file":
            self._json(editor.file())
        elif path == "/api/background":
            try:
                frame = int((query.get("frame") or ["0"])[0])
                jpeg = editor.session.background(frame, (query.get("size") or ["video"])[0])
            except (ValueError, InputError) as exc:
                self._text(400, f"bad request: {exc}")
                return
            self._send(200, jpeg, "image/jpeg")
        else:
            self._text(404, "not found")

    def _post(self, path: str, query: dict) -> None:
        if self.headers.get("Origin") not in self.server.origins:
            self._text(403, "forbidden: origin")
            return
        routes = {"/api/render": self._render, "/api/edit": self.server.editor.edit,
                  "/api/save": self.server.editor.save}
        if path not in routes:
            self._text(404, "not found")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            self._text(411, "length required")
            return
        if length > MAX_BODY:
            self.close_connection = True
            self._text(413, f"request body over {MAX_BODY} bytes")
            return
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            self._text(415, "body must be application/json")
            return
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            self._text(400, "bad request: body is not JSON")
            return
        if not isinstance(body, dict):
            self._text(400, "bad request: body must be a JSON object")
            return
        try:
            self._json(routes[path](body))
        except InputError as exc:  # a malformed request field
            self._json({"ok": False, "error": {"line": None, "message": str(exc)}})

    def _render(self, body: dict) -> dict:
        return self.server.editor.session.render(_field(body, "source", str), body.get("frame"),
                                                 body.get("size", "video"))


def serve(server: EditServer, *, open_browser: bool) -> int:
    """Print the URL line, open the browser, serve until Ctrl-C or SIGTERM: exit 0."""
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    print(f"overdash edit: {server.url}", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
    print("overdash edit: stopped", file=sys.stderr, flush=True)
    return 0
