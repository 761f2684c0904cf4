"""`show-when`: the small condition language that shows a part of a layout only at some moments.

    <translate show-when="event == 'airtime'" hold="3" fade="0.3"> ... </translate>
    <frame show-when="speed > 15 and not gps-lock < 3" ...>

A condition compares metrics with numbers or quoted names and joins comparisons with
`and`, `or`, `not` and parentheses. It is parsed here, by hand, into a small picklable
tree (the layout goes to the workers) and evaluated over whole frame-table columns at
once; nothing is ever handed to eval(), so a layout file cannot run code.

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" or ")" | comparison
    comparison := operand [("==" | "!=" | "<" | "<=" | ">" | ">=") operand]
    operand    := metric | number | 'name' | "name"

Numbers are in the metric's own unit (docs/layout-xml.md, Metrics: speed in m/s). A quoted
name compares with a metric that is a name (`event`): 'airtime', ... A metric alone is
true where it is known and not 0. A missing value (no data at that frame) makes every
comparison with it false, `!=` included, so nothing shows on frames without data.

Seeing the part: `visibility` turns the per-frame truth into how opaque the part is:
fully shown while the condition holds and `hold` seconds after it ends, fading in over
`fade` seconds from when it turns true and out over `fade` seconds after the hold.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np

from overlay.layout.metrics import lookup

MAX_DEPTH = 50  # parentheses and nots inside each other: a recursion guard, far beyond any real condition
_TOKEN = re.compile(r"""\s*(?:
    (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<paren>[()])
  | (?P<word>[A-Za-z_][\w.-]*)
)""", re.VERBOSE)


@dataclass(frozen=True)
class Value:
    """A number, a metric name (`metric`), or a label of a named metric (resolved to its code)."""

    number: float = math.nan
    metric: str | None = None


@dataclass(frozen=True)
class Compare:
    op: str | None  # None: the left operand alone, true where known and not 0
    left: Value
    right: Value = Value()


@dataclass(frozen=True)
class Not:
    inner: "Condition"


@dataclass(frozen=True)
class Join:
    op: str  # "and" | "or"
    parts: tuple["Condition", ...]


Condition = Union[Compare, Not, Join]


class _Parser:
    def __init__(self, text: str, parse_metric: Callable[[str], str]):
        self.text = text
        self.parse_metric = parse_metric
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if not text[pos:].strip():
                    break
                raise ValueError(f"cannot read {text[pos:].strip()[:20]!r}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.at = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ValueError("ends too early")
        self.at += 1
        return tok

    def parse(self) -> Condition:
        if not self.tokens:
            raise ValueError("empty condition")
        cond = self.join("or")
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return cond

    def join(self, op: str) -> Condition:
        inner = (lambda: self.join("and")) if op == "or" else self.negation
        parts = [inner()]
        while self.peek() == ("word", op):
            self.take()
            parts.append(inner())
        return parts[0] if len(parts) == 1 else Join(op, tuple(parts))

    def negation(self) -> Condition:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} deep")
        try:
            return self.term()
        finally:
            self.depth -= 1

    def term(self) -> Condition:
        tok = self.peek()
        if tok == ("word", "not"):
            self.take()
            return Not(self.negation())
        if tok == ("paren", "("):
            self.take()
            cond = self.join("or")
            if self.peek() != ("paren", ")"):
                raise ValueError("missing ')'")
            self.take()
            return cond
        return self.comparison()

    def comparison(self) -> Condition:
        left = self.take()
        tok = self.peek()
        if tok is None or tok[0] != "op":
            if left[0] != "word":
                raise ValueError(f"{left[1]} alone is not a condition: compare a metric with it")
            return Compare(None, self.operand(left, None))
        op = self.take()[1]
        right = self.take()
        named = left[1] if left[0] == "word" else right[1] if right[0] == "word" else None
        if named is None:
            raise ValueError(f"{left[1]} {op} {right[1]}: compares no metric")
        return Compare(op, self.operand(left, named), self.operand(right, named))

    def operand(self, tok: tuple[str, str], metric: str | None) -> Value:
        kind, text = tok
        if kind == "number":
            return Value(number=float(text))
        if kind == "word":
            if text in ("and", "or", "not"):
                raise ValueError(f"{text!r} where a metric or value should be")
            try:
                return Value(metric=self.parse_metric(text))
            except ValueError as exc:
                raise ValueError(f"{text!r}: {exc}") from None
        if kind == "string":
            name = text[1:-1]
            labels = _labels(metric)
            if not labels:
                raise ValueError(f"{text} compared with {metric!r}, which is a number, not a name")
            if name not in labels:
                raise ValueError(f"{metric} has no name {text}; valid choices: {', '.join(labels)}")
            return Value(number=float(labels.index(name) + 1))
        raise ValueError(f"unexpected {text!r}")


def _labels(metric: str | None) -> tuple[str, ...]:
    """The names a named metric (metrics.Metric.labels) can hold; () for a number."""
    if metric is None:
        return ()
    entry = lookup(metric)
    return entry.labels if entry is not None else ()


def parse_condition(text: str) -> Condition:
    """The tree of a show-when condition; ValueError saying what is wrong (the layout parser adds
    the file, line and element)."""
    from overlay.widgets.attrs import parse_metric

    return _Parser(text, parse_metric).parse()


parse_condition.kind = "condition"  # type: ignore[attr-defined]  # its type in docs/layout-xml.md


def metrics_of(cond: Condition | None) -> set[str]:
    """Every metric a condition reads (the frame table must compute them)."""
    if cond is None:
        return set()
    if isinstance(cond, Compare):
        return {v.metric for v in (cond.left, cond.right) if v.metric}
    if isinstance(cond, Not):
        return metrics_of(cond.inner)
    return set().union(*(metrics_of(p) for p in cond.parts))


_COMPARE = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
            ">": np.greater, ">=": np.greater_equal}


def evaluate(cond: Condition, column: Callable[[str], np.ndarray], count: int) -> np.ndarray:
    """Where `cond` holds, as a bool per frame; `column(metric)` gives the base-unit values
    (shorter or empty where the table lacks them: missing)."""
    if isinstance(cond, Join):
        parts = [evaluate(p, column, count) for p in cond.parts]
        return np.logical_and.reduce(parts) if cond.op == "and" else np.logical_or.reduce(parts)
    if isinstance(cond, Not):
        return ~evaluate(cond.inner, column, count)

    def values(v: Value) -> np.ndarray:
        if v.metric is None:
            return np.full(count, v.number)
        col = np.asarray(column(v.metric), dtype=np.float64)[:count]
        return np.concatenate([col, np.full(count - len(col), np.nan)])

    left = values(cond.left)
    if cond.op is None:
        return np.isfinite(left) & (left != 0)
    right = values(cond.right)
    with np.errstate(invalid="ignore"):
        return np.isfinite(left) & np.isfinite(right) & _COMPARE[cond.op](left, right)


def visibility(on: np.ndarray, fps: float, hold: float, fade: float) -> np.ndarray:
    """Opacity per frame (0..1) of a part shown where `on`, held `hold` s after, faded over `fade` s.

    It rises by 1/(fade·fps) a frame from the first true frame (so that frame already shows a
    little) and falls as fast from the first frame after the hold. A fade cut short by the
    other goes on from where it stood, so the part never jumps.
    """
    on = np.asarray(on, dtype=bool)
    n = len(on)
    held = on.copy()
    extra = int(round(hold * fps))
    if extra > 0 and on.any():
        last = np.maximum.accumulate(np.where(on, np.arange(n), -(extra + 1)))
        held = np.arange(n) - last <= extra
    if fade <= 0:
        return held.astype(np.float32)
    step = 1.0 / max(fade * fps, 1.0)
    alpha = np.zeros(n, dtype=np.float32)
    edges = np.flatnonzero(np.diff(np.concatenate(([False], held, [False])).astype(np.int8)))
    level = 0.0  # opacity at the frame before the current stretch
    bounds = np.concatenate(([0], edges, [n]))
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b <= a:
            continue
        k = np.arange(1, b - a + 1)
        ramp = level + k * step if held[a] else level - k * step
        alpha[a:b] = np.clip(ramp, 0.0, 1.0)
        level = float(alpha[b - 1])
    return alpha
