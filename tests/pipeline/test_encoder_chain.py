"""Two ffmpegs for repeated frames (encoders.repeat) fail as one: the one line a user reads is the
complaint of the ffmpeg that failed for a reason of its own, not its partner's echo of it."""
from __future__ import annotations

import sys

import pytest

from pipeline.encoder import EncoderChain


def says(text: str, status: int) -> list[str]:
    """A stand-in ffmpeg: it logs `text` and exits with `status` (real processes, real logs)."""
    return [sys.executable, "-c", f"import sys; sys.stderr.write({text!r} + '\\n'); sys.exit({status})"]


ENCODER_OWN = "[prores_aw @ 0x1] frame width needs to be multiple of 2"
ENCODER_CUT = "av_interleaved_write_frame(): Broken pipe"
MUXER_ECHO = "[nut @ 0x2] EOF before video frames"
MUXER_OWN = "/out/.dash.partial.mov: No space left on device"


@pytest.mark.parametrize("encode, mux, said", [
    ((ENCODER_OWN, 1), (MUXER_ECHO, 1), ENCODER_OWN),   # the encoder failed first; the muxer saw a short stream
    ((ENCODER_CUT, 1), (MUXER_OWN, 1), MUXER_OWN),      # the muxer failed; the encoder only lost its reader
    (("", 0), (MUXER_OWN, 1), MUXER_OWN),
    ((ENCODER_OWN, 1), ("", 0), ENCODER_OWN),
])
def test_the_failure_said_is_the_one_that_caused_it(tmp_path, encode, mux, said):
    chain = EncoderChain.start(says(*encode), says(*mux), partial=tmp_path / ".dash.partial.mov")
    try:
        chain.release_stdin()
        assert chain.wait() != 0
        line = chain.failure("stopped")
        assert line.startswith("stopped (exit status 1): ") and said in line
        assert (MUXER_ECHO in line) == (said == MUXER_ECHO) and (ENCODER_CUT not in line)
    finally:
        chain.close()
