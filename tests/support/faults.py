"""Fault injection for `overdash render`, shared by tests/pipeline/test_faults.py and `make soak`.

Each case starts a real render of a short synthetic clip (the GoPro sample's GPMF track
muxed under a 320x180 test picture), waits until the progress line says frame N was
written (N drawn from a seeded random generator), injects one fault — a child or main
killed, the disk full, the output folder removed, a misbehaving tile server — and then
checks everything a user would: the exit status, the one message line, what is left in
the output folder, surviving processes, shared memory, and that the same render run
again succeeds. `run_case` returns the problems found; none means the case behaved.

The render's stderr is a pseudo-terminal, so the progress line is redrawn ten times a
second with the frame count (pipeline.commands.progress): that is how the harness knows
which frame has been reached without any hook in overdash itself.
"""
from __future__ import annotations

import os
import pty
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psutil

from tests.support.paths import ROOT, SHARED_DATA
from tests.support.tile_server import TileServer

SAMPLE = SHARED_DATA / "gopro" / "max-heromode.mp4"
OVERDASH = [sys.executable, "-m", "pipeline.commands.cli"]
SECONDS, FPS = 10, 25
FRAMES = SECONDS * FPS
PARTIAL = re.compile(r"^\..+\.partial-[0-9a-f]{8}\.(mp4|mov)$")
# Large figures that change every frame: each frame crosses to ffmpeg whole (about 100 KB), so
# the pipe holds only a few and the progress count follows the encoder, not a read-ahead.
LAYOUT = """<layout width="640" height="360">
  <component type="metric" x="10" y="10" metric="speed" units="kph" dp="3" size="120"/>
  <component type="metric" x="10" y="300" metric="alt" dp="2" size="40"/>
</layout>"""
MAP_LAYOUT = """<layout width="640" height="360">
  <component type="moving_map" x="540" y="10" size="64" zoom="15"/>
  <component type="metric" x="10" y="10" metric="speed" units="kph" dp="3" size="120"/>
</layout>"""
OOM = r"— signal 9, usually the kernel's out-of-memory killer"


@dataclass(frozen=True)
class Case:
    name: str
    status: int                          # expected exit status (Popen's: -9 for SIGKILL)
    message: str                         # regex the last stderr line must match ("" = none checked)
    inject: str                          # what is done at frame N (see _inject)
    partial_left: bool = False           # SIGKILL of main: the partial stays until the next run
    tiles: str = ""                      # a tile server in this mode, and the map layout
    needs_mount: bool = False
    output: str = "out.mp4"              # out.mov: the dashboard alone in ProRes, two ffmpegs (encoders.repeat)


CASES = {c.name: c for c in (
    Case("kill-worker", 1, rf"^overdash: error: worker \d died unexpectedly \(killed by SIGKILL\) {OOM}", "worker"),
    Case("kill-writer", 1, rf"^overdash: error: writer died unexpectedly \(killed by SIGKILL\) {OOM}", "writer"),
    Case("kill-ffmpeg", 1, r"^overdash: error: ffmpeg: (stopped reading at overlay frame \d+|failed) "
                           rf"\(killed by SIGKILL\) {OOM}", "ffmpeg"),
    Case("kill-prores-encoder", 1, r"^overdash: error: ffmpeg: (stopped reading at overlay frame \d+|failed) "
                                   rf"\(killed by SIGKILL\) {OOM}", "ffmpeg-encode", output="out.mov"),
    Case("kill-prores-muxer", 1, r"^overdash: error: ffmpeg: (stopped reading at overlay frame \d+|failed) "
                                 rf"\(killed by SIGKILL\) {OOM}", "ffmpeg-mux", output="out.mov"),
    Case("prores-SIGTERM", 143, r"^overdash: stopped by SIGTERM — nothing was written$", "SIGTERM-group",
         output="out.mov"),
    Case("main-SIGINT", 130, r"^overdash: interrupted — nothing was written$", "SIGINT-group"),
    Case("main-SIGTERM", 143, r"^overdash: stopped by SIGTERM — nothing was written$", "SIGTERM"),
    Case("main-SIGTERM-group", 143, r"^overdash: stopped by SIGTERM — nothing was written$", "SIGTERM-group"),
    Case("main-SIGHUP", 129, r"^overdash: stopped by SIGHUP — nothing was written$", "SIGHUP-group"),
    Case("main-SIGKILL", -9, "", "SIGKILL", partial_left=True),
    Case("terminal-closed", 129, "", "hangup"),
    Case("disk-full", 1, r"^overdash: error: ffmpeg: .*No space left on device", "none", needs_mount=True),
    Case("folder-removed", 1, r"^overdash: error: (cannot move the finished video to .*: No such file or directory"
                              r"|ffmpeg: .*No such file or directory)", "rmdir"),
    Case("tiles-stall", 0, r"^overdash: maps: \d+ of \d+ map tiles .*could not be downloaded", "none",
         tiles="hang"),
    Case("tiles-500", 0, r"^overdash: maps: \d+ of \d+ map tiles .*could not be downloaded", "none",
         tiles="error"),
    Case("tiles-garbage", 0, r"^overdash: maps: \d+ of \d+ map tiles .*could not be downloaded", "none",
         tiles="garbage"),
    Case("tiles-truncated", 0, r"^overdash: maps: \d+ of \d+ map tiles .*could not be downloaded", "none",
         tiles="truncate"),
)}


def make_clip(folder: Path) -> Path:
    """A 10 s 640x360 clip carrying the sample's GPMF track: renders in about two seconds
    (the output is about 1.5 MiB)."""
    clip = folder / "clip.mp4"
    if not clip.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={FPS}",
                        "-i", str(SAMPLE), "-t", str(SECONDS), "-map", "0:v", "-map", "1:3", "-c:v", "libx264",
                        "-preset", "ultrafast", "-c:d", "copy", "-copy_unknown", "-tag:d", "gpmd", str(clip)],
                       check=True, timeout=60)
        (folder / "plain.xml").write_text(LAYOUT)
        (folder / "map.xml").write_text(MAP_LAYOUT)
    return clip


def can_mount() -> str:
    """'' where a tmpfs can be mounted here (root, a permissive container); else why not."""
    probe = Path(tempfile.mkdtemp(prefix="overdash-mount-"))
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                              capture_output=True, text=True)
        if done.returncode:
            return f"cannot mount a tmpfs to fill: {done.stderr.strip() or 'mount failed'}"
        subprocess.run(["umount", str(probe)], check=True)
        return ""
    except OSError as exc:
        return f"cannot mount a tmpfs to fill: {exc}"
    finally:
        probe.rmdir()


@dataclass
class Outcome:
    case: str
    frame: int                          # the fault was injected once this frame was written
    status: int | None = None
    last_line: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _as_in_a_terminal() -> None:
    """In the render's process, before exec: the pseudo-terminal on stderr becomes its controlling
    terminal (closing it sends SIGHUP, as closing a terminal window does), and Ctrl-C and SIGHUP are
    not ignored even when the harness runs as a background job (`make soak &`)."""
    import fcntl
    import termios

    fcntl.ioctl(2, termios.TIOCSCTTY, 0)
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


class _Render:
    """One `overdash render` with stderr on a pseudo-terminal, read by a thread."""

    def __init__(self, args: list[str], env: dict):
        master, slave = pty.openpty()
        self.proc = subprocess.Popen([*OVERDASH, "render", *args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=slave, env=env, cwd=ROOT,
                                     start_new_session=True, preexec_fn=_as_in_a_terminal)
        os.close(slave)
        self.text = ""
        self._master = master
        self._hang_up = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            while not self._hang_up.is_set():
                if not select.select([self._master], [], [], 0.02)[0]:
                    continue
                try:
                    chunk = os.read(self._master, 65536)
                except OSError:  # EIO: every writer has closed the terminal
                    break
                if not chunk:
                    break
                self.text += chunk.decode("utf-8", "replace")
        finally:
            os.close(self._master)  # the last reference: the terminal hangs up

    def hang_up(self) -> None:
        """Close the terminal, as a user closing the window."""
        self._hang_up.set()
        self._reader.join(5)

    def frames(self) -> int:
        done = re.findall(r"(\d+)/\d+ frames", self.text)
        return int(done[-1]) if done else 0

    def wait(self, timeout: float) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def lines(self) -> list[str]:
        """stderr as lines, the progress redraws removed."""
        out = []
        for line in self.text.replace("\r\n", "\n").split("\n"):
            line = line.split("\r")[-1].replace("\x1b[K", "").strip()
            if line and not line.startswith(("rendering ", "map tiles ")):
                out.append(line)
        return out


def _shm(pid: int) -> set[str]:
    """Segments named by a ring that process `pid` made (pipeline.ring; other test runs make their own)."""
    try:
        return {n for n in os.listdir("/dev/shm") if n.startswith(f"overdash-{pid}-")}
    except OSError:
        return set()


def _alive(pids: list[int]) -> list[str]:
    alive = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{p.name()} ({pid})")
        except psutil.Error:
            pass
    return alive


def _by_name(children: list[psutil.Process], want: str, rng: random.Random) -> psutil.Process | None:
    found = []
    for p in children:
        try:
            name = p.name()
            role = _ffmpeg_role(p) if name == "ffmpeg" else ""
        except psutil.Error:
            continue
        if (want == "worker" and re.fullmatch(r"overdash-w\d+", name)) or name == {
                "writer": "overdash-writer", "ffmpeg": "ffmpeg"}.get(want) or (role and want == f"ffmpeg-{role}"):
            found.append(p)
    return rng.choice(found) if found else None


def _ffmpeg_role(p: psutil.Process) -> str:
    """Of the two ffmpegs of a ProRes overlay (encoders.repeat): 'encode' writes frames to its
    stdout, 'mux' copies them into the file."""
    argv = p.cmdline()
    return "encode" if argv[-1] == "pipe:1" else "mux" if "copy" in argv else "one"


def run_case(case: Case, work: Path, rng: random.Random, *, timeout: float = 60.0) -> Outcome:
    """Run one fault case in `work` (a scratch folder of its own); returns what went wrong, if anything."""
    clip = make_clip(work.parent)
    out_dir = work / "out"
    out_dir.mkdir(parents=True)
    mounted = False
    if case.needs_mount:  # a disk with room for 5-80% of the output (about 2 MiB)
        room = rng.randrange(96, 1216, 32)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={room}k", "tmpfs", str(out_dir)], check=True)
        mounted = True
    cache = work.parent / "cache"  # capability checks made once for all cases
    if case.tiles:  # tiles of its own: a server on a port used before would find them cached
        shared, cache = cache, work / "cache"
        if shared.is_dir():
            shutil.copytree(shared, cache, ignore=shutil.ignore_patterns("tiles"))
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), XDG_CONFIG_HOME=str(work / "config"))
    frame = rng.randint(2, FRAMES // 3)
    outcome = Outcome(case.name, frame)
    problems = outcome.problems
    server = TileServer().__enter__() if case.tiles else None
    try:
        if server is not None:
            server.mode = case.tiles
        layout = work.parent / ("map.xml" if server else "plain.xml")
        args = [str(clip), str(out_dir / case.output), "--layout", str(layout), "--workers", "2"]
        if case.output.endswith(".mov"):
            args += ["--generate", "overlay"]
        if server is not None:
            args += ["--map-style", server.template]
        render = _Render(args, env)
        children = _inject(case, render, out_dir, frame, rng, problems)
        try:
            outcome.status = render.wait(timeout)
        except subprocess.TimeoutExpired:
            problems.append(f"still running after {timeout:.0f} s")
            os.killpg(render.proc.pid, signal.SIGKILL)
            render.wait(10)
        lines = render.lines()
        outcome.last_line = lines[-1] if lines else ""
        if outcome.status != case.status:
            problems.append(f"exit status {outcome.status}, expected {case.status}: {outcome.last_line!r}")
        if case.message:
            hits = [ln for ln in lines if re.search(case.message, ln)]
            if not hits:
                problems.append(f"no line matches {case.message!r}; last line {outcome.last_line!r}")
            elif case.status != 0 and lines[-1] != hits[0]:
                problems.append(f"the message is not the last line: {lines[-1]!r}")
        if any("Traceback" in ln for ln in lines):
            problems.append("a traceback was printed")
        errors = [ln for ln in lines if ln.startswith("overdash: error")]
        if len(errors) > 1:
            problems.append(f"{len(errors)} error lines")
        # Children of a main killed outright die with it (PDEATHSIG): give them a moment.
        deadline = time.monotonic() + 5
        while _alive(children) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(children):
            problems.append(f"left running: {', '.join(_alive(children))}")
        if _shm(render.proc.pid):
            problems.append(f"shared memory left: {sorted(_shm(render.proc.pid))}")
        if out_dir.is_dir():
            left = sorted(p.name for p in out_dir.iterdir())
            partials = [n for n in left if PARTIAL.match(n)]
            expected_files = ([case.output] if case.status == 0 else []) + partials * case.partial_left
            if case.partial_left and len(partials) != 1:
                problems.append(f"expected the one partial file of the killed run, found {left}")
            if left != sorted(expected_files):
                problems.append(f"left in the output folder: {left}")
        if case.status != 0 or case.partial_left:
            _second_render(case, args, env, out_dir, mounted, server, problems)
        elif server is not None:
            _tiles_again(args, env, server, problems)
    finally:
        if server is not None:
            server.__exit__(None, None, None)
        if mounted:
            subprocess.run(["umount", "-l", str(out_dir)], check=False)
    return outcome


def _inject(case: Case, render: _Render, out_dir: Path, frame: int, rng: random.Random,
            problems: list[str]) -> list[int]:
    """Wait for `frame` (a tile case: for nothing), do the case's fault; the render's descendants' pids."""
    proc = render.proc
    main = psutil.Process(proc.pid)
    deadline = time.monotonic() + 30
    while render.frames() < frame and proc.poll() is None and time.monotonic() < deadline:
        if case.tiles:
            break
        time.sleep(0.01)
    try:
        children = main.children(recursive=True)
    except psutil.Error:
        children = []
    pids = [c.pid for c in children]
    if case.inject == "none":
        return pids
    if proc.poll() is not None or render.frames() >= FRAMES:
        problems.append(f"the render ended before frame {frame} (fault not injected)")
        return pids
    if case.inject in ("worker", "writer", "ffmpeg", "ffmpeg-encode", "ffmpeg-mux"):
        victim = _by_name(children, case.inject, rng)
        if victim is None:
            problems.append(f"no {case.inject} process found among {[c.name() for c in children]}")
        else:
            victim.send_signal(signal.SIGKILL)
    elif case.inject == "hangup":
        render.hang_up()
    elif case.inject == "rmdir":
        shutil.rmtree(out_dir)
    elif case.inject.endswith("-group"):
        os.killpg(proc.pid, getattr(signal, case.inject.removesuffix("-group")))
    else:
        os.kill(proc.pid, getattr(signal, case.inject))
    return pids


def _second_render(case: Case, args: list[str], env: dict, out_dir: Path, mounted: bool, server,
                   problems: list[str]) -> None:
    """The same render again, into the same folder (made again, or with room): it must succeed,
    and after a main killed outright, say that it removed the partial file left behind."""
    if server is not None:
        server.mode = "ok"
    if mounted:
        subprocess.run(["mount", "-o", "remount,size=8m", str(out_dir)], check=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    again = subprocess.run([*OVERDASH, "render", *args, "-q"], capture_output=True, text=True, env=env,
                           cwd=ROOT, timeout=120)
    if again.returncode != 0:
        problems.append(f"the second render failed ({again.returncode}): {again.stderr.strip()[-300:]}")
        return
    removed = re.findall(r"^overdash: removed a partial file left by an earlier run: (.+)$", again.stderr, re.M)
    if case.partial_left and len(removed) != 1:
        problems.append(f"the second render did not say it removed the partial file: {again.stderr!r}")
    if not case.partial_left and removed:
        problems.append(f"the second render removed a partial file that should not exist: {removed}")
    left = sorted(p.name for p in out_dir.iterdir())
    if left != [case.output]:
        problems.append(f"after the second render the folder holds {left}")


def _tiles_again(args: list[str], env: dict, server: TileServer, problems: list[str]) -> None:
    """With the server well again, the same render asks for the tiles again (nothing broken was
    cached as good) and draws them without a warning."""
    server.mode = "ok"
    before = server.total
    again = subprocess.run([*OVERDASH, "render", *args, "-q"], capture_output=True, text=True, env=env,
                           cwd=ROOT, timeout=120)
    if again.returncode != 0 or "maps:" in again.stderr:
        problems.append(f"the render with the server well again: {again.returncode} {again.stderr.strip()[-300:]}")
    if server.total == before:
        problems.append("the render with the server well again asked for no tile: a bad one was cached")


def soak(names: list[str], runs: int, seed: int, say: Callable[[str], None] = print) -> dict[str, list[Outcome]]:
    """`runs` cases drawn in turn from `names`, each at a random frame; outcomes by case."""
    rng = random.Random(seed)
    results: dict[str, list[Outcome]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="overdash-soak-") as tmp:
        for i in range(runs):
            name = names[i % len(names)]
            work = Path(tmp) / f"run{i}"
            outcome = run_case(CASES[name], work, rng)
            results[name].append(outcome)
            say(f"{i + 1:4d}/{runs} {name:20s} frame {outcome.frame:3d}: "
                f"{'ok' if outcome.ok else 'UNEXPECTED: ' + '; '.join(outcome.problems)}")
            shutil.rmtree(work, ignore_errors=True)
    return results
