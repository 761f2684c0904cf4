"""The progress line: frames done, frames/s, speed against real time, ETA."""
import io

from pipeline.commands.progress import Progress


def test_line_reports_rate_realtime_and_eta():
    p = Progress(total=300, fps=30.0, stream=io.StringIO())
    line = p.line(done=150, elapsed=2.5)
    assert "150/300 frames" in line and " 50%" in line
    assert "60.0 fps" in line          # 150 frames in 2.5 s
    assert "2.0× real time" in line    # 60 fps drawn for a 30 fps video
    assert "ETA 0:02" in line          # 150 frames left at 60 fps = 2.5 s, rounded


def test_log_output_is_lines_not_carriage_returns():
    out = io.StringIO()
    p = Progress(total=10, fps=30.0, stream=out)
    for done in range(1, 11):
        p(done)
    p.close()
    text = out.getvalue()
    assert "\r" not in text
    assert text.count("\n") == 1 and "10/10 frames" in text  # short job: only the final line


def test_quiet_prints_nothing():
    out = io.StringIO()
    p = Progress(total=10, fps=30.0, stream=out, enabled=False)
    for done in range(1, 11):
        p(done)
    p.close()
    assert out.getvalue() == ""
