"""The benchmark corpus generator (bench/corpus.py) is deterministic and writes what it says:
exactly N handlers of 50-400 lines that compile, one template per service, and templates whose
handlers exist."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load_corpus_module():
    spec = importlib.util.spec_from_file_location("bench_corpus", BENCH / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


corpus = load_corpus_module()


class TaggedLoader(yaml.SafeLoader):
    """Reads CloudFormation short tags (!Ref, !GetAtt, !Sub) as their plain values."""


TaggedLoader.add_multi_constructor(
    "!", lambda loader, suffix, node: loader.construct_scalar(node)
    if isinstance(node, yaml.ScalarNode) else None
)


def tree_bytes(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_size_gives_byte_identical_files(tmp_path):
    first = corpus.write_corpus(tmp_path / "a", 20)
    second = corpus.write_corpus(tmp_path / "b", 20)
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
    assert first.digest == second.digest
    assert corpus.generate(20) == corpus.generate(20)


def test_other_seed_or_size_gives_other_files():
    assert corpus.generate(20, seed=1) != corpus.generate(20, seed=0)
    assert corpus.manifest_of(21, 0, corpus.generate(21)).digest != \
        corpus.manifest_of(20, 0, corpus.generate(20)).digest


def test_size_20_has_20_handlers_that_compile_within_the_line_bounds(tmp_path):
    manifest = corpus.write_corpus(tmp_path, 20)
    python = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.py"))
    assert python == manifest.python
    assert len(python) == 20
    for relative in python:
        text = (tmp_path / relative).read_text()
        compile(text, relative, "exec")
        assert corpus.MIN_LINES <= len(text.splitlines()) <= corpus.MAX_LINES, relative
    services = {Path(p).parts[1] for p in python}
    assert len(manifest.templates) == len(services)


def test_manifest_matches_the_files_on_disk(tmp_path):
    manifest = corpus.write_corpus(tmp_path, 120)
    on_disk = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                     if p.is_file() and p.name != "MANIFEST.json")
    assert on_disk == sorted(manifest.python + manifest.templates)
    again = corpus.Manifest.from_json((tmp_path / "MANIFEST.json").read_text())
    assert again == manifest


def entry_points(path: Path) -> set:
    """Top-level functions and assigned names of a handler module, read without running it."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names


def test_every_template_names_handlers_that_exist(tmp_path):
    manifest = corpus.write_corpus(tmp_path, 300)
    assert manifest.cloudformation and manifest.serverless and manifest.terraform
    named = 0
    for relative in manifest.templates:
        template = tmp_path / relative
        service = template.parent
        text = template.read_text()
        if template.name == "template.yaml":
            resources = yaml.load(text, Loader=TaggedLoader)["Resources"]
            handlers = [r["Properties"]["Handler"] for r in resources.values()
                        if r["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")]
            handlers = [f"src/{h}" for h in handlers]
        elif template.name == "serverless.yml":
            functions = yaml.safe_load(text)["functions"]
            handlers = [f["handler"] for f in functions.values()]
        else:
            handlers = [f"src/{h}" for h in re.findall(r'^\s*handler\s*=\s*"([^"]+)"', text, re.M)]
        assert handlers, relative
        for handler in handlers:
            module, function = handler.rsplit(".", 1)
            path = service / f"{module}.py"
            assert path.is_file(), (relative, handler)
            assert function in entry_points(path), (relative, handler)
            named += 1
    # every handler file is named by exactly one template function
    assert named == len(manifest.python)


def test_the_corpus_carries_the_anti_patterns_and_styles_it_promises(tmp_path):
    files = corpus.generate(300)
    code = "\n".join(text for path, text in files.items() if path.endswith(".py"))
    assert re.search(r"requests\.(get|post)\([^)]*\)\n", code)  # some calls have no timeout
    assert "timeout=5" in code
    assert f'"arn:aws:sns:us-east-1:{corpus.ACCOUNT}:' in code  # hardcoded ARN
    assert re.search(r"def \w+\(event, context\):\n(?:    .*\n)*?    s3 = boto3\.client", code)
    assert re.search(r'for record in event\["Records"\]:\n.*\n        table\.put_item\(Item=message\)\n',
                     code)
    assert "async def " in code and "asyncio.run(" in code
    assert re.search(r"^handler = \w+Handler\(\)$", code, re.M)  # class-based handler
    assert "@logger.inject_lambda_context" in code
    assert "import boto3 as aws" in code


def test_ensure_corpus_builds_once_and_reuses(tmp_path):
    root, manifest = corpus.ensure_corpus(tmp_path, 20)
    marker = root / "MANIFEST.json"
    stamp = marker.stat().st_mtime_ns
    again_root, again = corpus.ensure_corpus(tmp_path, 20)
    assert again_root == root and again == manifest
    assert marker.stat().st_mtime_ns == stamp


def test_size_must_be_positive():
    with pytest.raises(ValueError):
        corpus.generate(0)
