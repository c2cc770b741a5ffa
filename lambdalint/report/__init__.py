"""Reporters: one module per output format, each turning findings into text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Sequence

from lambdalint.model import Finding

FORMATS = ("text", "json", "sarif", "github")


@dataclass
class RunResult:
    """What a reporter needs to know about a finished run."""

    findings: Sequence[Finding]
    files_checked: int
    #: display path -> file text, for code frames (only files with findings)
    sources: Dict[str, str] = field(default_factory=dict)
    rule_ids: List[str] = field(default_factory=list)


def renderer(name: str) -> Callable[..., str]:
    """The render function of a format, imported only when used (rich is slow to import)."""
    if name == "text":
        from lambdalint.report.text import render
    elif name == "json":
        from lambdalint.report.json_report import render
    elif name == "sarif":
        from lambdalint.report.sarif import render
    elif name == "github":
        from lambdalint.report.github import render
    else:
        raise ValueError(f"unknown format {name!r}")
    return render
