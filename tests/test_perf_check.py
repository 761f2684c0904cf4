"""The CI perf check's rules, with stand-in measures: a ratio past its limit is measured again,
and the check fails only when it stays past on every attempt; the baseline names every ratio."""
from __future__ import annotations

import json

import pytest

from benchmarks import perf_check


@pytest.fixture
def fake(monkeypatch, tmp_path):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"wall": {"value": 1.0, "tolerance": 0.1, "max": 1.1},
                                    "cpu": {"value": 1.0, "tolerance": 0.1, "max": 1.1},
                                    "scale": {"value": 1.6, "tolerance": 0.2, "min": 1.3}}))
    monkeypatch.setattr(perf_check, "BASELINE", baseline)
    monkeypatch.setattr(perf_check, "make_clip", lambda *a: tmp_path / "clip.mp4")
    monkeypatch.setattr(perf_check, "CHECKS", ("wall", "cpu", "scale"))
    calls: list[str] = []

    def install(render_values, scale_values):
        def render(clip, pairs):
            calls.append("render")
            return render_values.pop(0)

        def scale(clip, pairs):
            calls.append("scale")
            return {"scale": scale_values.pop(0)}
        monkeypatch.setattr(perf_check, "MEASURES", (render, scale))
        return calls
    return install


def test_all_within_limits_measures_each_once(fake, capsys):
    calls = fake([{"wall": 1.05, "cpu": 1.09}], [1.5])
    assert perf_check.main([]) == 0
    assert calls == ["render", "scale"]
    assert "all 3 ratios within their limits" in capsys.readouterr().out


def test_a_noisy_ratio_is_measured_again_and_passes(fake, capsys):
    calls = fake([{"wall": 1.05, "cpu": 1.20}, {"wall": 1.3, "cpu": 1.05}, {"wall": 1.05, "cpu": 1.05}], [1.5])
    assert perf_check.main([]) == 0
    assert calls == ["render"] * 3 + ["scale"]
    assert "PAST LIMIT" in capsys.readouterr().out


def test_a_regression_that_survives_every_attempt_fails_naming_it(fake, capsys):
    calls = fake([{"wall": 1.05, "cpu": 1.2}] * 3, [1.0] * 3)
    assert perf_check.main([]) == 1
    assert calls == ["render"] * 3 + ["scale"] * 3
    out = capsys.readouterr().out
    assert "FAILED" in out and "cpu, scale" in out and "wall" not in out.split("FAILED")[1]


def test_the_real_baseline_names_every_check_with_a_limit():
    baseline = json.loads(perf_check.BASELINE.read_text())
    assert set(baseline) == set(perf_check.CHECKS)
    for spec in baseline.values():
        assert ("max" in spec) != ("min" in spec) and spec["tolerance"] > 0


def test_pairs_swap_their_order_every_other_time_and_keep_their_sides():
    from benchmarks.measure import alternated

    order: list[str] = []

    def side(name):
        def run():
            order.append(name)
            return f"{name}{len(order)}"
        return run

    pairs = alternated(side("t"), side("r"), 4)
    assert order == ["t", "r", "r", "t", "t", "r", "r", "t"]
    assert pairs == [("t1", "r2"), ("t4", "r3"), ("t5", "r6"), ("t8", "r7")]  # (first, second) whatever ran first
