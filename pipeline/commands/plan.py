"""What a render resolves before any process starts (Plan), and the planning helpers that the
composited render (pipeline.commands.render), the dashboard alone (pipeline.commands.overlay_only),
preview and the editor share."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from overdash import InputError
from pipeline.commands.config import RenderConfig
from pipeline.commands.progress import Progress

if TYPE_CHECKING:
    from encoders.command import OverlaySpec
    from encoders.probe import VideoInfo
    from overlay.renderer import LayoutPainter
    from pipeline.encoder import Encoder
    from pipeline.scheduler import PipelineJob


@dataclass(frozen=True)
class Plan:
    """Everything resolved for one render, before any process starts."""

    job: PipelineJob
    painter: LayoutPainter
    overlay: OverlaySpec       # where each region goes
    fps: Fraction
    profile_note: str
    video: VideoInfo | None    # None when drawing a ride file alone
    concat: tuple[Path, str] | None = None  # chapters: (list file to write before ffmpeg starts, its text)
    size: tuple[int, int] = (0, 0)           # picture size
    duration: float = 0.0                    # seconds of output
    chapters: int = 1
    encoder: Encoder | None = None           # ffmpeg started, graph sent
    shown_argv: tuple[str, ...] = ()         # --show-ffmpeg: the command with its graph written inline


def canvas_size(overlay_size: tuple[int, int] | None, video_size: tuple[int, int]) -> tuple[int, int]:
    """What the layout is drawn on: --overlay-size at the video's top-left corner, else the whole picture.

    A canvas larger than the video would be cut at its edges (that tool's behaviour): refused,
    since widgets would silently go missing."""
    if overlay_size is None:
        return video_size
    if overlay_size[0] > video_size[0] or overlay_size[1] > video_size[1]:
        raise InputError(f"--overlay-size {overlay_size[0]}x{overlay_size[1]} is larger than the video "
                         f"({video_size[0]}x{video_size[1]}): what falls outside would be cut off")
    return overlay_size


def map_args(config: RenderConfig) -> dict:
    """Map and privacy options for build_dashboard: tiles fetched now, with a progress line."""
    from overlay.maps import MapOptions, parse_zone

    zones = tuple(parse_zone(z) for z in config.privacy)
    say = (lambda text: None) if config.quiet else (lambda text: print(f"overdash: {text}", file=sys.stderr))
    progress = None if config.quiet else Progress(1, 1.0, label="map tiles", unit="tiles")
    return {"privacy": zones, "maps": MapOptions(style=config.map_style, api_key=config.map_api_key,
                                                 cache_dir=str(config.cache_dir) if config.cache_dir else None,
                                                 offline=config.offline, privacy=zones, warn=say,
                                                 progress=progress.tiles if progress else None)}


def profile_note(choice) -> str:
    return (f"encoder profile {choice.profile.name}" + (f" ({choice.reason})" if choice.reason else "")
            + (f"; {choice.notice}" if choice.notice else ""))
