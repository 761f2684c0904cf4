"""A package's names loaded on first use (PEP 562): importing the package stays cheap, and a
run pays only for the submodules it touches (a render whose layout has no tile map never
loads the tile code; the command line reads unit names before anything heavy)."""
from __future__ import annotations

from importlib import import_module
from typing import Any, Callable


def lazy_exports(package: str, where: dict[str, str],
                 namespace: dict) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """(__getattr__, __dir__) for `package`, whose name N lives in submodule where[N]; each is
    imported once, then kept in `namespace` (the package's globals())."""
    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{where[name]}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
