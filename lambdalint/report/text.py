"""The default report: ``path:line:col: RULE name message``, a code frame and the hint.

Colour (through rich) only when asked for: the CLI enables it for a terminal without
``NO_COLOR``; pipes, files and CI logs get plain text with the same characters.
"""

from __future__ import annotations

import io
from collections import Counter
from functools import lru_cache
from typing import List, Tuple

from lambdalint.model import Finding, FixSafety, Severity
from lambdalint.report import RunResult

#: a styled piece of a line: (text, rich style or "")
Segment = Tuple[str, str]

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold blue"}
_FIX_MARK = {FixSafety.SAFE: "[*]", FixSafety.UNSAFE: "[~]"}


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word}{'es' if word.endswith(('x', 's')) else 's'}"


@lru_cache(maxsize=8)
def _lines_of(source: str) -> Tuple[str, ...]:
    """A file's lines, split once for all of its findings (not once per finding)."""
    return tuple(source.splitlines())


def _frame(finding: Finding, source: str) -> List[List[Segment]]:
    lines = _lines_of(source)
    if not 1 <= finding.span.line <= len(lines):
        return []
    text = lines[finding.span.line - 1].expandtabs(1)
    number = str(finding.span.line)
    gutter = " " * len(number)
    start = max(finding.span.column - 1, 0)
    if finding.span.end_line == finding.span.line:
        end = max(finding.span.end_column - 1, start + 1)
    else:
        end = max(len(text.rstrip()), start + 1)
    marker = " " * start + "^" * (end - start)
    return [
        [(f" {gutter} |", "blue")],
        [(f" {number} | ", "blue"), (text, "")],
        [(f" {gutter} | ", "blue"), (marker, _SEVERITY_STYLE[finding.severity])],
    ]


def _finding_lines(finding: Finding, source: str) -> List[List[Segment]]:
    head: List[Segment] = [
        (f"{finding.path}:{finding.span.line}:{finding.span.column}:", "bold"),
        (" ", ""),
        (finding.rule_id, _SEVERITY_STYLE[finding.severity]),
    ]
    if finding.fix is not None:
        head.append((" " + _FIX_MARK[finding.fix.safety], "cyan"))
    head += [(f" {finding.rule_name}", "dim"), (f" {finding.message}", "")]
    lines = [head]
    if source:
        lines += _frame(finding, source)
    for related in finding.related:
        lines.append(
            [("  = related: ", "blue"), (f"{related.path}:{related.span.line}:{related.span.column}: ", "bold"), (related.message, "")]
        )
    if finding.hint:
        lines.append([("  = hint: ", "cyan"), (finding.hint, "")])
    return lines


def _summary(result: RunResult, fixed: int) -> List[List[Segment]]:
    findings = result.findings
    checked = _plural(result.files_checked, "file")
    prefix: List[List[Segment]] = [[(f"Fixed {_plural(fixed, 'finding')}.", "bold green")]] if fixed else []
    if not findings:
        return prefix + [[(f"All checks passed ({checked} checked).", "bold green")]]
    by_severity = Counter(f.severity for f in findings)
    parts = [
        _plural(by_severity[level], str(level))
        for level in (Severity.ERROR, Severity.WARNING, Severity.INFO)
        if by_severity[level]
    ]
    files = len({f.path for f in findings})
    lines = [[(
        f"Found {_plural(len(findings), 'finding')} ({', '.join(parts)}) in "
        f"{_plural(files, 'file')}; {checked} checked.",
        "bold",
    )]]
    safe = sum(1 for f in findings if f.fix and f.fix.safety is FixSafety.SAFE)
    unsafe = sum(1 for f in findings if f.fix and f.fix.safety is FixSafety.UNSAFE)
    if safe:
        lines.append([(f"[*] {_plural(safe, 'fix')} available with `--fix`.", "cyan")])
    if unsafe:
        lines.append([(f"[~] {_plural(unsafe, 'more fix')} available with `--fix --unsafe-fixes`.", "cyan")])
    return prefix + lines


def _statistics(result: RunResult) -> List[List[Segment]]:
    counts = Counter((f.rule_id, f.rule_name) for f in result.findings)
    safe = {f.rule_id for f in result.findings if f.fix and f.fix.safety is FixSafety.SAFE}
    unsafe = {f.rule_id for f in result.findings if f.fix and f.fix.safety is FixSafety.UNSAFE}
    width = max((len(str(c)) for c in counts.values()), default=1)
    rows = []
    for (rule_id, name), count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        mark = "[*]" if rule_id in safe else "[~]" if rule_id in unsafe else "   "
        rows.append([(f"{count:>{width}}", "bold"), (f"\t{rule_id}\t", ""), (f"{mark} {name}", "")])
    return rows


def render(result: RunResult, *, color: bool = False, statistics: bool = False, fixed: int = 0) -> str:
    blocks: List[List[List[Segment]]] = []
    if statistics:
        blocks.append(_statistics(result))
    else:
        for finding in result.findings:
            blocks.append(_finding_lines(finding, result.sources.get(finding.path, "")))
    blocks.append(_summary(result, fixed))
    lines: List[List[Segment]] = []
    for index, block in enumerate(blocks):
        if index and not statistics:
            lines.append([])
        lines.extend(block)
    if not color:
        return "".join("".join(text for text, _ in line) + "\n" for line in lines)
    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="standard", width=10_000,
                      highlight=False, soft_wrap=True)
    for line in lines:
        console.print(Text.assemble(*line))
    return buffer.getvalue()
