"""The README stays in step with the code: every rule and every CLI flag is documented."""

from __future__ import annotations

import re
from pathlib import Path

from lambdalint.cli import build_parser
from lambdalint.registry import all_rules

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_rule_is_in_the_readme_table():
    for rule in all_rules().values():
        assert re.search(rf"^\| {rule.id} \| {re.escape(rule.name)} \|", README, re.MULTILINE), rule.id


def test_every_check_flag_is_in_the_readme():
    parser = build_parser()
    check = parser._subparsers._group_actions[0].choices["check"]  # argparse keeps no public handle
    for action in check._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert f"`{flag}" in README, flag


def test_the_readme_config_example_is_valid():
    import sys

    from lambdalint.config import parse_config

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    block = re.search(r"```toml\n(.*?)```", README, re.DOTALL).group(1)
    table = tomllib.loads(block)["tool"]["lambdalint"]
    config = parse_config(table, root=Path("."))
    assert config.handlers and config.severity and config.options
