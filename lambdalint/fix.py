"""Apply the fixes that findings carry, in the ruff manner.

A fix is a set of text edits on one file. Fixes are applied together when they do not overlap;
the others wait for the next pass, which lints the new text again (bounded number of passes),
so two fixes never produce overlapping edits. A result that no longer parses (or, for Python,
compiles) is rejected and the fixes behind it are dropped and reported. Files are written
atomically (temporary file + rename, permissions kept), with their encoding, BOM and line
endings as they were.
"""

from __future__ import annotations

import codecs
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Set, Tuple

from lambdalint.discovery import SourceFile
from lambdalint.model import Edit, Finding, FixSafety

MAX_PASSES = 10


@dataclass
class FixOutcome:
    """What fixing one file did."""

    file: SourceFile
    original: bytes
    fixed: bytes
    #: findings whose fix was applied (as reported before the fix)
    applied: List[Finding] = field(default_factory=list)
    #: findings whose fix was rejected, with the reason
    dropped: List[Tuple[Finding, str]] = field(default_factory=list)
    #: findings left after fixing
    remaining: List[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original


def is_applicable(finding: Finding, unsafe: bool) -> bool:
    fix = finding.fix
    return bool(fix and fix.edits and (fix.safety is FixSafety.SAFE or unsafe))


def _line_starts(text: str) -> List[int]:
    """Offsets of the start of each line; lines end at \\n, \\r\\n or a lone \\r as in libcst."""
    starts = [0]
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\n":
            starts.append(index + 1)
        elif char == "\r":
            if index + 1 < length and text[index + 1] == "\n":
                index += 1
            starts.append(index + 1)
        index += 1
    return starts


def _offset(starts: List[int], text: str, line: int, column: int) -> int:
    if line > len(starts):
        return len(text)
    return min(starts[line - 1] + column - 1, len(text))


def _edit_range(starts: List[int], text: str, edit: Edit) -> Tuple[int, int]:
    return (
        _offset(starts, text, edit.span.line, edit.span.column),
        _offset(starts, text, edit.span.end_line, edit.span.end_column),
    )


def _newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping ``edits`` to ``text``; inserted newlines follow the file's."""
    starts = _line_starts(text)
    newline = _newline_of(text)
    ranges = sorted(((_edit_range(starts, text, e), e) for e in edits), key=lambda item: item[0], reverse=True)
    for (start, end), edit in ranges:
        content = edit.content.replace("\n", newline) if newline != "\n" else edit.content
        text = text[:start] + content + text[end:]
    return text


def _choose_compatible(
    findings: Sequence[Finding], text: str
) -> List[Finding]:
    """The fixes to apply together in one pass: the earliest first, skipping any whose edits
    touch a range already claimed (two insertions at one point also conflict)."""
    starts = _line_starts(text)
    claimed: List[Tuple[int, int]] = []
    chosen = []
    for finding in sorted(findings, key=lambda f: f.sort_key):
        ranges = [_edit_range(starts, text, edit) for edit in finding.fix.edits]
        if any(
            start < other_end and other_start < end
            or start == other_start
            or (start == end and other_start <= start <= other_end)
            or (other_start == other_end and start <= other_start <= end)
            for start, end in ranges
            for other_start, other_end in claimed
        ):
            continue
        claimed.extend(ranges)
        chosen.append(finding)
    return chosen


class _Codec:
    """Decode a file for editing and encode it back byte-for-byte compatible."""

    def __init__(self, data: bytes, kind: str) -> None:
        self.bom = data.startswith(codecs.BOM_UTF8)
        self.encoding = "utf-8"
        if kind == "python":
            import io
            import tokenize

            try:
                detected, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
                self.encoding = "utf-8" if detected == "utf-8-sig" else detected
            except SyntaxError:
                pass

    def decode(self, data: bytes) -> str:
        payload = data[len(codecs.BOM_UTF8):] if self.bom else data
        return payload.decode(self.encoding)

    def encode(self, text: str) -> bytes:
        return (codecs.BOM_UTF8 if self.bom else b"") + text.encode(self.encoding)


def _still_valid(file: SourceFile, text: str, original: str, findings: Sequence[Finding]) -> Optional[str]:
    """Why ``text`` must not be written, or None when it is fine."""
    if any(f.rule_id == "LL001" for f in findings):
        return "the fixed file would not parse"
    if file.kind == "python":
        try:
            compile(original, file.display_path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            return None  # the original does not compile on this Python either: parsing is all we can ask
        try:
            compile(text, file.display_path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as error:
            return f"the fixed file would not compile: {error}"
    return None


def fix_source(
    session, file: SourceFile, data: bytes, *, unsafe: bool, links: Sequence = (), entries: Sequence = ()
) -> FixOutcome:
    """Fix ``data`` (the content of ``file``) without touching the disk. ``links`` are the
    template functions whose handler is in the file (they decide which functions are handlers);
    ``entries`` its functions that other modules' handlers call per invocation."""
    from functools import partial

    from lambdalint import engine

    lint_source = partial(engine.lint_source, links=links, entries=entries)
    outcome = FixOutcome(file, data, data)
    findings = lint_source(session, file, data)
    if not any(is_applicable(f, unsafe) for f in findings):
        outcome.remaining = findings
        return outcome
    codec = _Codec(data, file.kind)
    try:
        original_text = text = codec.decode(data)
    except (UnicodeDecodeError, LookupError):
        outcome.remaining = findings
        return outcome
    rejected: Set[Tuple[str, str]] = set()  # (rule, fingerprint) whose fix failed
    for _ in range(MAX_PASSES):
        candidates = [
            f for f in findings
            if is_applicable(f, unsafe) and (f.rule_id, f.fingerprint) not in rejected
        ]
        if not candidates:
            break
        chosen = _choose_compatible(candidates, text)
        new_text = apply_edits(text, [edit for f in chosen for edit in f.fix.edits])
        new_findings = lint_source(session, file, codec.encode(new_text))
        problem = _still_valid(file, new_text, original_text, new_findings)
        if problem is None:
            outcome.applied.extend(chosen)
            text, findings = new_text, new_findings
            continue
        # Find the culprits one by one, so that one bad fix does not block the good ones.
        for finding in chosen:
            single = apply_edits(text, list(finding.fix.edits))
            single_findings = lint_source(session, file, codec.encode(single))
            reason = _still_valid(file, single, original_text, single_findings)
            if reason is None:
                outcome.applied.append(finding)
                text, findings = single, single_findings
                break
            rejected.add((finding.rule_id, finding.fingerprint))
            outcome.dropped.append((finding, reason))
    outcome.fixed = codec.encode(text) if text != original_text else data
    outcome.remaining = findings
    return outcome


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never a
    partial one; the file keeps its permissions."""
    target = path.resolve()  # a symlink keeps pointing at the fixed file
    mode = stat.S_IMODE(target.stat().st_mode)
    folder = target.parent
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".lambdalint", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def unified_diff(outcome: FixOutcome) -> str:
    import difflib

    codec = _Codec(outcome.original, outcome.file.kind)
    before = codec.decode(outcome.original).splitlines(keepends=True)
    after = codec.decode(outcome.fixed).splitlines(keepends=True)
    path = outcome.file.display_path
    return "".join(difflib.unified_diff(before, after, f"a/{path}", f"b/{path}"))


def _fix_in_worker(job: Tuple[SourceFile, bool, tuple]) -> FixOutcome:
    from lambdalint import engine

    file, unsafe, links, entries = job
    return fix_file(engine._worker_session, file, unsafe=unsafe, links=links, entries=entries)


def fix_file(session, file: SourceFile, *, unsafe: bool, links: Sequence = (), entries: Sequence = ()) -> FixOutcome:
    try:
        data = file.path.read_bytes()
    except OSError:
        from lambdalint.engine import lint_file

        return FixOutcome(file, b"", b"", remaining=lint_file(session, file))
    return fix_source(session, file, data, unsafe=unsafe, links=links, entries=entries)


def fix_files(
    session, files: Sequence[SourceFile], *, unsafe: bool, jobs: int, context: Sequence[SourceFile] = ()
) -> List[FixOutcome]:
    """Fix every file (in memory); the caller decides whether to write or show a diff.
    Templates are read first (those of ``context`` too: see engine.project_context), so that
    code files know their handlers."""
    from lambdalint import engine

    links = engine.project_links(session, list(files) + list(context))
    # helpers that other modules' handlers call per invocation (a lint pass, only when modules
    # of the run import each other)
    entries = engine.project_entries(session, files, links, jobs)
    jobs_list = [(f, unsafe, links.for_module(f.path), entries.get(engine.normalized(f.path), ())) for f in files]
    if jobs <= 1 or len(files) < engine.PARALLEL_THRESHOLD:
        return [
            fix_file(session, file, unsafe=unsafe, links=found, entries=given) for file, _, found, given in jobs_list
        ]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(
        max_workers=jobs, initializer=engine._init_worker, initargs=(session.config,)
    ) as pool:
        return list(pool.map(_fix_in_worker, jobs_list, chunksize=8))
