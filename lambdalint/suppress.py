"""Inline suppression: ``# noqa`` and ``# noqa: LL101, LL102`` on a finding's first line.

The same comment works in Python, YAML and HCL, which all use ``#`` comments.
"""

from __future__ import annotations

import re
from typing import Dict, FrozenSet, Iterable, List, Optional

from lambdalint.model import Finding

_NOQA = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+|\s+[A-Za-z]+[0-9]+)*))?",
    re.IGNORECASE,
)

#: ``None`` in the map means a bare ``# noqa``: every rule on that line.
NoqaMap = Dict[int, Optional[FrozenSet[str]]]


def noqa_lines(text: str) -> NoqaMap:
    """Line number -> the codes its ``# noqa`` names (``None`` for a bare one)."""
    if "noqa" not in text and "NOQA" not in text.upper():
        return {}
    found: NoqaMap = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _NOQA.search(line)
        if not match:
            continue
        codes = match.group("codes")
        found[number] = (
            frozenset(code.upper() for code in re.split(r"[\s,]+", codes) if code) if codes else None
        )
    return found


def apply_noqa(findings: Iterable[Finding], noqa: NoqaMap) -> List[Finding]:
    kept = []
    for finding in findings:
        if finding.span.line in noqa:
            codes = noqa[finding.span.line]
            if codes is None or finding.rule_id in codes:
                continue
        kept.append(finding)
    return kept
