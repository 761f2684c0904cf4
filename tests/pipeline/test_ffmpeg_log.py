"""ffmpeg's log in one line (pipeline.ffmpeg_log): its ends, and a source that gives no frame said in
the user's terms. Real ffmpeg logs of that failure are made in tests/pipeline/commands (test_awkward_inputs,
test_ffmpeg_versions); here the shapes they take, and the failures that must not be taken for it."""
from __future__ import annotations

from pathlib import Path

from pipeline.ffmpeg_log import Source, log_ends, log_tail, text_ends, undecodable

SOURCE = Source("GX010001.MP4", 0, "h264", "aac")
PER_FRAME = ("[h264 @ 0x55adb90275c0] missing picture in access unit with size 39534\n"
             "[h264 @ 0x55adb90275c0] no frame!\n")


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "ffmpeg.log"
    path.write_text(text)
    return str(path)


def test_a_long_log_is_cut_at_whole_lines(tmp_path):
    log = write(tmp_path, "first cause\n" + ("x" * 50 + " filler line\n") * 400 + "Conversion failed!\n")
    head, tail = log_ends(log)
    assert head.startswith("first cause") and head.endswith("filler line")
    assert tail.startswith("x" * 50) and tail.endswith("Conversion failed!\n")
    line = log_tail(log)
    assert line == f"{'x' * 50} filler line | Conversion failed!"  # each line once, no fragment first
    assert text_ends(Path(log).read_bytes()) == (head, tail)  # a log captured in memory (preview's)


def test_a_short_log_is_all_of_it(tmp_path):
    log = write(tmp_path, "Unknown encoder 'libx265'\n")
    assert log_ends(log) == ("Unknown encoder 'libx265'\n",) * 2 == text_ends(b"Unknown encoder 'libx265'\n")
    assert log_tail(log) == "Unknown encoder 'libx265'"
    assert log_tail(str(tmp_path / "gone.log")) == ""


def test_no_frame_is_said_with_the_decoders_first_complaint_from_the_head_of_a_long_log(tmp_path):
    log = write(tmp_path, "[h264 @ 0x55adb90275c0] Invalid NAL unit size (-1025045455 > 38843).\n"
                + PER_FRAME * 300 + "Cannot determine format of input stream 0:0 after EOF\n"
                "Error marking filters as finished\n")
    assert undecodable(log, SOURCE) == ("GX010001.MP4: no frame of its h264 video decodes (Invalid NAL unit "
                                        "size (-1025045455 > 38843)); the file is damaged, or this ffmpeg "
                                        "cannot decode it")


def test_ffmpeg_7_spellings(tmp_path):
    log = write(tmp_path, "[vist#0:0/h264 @ 0x3bf7e8c0] [dec:h264 @ 0x3bff34c0] Decoding error: Invalid data found "
                "when processing input\n[fc#0 @ 0x5580c01f4580] Cannot determine format of input 0:0 after EOF\n"
                "[out#0/mp4 @ 0x3bff7740] Nothing was written into output file, because at least one of its "
                "streams received no packets.\n")
    said = undecodable(log, SOURCE)
    assert said.startswith("GX010001.MP4: no frame of its h264 video decodes (Decoding error: Invalid data found")


def test_ffmpeg_4_2_spelling(tmp_path):
    log = write(tmp_path, PER_FRAME * 3 + "Error while decoding stream #0:0: Invalid data found when processing "
                "input\nToo many packets buffered for output stream 0:1.\n")
    assert undecodable(log, SOURCE).startswith("GX010001.MP4: no frame of its h264 video decodes (missing picture")
    # the same decoder errors in a run that failed for another reason are not that
    other = write(tmp_path, "Error while decoding stream #0:0: Invalid data found when processing input\n"
                  "Error writing trailer of out.mp4: No space left on device\n")
    assert undecodable(other, SOURCE) == ""


def test_the_stream_that_gave_nothing_is_named(tmp_path):
    audio = write(tmp_path, "[aac @ 0x1] Number of bands (50) exceeds limit (40).\n"
                  "Cannot determine format of input stream 0:1 after EOF\n")
    assert undecodable(audio, SOURCE).startswith("GX010001.MP4: no frame of its aac audio decodes (Number of bands")
    video_only = Source("clip.mov", 1, "hevc")  # stream 0:1 is its video; the aac line is not its decoder's
    assert undecodable(audio, video_only) == ("clip.mov: no frame of its hevc video decodes; the file is "
                                              "damaged, or this ffmpeg cannot decode it")
    nameless = write(tmp_path, "Cannot determine format of input stream 0:2 after EOF\n")
    assert undecodable(nameless, video_only) == ("clip.mov: no frame of its stream #2 decodes; the file is "
                                                 "damaged, or this ffmpeg cannot decode it")


def test_other_failures_are_left_to_ffmpegs_own_words(tmp_path):
    for text in ("Unknown encoder 'h264_nvenc'\n", "Error writing trailer: No space left on device\n",
                 "[nut @ 0x5596c348ca00] read_timestamp failed.\nConversion failed!\n"):
        assert undecodable(write(tmp_path, text), SOURCE) == ""
