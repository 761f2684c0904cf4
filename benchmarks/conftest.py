from pathlib import Path

import pytest

from benchmarks.clips import make_clip

# A case times several whole renders and transcodes: the 60 s clip's five pairs take ~5 min on
# two busy cores, past the 300 s the tests allow each test (setup.cfg). --bench-pairs scales it
# (it is for five pairs).
CASE_TIMEOUT = 1800


def pytest_addoption(parser):
    parser.addoption("--bench-pairs", type=int, default=None, metavar="N",
                     help="alternated render/transcode pairs per compositing case (default: 11 for the 10.5 s "
                          "1080p clip, 5 for the others); more pairs narrow each median's interval")


@pytest.fixture(scope="session")
def bench_pairs(request) -> int | None:
    pairs = request.config.getoption("--bench-pairs")
    if pairs is not None and pairs < 1:
        raise pytest.UsageError(f"--bench-pairs {pairs}: at least one pair")
    return pairs


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    pairs = config.getoption("--bench-pairs") or 5
    for item in items:
        if item.path.is_relative_to(here) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(CASE_TIMEOUT * max(1, -(-pairs // 5))))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A case stopped by pytest-timeout (a BaseException, which pytest-benchmark does not see) is
    marked as failed in pytest-benchmark too: its empty timings would otherwise crash the JSON
    report at the end of `make bench` and hide the failure."""
    outcome = yield
    bench = getattr(item, "funcargs", {}).get("benchmark")
    if bench is not None and outcome.get_result().failed:
        bench.has_error = True


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
