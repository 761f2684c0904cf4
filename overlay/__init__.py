"""What is drawn: telemetry model, layouts, widgets, maps."""
