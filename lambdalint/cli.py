"""The ``lambdalint`` command: ``check``, ``rule`` and ``rules``.

Exit codes: 0 no finding at or above ``--fail-on``, 1 findings, 2 usage, config or internal
error. Heavy modules (libcst, rich, the rules) are imported only by the commands that use them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from lambdalint import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

DESCRIPTION = """\
A static analyzer for AWS Lambda: finds per-request state in globals, clients created per
invocation, hardcoded resources and secrets, missing timeouts, non-idempotent handlers,
recursive S3 triggers and wildcard IAM, in Python handlers and the templates that deploy them."""

CHECK_EPILOG = """\
exit codes:
  0  no finding at or above --fail-on
  1  findings at or above --fail-on
  2  usage, configuration or internal error

examples:
  lambdalint check                       lint the current folder
  lambdalint check src/ template.yaml    lint some paths
  lambdalint check --format sarif -o lambdalint.sarif
  lambdalint check --select LL1 --ignore LL102
  cat app.py | lambdalint check --stdin-filename app.py -"""


class UsageError(Exception):
    """A mistake in how lambdalint was called (exit 2)."""


def _selectors(values: Optional[List[str]]) -> Optional[List[str]]:
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambdalint",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lambdalint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="lint files and folders (default: the current folder)",
        description="Lint Python handlers and the templates that deploy them (SAM/CloudFormation, "
        "Serverless, Terraform) under PATH (default: the current folder).",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or folders; '-' reads stdin")
    output = check.add_argument_group("output")
    output.add_argument(
        "--format",
        choices=("text", "json", "sarif", "github"),
        default="text",
        help="report format (default: text)",
    )
    output.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    output.add_argument(
        "--statistics", action="store_true", help="print the number of findings per rule"
    )
    output.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text report (auto: on a terminal unless NO_COLOR is set)",
    )
    fixing = check.add_argument_group("fixes")
    fixing.add_argument("--fix", action="store_true", help="apply safe fixes, then report what is left")
    fixing.add_argument(
        "--unsafe-fixes", action="store_true", help="with --fix or --diff: also apply unsafe fixes"
    )
    fixing.add_argument(
        "--diff", action="store_true",
        help="print the diff that --fix would make and change nothing (exit 1 when there is one)",
    )
    rules = check.add_argument_group("rule selection")
    rules.add_argument(
        "--select", action="append", metavar="RULES",
        help="comma-separated rule ids, prefixes (LL1) or names to enable instead of the defaults",
    )
    rules.add_argument(
        "--extend-select", action="append", metavar="RULES", help="rules to enable in addition"
    )
    rules.add_argument("--ignore", action="append", metavar="RULES", help="rules to disable")
    outcome = check.add_argument_group("exit status")
    outcome.add_argument(
        "--fail-on",
        choices=("error", "warning", "info"),
        help="lowest severity that makes the exit status 1 (default: warning)",
    )
    outcome.add_argument(
        "--exit-zero", action="store_true", help="exit with 0 even when there are findings"
    )
    settings = check.add_argument_group("configuration")
    settings.add_argument(
        "--config", metavar="FILE", help="read this pyproject.toml or lambdalint.toml"
    )
    settings.add_argument(
        "--isolated", action="store_true", help="ignore every configuration file"
    )
    settings.add_argument(
        "--stdin-filename", metavar="NAME", help="the name of the file whose text is on stdin (its templates and the modules that import it are read from disk)"
    )
    settings.add_argument(
        "-j", "--jobs", type=int, metavar="N",
        help="worker processes (default: one per core; 1 runs serially)",
    )
    settings.add_argument(
        "--shard", metavar="K/N",
        help="lint only the K-th of N deterministic parts (for a CI matrix); a template and the "
        "handlers it names stay in one part",
    )
    settings.add_argument(
        "--no-cache", action="store_true",
        help="neither read nor write the result cache (.lambdalint_cache/ beside the config)",
    )

    rule = commands.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("rule", metavar="RULE", help="a rule id (LL101) or name (client-in-handler)")

    listing = commands.add_parser("rules", help="list every rule")
    listing.add_argument("--format", choices=("text", "json"), default="text")

    merge = commands.add_parser("merge", help="combine JSON reports (from --shard runs) into one")
    merge.add_argument("reports", nargs="+", metavar="REPORT", help="JSON reports of `check --format json`")
    merge.add_argument("-o", "--output", metavar="FILE", help="write the merged report to FILE")

    clean = commands.add_parser("clean", help="remove the result cache (.lambdalint_cache/)")
    clean.add_argument("--config", metavar="FILE", help="the config whose folder holds the cache")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        os.getcwd()
    except FileNotFoundError:
        print("lambdalint: error: the current folder no longer exists (cd into the project again)", file=sys.stderr)
        return EXIT_ERROR
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "rule":
            return show_rule(args.rule)
        if args.command == "clean":
            return clean_cache(args)
        if args.command == "merge":
            return merge_reports(args)
        return list_rules(args.format)
    except UsageError as error:
        print(f"lambdalint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `lambdalint rules | head`: the reader left; that is not an error of ours.
        _silence_stdout()
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - the contract is exit 2, never a bare traceback
        import traceback

        traceback.print_exc(file=sys.stderr)
        print(f"lambdalint: internal error: {error!r} (please report it)", file=sys.stderr)
        return EXIT_ERROR


def _load_config(args: argparse.Namespace):
    from lambdalint.config import Config, ConfigError, load_config
    from lambdalint.model import Severity
    from lambdalint.registry import did_you_mean, expand_selector

    try:
        if args.isolated:
            config = Config(root=Path.cwd())
        elif args.config:
            config = load_config(Path(args.config))
        else:
            start = Path(args.paths[0]) if args.paths and args.paths[0] != "-" else Path.cwd()
            config = load_config(None, start=Path.cwd())
            if config.source is None and start != Path.cwd():
                config = load_config(None, start=start)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    for option in ("select", "extend_select", "ignore"):
        selectors = _selectors(getattr(args, option))
        if selectors is None:
            continue
        for selector in selectors:
            try:
                expand_selector(selector)
            except KeyError:
                flag = "--" + option.replace("_", "-")
                hint = did_you_mean(selector) or " (see `lambdalint rules`)"
                raise UsageError(f"{flag}: unknown rule {selector!r}{hint}") from None
        if option == "select":
            config.select = selectors
        else:
            getattr(config, option).extend(selectors)
    if args.fail_on:
        config.fail_on = Severity.parse(args.fail_on)
    config.cache_root = None if args.no_cache else config.root
    return config


def run_check(args: argparse.Namespace) -> int:
    from lambdalint.discovery import DiscoveryError, SourceFile, discover, display_path, kind_of
    from lambdalint.engine import (
        Session,
        Shard,
        close_recursive_loops,
        project_context,
        default_jobs,
        entries_from_importers,
        lint_files,
        lint_source,
        project_links,
        sorted_findings,
    )
    from lambdalint.model import Finding
    from lambdalint.fix import fix_files, fix_source, unified_diff, write_atomically
    from lambdalint.report import RunResult, renderer

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.fix and args.diff:
        raise UsageError("--fix and --diff exclude each other: --diff shows what --fix would write")
    if args.statistics and args.format != "text":
        raise UsageError("--statistics is a text report: drop --format, or count the JSON findings")
    if args.diff and args.format != "text":
        raise UsageError("--diff prints a unified diff, not a report: drop --format")
    if args.unsafe_fixes and not (args.fix or args.diff):
        print("lambdalint: warning: --unsafe-fixes does nothing without --fix or --diff", file=sys.stderr)
    if args.stdin_filename and args.paths and args.paths != ["-"]:
        raise UsageError("--stdin-filename names the text read from stdin: pass '-' as the only path")
    shard = None
    if args.shard:
        try:
            shard = Shard.parse(args.shard)
        except ValueError as error:
            raise UsageError(str(error)) from None

    config = _load_config(args)
    session = Session.create(config)
    if not session.enabled:
        raise UsageError("no rule is enabled (check --select, --ignore and the config's select/ignore)")
    sources = {}
    report_to_stderr = False
    fixing = args.fix or args.diff
    fixed_count = 0
    diff_found = False
    if args.paths == ["-"] or (args.stdin_filename and not args.paths):
        name = args.stdin_filename or "stdin.py"
        path = Path(name)
        data = sys.stdin.buffer.read()
        file = SourceFile(display_path(path, Path.cwd()), path, kind_of(path) or "python")
        files_checked = 1
        # an editor's buffer: the project's templates still say what feeds this handler, and
        # the modules that import it what their handlers pass in
        context = project_context(config, [file], [])
        project = project_links(session, context)
        links = project.for_module(path)
        entries = entries_from_importers(session, file, context, project)
        if fixing:
            outcome = fix_source(session, file, data, unsafe=args.unsafe_fixes, links=links, entries=entries)
            _warn_dropped([outcome])
            fixed_count = len(outcome.applied)
            findings = outcome.remaining
            if args.diff:
                diff_found = outcome.changed
                sys.stdout.write(unified_diff(outcome))
            else:
                sys.stdout.buffer.write(outcome.fixed)
                sys.stdout.flush()
            data = outcome.fixed
        else:
            findings = lint_source(session, file, data, links, entries)
        sources[file.display_path] = data.decode("utf-8", "replace")
        if fixing:
            # stdout carries the code (or diff); the report goes to stderr, as in ruff.
            report_to_stderr = args.output is None
    else:
        if "-" in args.paths:
            raise UsageError("'-' (stdin) cannot be combined with other paths")
        paths = [Path(p) for p in (args.paths or ["."])]
        try:
            files = discover(paths, config)
        except DiscoveryError as error:
            raise UsageError(str(error)) from None
        for path in paths:
            if path.is_file() and config.is_excluded(path):
                # pre-commit names files one by one: the config's excludes still win, but say so
                print(f"lambdalint: note: {path} is excluded by the configuration, not checked", file=sys.stderr)
        files_checked = len(files)
        _warn_if_terraform_unreadable(files)
        context = project_context(config, files, paths) if shard is None else []
        if fixing:
            outcomes = fix_files(
                session, files, unsafe=args.unsafe_fixes, jobs=args.jobs or default_jobs(), context=context
            )
            _warn_dropped(outcomes)
            remaining: Dict[str, List[Finding]] = {}
            for outcome in outcomes:
                for finding in outcome.remaining:
                    remaining.setdefault(finding.path, []).append(finding)
            close_recursive_loops(remaining)  # as a plain check does: one finding per S3 loop
            findings = sorted_findings(remaining)
            changed = [o for o in outcomes if o.changed]
            if args.diff:
                diff_found = bool(changed)
                for outcome in changed:
                    sys.stdout.write(unified_diff(outcome))
                fixed_count = sum(len(o.applied) for o in changed)
                print(f"Would fix {fixed_count} finding{'s' if fixed_count != 1 else ''}"
                      f" in {len(changed)} file{'s' if len(changed) != 1 else ''}.", file=sys.stderr)
                return EXIT_FINDINGS if diff_found else EXIT_OK
            for outcome in changed:
                write_atomically(outcome.file.path, outcome.fixed)
            fixed_count = sum(len(o.applied) for o in changed)
        else:
            per_file = lint_files(session, files, args.jobs, shard, context)
            findings = sorted_findings(per_file)
            if shard is not None:
                files_checked = len(per_file)
        if args.format == "text" and not args.statistics:
            for path in sorted({f.path for f in findings}):
                try:
                    sources[path] = Path(path).read_bytes().decode("utf-8", "replace")
                except OSError:
                    pass
    result = RunResult(findings, files_checked, sources, list(session.enabled))
    render = renderer(args.format)
    if args.format == "text":
        to_terminal = args.output is None and sys.stdout.isatty()
        color = args.color == "always" or (
            args.color == "auto" and to_terminal and not os.environ.get("NO_COLOR")
        )
        report = render(result, color=color, statistics=args.statistics, fixed=fixed_count)
    elif args.format == "sarif" and shard is not None:
        report = render(result, automation_id=f"lambdalint/shard-{shard.index}-of-{shard.count}")
    else:
        report = render(result)
    if args.diff:
        print(f"Would fix {fixed_count} finding{'s' if fixed_count != 1 else ''}.", file=sys.stderr)
        return EXIT_FINDINGS if diff_found else EXIT_OK
    write_report(report, args.output, to_stderr=report_to_stderr)
    if args.exit_zero:
        return EXIT_OK
    failing = [f for f in findings if f.severity >= config.fail_on]
    return EXIT_FINDINGS if failing else EXIT_OK


def _warn_if_terraform_unreadable(files) -> None:
    """Terraform needs python-hcl2 (a dependency); say so when it is missing rather than
    passing .tf files over in silence."""
    count = sum(1 for file in files if file.kind == "terraform")
    if not count:
        return
    try:
        import hcl2  # noqa: F401
    except ImportError:
        print(
            f"lambdalint: warning: python-hcl2 is not installed, so {count} Terraform file"
            f"{'s were' if count != 1 else ' was'} not checked (pip install python-hcl2)",
            file=sys.stderr,
        )


def _warn_dropped(outcomes) -> None:
    for outcome in outcomes:
        for finding, reason in outcome.dropped:
            print(
                f"lambdalint: warning: the fix for {finding.rule_id} at {finding.path}:"
                f"{finding.span.line}:{finding.span.column} was not applied: {reason}",
                file=sys.stderr,
            )


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def write_report(report: str, output: Optional[str], *, to_stderr: bool = False) -> None:
    if to_stderr:
        sys.stderr.write(report)
        return
    if output is None:
        try:
            sys.stdout.write(report)
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()  # `lambdalint check | head`: the exit status still tells
        return
    try:
        Path(output).write_text(report, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror}") from None


def merge_reports(args: argparse.Namespace) -> int:
    """Concatenate the findings of JSON reports, sorted as one run would sort them."""
    import json

    from lambdalint.report.json_report import SCHEMA_VERSION

    findings = []
    files_checked = 0
    seen = set()
    reports_seen = set()
    for name in args.reports:
        try:
            document = json.loads(Path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UsageError(f"{name}: not a readable JSON report ({error})") from None
        if not isinstance(document, dict) or document.get("schema_version") != SCHEMA_VERSION:
            raise UsageError(f"{name}: not a lambdalint JSON report of schema {SCHEMA_VERSION}")
        identity = json.dumps(document, sort_keys=True)
        if identity in reports_seen:
            continue  # the same report twice (a glob that matched a copy): count it once
        reports_seen.add(identity)
        files_checked += document["summary"]["files_checked"]
        for finding in document["findings"]:
            identity = (finding["path"], finding["line"], finding["column"], finding["rule"], finding["fingerprint"])
            if identity not in seen:
                seen.add(identity)
                findings.append(finding)
    findings.sort(key=lambda f: (f["path"], f["line"], f["column"], f["rule"], f["message"]))
    levels = ("error", "warning", "info")
    merged = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "lambdalint", "version": __version__},
        "summary": {
            "files_checked": files_checked,
            "findings": len(findings),
            "by_severity": {level: sum(1 for f in findings if f["severity"] == level) for level in levels},
        },
        "findings": findings,
    }
    write_report(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", args.output)
    return EXIT_OK


def clean_cache(args: argparse.Namespace) -> int:
    from lambdalint.cache import CACHE_FOLDER, clean
    from lambdalint.config import ConfigError, load_config

    try:
        config = load_config(Path(args.config) if args.config else None, start=Path.cwd())
    except ConfigError as error:
        raise UsageError(str(error)) from None
    removed = clean(config.root)
    where = config.root / CACHE_FOLDER
    print(f"Removed {where}." if removed else f"No cache at {where}.")
    return EXIT_OK


def show_rule(key: str) -> int:
    from lambdalint.registry import rule_by_name_or_id

    try:
        rule = rule_by_name_or_id(key)
    except KeyError:
        raise UsageError(f"unknown rule {key!r} (see `lambdalint rules`)") from None
    fix = rule.fix_safety.value if rule.fix_safety else "none"
    default = "" if rule.enabled_by_default else " (off by default: enable it with --select)"
    print(f"# {rule.id} {rule.name}\n")
    print(f"Severity: {rule.severity}. Fix: {fix}.{default}\n")
    print(rule.doc())
    if rule.options:
        print("\n## Options (under `[tool.lambdalint.options." + rule.id + "]`)")
        for name, option in rule.options.items():
            print(f"- `{name}` ({option.type.__name__}, default {option.default!r}): {option.help}")
    return EXIT_OK


def list_rules(output_format: str) -> int:
    from lambdalint.registry import all_rules

    rules = all_rules().values()
    if output_format == "json":
        import json

        print(json.dumps([
            {
                "id": rule.id,
                "name": rule.name,
                "severity": str(rule.severity),
                "fixable": rule.fix_safety.value if rule.fix_safety else None,
                "enabled_by_default": rule.enabled_by_default,
                "summary": rule.summary(),
            }
            for rule in rules
        ], indent=2))
        return EXIT_OK
    name_width = max(len(rule.name) for rule in rules)
    print(f"{'ID':<6} {'NAME':<{name_width}} {'SEVERITY':<8} {'FIX':<6} SUMMARY")
    for rule in rules:
        fix = rule.fix_safety.value if rule.fix_safety else "-"
        summary = rule.summary() + ("" if rule.enabled_by_default else " (off by default)")
        print(f"{rule.id:<6} {rule.name:<{name_width}} {str(rule.severity):<8} {fix:<6} {summary}")
    return EXIT_OK
