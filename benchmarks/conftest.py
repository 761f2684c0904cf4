import pytest

from benchmarks.clips import make_clip


@pytest.fixture(scope="session")
def clip_1080():
    """10.5 s 1080p29.97 H.264 + AAC with the real GPMF track of max-heromode.mp4."""
    return make_clip(1920, 1080, 10.5)
