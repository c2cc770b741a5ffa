"""``--format github``: GitHub Actions workflow commands, one annotation per finding."""

from __future__ import annotations

from lambdalint.model import Severity
from lambdalint.report import RunResult

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: RunResult) -> str:
    lines = []
    for f in result.findings:
        properties = ",".join(
            [
                f"file={_escape_property(f.path)}",
                f"line={f.span.line}",
                f"col={f.span.column}",
                f"endLine={f.span.end_line}",
                f"endColumn={f.span.end_column}",
                f"title={_escape_property(f'{f.rule_id} {f.rule_name}')}",
            ]
        )
        message = f"{f.rule_id} {f.message}" + (f" (hint: {f.hint})" if f.hint else "")
        lines.append(f"::{_LEVEL[f.severity]} {properties}::{_escape_data(message)}")
    return "".join(line + "\n" for line in lines)
