"""Code rules: libcst visitors batched into one traversal per module (see
:class:`lambdalint.rule.Rule` for what every rule declares)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper

from lambdalint.model import Finding, Fix, Related, Severity, Span
from lambdalint.python.analysis import (
    FactCollector,
    FunctionInfo,
    LazyStructureMetadata,
    ModuleFacts,
    qualified_names,
    visitor_methods,
)
from lambdalint.rule import Rule


class PythonRule(LazyStructureMetadata, Rule, cst.BatchableCSTVisitor):
    """A rule over Python code. It is a libcst visitor; the engine batches every enabled rule
    into one traversal of the module and gives each the same :class:`ModuleFacts`.

    Per-node questions (which function am I in?) are answered during the traversal; module-wide
    ones (is that function a handler, or reached by one?) in :meth:`finish`, which the engine
    calls once the traversal is over.
    """

    #: No libcst provider: names are resolved by :class:`~lambdalint.python.names.ModuleNames`
    #: (:meth:`qualified_names`), positions and parents only when needed (:meth:`span_of`,
    #: :meth:`parent_of`), since most files yield no finding.
    METADATA_DEPENDENCIES = ()

    def __init__(self, context: "PythonContext") -> None:
        super().__init__()
        self.context = context
        self.facts: ModuleFacts = context.facts

    def get_visitors(self):  # type: ignore[override]
        return visitor_methods(self)

    # helpers for rules -------------------------------------------------------------------------

    @property
    def current_function(self) -> Optional[FunctionInfo]:
        return self.context.collector.current_function

    def qualified_names(self, node: cst.CSTNode) -> set:
        return qualified_names(node, self.get_metadata)

    def option(self, name: str) -> Any:
        return self.context.options.get(self.id, {}).get(name, self.options[name].default)

    def parent_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The parent of ``node`` (which must be inside the current or a given function)."""
        function = self.current_function
        return self.facts.parent_of(node, function.node if function else self.facts.module)

    def span_of(self, node: cst.CSTNode) -> Span:
        position = self.context.position_of(node)
        return Span(
            position.start.line,
            position.start.column + 1,
            position.end.line,
            position.end.column + 1,
        )

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        hint: Optional[str] = None,
        fix: Optional[Fix] = None,
        related: Sequence[Related] = (),
        severity: Optional[Severity] = None,
    ) -> None:
        """Report at ``node``; ``severity`` lowers or raises this one finding from the rule's
        default (a config override still wins)."""
        self.context.findings.append(
            Finding(
                path=self.facts.path,
                span=self.span_of(node),
                rule_id=self.id,
                rule_name=self.name,
                severity=severity if severity is not None else self.severity,
                message=message,
                hint=hint,
                fix=fix,
                related=tuple(related),
            )
        )

    def report_at(
        self,
        path: str,
        span: Span,
        message: str,
        *,
        hint: Optional[str] = None,
        related: Sequence[Related] = (),
    ) -> None:
        """Report in another file (the template line behind a code problem)."""
        self.context.findings.append(
            Finding(path, span, self.id, self.name, self.severity, message, hint=hint, related=tuple(related))
        )

    def finish(self) -> None:
        """Called after the traversal, when handler and reach facts are known."""


@dataclass
class PythonContext:
    """What the engine hands every Python rule for one module."""

    facts: ModuleFacts
    collector: FactCollector
    #: rule id -> that rule's options from the config
    options: Mapping[str, Mapping[str, Any]]
    wrapper: Optional[MetadataWrapper] = None
    findings: List[Finding] = field(default_factory=list)

    def position_of(self, node: cst.CSTNode):
        """libcst's CodeRange of ``node`` (see :meth:`ModuleFacts.position_of`)."""
        return self.facts.position_of(node)
