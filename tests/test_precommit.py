"""The pre-commit hook works for real: `pre-commit try-repo` installs lambdalint from this
checkout into its own environment and runs it on a throwaway repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(PROJECT), "lambdalint", "--all-files"],
        cwd=repo, capture_output=True, text=True, env=env, timeout=600,
    )


@pytest.mark.parametrize(
    "handler, expected_code",
    [
        ("import boto3\n\ndef lambda_handler(event, context):\n    return boto3.client('s3')\n", 1),
        ("import boto3\n\ns3 = boto3.client('s3')\n\ndef lambda_handler(event, context):\n    return s3\n", 0),
    ],
    ids=["bad-handler-fails", "clean-handler-passes"],
)
def test_pre_commit_try_repo(tmp_path, pre_commit_home, handler, expected_code):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "app.py").write_text(handler)
    git(repo, "add", "app.py")
    result = try_repo(repo, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == expected_code, output
    if expected_code:
        assert "app.py:4:12: LL101 [*] client-in-handler" in output
