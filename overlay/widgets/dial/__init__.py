"""What the round gauges are made of: the scale's geometry, the face, needles and arcs.

Shared by every dial-shaped widget (overlay.widgets.gauges, speed_dials, cairo_gauges);
none of these modules registers a component.
"""
