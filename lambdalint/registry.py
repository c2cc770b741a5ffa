"""Finds the built-in rules (one module per rule in ``lambdalint.rules``) and selects them.

Selecting rules and validating a config need only each rule's id, name, kind and default: those
come from :mod:`lambdalint.rule_catalog`, so that a run whose files are all in the cache never
imports a rule module (nor libcst, which they import). A rule class is imported when a file
needs it. ``python -m lambdalint.registry`` rewrites the catalogue from the rule modules; a test
fails when it is stale.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, List, NamedTuple, Set, Type

if TYPE_CHECKING:
    from lambdalint.rule import Rule

CATALOG_PATH = Path(__file__).resolve().parent / "rule_catalog.py"


class RuleEntry(NamedTuple):
    """What is known of a rule without importing it."""

    id: str
    name: str
    #: the module's name inside ``lambdalint.rules``
    module: str
    #: "python" (a code rule), "template", or "other" (LL001, reported by the engine)
    kind: str
    enabled_by_default: bool


def _rules_package():
    """``lambdalint.rules``: installed from the ``rules/`` folder; when the source checkout
    itself is imported (``python -m lambdalint`` run in the repository, where the working
    folder's ``lambdalint/`` shadows the installed package), loaded from ``rules/`` beside it."""
    try:
        import lambdalint.rules as package
    except ModuleNotFoundError:
        folder = Path(__file__).resolve().parent.parent / "rules"
        spec = importlib.util.spec_from_file_location(
            "lambdalint.rules", folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        if spec is None or spec.loader is None:
            raise
        package = importlib.util.module_from_spec(spec)
        sys.modules["lambdalint.rules"] = package
        spec.loader.exec_module(package)
    return package


def catalog() -> Dict[str, RuleEntry]:
    """Every rule by id, in id order, without importing any rule."""
    return _catalog()


@lru_cache(maxsize=None)
def _catalog() -> Dict[str, RuleEntry]:
    from lambdalint.rule_catalog import RULES

    return {entry[0]: RuleEntry(*entry) for entry in RULES}


def rule_class(rule_id: str) -> Type["Rule"]:
    """The class of one rule, importing its module only."""
    return _rule_class(rule_id)


@lru_cache(maxsize=None)
def _rule_class(rule_id: str) -> Type["Rule"]:
    entry = catalog()[rule_id]
    package = _rules_package()
    module = importlib.import_module(f"{package.__name__}.{entry.module}")
    for value in vars(module).values():
        if isinstance(value, type) and value.__module__ == module.__name__ and getattr(value, "id", None) == rule_id:
            return value
    raise RuntimeError(f"rule {rule_id} is not defined in {module.__name__} (rerun `python -m lambdalint.registry`)")


def all_rules() -> Dict[str, Type["Rule"]]:
    """Every rule class by id, in id order (imports every rule module)."""
    return {rule_id: rule_class(rule_id) for rule_id in catalog()}


def rule_id_by_name_or_id(key: str) -> str:
    """``LL101`` or ``client-in-handler`` -> ``LL101``; KeyError when neither names one."""
    rules = catalog()
    if key.upper() in rules:
        return key.upper()
    for entry in rules.values():
        if entry.name == key.lower():
            return entry.id
    raise KeyError(key)


def rule_by_name_or_id(key: str) -> Type["Rule"]:
    """``LL101`` or ``client-in-handler`` -> the rule class; KeyError when neither names one."""
    return rule_class(rule_id_by_name_or_id(key))


def did_you_mean(selector: str) -> str:
    """`` (did you mean `client-in-handler`?)`` for a selector that names no rule but is close to
    one (``client_in_handler``, ``LL1O1``); empty when nothing is close."""
    import difflib

    key = selector.strip().lower().replace("_", "-")
    rules = catalog()
    choices = {rule_id.lower(): rule_id for rule_id in rules}
    choices.update({entry.name: entry.name for entry in rules.values()})
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.75)
    return f" (did you mean `{choices[close[0]]}`?)" if close else ""


def expand_selector(selector: str) -> Set[str]:
    """``ALL``, a prefix (``LL``, ``LL1``, ``LL10``), an id or a rule name -> rule ids.

    Raises ``KeyError`` when the selector matches no rule, so a typo never passes silently.
    """
    rules = catalog()
    key = selector.strip()
    if key.upper() == "ALL":
        return set(rules)
    matched = {rule_id for rule_id in rules if rule_id.startswith(key.upper())}
    if not matched:
        matched = {rule_id for rule_id, entry in rules.items() if entry.name == key.lower()}
    if not matched:
        raise KeyError(selector)
    return matched


def select_rules(
    select: Iterable[str] | None,
    extend_select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> List[str]:
    """The enabled rule ids: ``select`` (or the defaults), plus ``extend_select``, minus ``ignore``."""
    rules = catalog()
    if select is None:
        chosen = {rule_id for rule_id, entry in rules.items() if entry.enabled_by_default}
    else:
        chosen = set()
        for selector in select:
            chosen |= expand_selector(selector)
    for selector in extend_select:
        chosen |= expand_selector(selector)
    for selector in ignore:
        chosen -= expand_selector(selector)
    return sorted(chosen)


# -- the catalogue, made from the rule modules ----------------------------------------------------


def scan_rule_modules() -> List[RuleEntry]:
    """Import every module of ``lambdalint.rules`` and describe the rules they define."""
    import pkgutil

    from lambdalint.rule import PythonRule, Rule, TemplateRule

    package = _rules_package()
    found: Dict[str, RuleEntry] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value.__module__ == module.__name__
                and getattr(value, "id", None)
            ):
                if value.id in found:
                    raise RuntimeError(f"rule id {value.id} is defined twice")
                kind = "python" if issubclass(value, PythonRule) else "template" if issubclass(value, TemplateRule) else "other"
                found[value.id] = RuleEntry(value.id, value.name, module_info.name, kind, bool(value.enabled_by_default))
    return [found[rule_id] for rule_id in sorted(found)]


def catalog_source(entries: Iterable[RuleEntry]) -> str:
    lines = [
        '"""Generated by `python -m lambdalint.registry` from the rule modules: do not edit.',
        "",
        "(id, name, module, kind, enabled by default) of every built-in rule, so that selecting",
        'rules never imports them."""',
        "",
        "RULES = (",
    ]
    lines += [f"    {tuple(entry)!r}," for entry in entries]
    lines.append(")")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    CATALOG_PATH.write_text(catalog_source(scan_rule_modules()), encoding="utf-8")
    print(f"wrote {CATALOG_PATH}")
