"""--fix, --diff and --unsafe-fixes: golden input/output pairs, idempotence, safety."""

from __future__ import annotations

import codecs
import io
import os
import stat
import sys
from pathlib import Path

import pytest

from lambdalint.cli import main
from lambdalint.config import Config
from lambdalint.discovery import SourceFile
from lambdalint.engine import Session
from lambdalint.fix import apply_edits, fix_source
from lambdalint.model import Edit, Span

FIXTURES = Path(__file__).parent / "fixtures" / "fixes"
CASES = sorted(p.name[: -len(".in.py")] for p in FIXTURES.glob("*.in.py"))


def fix_text(text: bytes, *, unsafe: bool = False, name: str = "app.py", select=None) -> bytes:
    config = Config(select=select)
    session = Session.create(config)
    return fix_source(session, SourceFile(name, Path(name), "python"), text, unsafe=unsafe).fixed


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    """Each pair is the result of `--fix --unsafe-fixes`."""
    source = (FIXTURES / f"{case}.in.py").read_bytes()
    expected = (FIXTURES / f"{case}.out.py").read_bytes()
    fixed = fix_text(source, unsafe=True)
    assert fixed.decode() == expected.decode()
    assert fix_text(fixed, unsafe=True) == fixed, "a second --fix must change nothing"


@pytest.mark.parametrize("case", CASES)
def test_golden_with_crlf_line_endings(case):
    source = (FIXTURES / f"{case}.in.py").read_bytes().replace(b"\n", b"\r\n")
    expected = (FIXTURES / f"{case}.out.py").read_bytes().replace(b"\n", b"\r\n")
    assert fix_text(source, unsafe=True) == expected


def test_safe_fixes_leave_unsafe_ones_alone():
    source = (FIXTURES / "http_timeouts.in.py").read_bytes()
    assert fix_text(source) == source


def test_bom_and_encoding_declaration_are_kept():
    source = codecs.BOM_UTF8 + (FIXTURES / "two_clients.in.py").read_bytes()
    fixed = fix_text(source)
    assert fixed.startswith(codecs.BOM_UTF8)
    assert fixed[3:] == (FIXTURES / "two_clients.out.py").read_bytes()
    latin = b"# -*- coding: latin-1 -*-\nimport boto3\nNAME = 'caf\xe9'\n\ndef handler(event, context):\n    return boto3.client('s3')\n"
    fixed = fix_text(latin)
    assert b"NAME = 'caf\xe9'" in fixed and b"s3_client = boto3.client('s3')" in fixed
    fixed.decode("latin-1")


def test_unsafe_fix_needs_the_flag():
    source = b"import os\nimport boto3\n\ndef handler(event, context):\n    return boto3.client('s3', region_name=os.environ['AWS_REGION'])\n"
    assert fix_text(source) == source
    assert fix_text(source, unsafe=True) == (
        b"import os\nimport boto3\n\ns3_client = boto3.client('s3', region_name=os.environ['AWS_REGION'])\n"
        b"\ndef handler(event, context):\n    return s3_client\n"
    )


def test_a_client_made_inside_try_is_hoisted_only_as_an_unsafe_fix():
    """Hoisting out of ``try:`` moves the constructor's errors from the handler's except
    clause to the cold start (found by the new-user review): not a safe fix."""
    source = (
        b"import boto3\n\ndef handler(event, context):\n    try:\n        s3 = boto3.client('s3')\n"
        b"    except Exception:\n        return None\n    return s3\n"
    )
    assert fix_text(source) == source
    assert fix_text(source, unsafe=True) == (
        b"import boto3\n\ns3_client = boto3.client('s3')\n\ndef handler(event, context):\n    try:\n"
        b"        s3 = s3_client\n    except Exception:\n        return None\n    return s3\n"
    )


def test_fix_only_applies_selected_rules():
    source = (FIXTURES / "two_clients.in.py").read_bytes()
    assert fix_text(source, select=["LL001"]) == source


def test_a_fix_that_would_break_the_file_is_dropped(monkeypatch):
    from lambdalint.rules import ll101_client_in_handler as rule_module

    def broken_hoist(self, node, function, factory):
        from lambdalint.model import Fix, FixSafety

        return Fix("break it", FixSafety.SAFE, (Edit(self.span_of(node), "return ("),))

    monkeypatch.setattr(rule_module.ClientInHandler, "_hoist", broken_hoist)
    source = b"import boto3\n\ndef handler(event, context):\n    return boto3.client('s3')\n"
    session = Session.create(Config())
    outcome = fix_source(session, SourceFile("app.py", Path("app.py"), "python"), source, unsafe=False)
    assert outcome.fixed == source
    assert [(f.rule_id, reason) for f, reason in outcome.dropped] == [("LL101", "the fixed file would not parse")]


def test_apply_edits_at_end_of_file_without_newline():
    assert apply_edits("a = 1", [Edit(Span(2, 1, 2, 1), "b = 2\n")]) == "a = 1b = 2\n"
    assert apply_edits("a\r\nb\r\n", [Edit(Span(2, 1, 2, 1), "x\n")]) == "a\r\nx\r\nb\r\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "app.py").write_bytes((FIXTURES / "two_clients.in.py").read_bytes())
    os.chmod(tmp_path / "app.py", 0o640)
    return tmp_path


def test_cli_diff_changes_nothing_and_exits_one(project, capsys):
    before = (project / "app.py").read_bytes()
    assert main(["check", "--diff", "app.py"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("--- a/app.py\n+++ b/app.py\n")
    assert '+s3_client = boto3.client("s3")\n' in out
    assert "Would fix 2 findings in 1 file." in err
    assert (project / "app.py").read_bytes() == before


def test_cli_fix_writes_atomically_keeps_permissions_and_is_idempotent(project, capsys):
    assert main(["check", "--fix", "app.py"]) == 0
    out = capsys.readouterr().out
    assert out == "Fixed 2 findings.\nAll checks passed (1 file checked).\n"
    assert (project / "app.py").read_bytes() == (FIXTURES / "two_clients.out.py").read_bytes()
    assert stat.S_IMODE((project / "app.py").stat().st_mode) == 0o640
    assert [p.name for p in project.iterdir()] == ["app.py"], "no temporary file is left behind"
    assert main(["check", "--diff", "app.py"]) == 0
    assert main(["check", "--fix", "app.py"]) == 0
    assert (project / "app.py").read_bytes() == (FIXTURES / "two_clients.out.py").read_bytes()


def test_cli_fix_from_stdin_prints_the_fixed_source(project, capsys, monkeypatch):
    class FakeStdin:
        buffer = io.BytesIO((FIXTURES / "two_clients.in.py").read_bytes())

    monkeypatch.setattr(sys, "stdin", FakeStdin)
    assert main(["check", "--fix", "--stdin-filename", "app.py", "-"]) == 0
    out, err = capsys.readouterr()
    assert out == (FIXTURES / "two_clients.out.py").read_text()
    assert "All checks passed" in err


def test_text_report_marks_fixable_findings(project, capsys):
    assert main(["check", "app.py"]) == 1
    out = capsys.readouterr().out
    assert "app.py:6:14: LL101 [*] client-in-handler" in out
    assert out.endswith("[*] 2 fixes available with `--fix`.\n")


SAM_WITHOUT_TIMEOUT = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler   # the entry point
      Runtime: python3.12
      Events:
        Get:
          Type: Api
          Properties: {Path: /, Method: get}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: >-
        worker.handler
"""


def fix_template(text: str, name: str, config=None) -> str:
    from lambdalint.config import parse_config

    session = Session.create(parse_config(dict(config or {}), root=Path.cwd()))
    kind = "terraform" if name.endswith(".tf") else "template"
    return fix_source(session, SourceFile(name, Path(name), kind), text.encode(), unsafe=True).fixed.decode()


def test_ll601_adds_a_timeout_after_the_handler_in_sam():
    fixed = fix_template(SAM_WITHOUT_TIMEOUT, "template.yaml", {"select": ["LL601"]})
    assert fixed == SAM_WITHOUT_TIMEOUT.replace(
        "      Handler: app.handler   # the entry point\n",
        "      Handler: app.handler   # the entry point\n      Timeout: 10\n",
    ).replace("        worker.handler\n", "        worker.handler\n      Timeout: 10\n")
    assert fix_template(fixed, "template.yaml", {"select": ["LL601"]}) == fixed


def test_ll601_fix_uses_the_configured_default_capped_for_apis():
    fixed = fix_template(SAM_WITHOUT_TIMEOUT, "template.yaml",
                         {"select": ["LL601"], "options": {"LL601": {"default-timeout": 60}}})
    assert "      Handler: app.handler   # the entry point\n      Timeout: 29\n" in fixed
    assert "        worker.handler\n      Timeout: 60\n" in fixed


def test_ll601_fix_in_serverless_and_terraform_and_not_in_json():
    serverless = "service: s\nprovider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  a:\n    handler: app.a\n"
    assert fix_template(serverless, "serverless.yml", {"select": ["LL601"]}) == serverless + "    timeout: 10\n"
    terraform = (
        'resource "aws_lambda_function" "f" {\n  function_name = "f"\n  handler       = "app.handler"\n'
        '  runtime       = "python3.12"\n  role          = "arn:aws:iam::123456789012:role/r"\n  filename      = "f.zip"\n}\n'
    )
    assert fix_template(terraform, "main.tf", {"select": ["LL601"]}) == terraform.replace(
        '  handler       = "app.handler"\n', '  handler       = "app.handler"\n  timeout = 10\n'
    )
    json_template = '{"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "a.b", "Runtime": "python3.12"}}}}\n'
    assert fix_template(json_template, "template.json", {"select": ["LL601"]}) == json_template


def test_ll601_fix_is_unsafe_only():
    from lambdalint.config import parse_config

    session = Session.create(parse_config({"select": ["LL601"]}, root=Path.cwd()))
    outcome = fix_source(session, SourceFile("template.yaml", Path("template.yaml"), "template"),
                         SAM_WITHOUT_TIMEOUT.encode(), unsafe=False)
    assert not outcome.changed and len(outcome.remaining) == 2


def test_ll302_passes_a_config_with_timeouts_and_imports_it_once():
    from lambdalint.config import parse_config

    source = (
        "import boto3\n\ns3 = boto3.client('s3')\nsqs = boto3.client(\n    'sqs',\n"
        "    region_name='eu-west-1',\n)\n\ndef handler(event, context):\n    return s3, sqs\n"
    )
    config = parse_config({"select": ["LL302"], "options": {"LL302": {"function-timeout": 30}}}, root=Path.cwd())
    session = Session.create(config)
    file = SourceFile("app.py", Path("app.py"), "python")
    assert fix_source(session, file, source.encode(), unsafe=False).fixed == source.encode()
    fixed = fix_source(session, file, source.encode(), unsafe=True)
    assert fixed.fixed.decode() == (
        "import boto3\nfrom botocore.config import Config\n\n"
        "s3 = boto3.client('s3', config=Config(connect_timeout=2, read_timeout=4, retries={'total_max_attempts': 3}))\n"
        "sqs = boto3.client(\n    'sqs',\n    region_name='eu-west-1', config=Config(connect_timeout=2, read_timeout=4, "
        "retries={'total_max_attempts': 3}),\n)\n"
        "\ndef handler(event, context):\n    return s3, sqs\n"
    )
    assert fixed.remaining == []
    assert fix_source(session, file, fixed.fixed, unsafe=True).fixed == fixed.fixed


def test_a_fix_run_reports_what_a_plain_check_reports(tmp_path, monkeypatch, capsys):
    """After --fix, the report folded the template's LL604 into the code's LL304 only on a
    plain check: the same S3 loop was one finding, or two after --fix (found by the review)."""
    import json
    import shutil

    project = tmp_path / "app"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples", project)
    monkeypatch.chdir(project)

    def report(*extra):
        main(["check", "--no-cache", "--format", "json", *extra])
        return [(f["path"], f["line"], f["rule"]) for f in json.loads(capsys.readouterr().out)["findings"]]

    before = report("--select", "LL304,LL604")
    assert [rule for _, _, rule in before] == ["LL304"]
    assert report("--select", "LL304,LL604", "--fix") == before
    # over every rule: what --fix leaves is what a plain check then finds
    assert report("--fix") == report()
