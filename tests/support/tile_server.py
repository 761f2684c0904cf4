"""A real tile server on 127.0.0.1 for the map tests: generated PNG tiles, request counting,
switchable to HTTP 500, to hanging, to
answering garbage or closing mid-body. Tile pixels encode where they are: R = x within the
tile, G = y within the tile, B = a code of (z, x, y) - so a rendered pixel says which
global pixel it shows."""
from __future__ import annotations

import io
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image


def tile_code(z: int, x: int, y: int) -> int:
    return (x * 37 + y * 101 + z * 7) % 200 + 20


def tile_png(z: int, x: int, y: int) -> bytes:
    u = np.arange(256, dtype=np.uint8)
    arr = np.zeros((256, 256, 3), dtype=np.uint8)
    arr[..., 0] = u[None, :]
    arr[..., 1] = u[:, None]
    arr[..., 2] = tile_code(z, x, y)
    buf = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buf, "PNG")
    return buf.getvalue()


class TileServer:
    def __init__(self):
        self.mode = "ok"            # ok | error | hang | garbage | truncate (closes mid-body)
        self.missing: set[tuple[int, int, int]] = set()  # tiles answered 404 Not Found
        self.missing_cache_control: str | None = None    # its Cache-Control header, if any
        self.max_age = 86400
        self.requests: Counter = Counter()
        self.conditional = 0        # requests carrying If-None-Match
        self.user_agents: set[str] = set()
        self.release = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with server.lock:
                    server.requests[self.path] += 1
                    server.user_agents.add(self.headers.get("User-Agent", ""))
                    if self.headers.get("If-None-Match"):
                        server.conditional += 1
                if server.mode == "hang":
                    server.release.wait(30)
                    return
                if server.mode == "error":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if server.mode in ("garbage", "truncate"):  # an HTML page as a tile; half a PNG, then EOF
                    body = b"<html>rate limited</html>" if server.mode == "garbage" else tile_png(1, 0, 0)
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body if server.mode == "garbage" else body[:len(body) // 2])
                    self.close_connection = True
                    return
                try:
                    z, x, y = (int(p) for p in self.path.split("?")[0].strip("/").removesuffix(".png").split("/"))
                except ValueError:
                    self.send_error(404)
                    return
                if (z, x, y) in server.missing:
                    self.send_response(404)
                    if server.missing_cache_control:
                        self.send_header("Cache-Control", server.missing_cache_control)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = f'"{z}-{x}-{y}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Cache-Control", f"max-age={server.max_age}")
                    self.end_headers()
                    return
                body = tile_png(z, x, y)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", f"max-age={server.max_age}")
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def template(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{{z}}/{{x}}/{{y}}.png"

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
