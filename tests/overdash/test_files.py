"""overdash.files: the partial files of renders, locked while alive and swept once their run is dead."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from overdash.files import PartialLock, partial_path, remove_stale_partials

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock: POSIX only")


def test_partial_path_is_hidden_beside_the_output_with_its_extension(tmp_path):
    p = partial_path(tmp_path / "ride.mp4")
    assert p.parent == tmp_path and p.name.startswith(".ride.partial-") and p.suffix == ".mp4"
    assert p != partial_path(tmp_path / "ride.mp4")


def test_a_locked_partial_is_kept_and_an_unlocked_one_removed(tmp_path):
    live = PartialLock.claim(partial_path(tmp_path / "a.mp4"))
    dead = partial_path(tmp_path / "b.mp4")
    dead.write_bytes(b"half a video")
    try:
        assert remove_stale_partials(tmp_path) == [dead]
        assert live.path.exists() and not dead.exists()
    finally:
        live.release()
    assert remove_stale_partials(tmp_path) == [live.path]


def test_a_lock_held_by_another_process_is_respected_until_it_dies(tmp_path):
    """The case that matters: another render, alive, writing into the same folder."""
    path = partial_path(tmp_path / "other.mp4")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys; from pathlib import Path; from overdash.files import PartialLock; "
        f"PartialLock.claim(Path({str(path)!r})); print('held', flush=True); sys.stdin.read()")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    try:
        assert holder.stdout.readline().strip() == "held"
        assert remove_stale_partials(tmp_path) == [] and path.exists()
    finally:
        holder.kill()
        holder.wait()
    assert remove_stale_partials(tmp_path) == [path] and not path.exists()


def test_only_partial_names_and_own_regular_files_are_touched(tmp_path):
    keep = [tmp_path / "ride.mp4", tmp_path / ".ride.mp4.x1y2.partial",  # atomic_write's temporaries
            tmp_path / ".ride.partial-nothex!.mp4", tmp_path / "ride.partial-0123abcd.mp4"]
    for p in keep:
        p.write_bytes(b"x")
    folder = tmp_path / ".dir.partial-0123abcd.mp4"
    folder.mkdir()
    link = tmp_path / ".link.partial-0123abcd.mp4"
    link.symlink_to(keep[0])
    assert remove_stale_partials(tmp_path) == []
    assert all(p.exists() for p in keep) and folder.is_dir() and link.is_symlink()


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to make a file another user owns")
def test_another_users_partial_is_left_alone(tmp_path):
    other = partial_path(tmp_path / "theirs.mp4")
    other.write_bytes(b"x")
    os.chown(other, 12345, 12345)
    assert remove_stale_partials(tmp_path) == [] and other.exists()


def test_claim_refuses_an_existing_file_and_a_missing_folder(tmp_path):
    path = partial_path(tmp_path / "a.mp4")
    path.write_bytes(b"")
    with pytest.raises(FileExistsError):
        PartialLock.claim(path)
    with pytest.raises(FileNotFoundError):
        PartialLock.claim(tmp_path / "gone" / ".a.partial-0123abcd.mp4")


def test_a_missing_folder_has_nothing_to_sweep(tmp_path):
    assert remove_stale_partials(tmp_path / "gone") == []


def test_atomic_write_leaves_old_or_new_and_no_temporary_whatever_interrupts_it(tmp_path, monkeypatch):
    """A Ctrl-C landing just as the temporary file is created, or while it is written: the old
    file stays as it was and no hidden temporary is left beside it."""
    from overdash import files

    target = tmp_path / "settings.json"
    assert files.atomic_write(target, '{"a": 1}')
    assert target.read_text() == '{"a": 1}' and os.listdir(tmp_path) == ["settings.json"]
    assert oct(target.stat().st_mode & 0o777) == oct(files._MODE)  # as any file the user makes

    real_open = os.open

    def open_then_interrupted(path, flags, mode=0o777, **kw):
        fd = real_open(path, flags, mode, **kw)
        if flags & os.O_CREAT:
            raise KeyboardInterrupt  # where a signal is raised: as the call that made the file returns
        return fd

    monkeypatch.setattr(os, "open", open_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(target, '{"a": 2}')
    monkeypatch.undo()

    def chunks():
        yield '{"a": '
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(target, chunks())
    assert target.read_text() == '{"a": 1}' and os.listdir(tmp_path) == ["settings.json"]
