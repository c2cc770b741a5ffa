"""--shard K/N splits a run deterministically without losing cross-file findings; merge
combines the parts into what one run reports."""

from __future__ import annotations

import json

import pytest

from lambdalint.cli import main

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../../code/{name}/
      Handler: app.process
      Runtime: python3.12
"""

HANDLER = "import os\nimport boto3\n\ndef process(event, context):\n    return boto3.client('s3'), os.environ['MISSING']\n"


@pytest.fixture
def monorepo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for index in range(12):
        name = f"svc{index:02d}"
        (tmp_path / "stacks" / name).mkdir(parents=True)
        # the template lives apart from its code: sharding by folder alone would split them
        (tmp_path / "stacks" / name / "template.yaml").write_text(TEMPLATE.format(name=name))
        (tmp_path / "code" / name).mkdir(parents=True)
        (tmp_path / "code" / name / "app.py").write_text(HANDLER)
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "lambda_function.py").write_text("import boto3\n\ndef lambda_handler(event, context):\n    return boto3.client('s3')\n")
    return tmp_path


def run_json(capsys, *args):
    main(["check", "--format", "json", "--no-cache", *args])
    return json.loads(capsys.readouterr().out)


def test_shards_partition_the_findings_and_merge_restores_the_whole(monorepo, capsys):
    whole = run_json(capsys)
    rules = {f["rule"] for f in whole["findings"]}
    assert {"LL101", "LL402", "LL601"} <= rules
    parts = [run_json(capsys, "--shard", f"{index}/3") for index in (1, 2, 3)]
    for index, document in enumerate(parts, start=1):
        (monorepo / f"part{index}.json").write_text(json.dumps(document))
    keys = [{(f["path"], f["line"], f["rule"]) for f in part["findings"]} for part in parts]
    assert all(keys), "every shard gets some work"
    assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2])
    assert set().union(*keys) == {(f["path"], f["line"], f["rule"]) for f in whole["findings"]}
    # a handler's LL402 (needs its template) and its template's LL601 land in the same shard
    for part in parts:
        paths = {f["path"] for f in part["findings"]}
        for path in paths:
            if path.startswith("code/"):
                assert path.replace("code/", "stacks/").replace("app.py", "template.yaml") in paths
    assert sum(p["summary"]["files_checked"] for p in parts) == whole["summary"]["files_checked"]
    assert main(["merge", "part1.json", "part2.json", "part3.json", "-o", "merged.json"]) == 0
    merged = json.loads((monorepo / "merged.json").read_text())
    assert merged["findings"] == whole["findings"]
    assert merged["summary"] == whole["summary"]


def test_shard_is_deterministic_and_sarif_ids_differ(monorepo, capsys):
    assert run_json(capsys, "--shard", "2/3") == run_json(capsys, "--shard", "2/3", "--jobs", "1")
    main(["check", "--format", "sarif", "--no-cache", "--shard", "2/3"])
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["runs"][0]["automationDetails"] == {"id": "lambdalint/shard-2-of-3"}


@pytest.mark.parametrize("value", ["0/3", "4/3", "a/b", "3"])
def test_bad_shard_is_a_usage_error(monorepo, capsys, value):
    assert main(["check", "--shard", value]) == 2
    assert "--shard takes K/N" in capsys.readouterr().err


def test_merge_rejects_what_is_not_a_report(monorepo, capsys):
    (monorepo / "x.json").write_text("[]")
    assert main(["merge", "x.json"]) == 2
    assert "not a lambdalint JSON report" in capsys.readouterr().err


def test_merge_counts_the_same_report_once(monorepo, capsys):
    whole = run_json(capsys)
    (monorepo / "w.json").write_text(json.dumps(whole))
    assert main(["merge", "w.json", "w.json", "-o", "m.json"]) == 0
    assert json.loads((monorepo / "m.json").read_text())["summary"] == whole["summary"]
