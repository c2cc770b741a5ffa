"""The result cache: warm runs equal cold runs, and a change on either side re-checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdalint.cache import CACHE_FOLDER
from lambdalint.cli import main
from tests.conftest import write_tree

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Timeout: 10
      Environment:
        Variables:
          TABLE: orders
"""

HANDLER = """\
import os
import boto3


def handler(event, context):
    s3 = boto3.client("s3")
    return os.environ["BUCKET"], s3
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(HANDLER)
    return tmp_path


def findings(capsys, *extra):
    code = main(["check", "--format", "json", *extra])
    document = json.loads(capsys.readouterr().out)
    return code, [(f["path"], f["line"], f["rule"], f["fingerprint"]) for f in document["findings"]]


def entries(root: Path):
    return sorted(p for p in (root / CACHE_FOLDER).rglob("*.json"))


def test_warm_run_equals_cold_run(project, capsys):
    cold = findings(capsys)
    assert [(p, l, r) for p, l, r, _ in cold[1]] == [("src/app.py", 6, "LL101"), ("src/app.py", 7, "LL402")]
    assert len(entries(project)) == 2  # the template and the handler
    assert (project / CACHE_FOLDER / ".gitignore").read_text().endswith("*\n")
    assert findings(capsys) == cold


def test_a_template_change_rechecks_its_handlers(project, capsys):
    findings(capsys)
    (project / "template.yaml").write_text(TEMPLATE + "          BUCKET: uploads\n")
    code, found = findings(capsys)
    assert [(p, l, r) for p, l, r, _ in found] == [("src/app.py", 6, "LL101")]


def test_a_code_change_rechecks_the_file(project, capsys):
    findings(capsys)
    (project / "src" / "app.py").write_text(HANDLER.replace('os.environ["BUCKET"]', 'os.environ["TABLE"]'))
    assert [(p, l, r) for p, l, r, _ in findings(capsys)[1]] == [("src/app.py", 6, "LL101")]


def test_a_config_change_is_a_different_cache(project, capsys):
    findings(capsys)
    (project / "pyproject.toml").write_text("[tool.lambdalint]\nignore = ['LL402']\n")
    assert [(p, l, r) for p, l, r, _ in findings(capsys)[1]] == [("src/app.py", 6, "LL101")]


def test_a_corrupt_entry_is_ignored(project, capsys):
    cold = findings(capsys)
    for entry in entries(project):
        entry.write_text("{ not json")
    assert findings(capsys) == cold
    for entry in entries(project):
        entry.write_text('{"per_file": {"src/app.py": [{"wrong": 1}]}, "candidates": []}')
    assert findings(capsys) == cold


def test_no_cache_and_clean(project, capsys):
    findings(capsys, "--no-cache")
    assert not (project / CACHE_FOLDER).exists()
    findings(capsys)
    assert main(["clean"]) == 0
    assert capsys.readouterr().out == f"Removed {project / CACHE_FOLDER}.\n"
    assert not (project / CACHE_FOLDER).exists()
    assert main(["clean"]) == 0
    assert capsys.readouterr().out.startswith("No cache at ")


def test_parallel_runs_share_the_cache(project, capsys):
    for index in range(30):
        (project / "src" / f"extra_{index}.py").write_text(HANDLER.replace("def handler", f"def handler_{index}"))
    cold = findings(capsys, "--jobs", "2")
    warm = findings(capsys, "--jobs", "2")
    serial = findings(capsys, "--jobs", "1", "--no-cache")
    assert cold == warm == serial


def test_one_changed_file_rechecks_only_what_depends_on_it(project, capsys, monkeypatch):
    """A rerun after one edit lints that file and nothing else: a second handler stays a cache
    hit; a template edit re-lints the template and the handlers it names, not an unlinked file."""
    from lambdalint import engine

    (project / "src" / "other.py").write_text("def handler(event, context):\n    return 1\n")
    (project / "tools").mkdir()
    (project / "tools" / "script.py").write_text("print('unlinked')\n")
    linted = []
    real_lint_source = engine.lint_source
    real_template_item = engine.lint_template_item

    def recording_source(session, file, data, *args):
        linted.append(file.display_path)
        return real_lint_source(session, file, data, *args)

    def recording_template(session, item):
        linted.append(item[0].display_path)
        return real_template_item(session, item)

    monkeypatch.setattr(engine, "lint_source", recording_source)
    monkeypatch.setattr(engine, "lint_template_item", recording_template)
    findings(capsys, "--jobs", "1")
    assert sorted(linted) == ["src/app.py", "src/other.py", "template.yaml", "tools/script.py"]

    linted.clear()
    findings(capsys, "--jobs", "1")
    assert linted == []

    (project / "src" / "other.py").write_text("def handler(event, context):\n    return 2\n")
    findings(capsys, "--jobs", "1")
    assert linted == ["src/other.py"]

    linted.clear()
    (project / "template.yaml").write_text(TEMPLATE.replace("Timeout: 10", "Timeout: 12"))
    findings(capsys, "--jobs", "1")
    assert sorted(linted) == ["src/app.py", "template.yaml"]


def test_a_file_checked_alone_is_reported_as_in_a_full_run(tmp_path, monkeypatch, capsys):
    """Pre-commit passes only the changed handler, an editor only its buffer: the project's
    templates are still read for their links, so every Python file of examples/ checked alone
    (from disk or stdin) yields exactly the findings, and fixes, of a full run. Before, a
    handler alone lost its template findings (LL402, LL403, LL303's source) and was offered
    LL201 fixes that the full run withholds (found by the new-user review)."""
    import io
    import shutil
    import sys

    project = tmp_path / "app"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples", project)
    monkeypatch.chdir(project)

    def report(*args, stdin=None):
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        main(["check", "--no-cache", "--format", "json", *args])
        return [
            (f["path"], f["line"], f["rule"], f["message"], f["fix"] is not None)
            for f in json.loads(capsys.readouterr().out)["findings"]
        ]

    full = report()
    python_files = sorted(str(p.relative_to(project)) for p in project.rglob("*.py"))
    assert len(python_files) >= 5
    for name in python_files:
        expected = [f for f in full if f[0] == name]
        alone = report(name)
        assert [f for f in alone if f[0] == name] == expected, name
        # what the module's lint says about its template (LL401: the function is gone) too
        assert set(alone) <= set(full), name
        piped = report("--stdin-filename", name, "-", stdin=(project / name).read_bytes())
        assert [f for f in piped if f[0] == name] == expected, name
        assert set(piped) <= set(full), name
    assert {f[2] for f in full if f[0].endswith("audit.py")} >= {"LL402", "LL403", "LL303"}


def test_a_helper_checked_alone_still_knows_the_handlers_that_call_it(tmp_path, monkeypatch, capsys):
    """Pre-commit after editing only ``db.py``: the handler that calls it per invocation is
    not in the run, yet the helper is reported as in a full run (its LL402 comes from the
    handler's template). An unrelated module of another folder is not read."""
    project = tmp_path / "app"
    files = {
        "template.yaml": TEMPLATE.replace("Handler: app.handler", "Handler: pkg/handler.main"),
        "src/pkg/__init__.py": "",
        "src/pkg/handler.py": "from .db import save\n\n\ndef main(event, context):\n    return save()\n",
        "src/pkg/db.py": "import os\n\n\ndef save():\n    return os.environ['ARCHIVE_TABLE']\n",
        "src/pkg/unrelated.py": "def handler(event, context):\n    return 1\n",
        "other/broken.py": "def (:\n",
    }
    write_tree(project, files)
    monkeypatch.chdir(project)

    def report(*paths):
        main(["check", "--no-cache", "--format", "json", *paths])
        return [(f["path"], f["line"], f["rule"]) for f in json.loads(capsys.readouterr().out)["findings"]]

    full = report()
    assert ("src/pkg/db.py", 5, "LL402") in full and ("other/broken.py", 1, "LL001") in full
    assert report("src/pkg/db.py") == [("src/pkg/db.py", 5, "LL402")]


@pytest.mark.parametrize("project_name", ["terraform_ingest", "serverless_monorepo", "two_stacks", "package_relative"])
def test_each_file_of_a_fixture_project_alone_is_reported_as_in_a_full_run(tmp_path, monkeypatch, capsys, project_name):
    """The same over the multi-file fixture projects: Terraform in a sibling ``infra/`` folder,
    Serverless services, two stacks, a package with relative imports."""
    import shutil

    project = tmp_path / project_name
    shutil.copytree(Path(__file__).parent / "fixtures" / "projects" / project_name, project)
    monkeypatch.chdir(project)

    def report(*args):
        main(["check", "--no-cache", "--format", "json", *args])
        return [(f["path"], f["line"], f["rule"], f["message"]) for f in json.loads(capsys.readouterr().out)["findings"]]

    full = report()
    python_files = sorted(str(p.relative_to(project)) for p in project.rglob("*.py"))
    for name in python_files:
        alone = report(name)
        assert [f for f in alone if f[0] == name] == [f for f in full if f[0] == name], name
        assert set(alone) <= set(full), name


def test_a_template_and_a_helper_without_their_handler_report_each_finding_once(tmp_path, monkeypatch, capsys):
    """Pre-commit after editing the template and the helper: the handler is linted as the
    template's companion and is also the helper's importer; it must be linted once, or the
    findings it contributes would be reported twice."""
    project = tmp_path / "app"
    files = {
        "template.yaml": TEMPLATE.replace("Handler: app.handler", "Handler: pkg/handler.main"),
        "src/pkg/__init__.py": "",
        "src/pkg/handler.py": "import os\nfrom .db import save\n\n\ndef main(event, context):\n    return save(os.environ['MISSING'])\n",
        "src/pkg/db.py": "import os\n\n\ndef save(value):\n    return os.environ['ARCHIVE_TABLE'], value\n",
    }
    write_tree(project, files)
    monkeypatch.chdir(project)
    main(["check", "--no-cache", "--format", "json", "template.yaml", "src/pkg/db.py"])
    found = [(f["path"], f["line"], f["rule"]) for f in json.loads(capsys.readouterr().out)["findings"]]
    # what a full run reports: the helper's LL402, and the handler's (it concerns the template)
    assert found == [("src/pkg/db.py", 5, "LL402"), ("src/pkg/handler.py", 6, "LL402")]


def test_the_cache_is_keyed_on_the_code_not_only_the_version_string():
    """A checkout or reinstall of other code under the same version string must not answer
    from the old code's results (a stale cache would hide a rule's new findings)."""
    import os
    import sys

    from lambdalint import cache
    from lambdalint.registry import rule_class

    module = Path(sys.modules[rule_class("LL603").__module__].__file__)
    before = cache.code_identity()
    status = module.stat()
    try:
        os.utime(module, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
        assert cache.code_identity() != before
    finally:
        os.utime(module, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert cache.code_identity() == before
