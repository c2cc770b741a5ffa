"""The result cache: findings of a work item keyed by everything they depend on.

A key hashes the tool version and its code (the sizes and times of the installed lambdalint
and rule modules: a checkout or reinstall under the same version string must not answer from
results of other code), the configuration that shapes findings, the file's path and content, and for Python files the template facts linked to them (so a template change
re-checks its handlers). Entries are JSON (never pickle: a cache is a file anyone in CI may
have written), one file each, written atomically, so two runs can share the folder; an entry
that cannot be read is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from lambdalint import __version__
from lambdalint.model import Edit, Finding, Fix, FixSafety, Related, Severity, Span
from lambdalint.project import LinkCandidate, LinkedFunction, Trigger

CACHE_FOLDER = ".lambdalint_cache"
FORMAT = "7"


def _span(data: List[int]) -> Span:
    return Span(*data)


def _span_data(span: Span) -> List[int]:
    return [span.line, span.column, span.end_line, span.end_column]


def finding_data(finding: Finding) -> Dict[str, Any]:
    fix = None
    if finding.fix is not None:
        fix = [finding.fix.title, finding.fix.safety.value,
               [[_span_data(e.span), e.content] for e in finding.fix.edits]]
    return {
        "p": finding.path, "s": _span_data(finding.span), "r": finding.rule_id, "n": finding.rule_name,
        "v": int(finding.severity), "m": finding.message, "h": finding.hint, "f": fix,
        "x": [[r.path, _span_data(r.span), r.message] for r in finding.related], "g": finding.fingerprint,
    }


def finding_from(data: Dict[str, Any]) -> Finding:
    fix = None
    if data["f"] is not None:
        title, safety, edits = data["f"]
        fix = Fix(title, FixSafety(safety), tuple(Edit(_span(span), content) for span, content in edits))
    return Finding(
        data["p"], _span(data["s"]), data["r"], data["n"], Severity(data["v"]), data["m"],
        hint=data["h"], fix=fix, related=tuple(Related(p, _span(s), m) for p, s, m in data["x"]),
        fingerprint=data["g"],
    )


def link_data(link: LinkedFunction) -> Dict[str, Any]:
    # shallow on purpose (``asdict`` deep-copies every field: a third of a warm run); the
    # nested dataclasses are converted below
    data = {item.name: getattr(link, item.name) for item in fields(link)}
    data["span"] = _span_data(link.span)
    data["handler_span"] = _span_data(link.handler_span)
    data["triggers"] = [
        [t.kind, t.name, t.path, _span_data(t.span), t.source, t.prefix, t.suffix, t.filters_known,
         t.fires_on_new_objects, t.source_target]
        for t in link.triggers
    ]
    data["environment"] = None if link.environment is None else sorted(link.environment)
    data["allowed_actions"] = None if link.allowed_actions is None else list(link.allowed_actions)
    data["suppressed"] = sorted(link.suppressed)
    return data


def link_from(data: Dict[str, Any]) -> LinkedFunction:
    values = dict(data)
    values["span"] = _span(data["span"])
    values["handler_span"] = _span(data["handler_span"])
    values["triggers"] = tuple(
        Trigger(k, n, p, _span(s), src, prefix, suffix, known, fires, target)
        for k, n, p, s, src, prefix, suffix, known, fires, target in data["triggers"]
    )
    values["environment"] = None if data["environment"] is None else frozenset(data["environment"])
    values["allowed_actions"] = None if data["allowed_actions"] is None else tuple(data["allowed_actions"])
    values["environment_values"] = tuple(tuple(pair) for pair in data["environment_values"])
    values["environment_refs"] = tuple(tuple(pair) for pair in data["environment_refs"])
    values["suppressed"] = frozenset(data["suppressed"])
    return LinkedFunction(**values)


def candidate_data(candidate: LinkCandidate) -> Dict[str, Any]:
    return {
        "link": link_data(candidate.link), "candidates": list(candidate.candidates), "folder": candidate.folder,
        "template_file": candidate.template_file, "python": candidate.python, "suppressed": sorted(candidate.suppressed),
    }


def candidate_from(data: Dict[str, Any]) -> LinkCandidate:
    return LinkCandidate(
        link_from(data["link"]), tuple(data["candidates"]), data["folder"], data["template_file"],
        data["python"], frozenset(data["suppressed"]),
    )


def code_identity() -> str:
    """What the installed lambdalint and rules are, cheaply: path, size and modification time of
    each of their modules (about 70 ``stat`` calls, no reads)."""
    import lambdalint
    from lambdalint.registry import _rules_package

    folders = [Path(lambdalint.__file__).parent, *(Path(p) for p in _rules_package().__path__)]
    entries = []
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            try:
                status = path.stat()
            except OSError:
                continue
            entries.append(f"{path}:{status.st_size}:{status.st_mtime_ns}")
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


class ResultCache:
    """One cache folder (``<root>/.lambdalint_cache``), for one configuration of one version."""

    def __init__(self, root: Path, configuration: str) -> None:
        self.folder = Path(root) / CACHE_FOLDER / f"{__version__}-{FORMAT}"
        self.salt = hashlib.sha256(
            f"{__version__}\0{FORMAT}\0{code_identity()}\0{configuration}".encode()
        ).hexdigest()

    def key(self, parts: Iterable[bytes]) -> str:
        digest = hashlib.sha256(self.salt.encode())
        for part in parts:
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        try:
            with self._path(key).open("rb") as stream:
                data = json.load(stream)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def put(self, key: str, value: Dict[str, Any]) -> None:
        """Write atomically; a cache that cannot be written is silently skipped."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._ignore_in_git()
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(value, stream, separators=(",", ":"))
            os.replace(temporary, path)
        except OSError:
            pass

    def _ignore_in_git(self) -> None:
        marker = self.folder.parent / ".gitignore"
        if not marker.exists():
            marker.write_text("# Created by lambdalint: the folder is a cache.\n*\n")


def clean(root: Path) -> bool:
    """Remove ``<root>/.lambdalint_cache``; True when there was one."""
    folder = Path(root) / CACHE_FOLDER
    if not folder.exists():
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True
