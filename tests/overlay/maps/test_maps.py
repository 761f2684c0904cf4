"""Tile maps: tile math, styles, the cache, prefetching from a real local tile server
(never the internet), the map widgets' pixels, rotation and privacy zones."""
from __future__ import annotations

import dataclasses
import math
import pickle
import time

import numpy as np
import pytest
from PIL import Image

from overdash import InputError
from overlay.frametable import FrameTable
from overlay.layout import parse_layout
from overlay.maps import (
    MapOptions,
    PrivacyZone,
    Tile,
    TileCache,
    mask_table,
    parse_zone,
    prefetch,
    prepare_maps,
    resolve_style,
    to_global,
    to_latlon,
)
from overlay.maps.cache import freshness
from overlay.maps.heading import smooth_heading
from overlay.maps.tiles import fit_zoom, tiles_for_windows, tiles_in_box
from overlay.renderer import LayoutPainter, Renderer
from overlay.widgets import lookup
from tests.support.tile_server import TileServer, tile_code

W, H = 640, 480
LAT0, LON0 = 46.5, 7.0


def table_of(lat, lon, *, cog=None, speed=None, track=None, fps=30) -> FrameTable:
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    cols = {"lat": lat, "lon": lon}
    if cog is not None:
        cols["cog"] = np.broadcast_to(np.asarray(cog, dtype=float), lat.shape).copy()
    if speed is not None:
        cols["speed"] = np.broadcast_to(np.asarray(speed, dtype=float), lat.shape).copy()
    if track is None:
        track = np.column_stack([lat, lon])
    return FrameTable(count=len(lat), fps_num=fps, fps_den=1, columns=cols, track=np.asarray(track, float))


def ride(n=60) -> FrameTable:
    """A straight ride north-east of about 300 m, 30 fps."""
    lat = LAT0 + np.linspace(0, 0.002, n)
    lon = LON0 + np.linspace(0, 0.003, n)
    return table_of(lat, lon, cog=45.0, speed=8.0)


def layout_of(body: str, size=(W, H)):
    return parse_layout(f'<layout width="{size[0]}" height="{size[1]}">{body}</layout>', "test.xml")


def draw(layout, table, frame=0, size=(W, H)) -> np.ndarray:
    r = Renderer(layout, table, size)
    im = Image.new("RGBA", size, (0, 0, 0, 0))
    r.draw(frame, im)
    return np.asarray(im)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("OVERDASH_MAP_API_KEY", raising=False)
    return tmp_path / "tiles"


@pytest.fixture
def server():
    with TileServer() as s:
        yield s


def prepared(body, table, server, cache_dir, *, size=(W, H), **kw):
    warnings: list[str] = []
    layout = layout_of(body, size)
    opts = MapOptions(style=server.template if server else None, cache_dir=str(cache_dir),
                      warn=warnings.append, **kw)
    assets = prepare_maps(layout, table, size, opts)
    return assets, assets.bind(layout), warnings


# --- tile math ---------------------------------------------------------------------------------

def test_web_mercator_known_points_and_round_trip():
    assert np.allclose(to_global(0, 0, 0), (128, 128))
    assert np.allclose(to_global(0, -180, 1), (0, 256))
    x, y = to_global(85.0511287798066, 180, 2)
    assert np.allclose((x, y), (1024, 0), atol=1e-6)
    # Tile of a known place (London, z=10 -> x 511, y 340)
    x, y = to_global(51.5074, -0.1278, 10)
    assert (int(x // 256), int(y // 256)) == (511, 340)
    lat, lon = to_latlon(*to_global(LAT0, LON0, 16), 16)
    assert abs(lat - LAT0) < 1e-9 and abs(lon - LON0) < 1e-9


def test_tiles_for_windows_and_boxes():
    assert tiles_in_box(3, 0, 0, 256, 256) == {Tile(3, 0, 0)}
    assert tiles_in_box(3, 250, 10, 260, 20) == {Tile(3, 0, 0), Tile(3, 1, 0)}
    got = tiles_for_windows(5, [300.0, 300.5, np.nan], [300.0, 300.0, 1.0], 100, 100)
    assert got == {Tile(5, 0, 0), Tile(5, 1, 0), Tile(5, 0, 1), Tile(5, 1, 1)}
    assert fit_zoom([LAT0, LAT0 + 0.002], [LON0, LON0 + 0.003], 256, 256) >= 15
    assert fit_zoom([LAT0, LAT0 + 2], [LON0, LON0 + 3], 256, 256) <= 8


# --- styles and keys ---------------------------------------------------------------------------

def test_styles_names_templates_and_api_keys(cache_dir, monkeypatch, tmp_path):
    osm = resolve_style(None)
    assert osm.key == "osm" and osm.url(3, 4, 5) == "https://tile.openstreetmap.org/3/4/5.png"
    assert resolve_style("OpenStreetMap").key == "osm"
    assert resolve_style("CyclOSM").url(1, 0, 1).startswith("https://b.tile-cyclosm")
    assert resolve_style("opentopomap").max_zoom == 17
    with pytest.raises(InputError, match="thunderforest needs an API key"):
        resolve_style("thunderforest")
    tf = resolve_style("thunderforest-outdoors", api_key="SECRET")
    assert tf.url(1, 2, 3) == "https://tile.thunderforest.com/outdoors/1/2/3.png?apikey=SECRET"
    assert "SECRET" not in repr(tf) and "SECRET" not in tf.key
    monkeypatch.setenv("OVERDASH_MAP_API_KEY", "ENVKEY")
    assert resolve_style("geoapify").url(1, 2, 3).endswith("osm-carto/1/2/3.png?apiKey=ENVKEY")
    monkeypatch.delenv("OVERDASH_MAP_API_KEY")
    conf = tmp_path / "xdg-config" / "overdash" / "config.json"
    conf.parent.mkdir(parents=True)
    conf.write_text('{"map_api_keys": {"geoapify": "CONFKEY"}}')
    assert resolve_style("geoapify").api_key == "CONFKEY"
    t = resolve_style("http://{s}.example.test/{z}/{x}/{y}.png?k={apikey}", api_key="K")
    assert t.url(1, 1, 0) in ("http://b.example.test/1/1/0.png?k=K",)
    assert t.key.startswith("custom-") and "apikey" not in t.key
    with pytest.raises(InputError, match="valid choices"):
        resolve_style("googlemaps")


def test_cache_headers_freshness():
    assert freshness({"Cache-Control": "public, max-age=600"}) == 600
    assert freshness({"Cache-Control": "max-age=600", "Age": "100"}) == 500
    assert freshness({"Cache-Control": "no-cache"}) == 0
    assert freshness({"Expires": "Thu, 01 Jan 2099 00:00:00 GMT", "Date": "Wed, 31 Dec 2098 00:00:00 GMT"}) == 86400
    assert freshness({}) == 7 * 24 * 3600


# --- fetching ----------------------------------------------------------------------------------

MOVING = '<component type="moving_map" x="20" y="20" size="256" zoom="16" opacity="1" rotate="false"/>'


def test_prefetch_fetches_each_tile_once_then_nothing(server, cache_dir):
    table = ride()
    seen = []
    assets, _, warnings = prepared(MOVING, table, server, cache_dir, progress=lambda d, t: seen.append((d, t)))
    n = len(assets.tiles)
    assert n >= 4 and assets.report.fetched == n and assets.report.failed == 0
    assert server.total == n and set(server.requests.values()) == {1}
    assert all(ua.startswith("overdash/") and "(" in ua for ua in server.user_agents)  # names the application
    assert warnings == [] and seen[-1] == (n, n)
    cache = TileCache(str(cache_dir), assets.style.key)
    assert all(cache.path(t).is_file() and cache.meta(t)["etag"] for t in assets.tiles)
    assert str(cache_dir) in str(cache.path(next(iter(assets.tiles))))
    # a second render: all fresh in the cache, zero requests
    again, _, warnings = prepared(MOVING, table, server, cache_dir)
    assert server.total == n and again.report.cached == n and again.report.fetched == 0 and warnings == []


def test_stale_tiles_are_revalidated_with_etag(server, cache_dir):
    server.max_age = 0  # every tile is stale at once
    assets, _, _ = prepared(MOVING, ride(), server, cache_dir)
    n = len(assets.tiles)
    again, _, _ = prepared(MOVING, ride(), server, cache_dir)
    assert again.report.revalidated == n and again.report.fetched == 0
    assert server.conditional == n


def test_offline_with_empty_cache_draws_the_track_on_plain_background(server, cache_dir):
    table = ride()
    assets, layout, warnings = prepared(MOVING, table, server, cache_dir, offline=True)
    assert server.total == 0
    assert len(warnings) == 1 and "--offline" in warnings[0]
    assert assets.report.failed == len(assets.tiles) > 0
    arr = draw(layout, table, 30)
    box = arr[20:276, 20:276]
    assert (box[..., 3] == 255).all()
    bg = np.array(assets.style.background)
    colours = box[..., :3].reshape(-1, 3).astype(int)
    plain = (np.abs(colours - bg).sum(axis=1) <= 3).mean()
    blue = ((colours[:, 2] > 200) & (colours[:, 0] < 120)).sum()
    assert plain > 0.8 and blue > 100  # mostly background, and the track line


@pytest.mark.parametrize("mode", ["error", "hang"])
def test_a_failing_or_hanging_server_does_not_fail_the_render(server, cache_dir, mode):
    server.mode = mode
    table = ride()
    start = time.monotonic()
    assets, layout, warnings = prepared(MOVING, table, server, cache_dir, timeout=0.5)
    assert time.monotonic() - start < 15
    assert assets.report.failed == len(assets.tiles) and assets.report.fetched == 0
    assert len(warnings) == 1 and "could not be downloaded" in warnings[0]
    assert server.total <= 8 + 3  # gave up after a run of failures, not one attempt per tile forever
    arr = draw(layout, table, 10)
    assert (arr[20:276, 20:276, 3] == 255).all()


def test_prefetch_directly_reports_counts(server, cache_dir):
    style = resolve_style(server.template)
    cache = TileCache(str(cache_dir), style.key)
    tiles = {Tile(12, 2000, 1400), Tile(12, 2001, 1400)}
    report = prefetch(tiles, style, cache, warn=None)
    assert (report.fetched, report.failed) == (2, 0)
    assert prefetch(tiles, style, cache, warn=None).cached == 2 and server.total == 2


def test_tiles_the_server_says_do_not_exist_are_not_asked_for_again(server, cache_dir):
    """A 404 is remembered (a day, or what the response's caching headers say): the next render
    draws that tile plain without a request; once the memory expires it is asked for again,
    and a response that forbids caching is never remembered."""
    style = resolve_style(server.template)
    cache = TileCache(str(cache_dir), style.key)
    here, gone = Tile(12, 2000, 1400), Tile(12, 2001, 1400)
    server.missing.add(tuple(gone))
    first = prefetch({here, gone}, style, cache, warn=None)
    assert (first.fetched, first.failed, first.missing) == (1, 1, 1) and "HTTP 404" in first.message
    second = prefetch({here, gone}, style, cache, warn=None)
    assert server.requests["/12/2001/1400.png"] == 1, "the missing tile was asked for again"
    assert (second.cached, second.failed) == (1, 1) and "do not exist on the server" in second.message
    assert cache.known_missing(gone) and not cache.known_missing(here)
    # the memory expires: asked again; now it exists, and the marker goes
    cache.missing_path(gone).write_text('{"expires": 0}')
    server.missing.clear()
    third = prefetch({here, gone}, style, cache, warn=None)
    assert third.fetched == 1 and third.failed == 0 and not cache.missing_path(gone).exists()
    # a 404 that must not be cached is not remembered
    other = Tile(12, 2002, 1400)
    server.missing.add(tuple(other))
    server.missing_cache_control = "no-store"
    prefetch({other}, style, cache, warn=None)
    prefetch({other}, style, cache, warn=None)
    assert server.requests["/12/2002/1400.png"] == 2 and not cache.known_missing(other)


# --- pixels ------------------------------------------------------------------------------------

def expected_rgb(gx: float, gy: float, z: int):
    tx, ty = int(gx // 256), int(gy // 256)
    return int(gx) % 256, int(gy) % 256, tile_code(z, tx, ty)


def test_moving_map_shows_the_right_tile_pixels_and_marker_at_the_position(server, cache_dir):
    lat = np.full(3, LAT0 + 0.0004)
    lon = np.full(3, LON0 + 0.0007)
    table = table_of(lat, lon, track=np.array([[LAT0 - 0.01, LON0 - 0.01], [LAT0 - 0.011, LON0 - 0.011]]))
    body = '<component type="moving_map" x="40" y="30" size="200" zoom="16" opacity="1" rotate="false"/>'
    _, layout, _ = prepared(body, table, server, cache_dir)
    arr = draw(layout, table, 1).astype(int)
    gx, gy = to_global(lat[0], lon[0], 16)
    ox, oy = round(gx - 100), round(gy - 100)
    for u, v in ((5, 5), (190, 12), (10, 180), (150, 160)):  # well away from the marker
        assert tuple(arr[30 + v, 40 + u, :3]) == expected_rgb(ox + u, oy + v, 16), (u, v)
    # the marker: red-orange blob centred on the position's pixel
    red = (arr[..., 0] > 230) & (arr[..., 1] < 120) & (arr[..., 2] < 90)
    ys, xs = np.nonzero(red)
    assert abs(xs.mean() + 0.5 - (40 + gx - ox)) < 1.5 and abs(ys.mean() + 0.5 - (30 + gy - oy)) < 1.5


def test_journey_map_marker_lands_on_the_mercator_pixel(server, cache_dir):
    n = 40
    lat = LAT0 + np.linspace(0, 0.01, n)
    lon = LON0 + np.linspace(0, 0.02, n)
    table = table_of(lat, lon)
    body = '<component type="journey_map" x="50" y="60" size="256" opacity="1"/>'
    _, layout, _ = prepared(body, table, server, cache_dir)
    frame = 13
    with_marker = draw(layout, table, frame).astype(int)
    hidden = table_of(np.where(np.arange(n) == frame, np.nan, lat), lon, track=table.track)
    without = draw(layout, hidden, frame).astype(int)
    ys, xs = np.nonzero(np.abs(with_marker - without).sum(axis=2) > 30)
    # expected: the zoom that fits the track with the widget's padding, track bbox centred
    pad = max(8.0, 256 * 0.06)
    span_x = to_global(0, lon.max(), 0)[0] - to_global(0, lon.min(), 0)[0]
    span_y = to_global(lat.min(), 0, 0)[1] - to_global(lat.max(), 0, 0)[1]
    z = max(k for k in range(1, 18) if span_x * 2 ** k <= 256 - 2 * pad and span_y * 2 ** k <= 256 - 2 * pad)
    cx = (to_global(0, lon.min(), z)[0] + to_global(0, lon.max(), z)[0]) / 2
    cy = (to_global(lat.min(), 0, z)[1] + to_global(lat.max(), 0, z)[1]) / 2
    px, py = to_global(lat[frame], lon[frame], z)
    ex, ey = 50 + px - round(cx - 128), 60 + py - round(cy - 128)
    assert abs(xs.mean() + 0.5 - ex) < 1.5 and abs(ys.mean() + 0.5 - ey) < 1.5
    # the map itself shows the tiles of that zoom
    gx, gy = round(cx - 128) + 3, round(cy - 128) + 3
    assert tuple(with_marker[63, 53, :3]) == expected_rgb(gx, gy, z)


@pytest.mark.parametrize("cog, direction", [(0.0, (0, -1)), (90.0, (1, 0)), (180.0, (0, 1)), (270.0, (-1, 0))])
def test_rotation_puts_the_heading_up(server, cache_dir, cog, direction):
    lat = np.full(5, LAT0 + 0.0004)
    lon = np.full(5, LON0 + 0.0007)
    far = np.array([[LAT0 - 0.05, LON0 - 0.05], [LAT0 - 0.051, LON0 - 0.05]])
    table = table_of(lat, lon, cog=cog, speed=5.0, track=far)
    body = '<component type="moving_map" x="40" y="30" size="200" zoom="16" opacity="1" rotate="true"/>'
    _, layout, _ = prepared(body, table, server, cache_dir)
    arr = draw(layout, table, 2).astype(int)
    gx, gy = to_global(lat[0], lon[0], 16)
    # straight up on screen, d pixels from the centre, shows the map d pixels ahead along the heading
    for d in range(30, 90, 7):
        sx, sy = gx + direction[0] * d, gy + direction[1] * d
        if min(sx % 256, sy % 256) < 3 or max(sx % 256, sy % 256) > 252:
            continue  # tile seams blend two tiles under bilinear sampling
        got = arr[30 + 100 - d, 40 + 100, :3]
        want = expected_rgb(sx, sy, 16)
        assert abs(got[2] - want[2]) <= 1 and abs(got[0] - want[0]) <= 2 and abs(got[1] - want[1]) <= 2, (d, got, want)


def test_heading_smoothing_crosses_north_without_spinning():
    fps = 30
    cog = np.concatenate([np.full(30, 350.0), np.linspace(350, 10, 4)[1:-1], np.full(30, 10.0)])
    h = smooth_heading(cog, fps, np.full(len(cog), 5.0))
    dist_from_north = np.minimum(h, 360 - h)
    assert dist_from_north.max() <= 10.5
    assert np.abs(((np.diff(h) + 180) % 360) - 180).max() < 3  # smooth at the frame rate


# --- privacy -----------------------------------------------------------------------------------

def test_privacy_zone_hides_track_and_marker(cache_dir):
    n = 61
    lat = np.full(n, LAT0)
    lon = LON0 + np.linspace(0, 0.02, n)
    table = table_of(lat, lon)
    zone = PrivacyZone(LAT0, LON0 + 0.01, 300)
    layout = layout_of('<component type="journey_map" x="0" y="0" size="400" opacity="1"/>')
    assets = prepare_maps(layout, table, (W, H), MapOptions(privacy=(zone,), offline=True,
                                                           cache_dir=str(cache_dir), warn=None))
    bound = assets.bind(layout)
    masked = mask_table(table, [zone])
    arr = draw(bound, masked, 30).astype(int)  # frame 30 is the zone's centre
    blue = (arr[..., 2] > 200) & (arr[..., 0] < 120)
    red = (arr[..., 0] > 230) & (arr[..., 1] < 120) & (arr[..., 2] < 90)
    # the zone in pixels: project it as the widget does
    g_z = next(z for z in range(17, 0, -1)
               if (to_global(0, lon.max(), z)[0] - to_global(0, lon.min(), z)[0]) <= 400 - 2 * 24)
    centre_x = (to_global(0, lon.min(), g_z)[0] + to_global(0, lon.max(), g_z)[0]) / 2
    cx = 200 + to_global(LAT0, zone.lon, g_z)[0] - centre_x
    r_px = 300 / (2 * math.pi * 6378137 * math.cos(math.radians(LAT0)) / (256 * 2 ** g_z))
    xs = np.arange(400)
    inside_cols = np.abs(xs - cx) < r_px - 2
    outside_cols = np.abs(xs - cx) > r_px + 6
    assert blue[:, :400][:, inside_cols].sum() == 0
    assert blue[:, :400][:, outside_cols].sum() > 100
    assert not red.any()  # at frame 30 the rider is inside the zone: no marker
    arr0 = draw(bound, masked, 0).astype(int)
    assert ((arr0[..., 0] > 230) & (arr0[..., 1] < 120) & (arr0[..., 2] < 90)).any()  # outside: marker shown
    # even without the lead masking the table, the widget hides the marker and the track in the zone
    raw = draw(bound, table, 30).astype(int)
    assert not ((raw[..., 0] > 230) & (raw[..., 1] < 120) & (raw[..., 2] < 90)).any()


def test_mask_table_hides_coordinates_everywhere():
    lat = np.array([LAT0, LAT0 + 0.1, LAT0])
    lon = np.array([LON0, LON0, LON0 + 0.1])
    t = table_of(lat, lon)
    t = FrameTable(t.count, 30, 1, {**t.columns, "lat.max": np.maximum.accumulate(lat), "speed": np.ones(3)},
                   t.track)
    m = mask_table(t, [parse_zone(f"{LAT0 + 0.1},{LON0},500")])
    assert np.isnan(m.columns["lat"][1]) and np.isnan(m.columns["lon"][1]) and m.columns["lat"][0] == LAT0
    assert m.columns["lat.max"][2] == LAT0  # the running max no longer remembers the hidden point
    assert np.isnan(m.track[1]).all() and np.isfinite(m.track[0]).all()
    assert (m.columns["speed"] == 1).all()
    with pytest.raises(InputError):
        parse_zone("1,2")


def test_mask_table_hides_lap_lines_inside_a_zone():
    """A start/finish or sector mark inside a privacy zone would show where the zone is."""
    t = table_of(np.array([LAT0, LAT0]), np.array([LON0, LON0 + 0.1]))
    near = [LAT0 + 0.1, LON0 - 0.0001, LAT0 + 0.1, LON0 + 0.0001]  # across the zone's centre
    far = [LAT0, LON0 + 0.05, LAT0 + 0.0002, LON0 + 0.05]
    t = dataclasses.replace(t, lap_lines=np.array([near, far]))
    m = mask_table(t, [parse_zone(f"{LAT0 + 0.1},{LON0},500")])
    assert np.isnan(m.lap_lines[0]).all() and (m.lap_lines[1] == far).all()
    assert (t.lap_lines[0] == near).all()  # the table given is left as it was


# --- wiring ------------------------------------------------------------------------------------

def test_assets_are_picklable_and_reach_workers_through_the_layout(server, cache_dir):
    table = ride()
    assets, layout, _ = prepared(MOVING, table, server, cache_dir)
    assert assets.style.api_key is None
    again = pickle.loads(pickle.dumps(assets))
    assert again.tiles == assets.tiles and again.cache_dir == assets.cache_dir
    painter = pickle.loads(pickle.dumps(LayoutPainter(layout, table, (W, H))))
    paint = painter()
    im = Image.new("RGBA", Renderer(layout, table, (W, H)).bounds()[2:], (0, 0, 0, 0))
    requests = server.total
    paint(5, im)
    assert server.total == requests  # workers never fetch
    assert np.asarray(im)[..., 3].max() == 255


def test_map_types_are_registered_and_layouts_without_maps_cost_nothing(cache_dir):
    assert all(lookup(name) is not None for name in ("moving_map", "journey_map", "moving_journey_map"))
    layout = layout_of('<component type="text" x="1" y="1">hi</component>')
    assets = prepare_maps(layout, ride(), (W, H), MapOptions(style="thunderforest", cache_dir=str(cache_dir)))
    assert assets.tiles == frozenset() and not cache_dir.exists()


def test_moving_journey_map_keeps_the_position_centred_even_at_the_ride_edges(server, cache_dir):
    table = ride(90)
    body = '<component type="moving_journey_map" x="0" y="0" size="200" zoom="17" opacity="1"/>'
    _, layout, _ = prepared(body, table, server, cache_dir)
    first, last = draw(layout, table, 0).astype(int), draw(layout, table, 89).astype(int)
    for arr in (first, last):
        # the marker's own colour, exactly: a tile pixel matches it only by chance, and rarely
        ys, xs = np.nonzero((np.abs(arr[..., :3] - (255, 72, 40)) <= 2).all(axis=-1))
        assert len(xs) > 20 and abs(np.median(xs) + 0.5 - 100) < 1.5 and abs(np.median(ys) + 0.5 - 100) < 1.5
    assert (first[:200, :200, 3] == 255).all()  # past the ride's edge the map goes on
