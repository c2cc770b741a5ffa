"""The command line as users and CI call it: exit codes, formats, config errors, noqa."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lambdalint import __version__
from lambdalint.cli import main

BAD_HANDLER = """\
import boto3


def lambda_handler(event, context):
    s3 = boto3.client("s3")
    return s3.list_buckets()
"""

CLEAN_HANDLER = """\
import boto3

s3 = boto3.client("s3")


def lambda_handler(event, context):
    return s3.list_buckets()
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)

    def write(files):
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return tmp_path

    return write


def run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_text_report_is_exact_and_plain_when_not_a_terminal(project, capsys):
    project({"app.py": BAD_HANDLER})
    code, out, _ = run(capsys, "check", "app.py")
    assert code == 1
    assert out == (
        "app.py:5:10: LL101 [*] client-in-handler A boto3 client is created on every invocation, "
        "in handler `lambda_handler`\n"
        "   |\n"
        ' 5 |     s3 = boto3.client("s3")\n'
        "   |          ^^^^^^^^^^^^^^^^^^\n"
        "  = hint: create a boto3 client once at module scope (or lazily in a global) so that "
        "warm invocations reuse it and its connections\n"
        "\n"
        "Found 1 finding (1 warning) in 1 file; 1 file checked.\n"
        "[*] 1 fix available with `--fix`.\n"
    )
    assert "\x1b[" not in out


def test_color_always_uses_ansi_and_no_color_env_is_respected(project, capsys, monkeypatch):
    project({"app.py": BAD_HANDLER})
    _, out, _ = run(capsys, "check", "--color", "always", "app.py")
    assert "\x1b[" in out
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(capsys, "check", "app.py")
    assert "\x1b[" not in out


def test_clean_project_exits_zero(project, capsys):
    project({"app.py": CLEAN_HANDLER})
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert out == "All checks passed (1 file checked).\n"


def test_exit_zero_and_fail_on(project, capsys):
    project({"app.py": BAD_HANDLER})
    assert run(capsys, "check", "--exit-zero")[0] == 0
    assert run(capsys, "check", "--fail-on", "error")[0] == 0
    assert run(capsys, "check", "--fail-on", "warning")[0] == 1
    project({"broken.py": "def f(:\n"})
    assert run(capsys, "check", "--fail-on", "error")[0] == 1


def test_json_report(project, capsys):
    project({"app.py": BAD_HANDLER})
    code, out, _ = run(capsys, "check", "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["summary"] == {
        "files_checked": 1,
        "findings": 1,
        "by_severity": {"error": 0, "warning": 1, "info": 0},
    }
    (finding,) = document["findings"]
    fingerprint = finding.pop("fingerprint")
    assert len(fingerprint) == 32
    assert finding == {
        "path": "app.py",
        "line": 5,
        "column": 10,
        "end_line": 5,
        "end_column": 28,
        "rule": "LL101",
        "name": "client-in-handler",
        "severity": "warning",
        "message": "A boto3 client is created on every invocation, in handler `lambda_handler`",
        "hint": "create a boto3 client once at module scope (or lazily in a global) so that warm "
        "invocations reuse it and its connections",
        "fix": {
            "title": "Create it once at module scope as `s3_client`",
            "safety": "safe",
            "edits": [
                {"line": 2, "column": 1, "end_line": 2, "end_column": 1,
                 "content": '\ns3_client = boto3.client("s3")\n'},
                {"line": 5, "column": 10, "end_line": 5, "end_column": 28, "content": "s3_client"},
            ],
        },
        "related": [],
    }


def test_json_report_matches_the_shipped_schema(project, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    import lambdalint

    schema_path = Path(lambdalint.__file__).parent / "schemas" / "report.schema.json"
    schema = json.loads(schema_path.read_text())
    project({"app.py": BAD_HANDLER, "broken.py": "x = (\n"})
    _, out, _ = run(capsys, "check", "--format", "json")
    document = json.loads(out)
    assert len(document["findings"]) == 2
    jsonschema.Draft202012Validator(schema).validate(document)
    document["findings"][0]["line"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(document)


def test_github_annotations(project, capsys):
    project({"app.py": BAD_HANDLER})
    _, out, _ = run(capsys, "check", "--format", "github")
    assert out == (
        "::warning file=app.py,line=5,col=10,endLine=5,endColumn=28,"
        "title=LL101 client-in-handler::LL101 A boto3 client is created on every invocation, "
        "in handler `lambda_handler` (hint: create a boto3 client once at module scope "
        "(or lazily in a global) so that warm invocations reuse it and its connections)\n"
    )


def test_output_file_and_statistics(project, capsys):
    project({"a.py": BAD_HANDLER, "b.py": BAD_HANDLER, "c.py": "def f(:\n"})
    code, out, _ = run(capsys, "check", "--statistics", "--output", "report.txt")
    assert code == 1 and out == ""
    assert Path("report.txt").read_text() == (
        "2\tLL101\t[*] client-in-handler\n"
        "1\tLL001\t    parse-error\n"
        "Found 3 findings (1 error, 2 warnings) in 3 files; 3 files checked.\n"
        "[*] 2 fixes available with `--fix`.\n"
    )


def test_select_ignore_and_prefixes(project, capsys):
    project({"app.py": BAD_HANDLER, "broken.py": "def f(:\n"})
    _, out, _ = run(capsys, "check", "--format", "json", "--select", "LL0")
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["LL001"]
    _, out, _ = run(capsys, "check", "--format", "json", "--ignore", "parse-error")
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["LL101"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["check", "--select", "LL999"], "--select: unknown rule 'LL999'"),
        (["check", "--ignore", "nope"], "--ignore: unknown rule 'nope' (see `lambdalint rules`)"),
        (["check", "--select", "LL1O1"], "--select: unknown rule 'LL1O1' (did you mean `LL101`?)"),
        (["check", "--select", "client_in_handler"], "unknown rule 'client_in_handler' (did you mean `client-in-handler`?)"),
        (["check", "missing/"], "missing: no such file or directory"),
        (["check", "--config", "absent.toml"], "config file absent.toml does not exist"),
        (["rule", "LL999"], "unknown rule 'LL999'"),
        (["check", "--jobs", "0"], "--jobs must be at least 1"),
    ],
)
def test_usage_errors_exit_two_with_a_clear_message(project, capsys, args, message):
    project({"app.py": CLEAN_HANDLER})
    code, out, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[tool.lambdalint]\nselekt = ['LL101']\n", "unknown key `selekt` (did you mean `select`?"),
        ("[tool.lambdalint]\nfail_on = 'error'\n", "unknown key `fail_on` (did you mean `fail-on`?"),
        ("[tool.lambdalint]\nignore = ['hardcoded_resource']\n", "(did you mean `hardcoded-resource`?)"),
        ("[tool.lambdalint]\nselect = ['LL999']\n", "`select` names unknown rule 'LL999'"),
        ("[tool.lambdalint]\nselect = 'LL101'\n", "`select` must be a list of strings"),
        ("[tool.lambdalint]\nseverity = { LL101 = 'fatal' }\n", "unknown severity 'fatal'"),
        ("[tool.lambdalint]\nseverity = { LL777 = 'error' }\n", "`severity` names unknown rule 'LL777'"),
        ("[tool.lambdalint.per-file-ignores]\n'tests/*' = ['LL9']\n", "unknown rule 'LL9'"),
        ("[tool.lambdalint]\nhandlers = ['no-colon']\n", "must look like 'path/glob.py:function'"),
        ("[tool.lambdalint.options.LL101]\nspeed = 1\n", "unknown option `speed`"),
        ("[tool.lambdalint.options.LL888]\nx = 1\n", "`options` names unknown rule 'LL888'"),
        ("[tool.lambdalint\n", "invalid TOML"),
    ],
)
def test_config_errors_exit_two_naming_the_problem(project, capsys, toml, message):
    project({"app.py": CLEAN_HANDLER, "pyproject.toml": toml})
    code, _, err = run(capsys, "check")
    assert code == 2
    assert message in err, err
    assert "pyproject.toml" in err


def test_config_select_severity_per_file_ignores_and_exclude(project, capsys):
    project({
        "pyproject.toml": (
            "[tool.lambdalint]\n"
            "extend-exclude = ['generated']\n"
            "severity = { client-in-handler = 'error' }\n"
            "[tool.lambdalint.per-file-ignores]\n"
            "'scripts/*.py' = ['LL101']\n"
        ),
        "app.py": BAD_HANDLER,
        "scripts/tool.py": BAD_HANDLER,
        "generated/gen.py": BAD_HANDLER,
    })
    code, out, _ = run(capsys, "check", "--format", "json", "--fail-on", "error")
    document = json.loads(out)
    assert code == 1
    assert document["summary"]["files_checked"] == 2
    assert [(f["path"], f["severity"]) for f in document["findings"]] == [("app.py", "error")]


def test_lambdalint_toml_is_found_from_a_subfolder(project, capsys, monkeypatch, tmp_path):
    project({"lambdalint.toml": "ignore = ['LL101']\n", "src/app.py": BAD_HANDLER})
    monkeypatch.chdir(tmp_path / "src")
    assert run(capsys, "check")[0] == 0
    assert run(capsys, "check", "--isolated")[0] == 1


def test_handlers_from_config(project, capsys):
    project({
        "pyproject.toml": "[tool.lambdalint]\nhandlers = ['jobs/*.py:run']\n",
        "jobs/nightly.py": "import boto3\n\ndef run(payload, ctx):\n    return boto3.client('s3')\n",
    })
    _, out, _ = run(capsys, "check", "--format", "json")
    assert [(f["path"], f["line"]) for f in json.loads(out)["findings"]] == [("jobs/nightly.py", 4)]


@pytest.mark.parametrize(
    "comment, suppressed",
    [
        ("  # noqa: LL101", True),
        ("  # noqa: LL102, LL101", True),
        ("  # NOQA:LL101", True),
        ("  # noqa", True),
        ("  # noqa: LL102", False),
        ("", False),
    ],
)
def test_noqa(project, capsys, comment, suppressed):
    project({"app.py": BAD_HANDLER.replace('boto3.client("s3")', 'boto3.client("s3")' + comment)})
    code, _, _ = run(capsys, "check")
    assert code == (0 if suppressed else 1)


def test_noqa_on_the_first_line_of_a_multiline_finding(project, capsys):
    source = (
        "import boto3\n\ndef handler(event, context):\n"
        "    return boto3.client(  # noqa: LL101\n        's3',\n    )\n"
    )
    project({"app.py": source})
    assert run(capsys, "check")[0] == 0
    project({"app.py": source.replace("  # noqa: LL101", "").replace("'s3',", "'s3',  # noqa: LL101")})
    assert run(capsys, "check")[0] == 1


def test_stdin(project, capsys, monkeypatch):
    import io

    class FakeStdin:
        buffer = io.BytesIO(BAD_HANDLER.encode())

    monkeypatch.setattr(sys, "stdin", FakeStdin)
    code, out, _ = run(capsys, "check", "--format", "json", "--stdin-filename", "src/app.py", "-")
    assert code == 1
    assert [(f["path"], f["line"]) for f in json.loads(out)["findings"]] == [("src/app.py", 5)]


def test_rules_and_rule_commands(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0
    assert out.splitlines()[0].split() == ["ID", "NAME", "SEVERITY", "FIX", "SUMMARY"]
    assert any(line.startswith("LL101  client-in-handler") for line in out.splitlines())
    code, out, _ = run(capsys, "rules", "--format", "json")
    listed = {rule["id"]: rule for rule in json.loads(out)}
    assert listed["LL101"]["fixable"] == "safe" and listed["LL001"]["severity"] == "error"
    code, out, _ = run(capsys, "rule", "client-in-handler")
    assert code == 0
    assert out.startswith("# LL101 client-in-handler\n\nSeverity: warning. Fix: safe.\n")
    assert "## Why is this bad in Lambda" in out


def test_python_dash_m_and_version(tmp_path):
    (tmp_path / "app.py").write_text(BAD_HANDLER)
    result = subprocess.run(
        [sys.executable, "-m", "lambdalint", "check", "app.py"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 1 and "LL101" in result.stdout
    version = subprocess.run(
        [sys.executable, "-m", "lambdalint", "--version"], capture_output=True, text=True
    )
    assert version.stdout.strip() == f"lambdalint {__version__}"
    bare = subprocess.run([sys.executable, "-m", "lambdalint"], capture_output=True, text=True)
    assert bare.returncode == 2 and "usage: lambdalint" in bare.stderr


def test_a_closed_pipe_is_not_an_internal_error(tmp_path):
    (tmp_path / "app.py").write_text(BAD_HANDLER * 400)  # more than a pipe buffer of report
    for command in ("rules", "rule LL101", "check app.py"):
        result = subprocess.run(
            f"{sys.executable} -m lambdalint {command} | head -1",
            shell=True, cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"},
        )
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr


def test_the_source_checkout_runs_without_an_installed_rules_package(tmp_path):
    """`python -m lambdalint` in the repository imports ./lambdalint, which has no `rules`
    subpackage of its own (it is installed from ./rules): the registry must find ./rules."""
    root = Path(__file__).resolve().parents[1]
    site_dirs = [p for p in sys.path if p.endswith("site-packages")]
    code = (
        f"import sys; sys.path[:0] = [{str(root)!r}] + {site_dirs!r}; "
        "from lambdalint.cli import main; sys.exit(main(['rules']))"
    )
    # -S: no .pth files, so no editable-install finder maps lambdalint.rules
    result = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "LL101  client-in-handler" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["check", "--fix", "--diff"], "--fix and --diff exclude each other"),
        (["check", "--statistics", "--format", "json"], "--statistics is a text report"),
        (["check", "--stdin-filename", "x.py", "app.py"], "pass '-' as the only path"),
        (["check", "--select="], "no rule is enabled"),
        (["check", "--select", "ALL", "--ignore", "ALL"], "no rule is enabled"),
    ],
)
def test_flag_combinations_that_would_mislead_are_errors(project, capsys, args, message):
    project({"app.py": CLEAN_HANDLER})
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_statistics_mark_unsafe_fixes_as_unsafe(project, capsys):
    project({"app.py": "import requests\n\ndef handler(event, context):\n    return requests.get('https://x')\n"})
    main(["check", "--statistics", "--select", "LL301"])
    assert capsys.readouterr().out.startswith("1\tLL301\t[~] http-call-without-timeout\n")


def test_the_cache_and_vcs_folders_are_never_linted_even_with_exclude(project, capsys):
    project({"pyproject.toml": "[tool.lambdalint]\nexclude = ['build']\n", "app.py": CLEAN_HANDLER})
    for _ in range(3):
        main(["check", "--format", "json"])
        assert json.loads(capsys.readouterr().out)["summary"]["files_checked"] == 1


def test_missing_hcl_parser_is_said_not_silent(project, capsys, monkeypatch):
    import builtins

    project({"main.tf": 'resource "aws_lambda_function" "f" {\n  handler = "a.b"\n}\n'})
    real_import = builtins.__import__

    def no_hcl2(name, *args, **kwargs):
        if name == "hcl2" or name.startswith("hcl2."):
            raise ImportError("No module named 'hcl2'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_hcl2)
    main(["check", "--no-cache", "--select", "LL001"])
    assert "python-hcl2 is not installed, so 1 Terraform file was not checked" in capsys.readouterr().err


def test_a_working_folder_that_no_longer_exists_is_a_usage_error(tmp_path, monkeypatch, capsys):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    code, _, err = run(capsys, "check", ".")
    assert code == 2
    assert err.strip() == "lambdalint: error: the current folder no longer exists (cd into the project again)"


def test_flags_that_would_do_nothing_say_so(project, capsys):
    """--diff with a report format, --unsafe-fixes without --fix/--diff, and a file named on the
    command line that the config excludes (found by the new-user review: all were silent)."""
    project({"app.py": BAD_HANDLER, "gen/app.py": BAD_HANDLER, "pyproject.toml": "[tool.lambdalint]\nextend-exclude = ['gen']\n"})
    code, _, err = run(capsys, "check", "--diff", "--format", "json")
    assert code == 2 and "--diff prints a unified diff, not a report: drop --format" in err
    code, _, err = run(capsys, "check", "--unsafe-fixes", "app.py")
    assert code == 1 and "warning: --unsafe-fixes does nothing without --fix or --diff" in err
    code, out, err = run(capsys, "check", "gen/app.py")
    assert code == 0 and "note: gen/app.py is excluded by the configuration, not checked" in err
    assert "0 files checked" in out
