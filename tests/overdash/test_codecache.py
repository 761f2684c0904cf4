"""overdash.codecache: dataclass methods compiled once and kept, behaving exactly as compiled ones."""
from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from importlib.util import MAGIC_NUMBER
from pathlib import Path

import pytest

from overdash import codecache
from overdash.codecache import CodeCache

ROOT = Path(__file__).resolve().parents[2]

# Every kind of generated method: frozen (__setattr__/__delattr__, __hash__), defaults and
# factories, init=False fields, InitVar with __post_init__, kw_only, order, slots, inheritance.
# It prints what each class does, so runs with and without the cache can be compared.
CLASSES = r"""
import dataclasses, inspect, json, sys
from dataclasses import InitVar, dataclass, field

cache = None
if sys.argv[1] != "plain":
    from overdash.codecache import install
    cache = install(sys.argv[2])

@dataclass(frozen=True)
class Point:
    x: int
    y: int = 2
    tags: tuple = ()

@dataclass
class Bag:
    items: list = field(default_factory=list)
    size: int = field(init=False, default=0)
    scale: InitVar[int] = 1
    def __post_init__(self, scale):
        self.size = len(self.items) * scale

@dataclass(order=True, kw_only=True)
class Ranked:
    rank: int
    name: str = "x"

@dataclass(frozen=True, slots=True)
class Slim:
    a: float
    b: "list[int] | None" = None

@dataclass(frozen=True)
class Child(Point):
    z: int = 3

out = {}
p = Point(1)
out["repr"] = [repr(p), repr(Bag([1, 2], 3)), repr(Ranked(rank=2)), repr(Slim(1.5)), repr(Child(1, z=4))]
out["eq"] = [p == Point(1), p == Point(1, 3), Child(1) == Child(1), Slim(1.0) == Slim(1.0, None)]
out["hash"] = [hash(p) == hash(Point(1)), hash(Slim(2.0)) == hash(Slim(2.0))]
out["order"] = [Ranked(rank=1) < Ranked(rank=2), sorted([Ranked(rank=3), Ranked(rank=1)])[0].rank]
try:
    p.x = 5
    out["frozen"] = "assigned"
except dataclasses.FrozenInstanceError as exc:
    out["frozen"] = type(exc).__name__
try:
    del p.y
    out["frozen_del"] = "deleted"
except dataclasses.FrozenInstanceError as exc:
    out["frozen_del"] = type(exc).__name__
try:
    Ranked(1)
    out["kw_only"] = "positional taken"
except TypeError:
    out["kw_only"] = "refused"
out["post_init"] = Bag([1, 2, 3], 2).size
out["slots"] = [hasattr(Slim(1.0), "__dict__"), Slim.__slots__]
out["signatures"] = [str(inspect.signature(c)) for c in (Point, Bag, Ranked, Slim, Child)]
out["annotations"] = [sorted((k, repr(v)) for k, v in c.__init__.__annotations__.items())
                      for c in (Point, Bag, Ranked, Slim, Child)]
out["docs"] = [c.__doc__ for c in (Point, Bag, Ranked, Slim, Child)]
out["compiled"] = None if cache is None else cache.compiled
if cache is not None:
    cache.save()
print(json.dumps(out))
"""


def _run(mode: str, folder: Path) -> dict:
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run([sys.executable, "-c", CLASSES, mode, str(folder)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_cached_methods_behave_as_freshly_compiled_ones(tmp_path):
    """The same classes, plain, with the cache cold (it compiles and saves) and warm (it compiles
    nothing): every generated method answers the same."""
    plain = _run("plain", tmp_path)
    cold = _run("cached", tmp_path)
    warm = _run("cached", tmp_path)
    assert plain["frozen"] == plain["frozen_del"] == "FrozenInstanceError"
    assert plain["kw_only"] == "refused" and plain["post_init"] == 6
    assert cold["compiled"] > 20  # 5 classes, several methods each
    assert warm["compiled"] == 0
    for run in (cold, warm):
        assert {k: v for k, v in run.items() if k != "compiled"} == {k: v for k, v in plain.items() if k != "compiled"}


def test_a_damaged_or_foreign_file_is_compiled_afresh_and_rewritten(tmp_path):
    path = tmp_path / "codes.marshal"
    for content in (b"", b"garbage", MAGIC_NUMBER + b"\x00\x01truncated", b"\x00\x00\r\n" + marshal.dumps({}),
                    MAGIC_NUMBER + marshal.dumps(["not", "a", "dict"]),
                    MAGIC_NUMBER + marshal.dumps({"def f(): pass": "not code", 1: compile("1", "<s>", "eval")})):
        path.write_bytes(content)
        cache = CodeCache(path)
        assert cache.codes == {}
        ns: dict = {}
        cache.exec("def f():\n return 41 + 1\n", {}, ns)
        assert ns["f"]() == 42 and cache.compiled == 1
        cache.save()
        again = CodeCache(path)
        assert list(again.codes) == ["def f():\n return 41 + 1\n"]


def test_a_file_others_may_write_is_not_run(tmp_path):
    path = tmp_path / "codes.marshal"
    cache = CodeCache(path)
    cache.exec("z = 3\n", {}, {})
    cache.save()
    assert CodeCache(path).codes
    for mode in (0o666, 0o646, 0o664):
        path.chmod(mode)
        assert CodeCache(path).codes == {}, oct(mode)
    path.chmod(0o644)
    assert CodeCache(path).codes
    old = os.umask(0)  # a user whose files everyone may write still gets a file only they may
    try:
        again = CodeCache(tmp_path / "open.marshal")
        again.exec("w = 4\n", {}, {})
        again.save()
    finally:
        os.umask(old)
    assert (tmp_path / "open.marshal").stat().st_mode & 0o777 == 0o600
    assert CodeCache(tmp_path / "open.marshal").codes


def test_the_code_does_not_inherit_this_modules_future_flags(tmp_path):
    """dataclasses.py has no `from __future__ import annotations`; codecache.py has. Annotations
    compiled through the cache must stay evaluated, as dataclasses compiles them."""
    ns: dict = {}
    CodeCache(tmp_path / "c.marshal").exec("def f(x: int) -> None:\n pass\n", {}, ns)
    assert ns["f"].__annotations__ == {"x": int, "return": None}


def test_a_folder_that_cannot_be_written_only_costs_the_time(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = CodeCache(blocker / "codes.marshal")
    cache.exec("x = 1\n", {}, {})
    cache.save()  # no error
    assert blocker.read_text() == "not a folder"


def test_a_full_file_keeps_only_what_this_run_used(tmp_path, monkeypatch):
    path = tmp_path / "codes.marshal"
    old = CodeCache(path)
    for i in range(5):
        old.exec(f"a{i} = {i}\n", {}, {})
    old.save()
    monkeypatch.setattr(codecache, "MAX_ENTRIES", 4)
    run = CodeCache(path)
    run.exec("a1 = 1\n", {}, {})  # from the file
    run.exec("b = 2\n", {}, {})   # new
    run.save()
    assert sorted(CodeCache(path).codes) == ["a1 = 1\n", "b = 2\n"]


def test_nothing_compiled_nothing_written(tmp_path):
    path = tmp_path / "codes.marshal"
    first = CodeCache(path)
    first.exec("y = 2\n", {}, {})
    first.save()
    before = path.stat().st_mtime_ns
    os.utime(path, ns=(before - 10**9, before - 10**9))
    second = CodeCache(path)
    second.exec("y = 2\n", {}, {})
    second.save()
    assert second.compiled == 0 and path.stat().st_mtime_ns == before - 10**9


@pytest.mark.parametrize("command", [["profiles"]])
def test_the_overdash_command_keeps_its_dataclass_code(tmp_path, command):
    """The real command: the first run writes the file, the next compiles nothing (the file is not rewritten)."""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    script = [sys.executable, "-c", "from pipeline.commands.cli import entry; entry()", *command]
    first = subprocess.run(script, capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert first.returncode == 0, first.stderr
    files = list((tmp_path / "overdash").glob("dataclass-code-*.marshal"))
    assert len(files) == 1 and files[0].name == f"dataclass-code-{sys.implementation.cache_tag}.marshal"
    assert len(CodeCache(files[0]).codes) > 20
    stamp = files[0].stat().st_mtime_ns - 10**9
    os.utime(files[0], ns=(stamp, stamp))
    second = subprocess.run(script, capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert second.returncode == 0 and second.stdout == first.stdout, second.stderr
    assert files[0].stat().st_mtime_ns == stamp


def test_a_cache_folder_that_cannot_be_named_costs_only_the_time(tmp_path):
    """No home directory (Path.home() raises on newer Pythons): the command runs without the cache."""
    script = ("import overdash.files as f\n"
              "def nowhere(): raise RuntimeError('Could not determine home directory.')\n"
              "f.cache_dir = nowhere\n"
              "from pipeline.commands.cli import entry; entry()")
    done = subprocess.run([sys.executable, "-c", script, "--version"], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, XDG_CACHE_HOME=str(tmp_path)), timeout=60)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.startswith("overdash ")
    assert not list(tmp_path.rglob("dataclass-code-*"))


def test_a_library_import_leaves_dataclasses_alone():
    """Only the command's entry installs it: importing overdash's modules patches nothing."""
    import dataclasses

    import pipeline.commands.cli  # noqa: F401

    assert "exec" not in vars(dataclasses)
