"""The show-when condition language (overlay.layout.conditions): parsing, meaning, and its errors."""
from __future__ import annotations

import numpy as np
import pytest

from overdash import InputError
from overlay.layout import parse_layout
from overlay.layout.conditions import evaluate, metrics_of, parse_condition, visibility

NAN = np.nan
COLUMNS = {
    "speed": np.array([0.0, 5.0, 12.0, 20.0, NAN, 12.0]),
    "gps-lock": np.array([3.0, 2.0, 3.0, 0.0, 3.0, NAN]),
    "event": np.array([NAN, 1.0, 1.0, 2.0, 1.0, NAN]),  # 1 airtime, 2 braking (metrics.EVENT_KINDS)
}


def truth(text: str) -> list[bool]:
    return evaluate(parse_condition(text), lambda m: COLUMNS.get(m, np.zeros(0)), 6).tolist()


@pytest.mark.parametrize("text, expected", [
    ("speed > 10", [False, False, True, True, False, True]),
    ("speed >= 12", [False, False, True, True, False, True]),
    ("10 < speed", [False, False, True, True, False, True]),  # either side
    ("speed != 12", [True, True, False, True, False, False]),  # missing: false, != too
    ("event == 'airtime'", [False, True, True, False, True, False]),
    ("'braking' == event", [False, False, False, True, False, False]),
    ("event", [False, True, True, True, True, False]),  # alone: known and not 0
    ("speed > 10 and gps-lock == 3", [False, False, True, False, False, False]),
    ("speed > 10 or gps-lock < 3", [False, True, True, True, False, True]),
    ("not speed > 10", [True, True, False, False, True, False]),  # not of a missing comparison: true
    # and binds tighter than or; parentheses change that
    ("speed < 1 or speed > 15 and gps-lock == 3", [True, False, False, False, False, False]),
    ("(speed < 1 or speed > 15) and gps-lock == 3", [True, False, False, False, False, False]),
    ("(speed < 1 or speed > 15) and not gps-lock == 3", [False, False, False, True, False, False]),
    ("speed.max > 1", [False] * 6),  # a statistic the table lacks: missing everywhere
    ("cad > 80", [False] * 6),  # an alias
])
def test_meaning(text, expected):
    assert truth(text) == expected


def test_metrics_read_are_requested():
    assert metrics_of(parse_condition("event == 'airtime' or (speed.max > 3 and not cad < 1)")) == {
        "event", "speed.max", "cadence"}
    layout = parse_layout('<layout><translate show-when="hr &gt; 150"><component type="text">x</component>'
                          '</translate></layout>', "t.xml")
    assert ("hr", None) in layout.unit_requests()


@pytest.mark.parametrize("condition, problem", [
    ("", "empty condition"),
    ("speed >", "ends too early"),
    ("speed > 3 and", "ends too early"),
    ("(speed > 1", "missing ')'"),
    ("speed ; 2", "cannot read '; 2'"),
    ("sped > 3", "'sped': unknown metric; valid choices: accel"),
    ("3 > 4", "compares no metric"),
    ("speed == 'fast'", "which is a number, not a name"),
    ("event == 'jump'", "event has no name 'jump'; valid choices: airtime, braking, cornering, top-speed, hilight"),
    ("speed > 3 4", "unexpected '4'"),
    ("(" * 5000 + "speed > 1" + ")" * 5000, "nested more than 50 deep"),
    ("not " * 5000 + "speed > 1", "nested more than 50 deep"),
    ("__import__('os').system('x')", "cannot read \".system('x')\""),
])
def test_bad_conditions_name_the_layout(condition, problem):
    quoted = condition.replace("'", "&apos;")
    xml = f'<layout>\n<translate x="3" show-when="{quoted}">\n</translate>\n</layout>'
    with pytest.raises(InputError) as err:
        parse_layout(xml, "my-layout.xml")
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("my-layout.xml:2: <translate>: show-when=")
    assert problem in msg


def test_hold_and_fade_need_show_when():
    with pytest.raises(InputError, match=r"t.xml:1: <frame>: hold and fade need show-when"):
        parse_layout('<layout><frame width="9" height="9" fade="1"/></layout>', "t.xml")


def test_visibility_hold_and_fades():
    on = np.zeros(40, bool)
    on[10:13] = True
    assert np.flatnonzero(visibility(on, 10, 0.0, 0.0)).tolist() == [10, 11, 12]
    held = visibility(on, 10, 1.0, 0.0)  # 1 s at 10 fps: 10 frames after the last true one
    assert np.flatnonzero(held).tolist() == list(range(10, 23))
    faded = visibility(on, 10, 1.0, 0.4)  # 4 frames each way
    assert faded[9] == 0 and faded[10:14].tolist() == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert faded[22] == 1.0 and faded[23:27].tolist() == pytest.approx([0.75, 0.5, 0.25, 0.0])
    # true again half-way through the fade-out: the fade-in goes on from where it stood
    on[14] = True
    again = visibility(on, 10, 0.0, 0.4)
    assert again[10:19].tolist() == pytest.approx([0.25, 0.5, 0.75, 0.5, 0.75, 0.5, 0.25, 0.0, 0.0])
