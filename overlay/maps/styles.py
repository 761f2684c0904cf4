"""Tile sources ("map styles"): built-in providers and any {z}/{x}/{y} URL template.

`--map-style NAME` takes one of STYLES (case-insensitive; `thunderforest-VARIANT`
and `geoapify-VARIANT` pick other variants of those providers) or a URL
template with `{z}`, `{x}`, `{y}`, optionally `{s}` (subdomain a/b/c) and
`{apikey}`. Provider URLs and zoom limits are facts from the providers' docs.

API keys (Thunderforest, Geoapify, or any template with `{apikey}`), first found wins:
1. the `api_key` argument (`--map-api-key`),
2. the environment variable OVERDASH_MAP_API_KEY,
3. the user's config file, $XDG_CONFIG_HOME/overdash/config.json (default
   ~/.config/overdash/config.json):
       {"map_api_keys": {"thunderforest": "KEY", "geoapify": "KEY"}, "map_api_key": "KEY"}
   The per-provider key wins over the general `map_api_key`.
A key is only ever put into request URLs, never into cache paths or messages.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from overdash import InputError
from overdash.files import config_dir

ENV_KEY = "OVERDASH_MAP_API_KEY"


@dataclass(frozen=True)
class TileStyle:
    """Where tiles come from. `key` names the cache folder; `api_key` is never shown (repr=False)."""

    key: str
    template: str
    max_zoom: int = 19
    min_zoom: int = 0
    subdomains: tuple[str, ...] = ()
    attribution: str = ""
    needs_key: bool = False
    api_key: str | None = field(default=None, repr=False, compare=False)
    background: tuple[int, int, int] = (236, 232, 224)  # drawn where a tile is missing

    def url(self, z: int, x: int, y: int) -> str:
        s = self.subdomains[(x + y) % len(self.subdomains)] if self.subdomains else ""
        return (self.template.replace("{s}", s).replace("{z}", str(z)).replace("{x}", str(x))
                .replace("{y}", str(y)).replace("{apikey}", self.api_key or ""))

    def clamp_zoom(self, z: int) -> int:
        return max(self.min_zoom, min(self.max_zoom, z))


_OSM_ATTR = "© OpenStreetMap contributors"

# name -> (template, max zoom, subdomains, attribution, needs key)
STYLES: dict[str, tuple[str, int, tuple[str, ...], str, bool]] = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", 19, (), _OSM_ATTR, False),
    "cyclosm": ("https://{s}.tile-cyclosm.openstreetmap.fr/cyclosm/{z}/{x}/{y}.png", 20, ("a", "b", "c"),
                "CyclOSM, " + _OSM_ATTR, False),
    "opentopomap": ("https://{s}.tile.opentopomap.org/{z}/{x}/{y}.png", 17, ("a", "b", "c"),
                    "© OpenTopoMap (CC-BY-SA), " + _OSM_ATTR, False),
    "thunderforest": ("https://tile.thunderforest.com/{variant}/{z}/{x}/{y}.png?apikey={apikey}", 22, (),
                      "© Thunderforest, " + _OSM_ATTR, True),
    "geoapify": ("https://maps.geoapify.com/v1/tile/{variant}/{z}/{x}/{y}.png?apiKey={apikey}", 20, (),
                 "Powered by Geoapify, " + _OSM_ATTR, True),
}
ALIASES = {"openstreetmap": "osm", "mapnik": "osm", "osm-carto": "osm", "local": "osm",
           "topo": "opentopomap", "otm": "opentopomap"}
DEFAULT_VARIANT = {"thunderforest": "cycle", "geoapify": "osm-carto"}
DEFAULT_STYLE = "osm"
_VARIANT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def config_path() -> Path:
    return config_dir() / "config.json"


def _config_keys(provider: str) -> str | None:
    path = config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the config file: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: must hold a JSON object")
    keys = data.get("map_api_keys") or {}
    if isinstance(keys, dict) and isinstance(keys.get(provider), str) and keys[provider]:
        return keys[provider]
    general = data.get("map_api_key")
    return general if isinstance(general, str) and general else None


def api_key_for(provider: str, api_key: str | None = None) -> str | None:
    """The API key: argument, then $OVERDASH_MAP_API_KEY, then the config file (see module doc)."""
    if api_key:
        return api_key
    if os.environ.get(ENV_KEY):
        return os.environ[ENV_KEY]
    return _config_keys(provider)


def is_template(text: str) -> bool:
    return all(p in text for p in ("{z}", "{x}", "{y}"))


def resolve_style(spec: str | None = None, api_key: str | None = None) -> TileStyle:
    """The TileStyle for a `--map-style` value (name or URL template); InputError names the choices."""
    spec = (spec or DEFAULT_STYLE).strip()
    if is_template(spec):
        if not re.match(r"^(https?|file)://", spec):
            raise InputError(f"--map-style {spec!r}: a URL template must start with http://, https:// or file://")
        needs = "{apikey}" in spec
        key = api_key_for("custom", api_key) if needs else None
        if needs and not key:
            raise InputError(f"--map-style {spec!r} needs an API key: --map-api-key KEY, ${ENV_KEY}, "
                             f"or \"map_api_key\" in {config_path()}")
        digest = hashlib.sha1(spec.encode()).hexdigest()[:12]  # the template, never the key
        return TileStyle(f"custom-{digest}", spec, max_zoom=19, subdomains=("a", "b", "c") if "{s}" in spec else (),
                         attribution="", needs_key=needs, api_key=key)
    low = spec.lower()
    low = ALIASES.get(low, low)
    provider, _, variant = low.partition("-")
    if provider not in STYLES or (variant and provider not in DEFAULT_VARIANT):
        provider, variant = low, ""
    if provider not in STYLES:
        choices = ", ".join(sorted(STYLES)) + ", thunderforest-VARIANT, geoapify-VARIANT"
        raise InputError(f"--map-style {spec!r}: unknown map style; valid choices: {choices}, "
                         f"or a URL template with {{z}}/{{x}}/{{y}}")
    template, max_zoom, subs, attribution, needs = STYLES[provider]
    if provider in DEFAULT_VARIANT:
        variant = variant or DEFAULT_VARIANT[provider]
        if not _VARIANT.match(variant):
            raise InputError(f"--map-style {spec!r}: bad variant {variant!r}")
        template = template.replace("{variant}", variant)
        name = f"{provider}-{variant}"
    else:
        name = provider
    key = api_key_for(provider, api_key) if needs else None
    if needs and not key:
        raise InputError(f"--map-style {spec}: {provider} needs an API key: --map-api-key KEY, ${ENV_KEY}, "
                         f"or {{\"map_api_keys\": {{\"{provider}\": \"KEY\"}}}} in {config_path()}")
    return TileStyle(name, template, max_zoom=max_zoom, subdomains=subs, attribution=attribution,
                     needs_key=needs, api_key=key)
