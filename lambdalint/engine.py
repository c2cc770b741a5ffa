"""Run the enabled rules over files: one parse and one batched traversal per Python file,
many files in parallel, findings filtered by suppressions and sorted deterministically."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple, Type

import libcst as cst
from libcst.metadata import MetadataWrapper

from lambdalint.config import Config
from lambdalint.discovery import SourceFile
from lambdalint.model import Finding, Span
from lambdalint.python.analysis import FactCollector, ModuleFacts
from lambdalint.python.source import PythonSource, load_python
from lambdalint.registry import all_rules
from lambdalint.rule import PythonContext, PythonRule, Rule
from lambdalint.suppress import apply_noqa, noqa_lines

PARSE_ERROR = "LL001"

#: Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 16


@dataclass
class Session:
    """The config and rules of a run, prepared once per process."""

    config: Config
    enabled: Tuple[str, ...]
    python_rules: Tuple[Type[PythonRule], ...]

    @classmethod
    def create(cls, config: Config) -> "Session":
        rules = all_rules()
        enabled = tuple(config.enabled_rules())
        python_rules = tuple(
            rule for rule_id, rule in rules.items()
            if rule_id in enabled and issubclass(rule, PythonRule)
        )
        return cls(config, enabled, python_rules)

    def rule(self, rule_id: str) -> Type[Rule]:
        return all_rules()[rule_id]


def parse_error(path: str, span: Span, message: str) -> Finding:
    rule = all_rules()[PARSE_ERROR]
    return Finding(path, span, rule.id, rule.name, rule.severity, message)


def lint_source(session: Session, file: SourceFile, data: bytes) -> List[Finding]:
    """All findings for one file's content, after suppressions."""
    relative = session.config.relative(file.path)
    ignored = session.config.ignored_for(relative)
    if file.kind != "python":
        return []
    loaded = load_python(data)
    if not isinstance(loaded, PythonSource):
        findings = [parse_error(file.display_path, loaded.span, loaded.message)]
        text = ""
    else:
        findings = run_python_rules(session, file.display_path, relative, loaded)
        text = loaded.text
    return finalize(session, findings, text, ignored, relative)


def run_python_rules(
    session: Session, display_path: str, relative_path: str, source: PythonSource
) -> List[Finding]:
    facts = ModuleFacts(
        display_path, source.text, source.module, session.config.handlers, relative_path
    )
    collector = FactCollector(facts)
    wrapper = MetadataWrapper(source.module, unsafe_skip_copy=True)
    context = PythonContext(facts, collector, session.config.options, wrapper)
    rules = [rule_class(context) for rule_class in session.python_rules]
    visitors = [collector, *rules]
    # Resolve every provider once and keep it set after the traversal, so that rules can
    # still ask for positions in ``finish`` (``wrapper.visit_batched`` would clear it).
    metadata = wrapper.resolve_many(
        {provider for visitor in visitors for provider in visitor.get_inherited_dependencies()}
    )
    for visitor in visitors:
        visitor.metadata = metadata
    cst.visit_batched(wrapper.module, visitors)
    facts.finish()
    for rule in rules:
        rule.finish()
    return context.findings


def finalize(
    session: Session, findings: Sequence[Finding], text: str, ignored: set, relative_path: str
) -> List[Finding]:
    """Drop disabled and suppressed findings, apply severity overrides, fingerprint, sort."""
    kept = [f for f in findings if f.rule_id in session.enabled and f.rule_id not in ignored]
    kept = apply_noqa(kept, noqa_lines(text)) if text else kept
    overrides = session.config.severity
    kept = [
        replace(f, severity=overrides[f.rule_id]) if f.rule_id in overrides else f for f in kept
    ]
    return with_fingerprints(sorted(kept, key=lambda f: f.sort_key), text, relative_path)


def with_fingerprints(findings: Sequence[Finding], text: str, relative_path: str) -> List[Finding]:
    """Give each finding a fingerprint that survives lines moving: a hash of the rule, the
    file, the flagged line's text and how many earlier findings share all three."""
    lines = text.splitlines()
    seen: Counter = Counter()
    stamped = []
    for finding in findings:
        line_text = lines[finding.span.line - 1].strip() if 0 < finding.span.line <= len(lines) else ""
        key = (finding.rule_id, relative_path, line_text)
        occurrence = seen[key]
        seen[key] += 1
        digest = hashlib.sha256(
            "\0".join((*key, str(occurrence))).encode("utf-8", "surrogatepass")
        ).hexdigest()[:32]
        stamped.append(replace(finding, fingerprint=digest))
    return stamped


def lint_file(session: Session, file: SourceFile) -> List[Finding]:
    try:
        data = file.path.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        if file.path.is_dir():
            reason = "is a directory"
        return finalize(
            session,
            [parse_error(file.display_path, Span(1, 1, 1, 1), f"cannot read file: {reason}")],
            "",
            set(),
            session.config.relative(file.path),
        )
    return lint_source(session, file, data)


# -- parallel runs -------------------------------------------------------------------------------

_worker_session: Optional[Session] = None


def _init_worker(config: Config) -> None:
    global _worker_session
    _worker_session = Session.create(config)


def _lint_in_worker(file: SourceFile) -> List[Finding]:
    assert _worker_session is not None
    return lint_file(_worker_session, file)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def lint_files(
    session: Session, files: Sequence[SourceFile], jobs: Optional[int] = None
) -> Dict[str, List[Finding]]:
    """Findings per display path. The worker pool gets the config once per process (not once
    per file) and files in chunks; the result does not depend on ``jobs``."""
    jobs = jobs or default_jobs()
    if jobs <= 1 or len(files) < PARALLEL_THRESHOLD:
        return {file.display_path: lint_file(session, file) for file in files}
    chunksize = max(1, min(64, len(files) // (jobs * 8)))
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_init_worker, initargs=(session.config,)
    ) as pool:
        results = pool.map(_lint_in_worker, files, chunksize=chunksize)
        return {file.display_path: found for file, found in zip(files, results)}


def sorted_findings(per_file: Dict[str, List[Finding]]) -> List[Finding]:
    return sorted((f for found in per_file.values() for f in found), key=lambda f: f.sort_key)
