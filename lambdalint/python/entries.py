"""What crosses module boundaries, without libcst: the per-invocation calls one module makes
into another (:class:`CrossEntry`), finding the file they land in (:func:`resolve_entry`), a
quick look at a file's imports (:func:`imported_modules`), and their cache form.

Kept apart from :mod:`lambdalint.python.crossmodule` (which collects them in the libcst
traversal) so that a run answered from the cache needs neither libcst nor the analysis."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from lambdalint.model import Span

if TYPE_CHECKING:
    from lambdalint.project import LinkedFunction

#: Python's own modules (3.10+ knows them; 3.9 gets the common ones): an absolute import of one
#: of these is the standard library, even when the project holds a file of the same name
_STDLIB_FALLBACK = frozenset(
    """abc argparse array ast asyncio base64 binascii bisect builtins bz2 calendar cgi cmath code
    codecs collections concurrent configparser contextlib contextvars copy csv ctypes dataclasses
    datetime decimal difflib dis email encodings enum errno fnmatch fractions ftplib functools gc
    getpass gettext glob graphlib gzip hashlib heapq hmac html http imaplib importlib inspect io
    ipaddress itertools json keyword linecache locale logging lzma mailbox math mimetypes
    multiprocessing netrc numbers operator os pathlib pickle platform plistlib pprint profile
    queue random re reprlib resource sched secrets select selectors shelve shlex shutil signal
    site smtplib socket socketserver sqlite3 ssl stat statistics string struct subprocess sys
    sysconfig tarfile tempfile textwrap threading time timeit token tokenize trace traceback
    types typing unicodedata unittest urllib uuid warnings weakref xml xmlrpc zipfile zlib
    zoneinfo""".split()
)
STDLIB_MODULES = frozenset(getattr(sys, "stdlib_module_names", ())) | _STDLIB_FALLBACK

Origin = Tuple[str, ...]


Origin = Tuple[str, ...]


@dataclass(frozen=True)
class CrossEntry:
    """A function of another module that a root of this one calls per invocation.

    Made by the calling module with ``level``/``target`` (the import as written); the engine
    fills in ``module_file`` and ``function`` once it has found the file."""

    level: int
    target: Tuple[str, ...]
    #: for messages: "handler `main` (src/pkg/handler.py)"
    via: str
    #: the template functions whose invocations run this call
    links: Tuple["LinkedFunction", ...] = ()
    #: what feeds those invocations (an ``EventSourceInfo`` without its node)
    sources: Tuple[str, ...] = ()
    source_origin: str = ""
    evidence: str = ""
    template_location: Optional[Tuple[str, Span]] = None
    #: request taint of the arguments: ("0", paths) for positional, ("kw:name", paths) keywords;
    #: a path starts at the role (``("event", "Records", "*", "body")``)
    tainted: Tuple[Tuple[str, Tuple[Origin, ...]], ...] = ()
    #: every path from the root to the call passes a Powertools ``@idempotent`` function: the
    #: call's effects are deduplicated there, so the entry does not make the callee at-least-once
    idempotent: bool = False
    #: the module the call is written in (absolute, normalised) and its code roots
    caller_file: str = ""
    roots: Tuple[str, ...] = ()
    #: filled in by the engine
    module_file: str = ""
    function: str = ""

    def sort_key(self) -> Tuple[str, ...]:
        return (self.module_file, self.function, self.caller_file, self.via, repr(self.target))


# -- resolving an export to a file of the run ----------------------------------------------------


def code_roots(module_file: str, links: Iterable["LinkedFunction"], exists) -> Tuple[str, ...]:
    """Where absolute imports of ``module_file`` are looked up: the code folder of each linked
    template function (the handler's module path removed from the file's), else the folder
    above the module's top package (the module's own folder when it is in no package)."""
    roots: List[str] = []
    folder = os.path.dirname(module_file)
    for link in links:
        handler = link.handler_module or link.handler
        depth = len([p for p in re.split(r"[./]", handler) if p]) - 1
        root = folder
        for _ in range(max(depth, 0)):
            root = os.path.dirname(root)
        if root not in roots:
            roots.append(root)
    if not roots:
        roots.append(package_root(module_file, exists))
    return tuple(roots)


def package_root(module_file: str, exists) -> str:
    """The folder above the module's top package (its own folder when it is in no package)."""
    root = os.path.dirname(module_file)
    while exists(os.path.join(root, "__init__.py")) and os.path.dirname(root) != root:
        root = os.path.dirname(root)
    return root


def _module_file(base: str, parts: Sequence[str], exists) -> Optional[str]:
    stem = os.path.join(base, *parts) if parts else base
    if parts and exists(stem + ".py"):
        return stem + ".py"
    init = os.path.join(stem, "__init__.py")
    return init if exists(init) else None


def resolve_entry(entry: CrossEntry, exists) -> Optional[CrossEntry]:
    """``entry`` with the file and function it calls, when a file of the run holds them:
    the longest module prefix of the dotted target that is a file wins, the rest is the
    function's qualified name in it."""
    if entry.level:
        base = os.path.dirname(entry.caller_file)
        for _ in range(entry.level - 1):
            base = os.path.dirname(base)
        bases: Tuple[str, ...] = (base,)
    else:
        bases = entry.roots
    target = entry.target
    for base in bases:
        for split in range(len(target) - 1, -1, -1):
            if split == 0 and not entry.level:
                break  # ``import x`` names a module, not a function in a folder
            module = _module_file(base, target[:split], exists)
            if module is None:
                continue
            if os.path.normcase(module) == os.path.normcase(entry.caller_file):
                return None  # the module's own functions: already within its reach
            return replace(entry, module_file=module, function=".".join(target[split:]))
    return None


# -- (de)serialising, for the cache and the worker pool ------------------------------------------


def entry_data(entry: CrossEntry) -> Dict[str, Any]:
    from lambdalint import cache

    return {
        "level": entry.level,
        "target": list(entry.target),
        "via": entry.via,
        "links": [cache.link_data(link) for link in entry.links],
        "sources": list(entry.sources),
        "source_origin": entry.source_origin,
        "evidence": entry.evidence,
        "template_location": None if entry.template_location is None else [
            entry.template_location[0], cache._span_data(entry.template_location[1])
        ],
        "tainted": [[slot, [list(p) for p in paths]] for slot, paths in entry.tainted],
        "idempotent": entry.idempotent,
        "caller_file": entry.caller_file,
        "roots": list(entry.roots),
        "module_file": entry.module_file,
        "function": entry.function,
    }


def entry_from(data: Mapping[str, Any]) -> CrossEntry:
    from lambdalint import cache

    location = data["template_location"]
    return CrossEntry(
        int(data["level"]),
        tuple(data["target"]),
        data["via"],
        tuple(cache.link_from(link) for link in data["links"]),
        tuple(data["sources"]),
        data["source_origin"],
        data["evidence"],
        None if location is None else (location[0], cache._span(location[1])),
        tuple((slot, tuple(tuple(p) for p in paths)) for slot, paths in data["tainted"]),
        bool(data["idempotent"]),
        data["caller_file"],
        tuple(data["roots"]),
        data["module_file"],
        data["function"],
    )


# -- a quick look at a file's imports, for --shard ---------------------------------------------

_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w. \t,]+)", re.MULTILINE)
_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)", re.MULTILINE)


def imported_modules(text: str, module_file: str, roots: Sequence[str], exists) -> Set[str]:
    """The files of the run that ``text`` may import (found with a regular expression, a
    superset of what :func:`exported` follows: imports under ``if TYPE_CHECKING`` or in strings
    count too). ``--shard`` keeps a module in the shard of the handlers that import it."""
    targets: List[Tuple[int, Tuple[str, ...]]] = []
    for match in _IMPORT.finditer(text):
        for part in match.group(1).split(","):
            dotted = part.split(" as ")[0].strip()
            if dotted:
                targets.append((0, tuple(dotted.split("."))))
    for match in _FROM.finditer(text):
        level = len(match.group(1))
        module = tuple(p for p in match.group(2).split(".") if p)
        for name in match.group(3).strip("() \t\n").split(","):
            name = name.split(" as ")[0].strip()
            if name and name != "*" and name.isidentifier():
                targets.append((level, module + (name,)))
            elif name == "*":
                targets.append((level, module))
    found: Set[str] = set()
    for level, target in targets:
        if not target or (level == 0 and target[0] in STDLIB_MODULES):
            continue
        probe = CrossEntry(level, target + ("*",), "", caller_file=module_file, roots=tuple(roots))
        resolved = resolve_entry(probe, exists)
        if resolved is not None:
            found.add(resolved.module_file)
    return found
