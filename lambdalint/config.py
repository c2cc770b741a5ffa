"""``[tool.lambdalint]`` from ``pyproject.toml`` or ``lambdalint.toml``, validated strictly.

Every mistake (an unknown key, an unknown rule id, a value of the wrong type) raises
:class:`ConfigError` naming it, and the CLI exits with 2: a typo in a linter's config must never
switch a rule off silently.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from lambdalint.model import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older Pythons in CI matrices
    import tomli as tomllib

CONFIG_FILES = ("lambdalint.toml", "pyproject.toml")

#: Folders that never hold code to lint: VCS data, virtualenvs, dependencies, build output.
DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".env",
    "env",
    ".tox",
    ".nox",
    "node_modules",
    ".aws-sam",
    "cdk.out",
    ".serverless",
    ".terraform",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".lambdalint_cache",
    "build",
    "dist",
    "site-packages",
)


#: Never linted, whatever ``exclude`` says: version control data and lambdalint's own cache.
ALWAYS_EXCLUDED = (".git", ".hg", ".svn", ".lambdalint_cache")


class ConfigError(Exception):
    """A configuration problem the user must fix; the CLI prints it and exits with 2."""


@lru_cache(maxsize=16)
def _exclusion_patterns(patterns: Tuple[str, ...]) -> Tuple["re.Pattern[str]", "re.Pattern[str]"]:
    """``exclude`` globs as two regexes, compiled once (discovery asks for every path): one for
    the whole relative path (a pattern with a ``/`` also excludes what is below it) and one
    for a single path part. The same matches as ``fnmatch`` (POSIX paths: case-sensitive)."""
    stripped = [pattern.rstrip("/") for pattern in patterns]
    whole = [fnmatch.translate(p) for p in stripped] + [fnmatch.translate(p + "/*") for p in stripped if "/" in p]
    part = [fnmatch.translate(p) for p in stripped]
    never = r"(?!)"
    return re.compile("|".join(whole) or never), re.compile("|".join(part) or never)


@dataclass(frozen=True)
class HandlerPattern:
    """A ``handlers = ["src/*.py:main"]`` entry from the config."""

    path_glob: str
    function: str

    @classmethod
    def parse(cls, text: str) -> "HandlerPattern":
        path, sep, function = text.rpartition(":")
        if not sep or not path or not function:
            raise ValueError(f"handler pattern {text!r} must look like 'path/glob.py:function'")
        return cls(path, function)

    def matches(self, relative_path: str, qualname: str) -> bool:
        return fnmatch.fnmatch(relative_path, self.path_glob) and (
            qualname == self.function or fnmatch.fnmatch(qualname, self.function)
        )


@dataclass
class Config:
    select: Optional[List[str]] = None
    ignore: List[str] = field(default_factory=list)
    extend_select: List[str] = field(default_factory=list)
    per_file_ignores: Dict[str, List[str]] = field(default_factory=dict)
    exclude: List[str] = field(default_factory=list)
    extend_exclude: List[str] = field(default_factory=list)
    severity: Dict[str, Severity] = field(default_factory=dict)
    handlers: List[HandlerPattern] = field(default_factory=list)
    options: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    fail_on: Severity = Severity.WARNING
    #: the folder paths in the config are relative to (the config file's folder, or the cwd)
    root: Path = field(default_factory=Path.cwd)
    source: Optional[Path] = None
    #: where the result cache lives (set by the CLI; None: no cache)
    cache_root: Optional[Path] = None

    def fingerprint(self) -> str:
        """Everything in the config that shapes findings, as canonical text (for cache keys)."""
        import json

        return json.dumps(
            {
                "enabled": self.enabled_rules(),
                "options": self.options,
                "severity": {rule: str(level) for rule, level in self.severity.items()},
                "per_file_ignores": self.per_file_ignores,
                "handlers": [f"{p.path_glob}:{p.function}" for p in self.handlers],
                "root": str(self.root.absolute()),
            },
            sort_keys=True,
            default=str,
        )

    # -- questions the engine asks ---------------------------------------------------------------

    def enabled_rules(self) -> List[str]:
        from lambdalint.registry import select_rules

        return select_rules(self.select, self.extend_select, self.ignore)

    def relative(self, path: Path) -> str:
        """``path`` relative to the config root, in POSIX form (what globs are matched against)."""
        try:
            return path.absolute().relative_to(self.root.absolute()).as_posix()
        except ValueError:
            return path.as_posix()

    def is_excluded(self, path: Path) -> bool:
        if path.name in ALWAYS_EXCLUDED:
            return True
        relative = self.relative(path)
        inside_root = not (relative.startswith("../") or relative.startswith("/"))
        # Outside the root only the name counts: the folders above a project are not its own.
        parts = relative.split("/") if inside_root else [path.name]
        whole, part = _exclusion_patterns(tuple(self.exclude or DEFAULT_EXCLUDES) + tuple(self.extend_exclude))
        return bool(whole.match(relative)) or any(part.match(p) for p in parts)

    def ignored_for(self, relative_path: str) -> set:
        """Rule ids that ``per-file-ignores`` switches off for this file."""
        from lambdalint.registry import expand_selector

        ignored: set = set()
        name = relative_path.rsplit("/", 1)[-1]
        for pattern, selectors in self.per_file_ignores.items():
            if fnmatch.fnmatch(relative_path, pattern) or fnmatch.fnmatch(name, pattern):
                for selector in selectors:
                    ignored |= expand_selector(selector)
        return ignored


# -- loading ---------------------------------------------------------------------------------------


def find_config_file(start: Path) -> Optional[Path]:
    """The nearest ``lambdalint.toml``, or ``pyproject.toml`` with a ``[tool.lambdalint]``
    table, in ``start`` or a parent folder."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate_folder in (folder, *folder.parents):
        for name in CONFIG_FILES:
            candidate = candidate_folder / name
            if not candidate.is_file():
                continue
            if name == "lambdalint.toml":
                return candidate
            try:
                data = _read_toml(candidate)
            except ConfigError:
                return candidate  # let load_config report the syntax error
            if "lambdalint" in data.get("tool", {}):
                return candidate
    return None


def load_config(path: Optional[Path], *, start: Optional[Path] = None) -> Config:
    """Read ``path`` (or the nearest config from ``start``); defaults when there is none."""
    if path is None:
        path = find_config_file(start or Path.cwd())
        if path is None:
            return Config(root=Path.cwd())
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("lambdalint", {})
        where = f"{path}: [tool.lambdalint]"
    else:
        table = data.get("tool", {}).get("lambdalint", data)
        where = str(path)
    return parse_config(table, root=path.parent, source=path, where=where)


def _read_toml(path: Path) -> Dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None


def _expect_list_of_str(value: Any, key: str, where: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings, got {value!r}")
    return list(value)


def _check_selectors(selectors: List[str], key: str, where: str) -> None:
    from lambdalint.registry import did_you_mean, expand_selector

    for selector in selectors:
        try:
            expand_selector(selector)
        except KeyError:
            hint = did_you_mean(selector) or " (see `lambdalint rules` for the list)"
            raise ConfigError(f"{where}: `{key}` names unknown rule {selector!r}{hint}") from None


def parse_config(
    table: Mapping[str, Any], *, root: Path, source: Optional[Path] = None, where: str = "config"
) -> Config:
    """Validate a ``[tool.lambdalint]`` table into a :class:`Config`."""
    from lambdalint.registry import did_you_mean, rule_by_name_or_id, rule_id_by_name_or_id

    config = Config(root=root, source=source)
    known = {
        "select",
        "ignore",
        "extend-select",
        "per-file-ignores",
        "exclude",
        "extend-exclude",
        "severity",
        "handlers",
        "options",
        "fail-on",
    }
    for key in table:
        if key not in known:
            import difflib

            close = difflib.get_close_matches(key.replace("_", "-"), sorted(known), n=1, cutoff=0.75)
            hint = f"did you mean `{close[0]}`? " if close else ""
            raise ConfigError(
                f"{where}: unknown key `{key}` ({hint}known keys: {', '.join(sorted(known))})"
            )
    for key, attribute in (
        ("select", "select"),
        ("ignore", "ignore"),
        ("extend-select", "extend_select"),
    ):
        if key in table:
            selectors = _expect_list_of_str(table[key], key, where)
            _check_selectors(selectors, key, where)
            setattr(config, attribute, selectors)
    for key, attribute in (("exclude", "exclude"), ("extend-exclude", "extend_exclude")):
        if key in table:
            setattr(config, attribute, _expect_list_of_str(table[key], key, where))
    if "per-file-ignores" in table:
        value = table["per-file-ignores"]
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: `per-file-ignores` must be a table of glob = [rules]")
        for pattern, selectors in value.items():
            selectors = _expect_list_of_str(selectors, f"per-file-ignores.{pattern}", where)
            _check_selectors(selectors, f"per-file-ignores.{pattern}", where)
            config.per_file_ignores[pattern] = selectors
    if "severity" in table:
        value = table["severity"]
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: `severity` must be a table of RULE = \"error\"|...")
        for rule_key, level in value.items():
            try:
                rule_id = rule_id_by_name_or_id(rule_key)
            except KeyError:
                raise ConfigError(f"{where}: `severity` names unknown rule {rule_key!r}{did_you_mean(rule_key)}") from None
            if not isinstance(level, str):
                raise ConfigError(f"{where}: `severity.{rule_key}` must be a string")
            try:
                config.severity[rule_id] = Severity.parse(level)
            except ValueError as error:
                raise ConfigError(f"{where}: `severity.{rule_key}`: {error}") from None
    if "fail-on" in table:
        if not isinstance(table["fail-on"], str):
            raise ConfigError(f"{where}: `fail-on` must be a string")
        try:
            config.fail_on = Severity.parse(table["fail-on"])
        except ValueError as error:
            raise ConfigError(f"{where}: `fail-on`: {error}") from None
    if "handlers" in table:
        for text in _expect_list_of_str(table["handlers"], "handlers", where):
            try:
                config.handlers.append(HandlerPattern.parse(text))
            except ValueError as error:
                raise ConfigError(f"{where}: `handlers`: {error}") from None
    if "options" in table:
        value = table["options"]
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: `options` must be a table of [options.RULE] tables")
        for rule_key, options in value.items():
            try:
                rule = rule_by_name_or_id(rule_key)
            except KeyError:
                raise ConfigError(f"{where}: `options` names unknown rule {rule_key!r}{did_you_mean(rule_key)}") from None
            if not isinstance(options, dict):
                raise ConfigError(f"{where}: `options.{rule_key}` must be a table")
            config.options[rule.id] = _check_options(rule, options, f"{where}: `options.{rule_key}`")
    return config


def _check_options(rule, options: Mapping[str, Any], where: str) -> Dict[str, Any]:
    checked: Dict[str, Any] = {}
    for key, value in options.items():
        option = rule.options.get(key)
        if option is None:
            known = ", ".join(sorted(rule.options)) or "none"
            raise ConfigError(f"{where}: unknown option `{key}` (known: {known})")
        expected: Tuple[type, ...] = (option.type,)
        if option.type is float:
            expected = (int, float)
        if isinstance(value, bool) and option.type is not bool or not isinstance(value, expected):
            raise ConfigError(
                f"{where}: `{key}` must be of type {option.type.__name__}, got {value!r}"
            )
        checked[key] = value
    return checked
