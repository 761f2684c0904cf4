"""`overdash render --ray/--segments` before any Ray work: what is refused, and the segment
folders a driver killed outright left behind."""
from __future__ import annotations

from overdash.files import PartialLock
from pipeline.commands.cli import main
from pipeline.commands.split import LOCK, _remove_stale_folders


def test_segments_without_ray_is_refused(tmp_path, capsys):
    assert main(["render", str(tmp_path / "in.mp4"), str(tmp_path / "out.mp4"), "--segments", "3"]) == 2
    assert capsys.readouterr().err.strip() == (
        "overdash: error: --segments splits a render across a Ray cluster: add --ray [ADDRESS]")


def test_a_dead_runs_segments_go_and_a_live_runs_stay(tmp_path):
    dead, live, new = (tmp_path / f".ride.segments-{n}" for n in ("dead", "live", "new"))
    for folder in (dead, live, new):
        folder.mkdir()
        (folder / "part-0000.mp4").write_bytes(b"x")
    (dead / LOCK).write_bytes(b"")  # its run's lock died with it
    held = PartialLock.claim(live / LOCK)  # a run still going; `new` has no lock yet: being made
    said = []
    try:
        _remove_stale_folders(tmp_path, said.append)
    finally:
        held.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, new.name]
    assert said == [f"overdash: removed segments left by an earlier run: {dead}"]
