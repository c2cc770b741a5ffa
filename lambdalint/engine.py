"""Run the enabled rules over files: one parse and one batched traversal per Python file, one
model per template (a YAML/JSON file, or the .tf files of one Terraform folder), many work
items in parallel, findings filtered by suppressions and sorted deterministically."""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Type, Union

from lambdalint import cache
from lambdalint.cache import ResultCache
from lambdalint.config import Config
from lambdalint.discovery import SourceFile, display_path
from lambdalint.iac.model import Template
from lambdalint.model import Finding, Related, Span
from lambdalint.project import (
    LinkCandidate,
    LinkedFunction,
    MissingHandler,
    ProjectLinks,
    inline_code_links,
    link_candidates,
    normalized,
    resolve_links,
)
from lambdalint.registry import catalog, rule_class
from lambdalint.suppress import apply_noqa, noqa_lines

if TYPE_CHECKING:
    from lambdalint.python.entries import CrossEntry
    from lambdalint.python.source import PythonSource
    from lambdalint.rule import PythonRule, Rule, TemplateRule

# libcst, the Python analysis and the rule modules are imported where a file is linted, not
# here: a run whose every file is in the cache never needs them (a third of a second).

PARSE_ERROR = "LL001"
HANDLER_NOT_FOUND = "LL401"

log = logging.getLogger("lambdalint.engine")

#: Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 16

#: How many times a helper module may be linted again because another module's handlers call
#: into it (a handler's helper, that helper's helper, ...): the hops followed across modules.
MAX_HOPS = 4


class Session:
    """The config and rules of a run, prepared once per process. Rule classes are imported on
    first use, so a run answered from the cache imports none."""

    def __init__(
        self,
        config: Config,
        enabled: Tuple[str, ...],
        python_rules: Optional[Tuple[Type["PythonRule"], ...]] = None,
        template_rules: Optional[Tuple[Type["TemplateRule"], ...]] = None,
        cache: Optional[ResultCache] = None,
    ) -> None:
        self.config = config
        self.enabled = enabled
        self._python_rules = python_rules
        self._template_rules = template_rules
        self.cache = cache

    @classmethod
    def create(cls, config: Config) -> "Session":
        cache = ResultCache(config.cache_root, config.fingerprint()) if config.cache_root else None
        return cls(config, tuple(config.enabled_rules()), cache=cache)

    def _enabled_of_kind(self, kind: str) -> List[str]:
        rules = catalog()
        return [rule_id for rule_id in self.enabled if rule_id in rules and rules[rule_id].kind == kind]

    @property
    def python_rules(self) -> Tuple[Type["PythonRule"], ...]:
        if self._python_rules is None:
            self._python_rules = tuple(rule_class(rule_id) for rule_id in self._enabled_of_kind("python"))
        return self._python_rules

    @property
    def template_rules(self) -> Tuple[Type["TemplateRule"], ...]:
        if self._template_rules is None:
            self._template_rules = tuple(rule_class(rule_id) for rule_id in self._enabled_of_kind("template"))
        return self._template_rules

    @property
    def has_python_rules(self) -> bool:
        """Whether a code rule is enabled (without importing any)."""
        return bool(self._python_rules) if self._python_rules is not None else bool(self._enabled_of_kind("python"))

    @property
    def has_template_rules(self) -> bool:
        return bool(self._template_rules) if self._template_rules is not None else bool(self._enabled_of_kind("template"))

    def rule(self, rule_id: str) -> Type["Rule"]:
        return rule_class(rule_id)


def parse_error(path: str, span: Span, message: str) -> Finding:
    rule = rule_class(PARSE_ERROR)
    return Finding(path, span, rule.id, rule.name, rule.severity, message)


def lint_source(
    session: Session,
    file: SourceFile,
    data: bytes,
    links: Sequence[LinkedFunction] = (),
    entries: Sequence["CrossEntry"] = (),
    exports: Optional[List["CrossEntry"]] = None,
) -> List[Finding]:
    """All findings for one file's content, after suppressions. ``links`` are the template
    functions whose handler is in this (Python) file; ``entries`` the functions of it that
    other modules' handlers call per invocation. When ``exports`` is a list, it receives this
    module's own per-invocation calls into other modules (lambdalint.python.crossmodule)."""
    if file.kind == "template":
        return lint_template(session, file, data)
    if file.kind == "terraform":
        return lint_terraform(session, [(file, data)]).get(file.display_path, [])
    from lambdalint.python.source import PythonSource, load_python

    relative = session.config.relative(file.path)
    ignored = session.config.ignored_for(relative)
    if file.kind != "python":
        return []
    loaded = load_python(data)
    if not isinstance(loaded, PythonSource):
        findings = [parse_error(file.display_path, loaded.span, loaded.message)]
        text = ""
    else:
        findings = run_python_rules(
            session, file.display_path, relative, loaded, links, entries, exports, normalized(file.path)
        )
        text = loaded.text
    own = [f for f in findings if f.path == file.display_path]
    return finalize(session, own, text, ignored, relative) + finalize_elsewhere(
        session, [f for f in findings if f.path != file.display_path]
    )


# -- templates -----------------------------------------------------------------------------------


def _text_of(data: bytes) -> str:
    return data.decode("utf-8-sig", "replace")


def lint_template(session: Session, file: SourceFile, data: bytes) -> List[Finding]:
    """A YAML/JSON file: a CloudFormation/SAM or Serverless template, or nothing to say."""
    findings, candidates = load_and_lint_template(session, file, data)
    return findings + missing_handler_findings(session, resolve_links(candidates)[1])


def load_and_lint_template(
    session: Session, file: SourceFile, data: bytes
) -> Tuple[List[Finding], List[LinkCandidate]]:
    """The findings of a YAML/JSON file, and the link candidates of the template it holds."""
    from lambdalint.iac.load import TemplateLoadError, load_template_file

    if not _reads_templates(session):
        return [], []
    relative = session.config.relative(file.path)
    ignored = session.config.ignored_for(relative)
    loaded = load_template_file(file.display_path, data, file.path.parent)
    if loaded is None:
        return [], []
    text = _text_of(data)
    if isinstance(loaded, TemplateLoadError):
        findings = [parse_error(file.display_path, loaded.span, loaded.message)]
        return finalize(session, findings, text, ignored, relative), []
    loaded.texts[file.display_path] = text
    candidates = link_candidates(loaded, file.path)
    findings = run_template_rules(session, loaded) + lint_inline_code(session, loaded, text, relative)
    kept = [f for f in findings if f.path != loaded.path or f.rule_id not in loaded.suppressed_at(f.span.line)]
    own = [f for f in kept if f.path == file.display_path]
    # a rule reporting on another file (it should not, for a one-file template) keeps its finding
    others = [f for f in kept if f.path != file.display_path]
    return finalize(session, own, text, ignored, relative) + finalize(session, others, "", set(), relative), candidates


def lint_inline_code(session: Session, template: Template, text: str, relative: str) -> List[Finding]:
    """Lint the Python that a template holds (SAM ``InlineCode``, ``Code.ZipFile``) with the
    code rules, as the module of its function, and report at the template's own lines. Only
    literal block scalars (``|``) keep a line-for-line layout; other forms are skipped."""
    if not session.has_python_rules and PARSE_ERROR not in session.enabled:
        return []
    inline = inline_code_links(template)
    if not inline:
        return []  # most templates: no need for libcst
    from lambdalint.python.source import PythonSource, load_python

    lines = text.splitlines()
    findings: List[Finding] = []
    for function, link in inline:
        code = function.inline_code
        if (function.path or template.path) != template.path or not 0 < code.span.line <= len(lines):
            continue
        if not lines[code.span.line - 1][code.span.column - 1:].startswith("|"):
            continue
        content = [line for line in lines[code.span.line:code.span.end_line] if line.strip()]
        indent = len(content[0]) - len(content[0].lstrip()) if content else 0
        virtual = f"{template.path}#{function.logical_id}"

        def moved(span: Span) -> Span:
            return Span(span.line + code.span.line, span.column + indent, span.end_line + code.span.line, span.end_column + indent)

        loaded = load_python(code.value.encode("utf-8"))
        if not isinstance(loaded, PythonSource):
            raw = [parse_error(virtual, loaded.span, f"inline code of `{function.logical_id}`: {loaded.message}")]
        else:
            raw = run_python_rules(session, virtual, f"{relative}#{function.logical_id}", loaded, (link,))
        for finding in raw:
            if finding.path != virtual:
                findings.append(finding)  # already at a template line (LL401)
                continue
            related = tuple(replace(r, path=template.path, span=moved(r.span)) if r.path == virtual else r for r in finding.related)
            # fixes would need their edits moved into the YAML block too: not offered here
            findings.append(replace(finding, path=template.path, span=moved(finding.span), fix=None, related=related))
    return findings


def _reads_templates(session: Session) -> bool:
    """Whether templates matter to this run: for their own rules, for LL001, and for the code
    rules, whose handlers, triggers and environment come from the templates."""
    return session.has_template_rules or session.has_python_rules or PARSE_ERROR in session.enabled


def missing_handler_findings(session: Session, missing: Sequence[MissingHandler]) -> List[Finding]:
    """LL401 for handlers whose Python module or code folder does not exist, finalized with
    their template's own ``# noqa`` comments and Metadata suppressions."""
    if HANDLER_NOT_FOUND not in session.enabled or not missing:
        return []
    rule = rule_class(HANDLER_NOT_FOUND)
    findings = [
        Finding(m.link.template_path, m.link.handler_span, rule.id, rule.name, rule.severity, m.message, hint=m.hint)
        for m in missing
        if rule.id not in m.suppressed
    ]
    return finalize_elsewhere(session, findings)


def finalize_elsewhere(session: Session, findings: Sequence[Finding]) -> List[Finding]:
    """Finalize findings that a file's rules report in another file (LL401 in a template),
    with that file's own ``# noqa`` comments."""
    by_path: Dict[str, List[Finding]] = defaultdict(list)
    for finding in findings:
        by_path[finding.path].append(finding)
    kept: List[Finding] = []
    for path, group in by_path.items():
        try:
            text = _text_of(Path(path).read_bytes())
        except OSError:
            text = ""
        relative = session.config.relative(Path(path))
        kept.extend(finalize(session, group, text, session.config.ignored_for(relative), relative))
    return kept


def run_template_rules(session: Session, template) -> List[Finding]:
    findings: List[Finding] = []
    for rule_type in session.template_rules:
        rule = rule_type(template, session.config.options.get(rule_type.id, {}))
        rule.check()
        findings.extend(rule.findings)
    return findings


def _load_terraform_module():
    """``lambdalint.iac.terraform.load_terraform``, or None while that loader does not exist."""
    try:
        from lambdalint.iac.terraform import load_terraform
    except ImportError as error:  # pragma: no cover - only before the Terraform loader lands
        log.debug("Terraform support unavailable: %s", error)
        return None
    return load_terraform


def lint_terraform(
    session: Session, files: Sequence[Tuple[SourceFile, bytes]]
) -> Dict[str, List[Finding]]:
    """The .tf files of one folder (one module): findings per file, each file's own noqa."""
    per_file, candidates = load_and_lint_terraform(session, files)
    for finding in missing_handler_findings(session, resolve_links(candidates)[1]):
        per_file.setdefault(finding.path, []).append(finding)
    return per_file


def load_and_lint_terraform(
    session: Session, files: Sequence[Tuple[SourceFile, bytes]]
) -> Tuple[Dict[str, List[Finding]], List[LinkCandidate]]:
    """Findings per file of one Terraform module, and the link candidates of its functions."""
    per_file: Dict[str, List[Finding]] = {file.display_path: [] for file, _ in files}
    if not _reads_templates(session):
        return per_file, []
    load_terraform = _load_terraform_module()
    if load_terraform is None or not files:
        return per_file, []
    by_path = {file.display_path: (file, data) for file, data in files}
    # the module is the whole folder: files not being linted (pre-commit passes only the
    # changed ones; stdin replaces one) still define roles, invoke configs, notifications...
    module = [(file.display_path, data) for file, data in files] + _module_siblings(session, files)
    template, errors = load_terraform(module)
    raw: Dict[str, List[Finding]] = defaultdict(list)
    for path, span, message in errors:
        raw[path].append(parse_error(path, span, message))
    siblings = {path for path, _ in module} - set(by_path)
    candidates: List[LinkCandidate] = []
    if template is not None:
        template.texts.update((path, _text_of(data)) for path, data in module)
        candidates = link_candidates(template, files[0][0].path)
        for finding in run_template_rules(session, template):
            if finding.rule_id in template.suppressed_at(finding.span.line) and finding.path == template.path:
                continue
            raw[finding.path].append(finding)
    for path, findings in raw.items():
        if path in by_path:
            file, data = by_path[path]
            relative = session.config.relative(file.path)
            per_file[path] = finalize(
                session, findings, _text_of(data), session.config.ignored_for(relative), relative
            )
        elif path not in siblings:  # a path the loader named that is not a file: keep it
            per_file.setdefault(path, []).extend(finalize(session, findings, "", set(), path))
        # findings in sibling files are theirs: reported when those files are linted
    return per_file, candidates


def _module_siblings(session: Session, files: Sequence[Tuple[SourceFile, bytes]]) -> List[Tuple[str, bytes]]:
    """The other .tf files of the folder of ``files`` (not excluded), as (display path, data)."""
    if not files:
        return []
    first = files[0][0]
    folder = first.path.parent
    linted = {os.path.normcase(os.path.abspath(file.path)) for file, _ in files}
    display_folder = posixpath.dirname(first.display_path)
    found = []
    try:
        candidates = sorted(folder.glob("*.tf"))
    except OSError:
        return []
    for path in candidates:
        if os.path.normcase(os.path.abspath(path)) in linted or session.config.is_excluded(path):
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        found.append((posixpath.join(display_folder, path.name), data))
    return found


def run_python_rules(
    session: Session,
    display_path: str,
    relative_path: str,
    source: PythonSource,
    links: Sequence[LinkedFunction] = (),
    entries: Sequence["CrossEntry"] = (),
    exports: Optional[List["CrossEntry"]] = None,
    module_file: str = "",
) -> List[Finding]:
    import libcst as cst
    from libcst.metadata import MetadataWrapper

    from lambdalint.python.analysis import FactCollector, ModuleFacts
    from lambdalint.python.crossmodule import collector_for, exported
    from lambdalint.python.entries import code_roots
    from lambdalint.rule import PythonContext

    facts = ModuleFacts(
        display_path, source.text, source.module, session.config.handlers, relative_path, links, entries
    )
    collector = FactCollector(facts)
    if exports is not None and module_file:
        collector_for(collector)
    wrapper = MetadataWrapper(source.module, unsafe_skip_copy=True)
    facts.wrapper = wrapper
    context = PythonContext(facts, collector, session.config.options, wrapper)
    rules = [rule_type(context) for rule_type in session.python_rules]
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
    if exports is not None and module_file:
        roots = code_roots(module_file, links, os.path.exists)
        exports.extend(exported(facts, collector, module_file, roots))
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


def _read(session: Session, file: SourceFile) -> Union[bytes, List[Finding]]:
    """The file's bytes, or the LL001 finding that says why it cannot be read."""
    try:
        return file.path.read_bytes()
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


def lint_file(session: Session, file: SourceFile, links: Sequence[LinkedFunction] = ()) -> List[Finding]:
    data = _read(session, file)
    if isinstance(data, list):
        return data
    return lint_source(session, file, data, links)


#: A unit of work: one file, or the .tf files of one folder (a Terraform module).
WorkItem = Tuple[SourceFile, ...]


def work_items(files: Iterable[SourceFile]) -> List[WorkItem]:
    """One item per file, except Terraform: one item per folder of .tf files."""
    items: List[List[SourceFile]] = []
    modules: Dict[str, List[SourceFile]] = {}
    for file in files:
        if file.kind != "terraform":
            items.append([file])
            continue
        folder = os.path.dirname(os.path.abspath(file.path))
        module = modules.get(folder)
        if module is None:
            module = modules[folder] = []
            items.append(module)  # at its first file's place: the order stays deterministic
        module.append(file)
    return [tuple(item) for item in items]


@dataclass
class ItemResult:
    """What linting one work item yields: findings per file, and for templates the link
    candidates of their functions."""

    per_file: Dict[str, List[Finding]]
    candidates: List[LinkCandidate] = field(default_factory=list)
    #: a Python module's per-invocation calls into other modules (unresolved)
    exports: List["CrossEntry"] = field(default_factory=list)


def lint_template_item(session: Session, item: WorkItem) -> ItemResult:
    """Phase 1: a template file or Terraform module, with the links of its functions."""
    per_file: Dict[str, List[Finding]] = {}
    readable = []
    for file in item:
        data = _read(session, file)
        if isinstance(data, list):
            per_file[file.display_path] = data
        else:
            readable.append((file, data))
    candidates: List[LinkCandidate] = []
    if item[0].kind == "terraform":
        found, candidates = load_and_lint_terraform(session, readable)
        for path, findings in found.items():
            per_file.setdefault(path, []).extend(findings)
    elif readable:
        file, data = readable[0]
        per_file[file.display_path], candidates = load_and_lint_template(session, file, data)
    return ItemResult(per_file, candidates)


def cached_result(
    session: Session, item: WorkItem, links: Sequence[LinkedFunction] = (), entries: Sequence["CrossEntry"] = ()
) -> Optional[ItemResult]:
    """The item's result from the cache, or None (no cache, a miss, or an entry of another shape)."""
    if session.cache is None:
        return None
    key, _ = _cache_key(session, item, links, entries)
    return _cache_entry(session, key)


def _cache_entry(session: Session, key: Optional[str]) -> Optional[ItemResult]:
    cached = session.cache.get(key) if key is not None and session.cache is not None else None
    if cached is None:
        return None
    try:
        exports = cached["exports"]
        if exports:
            from lambdalint.python.entries import entry_from

            exports = [entry_from(e) for e in exports]
        return ItemResult(
            {path: [cache.finding_from(f) for f in found] for path, found in cached["per_file"].items()},
            [cache.candidate_from(c) for c in cached["candidates"]],
            list(exports),
        )
    except (KeyError, TypeError, ValueError):
        return None  # an entry of another shape: recompute it


def lint_item(
    session: Session, item: WorkItem, links: Sequence[LinkedFunction] = (), entries: Sequence["CrossEntry"] = ()
) -> ItemResult:
    """Lint one work item, through the result cache when the run has one."""
    key, contents = _cache_key(session, item, links, entries) if session.cache is not None else (None, None)
    hit = _cache_entry(session, key)
    if hit is not None:
        return hit
    if item[0].kind in TEMPLATE_KINDS:
        result = lint_template_item(session, item)
    else:
        exports: List["CrossEntry"] = []
        if contents is None:  # not read for a key yet
            contents = _read(session, item[0])
        if isinstance(contents, list):
            result = ItemResult({item[0].display_path: contents})
        else:
            found = lint_source(session, item[0], contents, links, entries, exports)
            result = ItemResult({item[0].display_path: found}, [], exports)
    if key is not None:
        data = {
            "per_file": {path: [cache.finding_data(f) for f in found] for path, found in result.per_file.items()},
            "candidates": [cache.candidate_data(c) for c in result.candidates],
            "exports": [],
        }
        if result.exports:
            from lambdalint.python.entries import entry_data

            data["exports"] = [entry_data(e) for e in result.exports]
        session.cache.put(key, data)
    return result


def _cache_key(
    session: Session, item: WorkItem, links: Sequence[LinkedFunction], entries: Sequence["CrossEntry"] = ()
) -> Tuple[Optional[str], Optional[bytes]]:
    """What the item's findings depend on: its files (for Terraform, the folder's other .tf
    files too) and, for Python, the linked template facts; and the content of a one-file
    item. (None, None) when a file cannot be read."""
    import json

    parts: List[bytes] = []
    readable = []
    for file in item:
        try:
            data = file.path.read_bytes()
        except OSError:
            return None, None
        readable.append((file, data))
        parts += [file.kind.encode(), file.display_path.encode(), data]
    if item[0].kind == "terraform":
        for path, data in _module_siblings(session, readable):
            parts += [path.encode(), data]
    if links:
        parts.append(json.dumps([cache.link_data(link) for link in links], sort_keys=True).encode())
    if entries:
        from lambdalint.python.entries import entry_data

        # what the handlers of other modules pass in: a change there re-checks this helper
        parts.append(b"entries")
        parts.append(json.dumps([entry_data(entry) for entry in entries], sort_keys=True).encode())
    return session.cache.key(parts), readable[0][1] if len(readable) == 1 else None


TEMPLATE_KINDS = ("template", "terraform")


# -- parallel runs -------------------------------------------------------------------------------

_worker_session: Optional[Session] = None


def _init_worker(config: Config) -> None:
    global _worker_session
    _worker_session = Session.create(config)


def _lint_in_worker(job: Tuple[WorkItem, Tuple[LinkedFunction, ...], Tuple["CrossEntry", ...]]) -> ItemResult:
    assert _worker_session is not None
    item, links, entries = job
    return lint_item(_worker_session, item, links, entries)


class _Runner:
    """Runs work items and yields their results in order: cache hits are answered in this
    process, and only the misses go to a process pool, started on first need (a rerun with
    nothing changed starts none) and shared by both phases."""

    def __init__(self, session: Session, jobs: int) -> None:
        self.session = session
        self.jobs = jobs
        self.pool = None

    def map(self, work: Sequence[Tuple[WorkItem, Tuple[LinkedFunction, ...], Tuple["CrossEntry", ...]]]) -> Iterator[ItemResult]:
        """``work``: (item, links, entries) triples."""
        hits: Dict[int, ItemResult] = {}
        misses = []
        for index, (item, links, entries) in enumerate(work):
            hit = cached_result(self.session, item, links, entries)
            if hit is None:
                misses.append((item, links, entries))
            else:
                hits[index] = hit
        computed: Iterator[ItemResult]
        if self.jobs > 1 and len(misses) >= PARALLEL_THRESHOLD:
            computed = iter(self._pool().map(_lint_in_worker, misses, chunksize=_chunk(misses, self.jobs)))
        else:
            computed = (lint_item(self.session, item, links, entries) for item, links, entries in misses)
        for index in range(len(work)):
            yield hits.pop(index) if index in hits else next(computed)

    def _pool(self):
        if self.pool is None:
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_init_worker, initargs=(self.session.config,))
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Shard:
    """``--shard K/N``: this run reports the K-th of N deterministic parts of the files."""

    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        index, slash, count = text.partition("/")
        if not slash or not index.isdigit() or not count.isdigit() or not 1 <= int(index) <= int(count):
            raise ValueError(f"--shard takes K/N with 1 <= K <= N, got {text!r}")
        return cls(int(index), int(count))

    def owns(self, group: str) -> bool:
        digest = hashlib.sha256(group.encode("utf-8", "surrogatepass")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1


def _group_of_template(item: WorkItem) -> str:
    return item[0].display_path if item[0].kind != "terraform" else posixpath.dirname(item[0].display_path)


def _group_of_python(item: WorkItem, links: Sequence[LinkedFunction], groups: Dict[str, str]) -> str:
    """A linked file goes with its (first) template, so cross-file findings stay together;
    any other file with its folder."""
    for link in sorted(links, key=lambda l: l.template_path):
        if link.template_path in groups:
            return groups[link.template_path]
    return posixpath.dirname(item[0].display_path)


def lint_files(
    session: Session,
    files: Sequence[SourceFile],
    jobs: Optional[int] = None,
    shard: Optional[Shard] = None,
    context: Sequence[SourceFile] = (),
) -> Dict[str, List[Finding]]:
    """Findings per display path, in two phases: templates first (their findings and the
    links of their functions to Python files), then Python files with their links; modules
    that other modules of the run import are linted after their importers, with the
    functions those call per invocation as entries (lambdalint.python.crossmodule). The
    worker pool gets the config once per process (not once per file) and work items in
    chunks; the result does not depend on ``jobs``.

    With a ``shard``, every template is still read (the links need them all) but only the
    shard's own files are reported: a template's group, and Python files in the group of the
    template that links them, so that no cross-file finding falls between two shards; groups
    whose modules import each other (a handler and its helpers) share a shard.

    ``context`` are files of the project that the run does not include (see
    :func:`project_context`): templates, read for their links to the run's Python files, and
    Python files, of which those that import the run's modules are linted for the entries they
    pass to them. Their own findings are not reported."""
    jobs = jobs or default_jobs()
    items = work_items(files)
    templates = [item for item in items if item[0].kind in TEMPLATE_KINDS]
    python = [item for item in items if item[0].kind not in TEMPLATE_KINDS]
    per_file: Dict[str, List[Finding]] = {file.display_path: [] for item in templates for file in item}
    runner = _Runner(session, jobs)
    try:
        results = runner.map([(item, (), ()) for item in templates])
        links = _link(session, per_file, results)
        context_templates = [file for file in context if file.kind in TEMPLATE_KINDS]
        code_links = _with_context(session, runner, links, context_templates)
        jobs_with_links = [(item, code_links.for_module(item[0].path)) for item in python]
        if shard is not None:
            groups = {file.display_path: _group_of_template(item) for item in templates for file in item}
            joined = _joined_by_imports(groups, jobs_with_links) if session.has_python_rules else {}
            owned_templates = {path for path, group in groups.items() if shard.owns(joined.get(group, group))}
            per_file = {path: found for path, found in per_file.items() if path in owned_templates}
            jobs_with_links = [
                (item, found) for item, found in jobs_with_links
                if shard.owns(joined.get(_group_of_python(item, found, groups), _group_of_python(item, found, groups)))
            ]
        for item, _ in jobs_with_links:
            per_file.setdefault(item[0].display_path, [])
        requested = set(per_file)
        companions = _companions(session, links, python) if shard is None and session.has_python_rules else []
        if session.has_python_rules:
            linted = {normalized(item[0].path) for item, _ in jobs_with_links + companions}
            nearby = [
                item for item in work_items(context)
                if item[0].kind == "python" and normalized(item[0].path) not in linted
            ]
            companions += _importers(jobs_with_links + companions, [(item, code_links.for_module(item[0].path)) for item in nearby])
        all_jobs = jobs_with_links + companions
        if session.has_python_rules:
            python_results = _lint_with_helpers(runner, all_jobs)
        else:
            python_results = list(runner.map([(item, found, ()) for item, found in all_jobs]))
        for index, result in enumerate(python_results):
            if index >= len(jobs_with_links):
                # a handler linted only for the template in the run: keep what concerns that template
                result.per_file = {
                    path: [f for f in found if f.path in requested or any(r.path in requested for r in f.related)]
                    for path, found in result.per_file.items()
                }
            _merge(per_file, result.per_file)
    finally:
        runner.close()
    close_recursive_loops(per_file)
    return per_file


Job = Tuple[WorkItem, Tuple[LinkedFunction, ...]]


def _lint_with_helpers(runner: "_Runner", all_jobs: Sequence[Job]) -> List[ItemResult]:
    """One result per job. Modules that others of the run import wait until their importers
    are linted: a helper is then linted once, with the entries its callers export (instead
    of twice); helpers of helpers follow (:func:`_follow_helpers`)."""
    deferred = _imported_by_others(all_jobs)
    first = [index for index in range(len(all_jobs)) if index not in deferred]
    results: List[Optional[ItemResult]] = [None] * len(all_jobs)
    for index, result in zip(first, runner.map([(*all_jobs[index], ()) for index in first])):
        results[index] = result
    _follow_helpers(runner, all_jobs, results)
    done = [result for result in results if result is not None]
    assert len(done) == len(all_jobs)
    return done


def _follow_helpers(runner: "_Runner", all_jobs: Sequence[Job], results: List[Optional[ItemResult]]) -> Dict[int, Tuple["CrossEntry", ...]]:
    """Lint again, with their entries, the modules of the run whose functions other modules'
    handlers call per invocation (lambdalint.python.crossmodule), until nothing changes or
    :data:`MAX_HOPS` rounds have run. ``results`` (one per job) is updated in place; the
    entries each job was last linted with are returned (by job index). A job whose result is
    None (deferred) is linted in the first round, with the entries known by then."""
    index_of = {normalized(item[0].path): index for index, (item, _) in enumerate(all_jobs)}

    def exists(path: str) -> bool:
        return normalized(path) in index_of

    given: Dict[int, Tuple["CrossEntry", ...]] = {}
    for _ in range(MAX_HOPS):
        wanted: Dict[int, List["CrossEntry"]] = defaultdict(list)
        for result in results:
            exports = result.exports if result is not None else ()
            if exports:
                from lambdalint.python.entries import resolve_entry
            for export in exports:
                entry = resolve_entry(export, exists)
                if entry is not None:
                    index = index_of[normalized(entry.module_file)]
                    if entry not in wanted[index]:
                        wanted[index].append(entry)
        goal = {index: tuple(sorted(found, key=lambda entry: entry.sort_key())) for index, found in wanted.items() if found}
        changed = sorted(
            index for index in set(goal) | set(given) | {i for i, r in enumerate(results) if r is None}
            if results[index] is None or goal.get(index, ()) != given.get(index, ())
        )
        if not changed:
            return given
        work = [(all_jobs[index][0], all_jobs[index][1], goal.get(index, ())) for index in changed]
        for index, result in zip(changed, runner.map(work)):
            results[index] = result
            given[index] = goal.get(index, ())
    return given


def _module_imports(all_jobs: Sequence[Job]) -> Iterator[Tuple[int, int]]:
    """(importer, imported) job indexes, from the files' import lines (before linting)."""
    from lambdalint.python.entries import code_roots, imported_modules

    index_of = {normalized(item[0].path): index for index, (item, _) in enumerate(all_jobs)}

    def exists(path: str) -> bool:
        return normalized(path) in index_of

    for importer, (item, links) in enumerate(all_jobs):
        module_file = normalized(item[0].path)
        try:
            text = item[0].path.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        for target in imported_modules(text, module_file, code_roots(module_file, links, os.path.exists), exists):
            imported = index_of[normalized(target)]
            if imported != importer:
                yield importer, imported


def _importers(jobs: Sequence[Job], candidates: Sequence[Job]) -> List[Job]:
    """The ``candidates`` whose modules import a module of ``jobs``, directly or through other
    such candidates (a handler outside the run that calls a helper in it)."""
    if not candidates or not jobs:
        return []
    everything = list(jobs) + list(candidates)
    imports: Dict[int, Set[int]] = defaultdict(set)
    for importer, imported in _module_imports(everything):
        imports[importer].add(imported)
    kept = set(range(len(jobs)))
    grew = True
    while grew:
        grew = False
        for index in range(len(jobs), len(everything)):
            if index not in kept and imports[index] & kept:
                kept.add(index)
                grew = True
    return [everything[index] for index in sorted(kept) if index >= len(jobs)]


def entries_from_importers(
    session: Session, file: SourceFile, context: Sequence[SourceFile], links: ProjectLinks
) -> Tuple["CrossEntry", ...]:
    """For a file read from stdin (an editor's buffer): the entries that the modules of
    ``context`` which import it pass to it, found by linting them (through the cache)."""
    if not session.has_python_rules:
        return ()
    own: Job = ((file,), links.for_module(file.path))
    nearby = [(item, links.for_module(item[0].path)) for item in work_items(context) if item[0].kind == "python"]
    importers = _importers([own], nearby)
    if not importers:
        return ()
    runner = _Runner(session, 1)
    try:
        results: List[Optional[ItemResult]] = [None, *runner.map([(item, found, ()) for item, found in importers])]
        given = _follow_helpers(runner, [own, *importers], results)
    finally:
        runner.close()
    return given.get(0, ())


def _imported_by_others(all_jobs: Sequence[Job]) -> Set[int]:
    """The jobs whose module another module of the run imports (by its import lines)."""
    return {imported for _, imported in _module_imports(all_jobs)}


def _joined_by_imports(groups: Dict[str, str], jobs_with_links: Sequence[Job]) -> Dict[str, str]:
    """For ``--shard``: groups that must share a shard because a module of one imports a
    module of the other (a handler and the helper it calls per invocation), group -> the
    smallest group of its connected set. Found from the files' import lines, before linting."""
    parent: Dict[str, str] = {}

    def find(group: str) -> str:
        while parent.get(group, group) != group:
            group = parent[group]
        return group

    def union(a: str, b: str) -> None:
        a, b = find(a), find(b)
        if a != b:
            parent[max(a, b)] = min(a, b)

    own = [_group_of_python(item, found, groups) for item, found in jobs_with_links]
    for importer, imported in _module_imports(jobs_with_links):
        union(own[importer], own[imported])
    return {group: find(group) for group in set(own) | set(groups.values())}


def project_entries(session: Session, files: Sequence[SourceFile], links: ProjectLinks, jobs: int = 1) -> Dict[str, Tuple["CrossEntry", ...]]:
    """For --fix, which lints file by file: the entries of each module (normalised path) that
    the handlers of other modules call per invocation. Costs a lint of the Python files (through
    the cache), paid only when some module of the run imports another one."""
    python = [item for item in work_items(files) if item[0].kind == "python"]
    all_jobs = [(item, links.for_module(item[0].path)) for item in python]
    if not session.has_python_rules or not all_jobs or not any(True for _ in _module_imports(all_jobs)):
        return {}
    runner = _Runner(session, jobs)
    try:
        results: List[Optional[ItemResult]] = list(runner.map([(item, found, ()) for item, found in all_jobs]))
        given = _follow_helpers(runner, all_jobs, results)
    finally:
        runner.close()
    return {normalized(all_jobs[index][0][0].path): entries for index, entries in given.items() if entries}


def close_recursive_loops(per_file: Dict[str, List[Finding]]) -> None:
    """One loop, one finding: when the code's LL304 names the S3 trigger that the template's
    LL604 reports (the code writes to the bucket that invokes it), keep the code finding, which
    says where the loop is closed, and give it LL604's permission line as another related
    location."""
    closing = {
        (related.path, related.span.line): finding
        for found in per_file.values()
        for finding in found
        if finding.rule_id == "LL304"
        for related in finding.related
    }
    if not closing:
        return
    extra: Dict[int, List[Related]] = defaultdict(list)
    for path, found in per_file.items():
        kept = []
        for finding in found:
            code = closing.get((finding.path, finding.span.line)) if finding.rule_id == "LL604" else None
            if code is None:
                kept.append(finding)
            else:
                extra[id(code)].extend(r for r in finding.related if r not in code.related)
        per_file[path] = kept
    if extra:
        for path, found in per_file.items():
            per_file[path] = [
                replace(f, related=f.related + tuple(extra[id(f)])) if id(f) in extra else f for f in found
            ]


def project_context(config: Config, files: Sequence[SourceFile], paths: Sequence[Path]) -> List[SourceFile]:
    """What a run of ``files`` (found under ``paths``) leaves out of the project but needs, when
    it has Python files of the project and does not cover the project's root (pre-commit passes
    only what changed; an editor only its buffer): the templates that may deploy them (those
    of the nearest folder above each file that has any, in it or up to two levels below it,
    such as ``infra/`` or ``stacks/api/``), so that a handler still knows its trigger, environment and permissions; and
    the Python files of the run's code folders, among which the engine keeps those that import
    the run's modules, so that a helper still knows the handlers that call it. Their own
    findings are not reported."""
    from lambdalint.discovery import discover, kind_of

    # absolute, not resolved: a symlink loop among the files must not raise here (it is LL001)
    root = Path(os.path.abspath(config.root))
    for path in paths:
        given = Path(os.path.abspath(path))
        if given.is_dir() and (given == root or given in root.parents):
            return []  # the run already holds every file of the project
    python = [
        (file, Path(os.path.abspath(file.path))) for file in files
        if file.kind == "python" and root in Path(os.path.abspath(file.path)).parents
    ]
    if not python:
        return []
    in_run = {normalized(file.path) for file in files}
    found: Dict[str, Path] = {}
    #: folder -> the templates in it and up to two levels below it (each folder listed once)
    listed: Dict[Path, List[Path]] = {}

    def look(folder: Path, depth: int, into: List[Path]) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            return
        for entry in entries:
            path = Path(entry.path)
            if config.is_excluded(path):
                continue
            if entry.is_file() and kind_of(path) in TEMPLATE_KINDS and normalized(path) not in in_run:
                into.append(path)
            elif depth and entry.is_dir(follow_symlinks=False):
                look(path, depth - 1, into)

    for _, absolute in python:
        # the nearest folder above the file that has templates (in it, or two levels below it:
        # infra/, stacks/api/) holds the ones that deploy it; farther ones belong to others
        folder = absolute.parent
        while True:
            if folder not in listed:
                listed[folder] = []
                look(folder, 2, listed[folder])
            if listed[folder]:
                for path in listed[folder]:
                    found.setdefault(normalized(path), path)
                break
            if folder == root or folder.parent == folder:
                break
            folder = folder.parent
    cwd = Path.cwd()
    templates = [SourceFile(display_path(path, cwd), path, kind_of(path) or "template") for _, path in sorted(found.items())]
    from lambdalint.python.entries import package_root

    # where the modules that may import the run's files live
    code_folders = sorted({package_root(str(absolute), os.path.exists) for _, absolute in python if absolute.is_file()})
    nearby = [
        file for file in discover([Path(folder) for folder in code_folders], config)
        if file.kind == "python" and normalized(file.path) not in in_run
    ] if code_folders else []
    return templates + nearby


def _with_context(
    session: Session, runner: "_Runner", links: ProjectLinks, context: Sequence[SourceFile]
) -> ProjectLinks:
    """``links`` plus those of the ``context`` templates (their findings are dropped)."""
    if not context or not session.has_python_rules:
        return links
    items = work_items(context)
    extra = _link(session, {}, runner.map([(item, (), ()) for item in items]))
    combined = ProjectLinks()
    for found in (links, extra):
        combined.add(link for module_links in found.by_module.values() for link in module_links)
    return combined


def _companions(
    session: Session, links: ProjectLinks, python: Sequence[WorkItem]
) -> List[Tuple[WorkItem, Tuple[LinkedFunction, ...]]]:
    """The Python files that the run's templates name but the run does not include (pre-commit
    passes only the changed template): they are linted too, so that the template's
    cross-file findings (a handler function that is gone, a variable the code still reads) are
    not lost."""
    in_run = {normalized(item[0].path) for item in python}
    found = []
    for module_file in sorted(links.by_module):
        path = Path(module_file)
        if module_file in in_run or session.config.is_excluded(path):
            continue
        file = SourceFile(display_path(path, Path.cwd()), path, "python")
        found.append(((file,), links.for_module(path)))
    return found


def _link(session: Session, per_file: Dict[str, List[Finding]], results: Iterable[ItemResult]) -> ProjectLinks:
    """Collect the templates' findings and link candidates; resolve the links (LL401 for the
    handlers whose module is missing)."""
    candidates: List[LinkCandidate] = []
    for result in results:
        _merge(per_file, result.per_file)
        candidates.extend(result.candidates)
    found, missing = resolve_links(candidates)
    _merge(per_file, {f.path: [f] for f in missing_handler_findings(session, missing)})
    links = ProjectLinks()
    links.add(found)
    return links


def project_links(session: Session, files: Sequence[SourceFile]) -> ProjectLinks:
    """The links of every template among ``files`` (for --fix, which lints file by file, and
    for a file read from stdin), through the cache."""
    candidates: List[LinkCandidate] = []
    for item in work_items(files):
        if item[0].kind in TEMPLATE_KINDS:
            candidates.extend(lint_item(session, item).candidates)
    links = ProjectLinks()
    links.add(resolve_links(candidates)[0])
    return links


def _chunk(items: Sequence[WorkItem], jobs: int) -> int:
    return max(1, min(64, len(items) // (jobs * 8)))


def _merge(per_file: Dict[str, List[Finding]], found: Dict[str, List[Finding]]) -> None:
    for path, findings in found.items():
        per_file.setdefault(path, []).extend(findings)
        per_file[path].sort(key=lambda f: f.sort_key)


def sorted_findings(per_file: Dict[str, List[Finding]]) -> List[Finding]:
    return sorted((f for found in per_file.values() for f in found), key=lambda f: f.sort_key)
