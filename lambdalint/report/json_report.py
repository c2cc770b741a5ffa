"""``--format json``: the documented, versioned schema in ``lambdalint/schemas/report.schema.json``."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Dict

from lambdalint import __version__
from lambdalint.model import Finding, Span
from lambdalint.report import RunResult

SCHEMA_VERSION = "1.0"


def _region(span: Span) -> Dict[str, int]:
    return {
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
    }


def finding_to_dict(finding: Finding) -> Dict[str, Any]:
    fix = None
    if finding.fix is not None:
        fix = {
            "title": finding.fix.title,
            "safety": finding.fix.safety.value,
            "edits": [{**_region(edit.span), "content": edit.content} for edit in finding.fix.edits],
        }
    return {
        "path": finding.path,
        **_region(finding.span),
        "rule": finding.rule_id,
        "name": finding.rule_name,
        "severity": str(finding.severity),
        "message": finding.message,
        "hint": finding.hint,
        "fix": fix,
        "related": [
            {"path": r.path, **_region(r.span), "message": r.message} for r in finding.related
        ],
        "fingerprint": finding.fingerprint,
    }


def render(result: RunResult) -> str:
    by_severity = Counter(str(f.severity) for f in result.findings)
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "lambdalint", "version": __version__},
        "summary": {
            "files_checked": result.files_checked,
            "findings": len(result.findings),
            "by_severity": {level: by_severity.get(level, 0) for level in ("error", "warning", "info")},
        },
        "findings": [finding_to_dict(f) for f in result.findings],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
