import pytest

from benchmarks.clips import make_clip


@pytest.fixture(scope="session")
def clip_1080():
    """10.5 s 1080p29.97 H.264 + AAC with the real GPMF track of max-heromode.mp4."""
    return make_clip(1920, 1080, 10.5)


@pytest.fixture(scope="session")
def clip_1080_long():
    """60 s 1080p29.97: a GoPro clip of ordinary length (drawn with the GPX ride, benchmarks.measure.RIDE)."""
    return make_clip(1920, 1080, 60)


@pytest.fixture(scope="session")
def clip_2160():
    """10.5 s 2160p29.97 (4K) with the sample's GPMF track."""
    return make_clip(3840, 2160, 10.5)
