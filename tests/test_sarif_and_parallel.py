"""SARIF validates against the official 2.1.0 schema; parallel runs equal serial runs."""

from __future__ import annotations

import json

import pytest

from lambdalint.cli import main
from tests.conftest import lint_tree, shared_or_skip

HANDLER = "import boto3\n\ndef handler(event, context):\n    return boto3.client('s3')\n"


def sarif_for(tmp_path, monkeypatch, capsys, files):
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert main(["check", "--format", "sarif"]) == 1
    return json.loads(capsys.readouterr().out)


def test_sarif_validates_against_the_official_schema(tmp_path, monkeypatch, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(shared_or_skip("schemas", "sarif-schema-2.1.0.json").read_text())
    document = sarif_for(tmp_path, monkeypatch, capsys, {"app.py": HANDLER, "broken.py": "def (:\n"})
    jsonschema.Draft7Validator(schema).validate(document)
    run = document["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert "## Why is this bad in Lambda" in rules["LL101"]["help"]["markdown"]
    assert rules["LL001"]["defaultConfiguration"]["level"] == "error"
    results = [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]]
    assert results == [("LL101", 4), ("LL001", 1)]
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_fingerprints_survive_lines_moving(tmp_path, monkeypatch, capsys):
    before = sarif_for(tmp_path, monkeypatch, capsys, {"app.py": HANDLER})
    after = sarif_for(tmp_path, monkeypatch, capsys, {"app.py": "# a new comment\n\n" + HANDLER})
    first, second = (doc["runs"][0]["results"][0] for doc in (before, after))
    assert first["locations"] != second["locations"]
    assert first["partialFingerprints"] == second["partialFingerprints"]


def test_two_identical_lines_get_distinct_fingerprints(tmp_path):
    source = "import boto3\n\ndef handler(event, context):\n    boto3.client('s3')\n    boto3.client('s3')\n"
    found = lint_tree(tmp_path, {"app.py": source})
    assert len({f.fingerprint for f in found}) == 2


def test_parallel_output_equals_serial_and_is_sorted(tmp_path):
    files = {}
    for index in range(40):
        body = HANDLER if index % 3 else "def broken(:\n"
        files[f"svc{index % 7}/mod_{index:02d}.py"] = body + "\n" * index
    serial = lint_tree(tmp_path, files, jobs=1)
    parallel = lint_tree(tmp_path, files, jobs=2)
    assert serial == parallel
    assert len(serial) == 40
    assert [f.sort_key for f in parallel] == sorted(f.sort_key for f in parallel)
