"""Maps through `overdash render`: tiles fetched once before drawing, cached, offline, privacy."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from overlay.telemetry.gopro import load_gopro
from pipeline.commands.config import RenderConfig
from pipeline.commands.render import plan_render
from tests.support.paths import SHARED_DATA, needs_device_file
from tests.support.tile_server import TileServer

SAMPLE = SHARED_DATA / "gopro" / "max-heromode.mp4"
pytestmark = pytest.mark.e2e
OVERDASH = [sys.executable, "-m", "pipeline.commands.cli"]
LAYOUT = """<layout width="848" height="480">
  <component type="moving_map" x="20" y="20" size="200" zoom="16"/>
  <component type="journey_map" x="620" y="20" size="200"/>
  <component type="metric" x="20" y="400" metric="lat" dp="5" size="24"/>
</layout>"""


@pytest.fixture
def env(tmp_path):
    layout = tmp_path / "maps.xml"
    layout.write_text(LAYOUT)
    e = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return layout, e


def render(tmp_path, env, *args):
    layout, e = env
    out = tmp_path / "o.mp4"
    out.unlink(missing_ok=True)
    proc = subprocess.run([*OVERDASH, "render", str(SAMPLE), str(out), "--layout", str(layout), "-q",
                           "--workers", "2", *map(str, args)], capture_output=True, text=True, timeout=300, env=e)
    return proc, out


@needs_device_file("gopro/max-heromode.mp4")
@pytest.mark.slow
def test_tiles_fetched_once_then_from_the_cache(tmp_path, env):
    with TileServer() as server:
        proc, out = render(tmp_path, env, "--map-style", server.template)
        assert proc.returncode == 0, proc.stderr
        first = server.total
        assert first > 0 and max(server.requests.values()) == 1, "each tile asked for once"
        assert all(ua.startswith("overdash/") for ua in server.user_agents)
        proc, out = render(tmp_path, env, "--map-style", server.template)
        assert proc.returncode == 0, proc.stderr
        assert server.total == first, "a second render makes no requests"
    assert out.exists()


@needs_device_file("gopro/max-heromode.mp4")
@pytest.mark.slow
def test_offline_or_unreachable_server_still_renders(tmp_path, env):
    proc, out = render(tmp_path, env, "--offline")
    assert proc.returncode == 0 and out.exists(), proc.stderr
    with TileServer() as server:
        server.mode = "error"
        proc, out = render(tmp_path, env, "--map-style", server.template)
    assert proc.returncode == 0 and out.exists(), proc.stderr


@needs_device_file("gopro/max-heromode.mp4")
def test_privacy_zone_hides_coordinates_in_text(tmp_path, env):
    layout, _ = env
    gps = load_gopro(SAMPLE)["gps"]
    lat, lon = float(np.nanmedian(gps["lat"])), float(np.nanmedian(gps["lon"]))
    config = RenderConfig(input=SAMPLE, output=tmp_path / "p.mp4", workers=1, quiet=True, layout=str(layout),
                          offline=True, privacy=(f"{lat},{lon},500",))
    table = plan_render(config).painter.table
    assert np.isnan(table.columns["lat"]).all() and np.isnan(table.columns["lon"]).all()
    open_table = plan_render(RenderConfig(input=SAMPLE, output=tmp_path / "q.mp4", workers=1, quiet=True,
                                          layout=str(layout), offline=True)).painter.table
    assert np.isfinite(open_table.columns["lat"]).all()


def test_attribution_shows_only_with_tiles(tmp_path):
    """The provider's credit is drawn in the map when its tiles show, and not over a plain background."""
    from overlay.frametable import FrameTable
    from overlay.layout import parse_layout
    from overlay.maps import FetchReport, MapAssets, resolve_style
    from overlay.renderer import Renderer

    layout = parse_layout('<layout width="400" height="400"><component type="journey_map" x="0" y="0" '
                          'size="300"/></layout>')
    table = FrameTable(count=3, fps_num=30, fps_den=1, columns={"lat": np.full(3, 51.5), "lon": np.full(3, -0.1)},
                       track=np.array([[51.5, -0.1], [51.51, -0.09]]))
    style = resolve_style("osm")
    for report, credited in ((FetchReport(needed=4, cached=4), True), (FetchReport(needed=4, failed=4), False)):
        assets = MapAssets(str(tmp_path), style, tiles=frozenset(), report=report)
        ops = Renderer(assets.bind(layout), table, (400, 400)).ops
        texts = [op for op in ops if op.static and (b := op.bbox()) and b[2] - b[0] < 300]
        assert bool(texts) == credited
