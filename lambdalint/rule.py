"""The shape of a rule: its public metadata, its documented examples, and how it reports.

Template rules need only this module. ``PythonRule`` and ``PythonContext`` are libcst visitors
and live in :mod:`lambdalint.python.rule`; they are importable from here too, but only load
libcst when asked for, so a run of template rules never imports it (a quarter of a second).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Sequence, Tuple

from lambdalint.model import Finding, Fix, FixSafety, Related, Severity, Span


def __getattr__(name: str) -> Any:
    if name in ("PythonRule", "PythonContext"):
        from lambdalint.python import rule as python_rule

        return getattr(python_rule, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Example:
    """A snippet from a rule's docs that the test suite runs.

    An example that must trigger lists the exact 1-based ``lines`` of the findings it yields,
    in order; one that must not trigger leaves ``lines`` empty.
    """

    code: str
    lines: Tuple[int, ...] = ()
    path: str = "app.py"
    #: a ``[tool.lambdalint]`` table to lint the example with
    config: Mapping[str, Any] = field(default_factory=dict)
    #: extra files of the same project (path -> text), for rules that read several files
    files: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Option:
    """A rule option that users set under ``[tool.lambdalint.options.<RULE>]``."""

    type: type
    default: Any
    help: str


class Rule:
    """Base of every rule. Subclasses set the class attributes and write a ruff-style doc."""

    id: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity] = Severity.WARNING
    fix_safety: ClassVar[Optional[FixSafety]] = None
    enabled_by_default: ClassVar[bool] = True
    options: ClassVar[Dict[str, Option]] = {}
    #: snippets that must trigger the rule / must not trigger it
    INVALID: ClassVar[Sequence[Example]] = ()
    VALID: ClassVar[Sequence[Example]] = ()

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        """The doc's first line: what the rule flags, in one sentence."""
        return cls.doc().splitlines()[0] if cls.__doc__ else cls.name


class TemplateRule(Rule):
    """A rule over the normalized template model (:mod:`lambdalint.iac.model`), written once
    for SAM/CloudFormation, Serverless Framework and Terraform.

    Examples are template files: ``Example(code, lines=(...), path="template.yaml")``.
    """

    def __init__(self, template, options: Mapping[str, Any]) -> None:
        self.template = template
        self._options = options
        self.findings: List[Finding] = []

    def option(self, name: str) -> Any:
        return self._options.get(name, self.options[name].default)

    def check(self) -> None:
        """Inspect ``self.template`` and :meth:`report` what is wrong."""
        raise NotImplementedError

    def report(
        self,
        span: Span,
        message: str,
        *,
        path: str = "",
        hint: Optional[str] = None,
        fix: Optional[Fix] = None,
        related: Sequence[Related] = (),
    ) -> None:
        """Report at ``span`` of ``path`` (default: the template's own file)."""
        self.findings.append(
            Finding(
                path=path or self.template.path,
                span=span,
                rule_id=self.id,
                rule_name=self.name,
                severity=self.severity,
                message=message,
                hint=hint,
                fix=fix,
                related=tuple(related),
            )
        )
