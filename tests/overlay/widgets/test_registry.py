"""The registry's table of where each component type lives, held against the widget modules."""
import importlib
import pkgutil
import subprocess
import sys

import overlay.widgets
from overlay.widgets import registry


def test_every_component_type_is_found_in_the_module_the_table_names():
    for info in pkgutil.iter_modules(overlay.widgets.__path__):
        importlib.import_module(f"overlay.widgets.{info.name}")
    registered = {name: t.widget.__module__.rsplit(".", 1)[1] for name, t in registry._TYPES.items()}
    assert registered == registry.MODULES


def test_a_layout_loads_only_the_widget_modules_it_uses():
    code = ("import sys\n"
            "from overlay.layout import load_layout\n"
            "from overlay.widgets.registry import MODULES\n"
            "load_layout('default')\n"
            "print(sorted(m for m in set(MODULES.values()) if 'overlay.widgets.' + m in sys.modules),"
            " 'overlay.maps' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["['circuit_map',", "'text']", "False"]


def test_looking_up_a_type_imports_its_module_and_unknown_names_stay_unknown():
    assert registry.lookup("compass-arrow").widget.__module__ == "overlay.widgets.compass_arrow"
    assert registry.lookup("no_such_widget") is None
    assert set(registry.known_types()) == set(registry.MODULES)
