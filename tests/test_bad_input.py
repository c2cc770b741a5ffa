"""Bad input never crashes lambdalint: it becomes LL001 or a clear exit-2 message."""

from __future__ import annotations

import codecs
import os

import pytest

from lambdalint.cli import main

HANDLER = "import boto3\n\ndef handler(event, context):\n    return boto3.client('s3')\n"


def findings_of(tmp_path, capsys, *paths):
    import json

    code = main(["check", "--format", "json", *paths])
    out = capsys.readouterr().out
    return code, [(f["path"], f["line"], f["column"], f["rule"], f["message"]) for f in json.loads(out)["findings"]]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_syntax_error_is_ll001_and_other_files_still_linted(tmp_path, capsys):
    (tmp_path / "broken.py").write_text("def handler(event, context)\n    pass\n")
    (tmp_path / "app.py").write_text(HANDLER)
    code, found = findings_of(tmp_path, capsys)
    assert code == 1
    assert [(p, line, rule) for p, line, _, rule, _ in found] == [
        ("app.py", 4, "LL101"),
        ("broken.py", 1, "LL001"),
    ]
    assert found[1][4] == "syntax error: expected ':'"


def test_invalid_utf8_is_ll001_at_the_bad_byte(tmp_path, capsys):
    (tmp_path / "latin.py").write_bytes(b"x = 1\nname = 'caf\xe9'\n")
    code, found = findings_of(tmp_path, capsys)
    assert code == 1
    assert found == [("latin.py", 2, 12, "LL001", "file is not valid utf-8: cannot decode byte 0xe9")]


def test_a_bad_byte_in_the_first_lines_is_placed_too(tmp_path, capsys):
    """Python looks for an encoding declaration in the first two lines, so a bad byte there
    failed earlier, as "invalid encoding declaration: invalid or missing encoding declaration"
    at 1:1 (found by the new-user review); an unknown declared encoding stays a declaration
    problem."""
    (tmp_path / "latin.py").write_bytes(b"# caf\xe9\nx = 1\n")
    (tmp_path / "unknown.py").write_bytes(b"# -*- coding: nope -*-\nx = 1\n")
    code, found = findings_of(tmp_path, capsys)
    assert found == [
        ("latin.py", 1, 6, "LL001", "file is not valid utf-8: cannot decode byte 0xe9"),
        ("unknown.py", 1, 1, "LL001", "invalid encoding declaration: unknown encoding: nope"),
    ]


def test_encoding_declaration_is_honoured(tmp_path, capsys):
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n" + HANDLER.encode())
    code, found = findings_of(tmp_path, capsys)
    assert [(line, rule) for _, line, _, rule, _ in found] == [(6, "LL101")]


def test_binary_file_is_ll001(tmp_path, capsys):
    (tmp_path / "blob.py").write_bytes(b"\x7fELF\x02\x01\x00\x00garbage")
    code, found = findings_of(tmp_path, capsys)
    assert found == [("blob.py", 1, 7, "LL001", "binary file (contains NUL bytes)")]


def test_crlf_and_bom_keep_lines_and_columns(tmp_path, capsys):
    (tmp_path / "crlf.py").write_bytes(HANDLER.replace("\n", "\r\n").encode())
    (tmp_path / "bom.py").write_bytes(codecs.BOM_UTF8 + HANDLER.encode())
    code, found = findings_of(tmp_path, capsys)
    assert [(p, line, col, rule) for p, line, col, rule, _ in found] == [
        ("bom.py", 4, 12, "LL101"),
        ("crlf.py", 4, 12, "LL101"),
    ]


def test_missing_path_is_exit_two(tmp_path, capsys):
    assert main(["check", "nowhere.py"]) == 2
    assert "nowhere.py: no such file or directory" in capsys.readouterr().err


def test_dangling_symlink_and_symlink_loop_are_ll001_not_crashes(tmp_path, capsys):
    os.symlink(tmp_path / "missing.py", tmp_path / "dangling.py")
    os.symlink(tmp_path / "b.py", tmp_path / "a.py")
    os.symlink(tmp_path / "a.py", tmp_path / "b.py")
    (tmp_path / "app.py").write_text(HANDLER)
    code, found = findings_of(tmp_path, capsys)
    assert [(p, rule) for p, _, _, rule, _ in found] == [
        ("a.py", "LL001"), ("app.py", "LL101"), ("b.py", "LL001"), ("dangling.py", "LL001"),
    ]
    assert all(message.startswith("cannot read file:") for p, _, _, rule, message in found if rule == "LL001")


def test_directory_symlink_loops_are_not_followed(tmp_path, capsys):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "app.py").write_text(HANDLER)
    os.symlink(tmp_path, tmp_path / "pkg" / "loop")
    code, found = findings_of(tmp_path, capsys)
    assert [(p, rule) for p, _, _, rule, _ in found] == [("pkg/app.py", "LL101")]


def test_a_directory_named_like_a_python_file(tmp_path, capsys):
    (tmp_path / "weird.py").mkdir()
    (tmp_path / "weird.py" / "app.py").write_text(HANDLER)
    code, found = findings_of(tmp_path, capsys, "weird.py")
    assert [(p, rule) for p, _, _, rule, _ in found] == [("weird.py/app.py", "LL101")]


def test_default_excludes_skip_virtualenvs_and_build_output(tmp_path, capsys):
    for folder in (".venv/lib", "node_modules/x", ".aws-sam/build", "cdk.out", "__pycache__", ".git"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "app.py").write_text(HANDLER)
    code, found = findings_of(tmp_path, capsys)
    assert (code, found) == (0, [])


def test_a_file_of_several_megabytes(tmp_path, capsys):
    # Several MB of data (a generated module with a large literal), then a real handler.
    blob = "DATA = '''" + ("0123456789abcdef" * 64 + "\n") * 4096 + "'''\n"
    (tmp_path / "big.py").write_text(blob + HANDLER)
    assert (tmp_path / "big.py").stat().st_size > 4_000_000
    code, found = findings_of(tmp_path, capsys)
    assert [(line, rule) for _, line, _, rule, _ in found] == [(4096 + 1 + 4, "LL101")]


def test_deeply_nested_expression_does_not_crash(tmp_path, capsys):
    (tmp_path / "deep.py").write_text("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    code, found = findings_of(tmp_path, capsys)
    assert [rule for _, _, _, rule, _ in found] in ([], ["LL001"])


def test_deeply_nested_lists_without_runs_of_brackets(tmp_path, capsys):
    (tmp_path / "deep.py").write_text("x = " + "[1, " * 3000 + "]" * 3000 + "\n")
    code, found = findings_of(tmp_path, capsys)
    assert [(rule, message) for _, _, _, rule, message in found] == [
        ("LL001", "syntax error: too deeply nested for Python's parser")
    ]


def test_a_template_that_is_not_utf8_is_ll001_at_the_bad_byte(tmp_path, capsys):
    (tmp_path / "template.yaml").write_bytes(
        b"Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: caf\xe9\n"
    )
    code, found = findings_of(tmp_path, capsys)
    assert found == [
        ("template.yaml", 5, 22, "LL001", "not UTF-8 text: cannot decode byte 0xe9 (invalid continuation byte)")
    ]
