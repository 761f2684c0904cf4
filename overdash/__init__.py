"""Shared roots for overdash's three packages (overlay, encoders, pipeline).

Kept tiny on purpose: it is the one place `overlay` and `encoders` may both
import from without importing each other.
"""

__version__ = "0.1.0"


class OverdashError(Exception):
    """A user-facing failure: printed as one line, exit status non-zero, no traceback."""


class InputError(OverdashError):
    """The user's input (video, telemetry file, layout, option) is unusable."""


class RenderError(OverdashError):
    """The render itself failed (a worker, the writer or ffmpeg)."""
