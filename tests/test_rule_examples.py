"""Every rule's documented examples, run through the real engine (Fixit-style).

A must-trigger example states the exact lines of its findings; a must-not-trigger example
must produce none. The doc and the test are the same text.
"""

from __future__ import annotations

import pytest

from lambdalint.registry import all_rules


def _cases(kind: str):
    for rule in all_rules().values():
        examples = rule.INVALID if kind == "invalid" else rule.VALID
        for index, example in enumerate(examples):
            yield pytest.param(rule, example, id=f"{rule.id}-{kind}-{index}")


@pytest.mark.parametrize("rule,example", list(_cases("invalid")))
def test_must_trigger(lint, rule, example):
    files = {example.path: example.code, **example.files}
    found = lint(files, config=example.config, select=[rule.id])
    lines = [f.span.line for f in found if f.rule_id == rule.id and f.path == example.path]
    assert lines == list(example.lines), [f.message for f in found]


@pytest.mark.parametrize("rule,example", list(_cases("valid")))
def test_must_not_trigger(lint, rule, example):
    files = {example.path: example.code, **example.files}
    found = lint(files, config=example.config, select=[rule.id])
    assert [f for f in found if f.rule_id == rule.id] == []


@pytest.mark.parametrize("rule", list(all_rules().values()), ids=lambda r: r.id)
def test_rule_is_documented_and_has_examples(rule):
    doc = rule.doc()
    for section in ("## What it does", "## Why is this bad in Lambda", "## Example",
                    "## Use instead", "## Fix safety"):
        assert section in doc, f"{rule.id} doc lacks {section!r}"
    assert rule.INVALID, f"{rule.id} has no must-trigger example"
    assert rule.VALID, f"{rule.id} has no must-not-trigger example"
    assert all(example.lines for example in rule.INVALID)
    assert rule.name == rule.name.lower() and " " not in rule.name
