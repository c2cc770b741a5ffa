"""Shared helpers: lint snippets or whole folders through the real engine."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import pytest

from lambdalint.config import parse_config
from lambdalint.discovery import discover
from lambdalint.engine import Session, lint_files, sorted_findings
from lambdalint.model import Finding

SHARED = Path(__file__).resolve().parents[2] / "shared"


def write_tree(root: Path, files: Mapping[str, str]) -> None:
    """Write ``files`` (relative path -> text) under ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def lint_tree(
    root: Path,
    files: Mapping[str, str],
    *,
    config: Optional[Mapping] = None,
    select: Optional[Sequence[str]] = None,
    jobs: int = 1,
) -> List[Finding]:
    """Write ``files`` under ``root`` and lint the folder with ``config`` (a [tool.lambdalint]
    table) and, when given, only the ``select``ed rules."""
    write_tree(root, files)
    table: Dict = dict(config or {})
    if select is not None:
        table["select"] = list(select)
    parsed = parse_config(table, root=root)
    session = Session.create(parsed)
    found = discover([root], parsed, cwd=root)
    return sorted_findings(lint_files(session, found, jobs))


@pytest.fixture
def lint(tmp_path):
    def run(files: Mapping[str, str], **kwargs) -> List[Finding]:
        return lint_tree(tmp_path, files, **kwargs)

    return run


def shared_or_skip(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: ../shared is not beside this checkout")
    return path
