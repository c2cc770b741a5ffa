"""Finds the built-in rules (one module per rule in ``lambdalint.rules``) and selects them."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path
from functools import lru_cache
from typing import Dict, Iterable, List, Set, Type

from lambdalint.rule import Rule


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


@lru_cache(maxsize=None)
def all_rules() -> Dict[str, Type[Rule]]:
    """Every rule by id, in id order. Imported once per process."""
    package = _rules_package()

    found: Dict[str, Type[Rule]] = {}
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
                found[value.id] = value
    return dict(sorted(found.items()))


def rule_by_name_or_id(key: str) -> Type[Rule]:
    """``LL101`` or ``client-in-handler`` -> the rule; KeyError when neither names one."""
    rules = all_rules()
    key_upper = key.upper()
    if key_upper in rules:
        return rules[key_upper]
    for rule in rules.values():
        if rule.name == key.lower():
            return rule
    raise KeyError(key)


def expand_selector(selector: str) -> Set[str]:
    """``ALL``, a prefix (``LL``, ``LL1``, ``LL10``), an id or a rule name -> rule ids.

    Raises ``KeyError`` when the selector matches no rule, so a typo never passes silently.
    """
    rules = all_rules()
    key = selector.strip()
    if key.upper() == "ALL":
        return set(rules)
    matched = {rule_id for rule_id in rules if rule_id.startswith(key.upper())}
    if not matched:
        matched = {rule_id for rule_id, rule in rules.items() if rule.name == key.lower()}
    if not matched:
        raise KeyError(selector)
    return matched


def select_rules(
    select: Iterable[str] | None,
    extend_select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> List[str]:
    """The enabled rule ids: ``select`` (or the defaults), plus ``extend_select``, minus ``ignore``."""
    rules = all_rules()
    if select is None:
        chosen = {rule_id for rule_id, rule in rules.items() if rule.enabled_by_default}
    else:
        chosen = set()
        for selector in select:
            chosen |= expand_selector(selector)
    for selector in extend_select:
        chosen |= expand_selector(selector)
    for selector in ignore:
        chosen -= expand_selector(selector)
    return sorted(chosen)
