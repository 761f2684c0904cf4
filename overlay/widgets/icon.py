"""icon: a square picture - one of ours (overlay/icons, see make_icons.py) or a user's PNG.

Bundled icons are black shapes on transparency; `invert` (the default, as in
the layouts this vocabulary comes from) turns them white. The icon is scaled
once, on premultiplied alpha, and drawn as part of a static layer.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageChops, UnidentifiedImageError

from overlay.widgets.attrs import Attr, non_negative, parse_bool, parse_number
from overlay.widgets.base import StaticImage, Widget
from overlay.widgets.registry import component

ICONS_DIR = Path(__file__).resolve().parent.parent / "icons"


def bundled_icons() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in ICONS_DIR.glob("*.png")))


def bundled(name: str) -> str:
    return str(ICONS_DIR / name)


def is_bundled(path: str) -> bool:
    return Path(path).parent == ICONS_DIR


def parse_icon_file(text: str) -> str:
    """A bundled icon name ('bicycle.png' or 'bicycle') or a readable image file -> its path."""
    name = text.strip()
    if not name:
        raise ValueError(f"give an icon file; bundled icons: {', '.join(bundled_icons())}")
    stem = name[:-4] if name.lower().endswith(".png") else name
    if "/" not in stem and "\\" not in stem and (ICONS_DIR / f"{stem}.png").is_file():
        return str(ICONS_DIR / f"{stem}.png")
    path = Path(name).expanduser()
    if not path.is_file():
        raise ValueError(f"no bundled icon and no file named {name!r}; bundled icons: {', '.join(bundled_icons())}")
    try:
        with Image.open(path) as im:
            im.verify()
    except (OSError, UnidentifiedImageError, SyntaxError):
        raise ValueError(f"{name!r} is not an image Pillow can read") from None
    return str(path.resolve())


@lru_cache(maxsize=64)
def load_icon(path: str, size: int, invert: bool) -> Image.Image:
    """The icon as RGBA, `size` px square (0: its own size), RGB inverted if asked (alpha kept)."""
    with Image.open(path) as im:
        im = im.convert("RGBA")
    if size > 0 and im.size != (size, size):
        im = im.convert("RGBa").resize((size, size), Image.Resampling.LANCZOS).convert("RGBA")
    if invert:
        r, g, b, a = im.split()
        im = Image.merge("RGBA", (ImageChops.invert(r), ImageChops.invert(g), ImageChops.invert(b), a))
    return im


@component("icon", (
    Attr("x", parse_number, 0.0),
    Attr("y", parse_number, 0.0),
    Attr("file", parse_icon_file, required=True),
    Attr("size", non_negative(parse_number), 64.0),  # 0: the image's own size (scaled with the layout)
    Attr("invert", parse_bool, True),
))
class Icon(Widget):
    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        a, scaling = self.a, ctx.scaling
        if a["size"] > 0:
            size = scaling.length(a["size"])
            self.image = load_icon(a["file"], size, a["invert"])
        else:
            own = load_icon(a["file"], 0, a["invert"])
            w, h = scaling.length(own.width), scaling.length(own.height)
            self.image = own if (w, h) == own.size else (
                own.convert("RGBa").resize((w, h), Image.Resampling.LANCZOS).convert("RGBA"))

    def parts(self):
        return [StaticImage(self.image, self.x, self.y)]
