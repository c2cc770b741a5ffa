"""The rule catalogue and what a run imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lambdalint import registry


def test_the_catalogue_matches_the_rule_modules():
    """``lambdalint/rule_catalog.py`` is generated; a rule added, renamed or switched off by
    default without rerunning `python -m lambdalint.registry` fails here."""
    scanned = registry.scan_rule_modules()
    assert list(registry.catalog().values()) == scanned
    assert registry.CATALOG_PATH.read_text(encoding="utf-8") == registry.catalog_source(scanned)


def test_rule_class_imports_only_its_own_module():
    code = (
        "import sys; from lambdalint import registry; registry.rule_class('LL601'); "
        "print(sorted(m for m in sys.modules if m.startswith('lambdalint.rules.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['lambdalint.rules.ll601_function_timeout_missing']"


def test_a_run_answered_from_the_cache_imports_neither_libcst_nor_any_rule(tmp_path: Path):
    (tmp_path / "app.py").write_text(
        "import boto3\n\n\ndef handler(event, context):\n    return boto3.client('s3')\n", encoding="utf-8"
    )
    check = "from lambdalint.cli import main; code = main(['check', '--format', 'json', 'app.py'])"
    probe = (
        f"import sys; {check}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'libcst', 'yaml'}), "
        "sorted(m for m in sys.modules if m.startswith('lambdalint.rules.')), file=sys.stderr)"
    )

    def run() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)

    cold, warm = run(), run()
    assert cold.stderr.strip().startswith("['libcst']"), cold.stderr
    assert warm.stderr.strip() == "[] []", warm.stderr
    # and the answer is the same
    assert json.loads(warm.stdout)["findings"] == json.loads(cold.stdout)["findings"]
    assert [f["rule"] for f in json.loads(warm.stdout)["findings"]] == ["LL101"]


def test_template_rules_alone_never_import_libcst(tmp_path: Path):
    """Checking templates with the template rules (what cfn-lint and checkov do) needs no
    libcst: its import was a quarter of such a run, in every worker."""
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyName: p\n"
        "      PolicyDocument:\n        Statement:\n          - Effect: Allow\n            Action: '*'\n"
        "            Resource: '*'\n      Roles: [r]\n",
        encoding="utf-8",
    )
    probe = (
        "import sys; from lambdalint.cli import main; "
        "main(['check', '--no-cache', '--format', 'json', '--select', 'LL001,LL5,LL6', 'template.yaml']); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'libcst'}), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert result.stderr.strip() == "[]", result.stderr
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == ["LL501"]
