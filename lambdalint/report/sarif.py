"""``--format sarif``: SARIF 2.1.0 for code scanning (rules with help, stable fingerprints)."""

from __future__ import annotations

import json
from typing import Any, Dict, List

from lambdalint import __version__
from lambdalint.model import Finding, Severity, Span
from lambdalint.registry import rule_class
from lambdalint.report import RunResult

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _artifact(path: str) -> Dict[str, str]:
    if path.startswith("/"):
        return {"uri": "file://" + path}
    return {"uri": path, "uriBaseId": "%SRCROOT%"}


def _region(span: Span) -> Dict[str, int]:
    return {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": span.end_line,
        "endColumn": max(span.end_column, 1),
    }


def _location(path: str, span: Span, message: str = "") -> Dict[str, Any]:
    location: Dict[str, Any] = {
        "physicalLocation": {"artifactLocation": _artifact(path), "region": _region(span)}
    }
    if message:
        location["message"] = {"text": message}
    return location


def _rule_descriptor(rule_id: str) -> Dict[str, Any]:
    rule = rule_class(rule_id)
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": rule.summary()},
        "help": {"text": rule.doc(), "markdown": rule.doc()},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "tags": ["aws-lambda"],
            "fixable": rule.fix_safety.value if rule.fix_safety else "none",
        },
    }


def _result(finding: Finding, rule_index: int) -> Dict[str, Any]:
    result: Dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message + (f" (hint: {finding.hint})" if finding.hint else "")},
        "locations": [_location(finding.path, finding.span)],
        "partialFingerprints": {"lambdalint/v1": finding.fingerprint},
    }
    if finding.related:
        result["relatedLocations"] = [
            {"id": index, **_location(r.path, r.span, r.message)}
            for index, r in enumerate(finding.related, start=1)
        ]
    if finding.fix is not None and finding.fix.edits:
        result["fixes"] = [
            {
                "description": {"text": f"{finding.fix.title} ({finding.fix.safety.value})"},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(finding.path),
                        "replacements": [
                            {
                                "deletedRegion": _region(edit.span),
                                "insertedContent": {"text": edit.content},
                            }
                            for edit in finding.fix.edits
                        ],
                    }
                ],
            }
        ]
    return result


def render(result: RunResult, *, automation_id: str = "") -> str:
    rule_ids: List[str] = sorted(set(result.rule_ids) | {f.rule_id for f in result.findings})
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    run: Dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "lambdalint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://pypi.org/project/lambdalint/",
                "rules": [_rule_descriptor(rule_id) for rule_id in rule_ids],
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule_id]) for f in result.findings],
    }
    if automation_id:
        run["automationDetails"] = {"id": automation_id}
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
