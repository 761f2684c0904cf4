"""Each attribute draws what gopro-dashboard-overlay's documentation says it means.

Hand-written layouts in the forms its docs/xml examples use; each test measures the
pixels that carry the meaning (where the marker is, how alpha falls off at an edge,
how wide an outline is, where labels sit) rather than comparing whole pictures.
Maps are drawn from tiles served on 127.0.0.1 (tests/support/tile_server.py).
"""
from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from PIL import Image

from overlay.frametable import FrameTable
from overlay.layout import parse_layout
from overlay.maps import MapOptions, prepare_maps
from overlay.renderer import Renderer
from tests.support.tile_server import TileServer

W, H = 400, 300
LAT0, LON0 = 46.5, 7.0


def table_of(lat, lon, **columns) -> FrameTable:
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    cols = {"lat": lat, "lon": lon}
    for name, v in columns.items():
        cols[name] = np.broadcast_to(np.asarray(v, dtype=float), lat.shape).copy()
    return FrameTable(count=len(lat), fps_num=30, fps_den=1, columns=cols, track=np.column_stack([lat, lon]))


def ride(n: int = 90) -> FrameTable:
    """About 300 m north-east, 30 fps."""
    return table_of(LAT0 + np.linspace(0, 0.002, n), LON0 + np.linspace(0, 0.003, n), cog=45.0, speed=8.0)


def layout_of(body: str):
    return parse_layout(f'<layout width="{W}" height="{H}">{body}</layout>', "meaning.xml")


def render(body_or_layout, table: FrameTable, frame: int = 0) -> np.ndarray:
    layout = layout_of(body_or_layout) if isinstance(body_or_layout, str) else body_or_layout
    im = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    Renderer(layout, table, (W, H)).draw(frame, im)
    return np.asarray(im).astype(int)


def blobs(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x0, y0, x1, y1, exclusive) of the 8-connected blobs of `mask`."""
    seen = np.zeros_like(mask, dtype=bool)
    boxes = []
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        seen[y, x] = True
        todo, x0, y0, x1, y1 = deque([(y, x)]), x, y, x, y
        while todo:
            cy, cx = todo.popleft()
            x0, y0, x1, y1 = min(x0, cx), min(y0, cy), max(x1, cx), max(y1, cy)
            for ny in range(max(cy - 1, 0), min(cy + 2, mask.shape[0])):
                for nx in range(max(cx - 1, 0), min(cx + 2, mask.shape[1])):
                    if mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        todo.append((ny, nx))
        boxes.append((int(x0), int(y0), int(x1) + 1, int(y1) + 1))
    return boxes


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.fixture
def maps(tmp_path, monkeypatch):
    """layout body, table -> layout with its map tiles fetched from a local tile server."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("OVERDASH_MAP_API_KEY", raising=False)
    with TileServer() as server:
        def prepare(body: str, table: FrameTable):
            layout = layout_of(body)
            opts = MapOptions(style=server.template, cache_dir=str(tmp_path / "tiles"), warn=lambda _: None)
            return prepare_maps(layout, table, (W, H), opts).bind(layout)
        yield prepare


def marker_centre(arr: np.ndarray) -> tuple[float, float]:
    """Centre of the map marker's fill colour (exact: test tiles match it only by chance, rarely)."""
    ys, xs = np.nonzero((np.abs(arr[..., :3] - (255, 72, 40)) <= 2).all(axis=-1))
    assert len(xs) > 20, "no marker drawn"
    return float(np.median(xs)) + 0.5, float(np.median(ys)) + 0.5


# --- moving_journey_map: "moving the map to fit the current location" ------------------------------

@pytest.mark.parametrize("frame", [0, 30, 89])
def test_moving_journey_map_keeps_the_position_at_its_centre(maps, frame):
    table = ride()
    layout = maps('<translate x="20" y="10"><component type="moving_journey_map" size="256" zoom="17"/></translate>',
                  table)
    x, y = marker_centre(render(layout, table, frame))
    assert abs(x - (20 + 128)) < 1.5 and abs(y - (10 + 128)) < 1.5


def test_moving_journey_map_moves_the_map_not_the_marker(maps):
    table = ride()
    layout = maps('<component type="moving_journey_map" size="200" zoom="17"/>', table)
    first, last = render(layout, table, 0), render(layout, table, 89)
    assert marker_centre(first) == pytest.approx(marker_centre(last), abs=1.0)
    assert (first[:200, :200, 3] == 255).all() and (last[:200, :200, 3] == 255).all()  # no edge in view
    assert (np.abs(first[20:60, 20:60, :3] - last[20:60, 20:60, :3]).sum(axis=-1) > 0).mean() > 0.5


# --- frame fo: "a nice fade-out effect at the edge of the frame" -----------------------------------

def test_frame_fo_fades_alpha_from_the_edge_to_fo_pixels_inside():
    arr = render('<frame x="50" y="50" width="200" height="120" bg="255,255,255" fo="20"/>', ride(3))
    alpha = arr[110, 50:150, 3]  # across the left edge, into the middle
    assert alpha[0] <= 16, "clear at the edge"
    ramp = alpha[:20]
    assert (np.diff(ramp) > 0).all(), "rising all the way in"
    expect = 255 * (np.arange(20) + 0.5) / 20
    assert np.abs(ramp - expect).max() <= 3, "in a straight line"
    assert (alpha[20:] == 255).all(), "solid from fo inwards"
    top = arr[50:90, 150, 3]  # the same from the top edge
    assert np.abs(top[:20] - expect).max() <= 3 and (top[20:] == 255).all()


def test_frame_fo_follows_rounded_corners_and_opacity():
    arr = render('<frame x="50" y="50" width="200" height="200" cr="50" fo="40" opacity="0.6" '
                 'bg="255,255,255"/>', ride(3))[..., 3]
    assert arr[150, 150] == round(255 * 0.6), "the middle keeps the frame's opacity"
    # along the diagonal into the rounded corner: clear at the arc, rising to full 40 px inside it
    d = np.arange(0, 100)
    diag = arr[50 + d, 50 + d]
    arc = 50 - 50 / np.sqrt(2)  # where the diagonal crosses the corner's arc, in px from the corner
    assert diag[int(arc) - 1] == 0 and diag[int(arc + 20)] > 0
    assert (np.diff(diag[int(arc):int(arc + 40 / np.sqrt(2))]) >= 0).all()
    i = int(arc) + 10  # about 14 px in from the arc: about 14/40 of the way up
    inside = (i + 0.5 - arc) * np.sqrt(2)
    assert abs(int(diag[i]) - 255 * 0.6 * inside / 40) <= 8
    assert diag[int(arc + 40 / np.sqrt(2)) + 2] == round(255 * 0.6)


def test_frame_without_fo_keeps_a_sharp_edge():
    arr = render('<frame x="50" y="50" width="200" height="120" bg="255,255,255"/>', ride(3))
    assert arr[110, 49, 3] == 0 and (arr[110, 50:250, 3] == 255).all()


def test_map_in_a_frame_with_fo_fades_out_at_its_corners(maps):
    table = ride()
    body = ('<frame width="200" height="200" cr="50" fo="40">'
            '<component type="moving_map" size="200" zoom="16"/></frame>')
    arr = render(maps(body, table), table, 30)[..., 3]
    solid = round(255 * 0.7)  # moving_map's own default opacity
    assert arr[60, 100] == solid  # (the marker is at the centre)
    row = arr[100, :60]
    assert row[0] <= 10 and (np.diff(row[:40]) >= 0).all() and abs(int(row[45]) - solid) <= 2
    assert arr[5, 5] == 0, "the rounded corner is cut off"


# --- circuit_map: fill_width and outline_width ("06-circuit-map"), loc-size ----------------------

def straight_north(n: int = 30) -> FrameTable:
    return table_of(LAT0 + np.linspace(0, 0.01, n), np.full(n, LON0))


def test_circuit_map_outline_width_edges_the_line_inside_fill_width():
    body = ('<component type="circuit_map" size="256" fill="255,0,0" outline="255,255,255" '
            'fill_width="12" outline_width="6" loc_size="0"/>')
    row = render(body, straight_north())[128]  # across the (vertical) track, halfway up
    drawn = np.nonzero(row[:, 3] > 128)[0]
    white = np.nonzero((row[:, 3] > 128) & (row[:, 1] > 128))[0]
    red = np.nonzero((row[:, 3] > 128) & (row[:, 1] <= 128) & (row[:, 0] > 128))[0]
    assert len(drawn) == 12, "the whole line is fill_width wide"
    assert len(white) == 6 and len(red) == 6, "outline_width of it is the edge"
    left, right = white[white < red.min()], white[white > red.max()]
    assert len(left) == 3 and len(right) == 3, "half the edge on each side"


def test_circuit_map_without_outline_width_has_no_edge():
    body = '<component type="circuit_map" size="256" fill="255,0,0" fill_width="10" loc_size="0"/>'
    row = render(body, straight_north())[128]
    drawn = row[:, 3] > 128
    assert drawn.sum() == 10 and not (drawn & (row[:, 1] > 128)).any()


def test_circuit_map_loc_size_is_the_dots_radius():
    body = ('<component type="circuit_map" size="256" fill="255,0,0" loc_size="10" '
            'loc_fill="0,0,255" loc_outline="none"/>')
    arr = render(body, straight_north(), 15)
    (box,) = blobs((arr[..., 2] > 128) & (arr[..., 0] < 128) & (arr[..., 3] > 128))
    assert abs((box[2] - box[0]) - 20) <= 1 and abs((box[3] - box[1]) - 20) <= 1


# --- compass: N, E, S, W only, halfway between the centre and the rim -------------------------------

@pytest.mark.parametrize("size, textsize", [(100, 32), (256, 32), (100, 16), (256, 64)])
@pytest.mark.parametrize("cog", [0.0, 30.0, 45.0, 180.0, 300.0])
def test_compass_letters_are_four_and_never_overlap(size, textsize, cog):
    arr = render(f'<component type="compass" size="{size}" textsize="{textsize}" text="0,255,0"/>',
                 table_of([LAT0] * 3, [LON0] * 3, cog=cog), 1)
    letters = (arr[..., 1] > 128) & (arr[..., 0] < 100) & (arr[..., 2] < 100)
    boxes = blobs(letters)
    assert len(boxes) == 4, f"N, E, S and W and nothing else: {boxes}"
    for i, a in enumerate(boxes):
        assert not any(overlap(a, b) for b in boxes[i + 1:]), boxes


def test_compass_letters_sit_a_quarter_of_the_size_from_the_centre_and_turn_with_the_heading():
    arr = render('<component type="compass" size="256" text="0,255,0"/>',
                 table_of([LAT0] * 3, [LON0] * 3, cog=90.0), 1)
    boxes = blobs((arr[..., 1] > 128) & (arr[..., 0] < 100) & (arr[..., 2] < 100))
    centres = [((b[0] + b[2]) / 2 - 128, (b[1] + b[3]) / 2 - 128) for b in boxes]
    assert len(centres) == 4
    for x, y in centres:
        assert abs(np.hypot(x, y) - 64) <= 2
    # heading east: E at the top, N to the left
    top = min(centres, key=lambda c: c[1])
    left = min(centres, key=lambda c: c[0])
    top_box, left_box = boxes[centres.index(top)], boxes[centres.index(left)]
    e = render('<component type="text" x="0" y="0" size="16" rgb="0,255,0" outline="none">E</component>',
               ride(3))
    n = render('<component type="text" x="0" y="0" size="16" rgb="0,255,0" outline="none">N</component>',
               ride(3))
    (e_box,), (n_box,) = blobs(e[..., 1] > 128), blobs(n[..., 1] > 128)
    assert top_box[2] - top_box[0] == pytest.approx(e_box[2] - e_box[0], abs=1)  # E is narrower than N
    assert left_box[2] - left_box[0] == pytest.approx(n_box[2] - n_box[0], abs=1)


def test_compass_arrow_letters_never_overlap_at_its_default_textsize():
    arr = render('<component type="compass-arrow" size="100" text="0,255,0"/>',
                 table_of([LAT0] * 3, [LON0] * 3, cog=10.0), 1)
    boxes = blobs((arr[..., 1] > 128) & (arr[..., 0] < 100) & (arr[..., 2] < 100))
    assert len(boxes) == 4
    for i, a in enumerate(boxes):
        assert not any(overlap(a, b) for b in boxes[i + 1:]), boxes
        assert a[0] >= 0 and a[1] >= 0 and a[2] <= 100 and a[3] <= 100, "inside the dial"


# --- text direction="ttb": the outline surrounds every letter -----------------------------------------

def test_vertical_text_outline_surrounds_each_letter():
    arr = render('<component type="text" x="40" y="10" size="32" rgb="0,255,0" outline="255,0,0" '
                 'outline_width="3" direction="ttb">HELLO</component>', ride(3))
    glyph = (arr[..., 1] > 128) & (arr[..., 3] > 0)
    drawn = arr[..., 3] > 0
    rows = np.nonzero(drawn.any(axis=1))[0]
    bands = np.split(rows, np.nonzero(np.diff(rows) > 1)[0] + 1)  # one band of rows per letter
    assert len(bands) == 5
    for band in bands:
        t0, t1 = band[0], band[-1]
        g = np.nonzero(glyph[t0:t1 + 1].any(axis=1))[0]
        assert len(g), "each letter has its glyph inside its own outline"
        above, below = g[0], (t1 - t0) - g[-1]
        assert 2 <= above <= 4 and 2 <= below <= 4, (above, below)


# --- datetime: drawn plain, as gopro-dashboard-overlay draws it, unless an outline is asked for ----------

def test_datetime_has_no_outline_unless_given_one():
    table = table_of([LAT0] * 2, [LON0] * 2, timestamp=1707650000.0)
    plain = render('<component type="datetime" x="10" y="10" size="32" format="%H:%M" rgb="0,255,0"/>', table)
    drawn = plain[..., 3] > 0
    assert drawn.any() and (plain[drawn][:, 1] > 0).all(), "only the letters' own colour"
    edged = render('<component type="datetime" x="10" y="10" size="32" format="%H:%M" rgb="0,255,0" '
                   'outline="0,0,0"/>', table)
    assert ((edged[..., 3] > 128) & (edged[..., 1] < 30)).sum() > 50


# --- zone-bar: the documented defaults, colour stops at each zone's start ----------------------------

def zone_x(value: float) -> int:
    """Pixel column of `value` on a default zone-bar at x=0 (0..400 across the inside of a 3 px outline)."""
    return int(3 + value / 400 * (400 - 6))


def test_zone_bar_defaults_blend_from_each_zone_start_into_the_next():
    arr = render('<component type="zone-bar" metric="hr"/>', table_of([LAT0] * 2, [LON0] * 2, hr=400.0), 1)
    mid = arr[15]

    def colour(v):
        return tuple(mid[zone_x(v), :3])
    assert colour(1) == pytest.approx((255, 255, 255), abs=6), "zone 0 starts white"
    assert colour(60) == pytest.approx((161, 245, 154), abs=6), "halfway from white to z1's green"
    assert colour(140) == pytest.approx((154, 234, 36), abs=6), "halfway from green to z2's yellow"
    assert colour(300) == pytest.approx((207, 19, 2), abs=6), "z3's red to max"
    dividers = [v for v in (120, 160, 200) if tuple(mid[zone_x(v), :3]) == (255, 255, 255)]
    assert dividers == [120, 160, 200], "white dividers at the default zone starts"


@pytest.mark.parametrize("spelling", ["zone-divider", "divider", "marker"])
def test_zone_bar_divider_colour_in_each_spelling_its_docs_use(spelling):
    arr = render(f'<component type="zone-bar" metric="hr" {spelling}="255,0,255"/>',
                 table_of([LAT0] * 2, [LON0] * 2, hr=400.0), 1)
    mid = arr[15]
    assert [tuple(mid[zone_x(v), :3]) for v in (120, 160, 200)] == [(255, 0, 255)] * 3


def test_zone_bar_divider_none_draws_no_lines_and_a_spelling_given_wins():
    table = table_of([LAT0] * 2, [LON0] * 2, hr=400.0)
    plain = render('<component type="zone-bar" metric="hr" zone-divider="none"/>', table, 1)[15]
    assert all(tuple(plain[zone_x(v), :3]) != (255, 255, 255) for v in (120, 160, 200))
    both = render('<component type="zone-bar" metric="hr" zone-divider="none" marker="0,0,255"/>', table, 1)[15]
    assert tuple(both[zone_x(160), :3]) == (0, 0, 255)


# --- chart: alpha is the opacity of what it draws -------------------------------------------------------

@pytest.mark.parametrize("alpha", [20, 200])
def test_chart_alpha_sets_the_opacity_of_line_fill_and_values(alpha):
    n = 300
    table = table_of([LAT0] * n, [LON0] * n, alt=np.linspace(100, 200, n))
    body = '<component type="chart" metric="alt" bg="none" seconds="20" {}/>'

    def commonest_alpha(arr):
        values, counts = np.unique(arr[..., 3][arr[..., 3] > 0], return_counts=True)
        return values[counts.argmax()]
    given, default = render(body.format(f'alpha="{alpha}"'), table, n // 2), render(body.format(""), table, n // 2)
    assert (given[..., 3] > 0).sum() > 2000
    assert commonest_alpha(given) == alpha  # the fill under the line, at exactly that opacity
    assert commonest_alpha(default) == 170  # not given: the colours' own alpha


# --- bar: h-neg / h-pos colour the end of the bar -------------------------------------------------------

@pytest.mark.parametrize("value, end_colour", [(10.0, (0, 255, 0)), (-10.0, (255, 0, 0))])
def test_bar_end_is_highlighted_by_sign(value, end_colour):
    arr = render('<component type="bar" metric="accl.x"/>',
                 table_of([LAT0] * 2, [LON0] * 2, **{"accl.x": value}), 1)
    row = arr[15]
    lit = np.nonzero((row[:, 3] > 200) & ~(row[:, :3] == 255).all(axis=-1))[0]
    lit = lit[(lit > 4) & (lit < 395)]  # inside the outline
    assert len(lit), "an end is highlighted"
    assert tuple(row[lit[len(lit) // 2], :3]) == end_colour
    zero = 200
    length = abs(lit.mean() - zero)
    assert length > 90, "at the far end of the bar, away from zero"
    assert len(lit) <= max(2, round(0.05 * 200) + 1), "the last twentieth of it"
    middle = zero + int(np.sign(value) * 50)
    assert tuple(row[middle, :3]) == (255, 255, 255), "the rest is the bar colour"
