"""ffmpeg, the encoder: started and reaped by main, fed by the writer process.

    main ── Encoder.start(argv) ──────────────────────────────▶ ffmpeg (own session)
         ── send_graph(graph) ──graph pipe, if argv names one──▶ reads it with its options
    writer ── frames ──stdin pipe (write end handed over)─────▶ decode, composite, encode
    main ── wait(): exit status; a failure is one line with ffmpeg's own complaint

An intra-only overlay output (encoders.repeat) runs two: EncoderChain.

Main owns ffmpeg so that it can start it before anything else is ready: with the
graph still to come, ffmpeg loads its ~50 ms of libraries while main measures the
layout. The writer only writes; whether ffmpeg then succeeded is main's to ask.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Callable

from overdash import RenderError
from overdash.files import PartialLock, remove
from pipeline.ffmpeg_log import Source, log_tail, undecodable
from pipeline.procs import (
    describe_exit,
    exit_hint,
    kill_pid,
    prepare_die_with_parent,
    program_setup,
    sigint_blocked,
)

PIPE_BYTES = 1 << 20   # MEASURED.md: a 1 MiB pipe moves frames 3x faster than the 64 KiB default
_F_SETPIPE_SZ = 1031
# Output the disk refused. ffmpeg 5.1 (Debian 12's) logs these when the disk fills and still
# exits 0, leaving a truncated file; a render must not rename that onto the output.
_WRITE_FAILED = re.compile(r"Error writing trailer|Error closing file|No space left on device|Disk quota exceeded")


class Encoder:
    """One ffmpeg process, its stdin pipe's write end (until handed to the writer) and its log."""

    def __init__(self, proc: subprocess.Popen, stdin: int, graph: int | None, stderr_path: str,
                 argv: tuple[str, ...], partial: Path | None = None, lock: PartialLock | None = None):
        self.proc, self.argv, self.stderr_path = proc, argv, stderr_path
        # A Connection, because multiprocessing can pass one to a spawned child (forked ones inherit it).
        self._stdin, self._graph = Connection(stdin, readable=False), graph
        self.graph_path: str | None = None
        self._partial, self._lock = partial, lock

    @classmethod
    def start(cls, argv, env=(), partial: Path | None = None) -> "Encoder":
        """ffmpeg with everything in `argv`. `partial`: the file argv writes, created and locked
        first (overdash.files.PartialLock) and unlocked by close().

        Call this, start_before_graph and EncoderChain.start inside procs.sigint_blocked, the
        result stored where the cleanup finds it: a Ctrl-C between ffmpeg's start and that
        store would leave ffmpeg to recreate a partial file nobody removes."""
        lock = _claim(partial) if partial is not None else None
        try:
            return cls._spawn(tuple(argv), env, graph=None, partial=partial, lock=lock)
        except BaseException:
            _discard(partial, lock)
            raise

    @classmethod
    def start_before_graph(cls, argv_for: Callable[[str], list[str]], env=(),
                           partial: Path | None = None) -> "Encoder":
        """ffmpeg with argv_for(path) naming a pipe it reads the graph from; send_graph() fills it.

        `partial` is created and locked by send_graph: ffmpeg opens its output only after
        reading the graph, and until then nothing is written."""
        read, write = os.pipe()
        try:
            encoder = cls._spawn(tuple(argv_for(f"pipe:{read}")), env, graph=(read, write), partial=partial)
            encoder.graph_path = f"pipe:{read}"  # as ffmpeg names it: the fd number is kept
            return encoder
        except BaseException:
            os.close(write)
            raise
        finally:
            os.close(read)

    @classmethod
    def _spawn(cls, argv: tuple[str, ...], env, graph: tuple[int, int] | None, partial: Path | None = None,
               lock: PartialLock | None = None, stdout: int = subprocess.DEVNULL) -> "Encoder":
        stdin_read, stdin_write = os.pipe()
        _grow_pipe(stdin_write)
        log = tempfile.NamedTemporaryFile(prefix="overdash-ffmpeg-", suffix=".log", delete=False)
        prepare_die_with_parent()
        try:
            with log:
                proc = subprocess.Popen(
                    list(argv), stdin=stdin_read, stdout=stdout, stderr=log,
                    env={**os.environ, **dict(env)} if env else None,
                    pass_fds=(graph[0],) if graph else (),
                    start_new_session=True,  # Ctrl-C is main's to handle, not ffmpeg's
                    preexec_fn=program_setup,
                )
        except BaseException as exc:
            os.close(stdin_write)
            remove(log.name)
            if isinstance(exc, OSError):
                raise RenderError(f"cannot start {argv[0]}: {exc.strerror or exc}") from exc
            raise
        finally:
            os.close(stdin_read)
        return cls(proc, stdin_write, graph[1] if graph else None, log.name, argv, partial, lock)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send_graph(self, graph: str) -> None:
        """Write the filter graph ffmpeg waits for, and close that pipe."""
        fd, self._graph = self._graph, None
        if fd is None:
            raise ValueError("this ffmpeg was started with its graph in argv")
        try:
            if self._partial is not None and self._lock is None:
                with sigint_blocked():  # a Ctrl-C meanwhile comes once the file is this run's to remove
                    self._lock = _claim(self._partial)
            view = memoryview(graph.encode())
            while view:
                view = view[os.write(fd, view):]
        except BrokenPipeError:
            raise RenderError(f"ffmpeg: {self.failure('exited before reading its filter graph')}") from None
        finally:
            os.close(fd)

    def stdin_for_writer(self) -> Connection:
        """The write end of ffmpeg's stdin, for the writer to keep; main then calls release_stdin()."""
        return self._stdin

    def release_stdin(self) -> None:
        """Main's copy of the stdin write end closes, so ffmpeg sees the end when the writer closes its own."""
        if not self._stdin.closed:
            self._stdin.close()

    def relay_pipes(self) -> tuple[Connection | None, Connection | None]:
        """(encoder's stdout, muxer's stdin) for the writer's relay: none, for one ffmpeg."""
        return None, None

    def wait(self) -> int:
        return self.proc.wait()

    def failure(self, what: str) -> str:
        """'<what> (exit status N): <ffmpeg's complaint>', after ffmpeg has exited; killed by a
        signal, what that signal usually means instead (pipeline.procs.describe_exit)."""
        code = self.wait()
        if code < 0:  # killed: whatever it logged last says nothing about why
            return f"{what} ({describe_exit(code)}){exit_hint(code)}"
        tail = log_tail(self.stderr_path)
        return f"{what} (exit status {code}){': ' + tail if tail else ''}"

    def write_failure(self) -> str:
        """ffmpeg's complaint when it exited 0 yet logged that its output could not be written; else ''."""
        tail = log_tail(self.stderr_path)
        return tail if _WRITE_FAILED.search(tail) else ""

    def undecodable(self, source: Source) -> str:
        """After a failure: what to say instead of failure() when no frame of `source` decoded; else ''."""
        return undecodable(self.stderr_path, source) if self.wait() > 0 else ""

    def kill(self) -> None:
        """Stop ffmpeg now (a run that failed) and reap it."""
        if self.proc.poll() is None:
            kill_pid(self.proc.pid)
            self.proc.wait()

    def abort(self) -> None:
        """kill(), the partial file removed, close(): a run that ends before it streamed anything."""
        self.kill()
        if self._lock is not None and self._partial is not None:
            remove(self._partial)
        self.close()

    def close(self) -> None:
        """Pipes closed, log removed, the partial file unlocked. After wait() or kill(), and after
        the partial file was renamed onto the output or removed."""
        if self._graph is not None:
            os.close(self._graph)
            self._graph = None
        self.release_stdin()
        remove(self.stderr_path)
        if self._lock is not None:
            self._lock.release()
            self._lock = None


class EncoderChain:
    """Two ffmpegs for an output of repeated frames (encoders.repeat): `encode` reads the writer's
    stream and writes coded frames into a pipe the writer's relay reads; `mux` reads what the
    relay sends and writes the output. Main treats the pair as one Encoder."""

    def __init__(self, encode: Encoder, mux: Encoder, packets: int):
        self.encode, self.mux = encode, mux
        self.argv = encode.argv
        self._packets = Connection(packets, writable=False)

    @classmethod
    def start(cls, encode_argv, mux_argv, env=(), partial: Path | None = None) -> "EncoderChain":
        """Both started; `partial` is the muxer's output, claimed as Encoder.start claims it."""
        mux = Encoder.start(mux_argv, env, partial=partial)
        read = write = -1
        try:
            read, write = os.pipe()
            _grow_pipe(write)
            encode = Encoder._spawn(tuple(encode_argv), env, graph=None, stdout=write)
        except BaseException:
            if read >= 0:
                os.close(read)
            mux.abort()
            raise
        finally:
            if write >= 0:
                os.close(write)
        return cls(encode, mux, read)

    def stdin_for_writer(self) -> Connection:
        return self.encode.stdin_for_writer()

    def relay_pipes(self) -> tuple[Connection | None, Connection | None]:
        return self._packets, self.mux.stdin_for_writer()

    def release_stdin(self) -> None:
        """Main's copies of all three pipe ends close: the writer alone holds them."""
        self.encode.release_stdin()
        self.mux.release_stdin()
        if not self._packets.closed:
            self._packets.close()

    def wait(self) -> int:
        """The encoder's status, or else the muxer's: 0 only when both succeeded."""
        return self.encode.wait() or self.mux.wait()

    def failure(self, what: str) -> str:
        """Whichever ffmpeg failed for a reason of its own. An encoder that lost its reader (the
        muxer failed, the relay closed the encoder's stdout) says only "Broken pipe"; a muxer
        whose encoder failed says only that its stream ended early ("EOF before video frames"). An
        encoder killed (by main, after the muxer failed) says nothing about why."""
        own = self.encode.failure(what) if self.encode.wait() > 0 else ""  # it exited with an error
        if own and "Broken pipe" not in own:
            return own
        if self.mux.wait() != 0:
            return self.mux.failure(what)
        return self.encode.failure(what)

    def write_failure(self) -> str:
        return self.mux.write_failure()

    def undecodable(self, source: Source) -> str:
        return self.encode.undecodable(source)  # the encoding ffmpeg is the one that decodes the source

    def kill(self) -> None:
        self.encode.kill()
        self.mux.kill()

    def abort(self) -> None:
        self.encode.kill()
        self.mux.abort()
        self.close()

    def close(self) -> None:
        self.release_stdin()
        self.encode.close()
        self.mux.close()


def _claim(partial: Path) -> PartialLock:
    try:
        return PartialLock.claim(partial)
    except OSError as exc:
        raise RenderError(f"cannot write in {partial.parent}: {exc.strerror or exc}") from exc


def _discard(partial: Path | None, lock: PartialLock | None) -> None:
    if lock is not None and partial is not None:
        remove(partial)
        lock.release()


def _grow_pipe(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, OSError):
        pass  # smaller pipe: slower, still correct
