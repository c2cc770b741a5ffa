"""Which files to lint: walk the given paths, skip what never holds source, classify by kind."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, List

from lambdalint.config import Config

PYTHON_SUFFIXES = (".py",)
#: YAML/JSON files that may be CloudFormation/SAM or Serverless Framework templates (files that
#: turn out not to be templates are ignored silently by the loader)
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
TERRAFORM_SUFFIXES = (".tf",)
#: JSON/YAML files that are never templates, skipped without being read
NOT_TEMPLATES = frozenset({
    "package.json", "package-lock.json", "npm-shrinkwrap.json", "tsconfig.json",
    "jsconfig.json", "composer.json", "composer.lock", "bower.json", ".eslintrc.json",
    ".prettierrc.json", "pnpm-lock.yaml", "yarn.lock", ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml", "mkdocs.yml", "docker-compose.yml", "docker-compose.yaml",
    "compose.yml", "compose.yaml", ".gitlab-ci.yml", "codecov.yml", ".codecov.yml",
    "dependabot.yml", ".readthedocs.yaml", ".readthedocs.yml", "environment.yml",
    "Pipfile.lock", "cdk.json", "cdk.context.json", "renovate.json", "lerna.json",
    "launch.json", "settings.json", "extensions.json", "devcontainer.json",
    ".devcontainer.json", "manifest.json", "samconfig.yaml", "samconfig.yml",
})


class DiscoveryError(Exception):
    """A path the user named does not exist (the CLI exits with 2)."""


@dataclass(frozen=True, order=True)
class SourceFile:
    #: the path as shown in reports: relative to the working folder when inside it
    display_path: str
    path: Path
    kind: str  # "python", "template" (YAML/JSON) or "terraform"


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.absolute().relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


def kind_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in PYTHON_SUFFIXES:
        return "python"
    if suffix in TEMPLATE_SUFFIXES:
        return None if path.name in NOT_TEMPLATES else "template"
    if suffix in TERRAFORM_SUFFIXES:
        return "terraform"
    return None


def discover(paths: Iterable[Path], config: Config, cwd: Path | None = None) -> List[SourceFile]:
    """Every lintable file under ``paths``, once each, sorted by display path.

    Directory symlinks are not followed (no loops, no escaping the tree); excludes apply to
    files named explicitly too, so a pre-commit hook honours them.
    """
    cwd = (cwd or Path.cwd()).absolute()
    seen = set()
    found: List[SourceFile] = []
    for root in paths:
        if not os.path.lexists(root):
            raise DiscoveryError(f"{root}: no such file or directory")
        for path in _walk(root, config):
            kind = kind_of(path)
            if kind is None:
                continue
            key = os.path.normcase(os.path.abspath(path))
            if key in seen:
                continue
            seen.add(key)
            found.append(SourceFile(display_path(path, cwd), path, kind))
    found.sort()
    return found


def _walk(root: Path, config: Config) -> Iterator[Path]:
    if not root.is_dir():
        if not config.is_excluded(root):
            yield root
        return
    for folder, folders, files in os.walk(root, followlinks=False):
        folder_path = Path(folder)
        folders[:] = sorted(d for d in folders if not config.is_excluded(folder_path / d))
        for name in sorted(files):
            path = folder_path / name
            if kind_of(path) is not None and not config.is_excluded(path):
                yield path
