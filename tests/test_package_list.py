"""Every package of the source tree is in the wheel.

setuptools installs only the packages ``[tool.setuptools] packages`` lists; an editable
install hides a missing one (it serves the source folder), a wheel does not. lambdalint.iac
was missing once: every template rule then failed to import in a real install.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_lambdalint_package_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    source = ROOT / "lambdalint"
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in source.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found - listed == set()
