"""What each layout element and attribute means, in a few plain words, for docs/layout-xml.md.

The attribute specs (`Attr`) live beside the widgets that read them; their meanings
live here, in one table, because most names mean the same everywhere (x, size,
metric, units...) and would otherwise be written twenty times and drift apart.
The meaning of an attribute of a component is, first found:

    Attr.doc  ->  PER_COMPONENT[(component, name)]  ->  SHARED[name]

Components are keyed by their canonical name (underscores: 'compass_arrow'),
container elements by their tag ('frame'). tests/overlay/layout/test_vocabulary.py
fails when a registered component or attribute has no meaning here, and when an
entry here names something that no longer exists.
"""
from __future__ import annotations

from overlay.widgets.attrs import Attr

_TEXT_LIKE = ("text", "metric", "metric_unit", "datetime")
_MAPS = ("journey_map", "moving_map", "moving_journey_map")

# --- elements -----------------------------------------------------------------------------------

CONTAINERS = {
    "layout": "The root element: everything else goes inside it.",
    "composite": "A group: moves everything inside it by (x, y). Nest them freely.",
    "translate": "The same as composite (another name for it).",
    "frame": "A panel: a rounded rectangle with optional background and outline that cuts off "
             "whatever inside it reaches past its edges; its children are placed from its corner.",
}

COMPONENTS = {
    "text": "Fixed text.",
    "metric": "A metric's value as a number, or '-' while the value is missing.",
    "metric_unit": "The name of a unit (kph, mi, °C...), to put beside a metric.",
    "datetime": "The frame's date and/or time.",
    "icon": "A picture: one of the bundled icons or an image file of your own.",
    "gps_lock_icon": "A picture of the GPS fix: none, 2D, 3D, or unknown while there is no data.",
    "bar": "A horizontal bar from zero to the value, between min and max (for values that can be "
           "negative, such as acceleration or gradient); its end is highlighted, green above zero, red below.",
    "zone_bar": "A bar from min to the value over four coloured zones (heart rate or power zones).",
    "lap_delta": "A bar centred at zero for the live lap delta: green to the left while ahead of the best "
                 "lap, red to the right while behind.",
    "lap_table": "The last laps completed, one row each: number, time to the millisecond and difference to "
                 "the best; the best lap so far on a highlighted row. Empty until a lap is done.",
    "chart": "The metric over a window of time centred on now, with a dot at the current value.",
    "gradient_chart": "The old name of chart: the same component.",
    "compass": "A compass card that turns so the direction of travel (cog) is at the top, under a "
               "fixed mark; the letters N, E, S and W stay upright halfway between centre and rim.",
    "compass_arrow": "A compass with north up and an arrow pointing in the direction of travel (cog).",
    "circuit_map": "The whole track as a line (no map tiles), with a dot at the current position; "
                   "with laps timed on the track, the start/finish line (white) and sector lines (yellow).",
    "cairo_circuit_map": "Like circuit_map, with line sizes given as fractions of the size, and a rotation.",
    "journey_map": "A map of the whole ride with the track and a dot at the current position.",
    "moving_map": "A map around the current position, with the track; turned so the direction "
                  "of travel is up unless rotate is false.",
    "moving_journey_map": "A map of the whole ride at a fixed zoom that moves with the position, which "
                          "stays in the middle (north up).",
    "asi": "An aircraft airspeed indicator: a scale from vs0 over 300 degrees, white, green and yellow "
           "arcs and a red line at vne.",
    "msi": "A motor speed dial (300 degrees, numbered every 20) with green and yellow zones, with a needle, "
           "or with a band lit from 0 to the value.",
    "msi2": "A motor speed dial with green and yellow zones on the rim and a ring of segments lit from 0 "
            "to the value, with a large readout.",
    "cairo_gauge_marker": "A disc with an arc filled up to the value, ticks across it, and a dot at the value.",
    "cairo_gauge_round_annotated": "A round dial with ticks, numbers and a needle.",
    "cairo_gauge_arc_annotated": "The round dial plus a range arc: between fixed values, or between "
                                 "two other metrics (such as the lowest and highest value so far).",
    "cairo_gauge_donut": "A ring with ticks and numbers inside it; a bar across the ring marks the "
                         "value. Can show a range arc like cairo-gauge-arc-annotated.",
}

# The element's text, for components that read it (ComponentType.body).
BODIES = {
    "text": "The text to show (spaces at either end are dropped).",
    "metric_unit": "How to write the unit: text with `{:spec}` fields, default `{:~P}` "
                   "(see Formats); `({:~P})` puts it in brackets.",
}

# format= values of the metric component that write a duration in seconds (attrs.DURATION_FORMATS).
FORMAT_DOCS = {
    "time": "Hours, minutes and seconds: 1:05:07. Whole seconds, cut off like a stopwatch's.",
    "mm:ss": "Minutes and seconds: 05:07, and 75:03 past the hour. Whole seconds, cut off.",
    "pace": "Minutes as minutes and seconds, seconds rounded up: 4.5 shows 4:30. For the pace units.",
    "delta": "A difference with its sign, dp decimals (default 2): +0.42, −1.07 (a true minus sign, as wide "
             "as the plus, so the digits do not jump), 0.00 when it rounds to zero. For lap.delta and the like.",
}

# --- attributes ---------------------------------------------------------------------------------

SHARED = {
    "x": "Left edge, in layout pixels from the enclosing element's corner.",
    "y": "Top edge, in layout pixels from the enclosing element's corner.",
    "width": "Width in layout pixels.",
    "height": "Height in layout pixels.",
    "size": "Width and height of the square it is drawn in, in layout pixels.",
    "metric": "What to show (see Metrics).",
    "units": "Unit to show the metric in (see Units); not given: the metric's own unit.",
    "min": "Value at the start of the scale; lower values stay there.",
    "max": "Value at the end of the scale; higher values stay there.",
    "rgb": "Colour of the text.",
    "outline": "Colour of the outline; none: no outline.",
    "outline_width": "Width of the outline, in layout pixels.",
    "align": "Which point of the text sits at (x, y): left, right or centre (x at that side, y at "
             "the top of the letters), or a two-letter anchor: l/m/r then a/t/m/s/b/d, "
             "e.g. ls = left on the baseline, mm = the middle.",
    "cache": "Accepted so that other layouts load; has no effect (text is always cached).",
    "textsize": "Font size of its numbers and letters, in layout pixels.",
    "cr": "Corner radius, in layout pixels.",
    "corner_radius": "Corner radius, in layout pixels; half the size or more makes the map a circle.",
    "opacity": "Opacity, from 0 (invisible) to 1 (solid).",
    "zoom": "Map zoom level, from 1 (the whole world) to 19 (single streets), for the layout's own "
            "size: a larger video shows the same area with sharper tiles.",
    "rotate": "Degrees to turn the whole dial clockwise (its numbers stay upright).",
    "fill": "Colour of the track behind the bar; none: no track.",
    "bg": "Background colour; none: no background.",
    "text": "Colour of its letters and numbers.",
    "loc_fill": "Colour of the dot at the current position.",
    "loc_outline": "Colour of the ring around that dot; none: no ring.",
    # text-like components
    "direction": "ltr: one line; ttb: one letter under another.",
    "dp": "Decimal places, used when format is not given.",
    "format": "How to write the number: a Python format spec such as .1f, or time, mm:ss or pace "
              "(see Formats); wins over dp.",
    "truncate": "Number of characters to cut off the end (3 turns the microseconds of %f into milliseconds).",
    # bar, zone-bar
    "zero": "Colour of the line marking zero, drawn when zero is between min and max; none: no line.",
    "bar": "Colour of the bar.",
    "h_neg": "Colour of the bar's end (its last twentieth) while the value is below zero.",
    "h_pos": "Colour of the bar's end (its last twentieth) while the value is above zero.",
    "zone_divider": "Colour of the lines at z1, z2 and z3; none: no lines.",
    "z1": "Where zone 1 begins (zone 0 runs from min to here).",
    "z2": "Where zone 2 begins.",
    "z3": "Where zone 3 begins (it runs to max).",
    **{f"z{i}_rgb": f"Colour at the start of zone {i} ({'min' if i == 0 else f'z{i}'}), "
                    + ("shading into the next zone's colour." if i < 3 else "held from there to max.")
       for i in range(4)},
    **{f"z{i}_col": f"Another spelling of z{i}_rgb; wins when both are given." for i in range(4)},
    # chart
    "seconds": "Length of the window of time shown, in seconds, centred on now.",
    "samples": "Number of points across the window; also the chart's width in layout pixels.",
    "values": "Whether to write the highest and lowest value in the window on the chart.",
    "filled": "Whether to fill the area under the line.",
    "line": "Colour of the line and of the dot at the current value; none: no line (the dot takes "
            "the text colour).",
    # compass, compass-arrow
    "fg": "Colour of the ring, its ticks and the edge of the mark at the top.",
    "arrow": "Colour of the arrow (its left half a little darker).",
    "arrow_outline": "Colour of the arrow's edge; none: no edge.",
    # circuit maps
    "fill_width": "Width of the track line, its edge (outline_width) included, in layout pixels.",
    "line_width": "Width of the track line, as a fraction of size (0.015 = 1.5 %); 0: no line.",
    "loc_size": "Radius of the position dot, in layout pixels; 0: no dot.",
    # icons
    "file": "The picture: a bundled icon's name (with or without .png) or an image file.",
    "invert": "Whether to invert the picture's colours (the bundled icons are black, inverted white).",
    "lock_none": "Picture while the GPS has no fix.",
    "lock_unknown": "Picture while there is no GPS data.",
    "lock_2d": "Picture for a 2D fix.",
    "lock_3d": "Picture for a 3D fix.",
    # asi
    "vs0": "Start of the scale and of the white arc (stall speed with flaps down); lower values "
           "rest the needle there.",
    "vs": "Start of the green arc (stall speed, clean).",
    "vfe": "End of the white arc (highest speed with flaps down).",
    "vno": "End of the green arc and start of the yellow one (highest cruising speed).",
    "vne": "End of the yellow arc, marked by a red line (never exceed). The scale runs on to vne plus "
           "5 % of vne − vs0, rounded up to a multiple of 20.",
    # msi, msi2
    "green": "Where the green zone starts; it runs clockwise to yellow. Below it: no zone. (As the "
             "original draws it; its README calls this the green section's max.)",
    "yellow": "Where the yellow zone starts; it runs clockwise to end, over the green one. A zone whose "
              "end is below its start runs the long way round the dial, as in the original: with the "
              "defaults and end=100, yellow covers 0–100 and green shows from 100 on.",
    "end": "End of the yellow zone. The scale runs from 0 to end plus 5 %, rounded up to a multiple of "
           "20, numbered every 20 and ticked every 5 (fewer where they would not fit).",
    "needle": "true: a needle and a small readout; false: a band lit from 0 to the value (inside a thin "
              "zone band), with a large readout in the middle.",
    # cairo-gauge-*
    "start": "Where the scale begins, in degrees clockwise from 3 o'clock.",
    "length": "How far the scale runs, in degrees (negative: anticlockwise; at most 360).",
    "sectors": "Number of major divisions of the scale; each division's ends are numbered.",
    "background_rgb": "Colour of the dial's disc.",
    "major_ann_rgb": "Colour of the larger numbers: at the 1st, 3rd, 5th... major tick after the start "
                     "(alpha 0: none). Numbers shrink, then every 2nd, 3rd... is left out, where they "
                     "would overlap.",
    "minor_ann_rgb": "Colour of the smaller numbers: at the start and every 2nd major tick from it "
                     "(alpha 0: none).",
    "major_tick_rgb": "Colour of the major ticks.",
    "minor_tick_rgb": "Colour of the minor ticks.",
    "needle_rgb": "Colour of the needle.",
    "arc_inner_rgb": "Colour of the range arc at its inner edge (it shades into arc_outer_rgb).",
    "arc_outer_rgb": "Colour of the range arc at its outer edge, on the rim.",
    "arc_metric_upper": "Metric giving the top of the range arc at each frame (such as speed.max), "
                        "in the dial's units.",
    "arc_metric_lower": "Metric giving the bottom of the range arc at each frame (such as speed.min).",
    "arc_value_upper": "Fixed top of the range arc, when arc_metric_upper is not given. "
                       "Without either, no range arc is drawn.",
    "arc_value_lower": "Fixed bottom of the range arc, when arc_metric_lower is not given "
                       "(not given either: min).",
    "tick_rgb": "Colour of the ticks at every sector, drawn across the filled arc.",
    "gauge_rgb": "Colour of the arc filled from the start to the value.",
    "dot_outer_rgb": "Colour of the dot at the value; not given: tick_rgb at 70 % opacity.",
    "dot_inner_rgb": "Colour of the centre of that dot; not given: gauge_rgb at 70 % opacity.",
    "cap": "Shape of the filled arc's ends.",
    "background_inner_rgb": "Colour of the ring at its inner edge (shading into the outer colour).",
    "background_outer_rgb": "Colour of the ring at its outer edge.",
}

PER_COMPONENT = {
    # text-like: (x, y) is where the text is anchored
    **{(c, "x"): "Horizontal position of the text's anchor point (see align), in layout pixels." for c in _TEXT_LIKE},
    **{(c, "y"): "Vertical position of the text's anchor point (see align), in layout pixels." for c in _TEXT_LIKE},
    **{(c, "size"): "Font size, in layout pixels." for c in _TEXT_LIKE},
    **{(c, "outline"): "Colour of the outline around the letters; none: no outline." for c in _TEXT_LIKE},
    ("metric", "metric"): "What to show (see Metrics); '-' while it is missing.",
    ("metric_unit", "metric"): "Whose unit to name when units is not given (see Metrics).",
    ("metric_unit", "units"): "The unit to name (see Units); not given: the metric's own unit.",
    ("datetime", "format"): "strftime format, such as %H:%M:%S or %d %b %Y, of the frame's time: local "
                            "time where the ride happened (or --tz) when known, else UTC.",
    # bars
    ("bar", "min"): "Value at the left end; lower values stay there.",
    ("bar", "max"): "Value at the right end; higher values stay there.",
    ("zone_bar", "min"): "Value at the left end, where the bar starts.",
    ("zone_bar", "max"): "Value at the right end; higher values stay there.",
    **{(c, "outline"): "Colour of the track's outline; none: no outline." for c in ("bar", "zone_bar")},
    # chart
    **{(c, "fill"): "Colour of the area under the line; none: not filled." for c in ("chart", "gradient_chart")},
    **{(c, "bg"): "Colour of the rounded rectangle behind the chart; none: no background."
       for c in ("chart", "gradient_chart")},
    **{(c, "text"): "Colour of the values written on the chart and of the faint line at now."
       for c in ("chart", "gradient_chart")},
    **{(c, "textsize"): "Font size of the values written on the chart, in layout pixels."
       for c in ("chart", "gradient_chart")},
    **{(c, "alpha"): "Opacity of the line, the fill and the values, 0 (invisible) to 255; not given: "
                     "each colour's own." for c in ("chart", "gradient_chart")},
    ("zone_bar", "divider"): "The same as zone_divider (the spelling of gopro-dashboard-overlay's docs).",
    ("zone_bar", "marker"): "The same as zone_divider (a spelling found in gopro-dashboard-overlay's docs).",
    # compasses
    ("compass", "bg"): "Colour of the disc behind the dial; none: no disc.",
    ("compass", "text"): "Colour of the letters N, E, S, W.",
    ("compass", "textsize"): "Font size of the letters N, E, S, W; big letters move out from halfway to the "
                             "rim only as far as keeps them apart.",
    ("compass_arrow", "bg"): "Colour of the disc behind the dial; none: no disc.",
    ("compass_arrow", "text"): "Colour of the letters N, E, S, W.",
    ("compass_arrow", "textsize"): "Font size of the letters N, E, S, W.",
    ("compass_arrow", "outline"): "Colour of the ring and its ticks; none: no ring.",
    # circuit maps
    **{(c, "fill"): "Colour of the track line." for c in ("circuit_map", "cairo_circuit_map")},
    ("circuit_map", "outline"): "Colour of the track line's edge; none: no edge.",
    ("circuit_map", "outline_width"): "Width of the track line's edge, in layout pixels: half of it along "
                                      "each side, inside fill_width (the line stays fill_width wide); "
                                      "0: no edge.",
    ("cairo_circuit_map", "outline"): "Colour of the track line's edge; none: no edge.",
    ("cairo_circuit_map", "rotate"): "Degrees to turn the drawing clockwise.",
    ("cairo_circuit_map", "loc_size"): "Diameter of the position dot, as a fraction of size; 0: no dot.",
    # maps
    **{(c, "size"): "Width and height of the map, in layout pixels." for c in _MAPS},
    **{(c, "opacity"): "Opacity of the map, from 0 (invisible) to 1 (solid)." for c in _MAPS},
    ("moving_map", "rotate"): "Whether to turn the map so the direction of travel is up (else north is up).",
    # icons
    ("icon", "size"): "Width and height in layout pixels (the picture is scaled to a square); "
                      "0: the picture's own size (scaled with the layout).",
    ("gps_lock_icon", "size"): "Width and height of the picture, in layout pixels. The bundled pictures "
                               "are tinted by state (grey, red, amber, green); your own are shown as they are.",
    # dials
    **{(c, "units"): "Unit to show the speed in (see Units); also written on the dial."
       for c in ("asi", "msi", "msi2")},
    **{(c, "textsize"): "Font size of the scale's numbers, in layout pixels; captions and readout scale with it."
       for c in ("asi", "msi", "msi2")},
    **{(c, "outline"): "Width of the dark edge around the scale's numbers, in layout pixels; 0: none."
       for c in ("msi", "msi2")},
    **{(c, "rotate"): "Where the 60 degree gap of the scale is centred, in degrees clockwise from 12 "
                      "o'clock (absolute: 0 = gap at the top, 180 = at the bottom). The numbers stay upright."
       for c in ("asi", "msi", "msi2")},
    ("cairo_gauge_marker", "background_rgb"): "Colour of the disc behind the scale; not given: tick_rgb "
                                              "at 20 % opacity.",
    ("cairo_gauge_donut", "background_rgb"): "Colour of the whole ring, used when background_inner_rgb and "
                                             "background_outer_rgb are left as they are.",
    ("cairo_gauge_donut", "needle_rgb"): "Colour of the bar marking the value.",
    # containers
    ("layout", "width"): "Width of the canvas the layout was designed for; give both width and height "
                         "or neither (then 1920 x 1080).",
    ("layout", "height"): "Height of the canvas the layout was designed for.",
    **{(c, "x"): "Moves everything inside right by this many layout pixels." for c in ("composite", "translate")},
    **{(c, "y"): "Moves everything inside down by this many layout pixels." for c in ("composite", "translate")},
    ("frame", "x"): "Left edge of the panel; its children are placed from here.",
    ("frame", "y"): "Top edge of the panel; its children are placed from here.",
    ("frame", "width"): "Width of the panel; children are cut off at its edges.",
    ("frame", "height"): "Height of the panel; children are cut off at its edges.",
    ("frame", "bg"): "Background colour of the panel; none: clear.",
    ("frame", "outline"): "Colour of a thin outline (1 layout pixel); none: no outline.",
    ("frame", "opacity"): "Opacity of the panel and everything in it, from 0 (invisible) to 1 (solid).",
    ("frame", "fo"): "Fade-out: the panel and everything in it fade from clear at its (rounded) edge to "
                     "solid this many layout pixels inside it; 0: a sharp edge.",
}


def meaning(element: str, attr: Attr) -> str:
    """What `attr` means on `element` (a canonical component name or a container tag); '' if unknown."""
    return attr.doc or PER_COMPONENT.get((element, attr.name)) or SHARED.get(attr.name, "")
