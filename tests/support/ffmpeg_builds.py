"""Static ffmpeg builds of three generations (4.2.2, 7.0.2, 9.0.2) for the version tests.

They come from PyPI's imageio-ffmpeg wheels, which `make ffmpeg-builds` (run by `make test`) downloads into
.venv/ffmpeg-builds/ (the Makefile's FFMPEG_BUILDS names the pinned versions).
They are never pip-installed (one package name, three versions) and never fetched
while tests run: the `ffmpeg_build` fixture unzips one wheel's binary into a
session folder and yields FfmpegBuild(version, path). A missing wheel skips the test
with a reason starting with SKIP_PREFIX that names `make ffmpeg-builds`; under CI (CI=true,
or OVERDASH_REQUIRE_BUILDS=1) such a skip is reported as a failure instead
(tests/support/required_skips.py, as for device files).

A pytest plugin, loaded by tests/conftest.py, for the fixture.
"""
from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# where `make ffmpeg-builds` puts the wheels; OVERDASH_FFMPEG_BUILDS names another folder (tests of this module)
WHEELS = Path(os.environ.get("OVERDASH_FFMPEG_BUILDS") or ROOT / ".venv" / "ffmpeg-builds")
# imageio-ffmpeg release → the ffmpeg its binary is (must match the Makefile's FFMPEG_BUILDS).
BUILDS = {"0.4.9": "4.2.2", "0.6.0": "7.0.2", "0.8.1": "9.0.2"}
SKIP_PREFIX = "ffmpeg build missing:"


@dataclass(frozen=True)
class FfmpegBuild:
    version: str   # the ffmpeg release, e.g. "4.2.2"
    path: Path     # an executable named ffmpeg, alone in its folder (no ffprobe beside it)


def wheel(package_version: str) -> Path | None:
    """The downloaded wheel of imageio-ffmpeg `package_version`, or None."""
    return next(iter(sorted(WHEELS.glob(f"imageio_ffmpeg-{package_version}-*.whl"))), None)


def extract(package_version: str, folder: Path) -> FfmpegBuild:
    """folder/ffmpeg from the wheel (skips, naming `make ffmpeg-builds`, when the wheel is missing)."""
    found = wheel(package_version)
    version = BUILDS[package_version]
    if found is None:
        pytest.skip(f"{SKIP_PREFIX} ffmpeg {version} (imageio-ffmpeg {package_version} wheel in {WHEELS}); "
                    f"run `make ffmpeg-builds`")
    with zipfile.ZipFile(found) as z:
        member = next(n for n in z.namelist()
                      if n.startswith("imageio_ffmpeg/binaries/ffmpeg") and not n.endswith((".md", ".py")))
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "ffmpeg"
        with z.open(member) as src, open(target, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return FfmpegBuild(version, target)


@pytest.fixture(scope="session", params=sorted(BUILDS), ids=lambda v: f"ffmpeg-{BUILDS[v]}")
def ffmpeg_build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> FfmpegBuild:
    """Each build `make ffmpeg-builds` downloaded (4.2.2, 7.0.2, 9.0.2), unzipped once per session;
    a missing one skips (CI: fails), naming `make ffmpeg-builds`."""
    return extract(request.param, tmp_path_factory.mktemp(f"ffmpeg-{BUILDS[request.param]}"))
