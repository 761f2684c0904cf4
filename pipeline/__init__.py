"""The frame engine: scheduler, workers, ring, writer, the ffmpeg process; the commands are in pipeline.commands."""
