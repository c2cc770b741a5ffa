"""The values every stage shares: severities, locations, fixes and findings."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional, Tuple


class Severity(enum.IntEnum):
    """Ordered so that ``--fail-on`` can compare: a higher value is more serious."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {text!r} (expected one of: error, warning, info)"
            ) from None

    def __str__(self) -> str:
        return self.name.lower()


class FixSafety(enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Span:
    """A region of a file. Lines and columns are 1-based; the end column is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Related:
    """Another place that explains a finding (the template line behind a code finding)."""

    path: str
    span: Span
    message: str


@dataclass(frozen=True)
class Edit:
    """Replace ``span`` of the finding's file with ``content``."""

    span: Span
    content: str


@dataclass(frozen=True)
class Fix:
    title: str
    safety: FixSafety
    edits: Tuple[Edit, ...] = ()


@dataclass(frozen=True)
class Finding:
    path: str
    span: Span
    rule_id: str
    rule_name: str
    severity: Severity
    message: str
    hint: Optional[str] = None
    fix: Optional[Fix] = None
    related: Tuple[Related, ...] = field(default_factory=tuple)
    #: stable across line shifts: rule, path, the line's text and its occurrence (see engine)
    fingerprint: str = ""

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.span.line, self.span.column, self.rule_id, self.message)
