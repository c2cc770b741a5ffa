"""Which modules hold handlers."""


def test_test_modules_hold_no_handlers_by_convention(lint):
    """A pytest function that takes ``event``/``context`` fixtures (or is named ``handler``) is not
    a Lambda handler: LL101's safe fix once hoisted a client out of a ``@mock_aws`` test, which
    then talked to real AWS. A handler module beside the tests still is one."""
    test_code = (
        "import boto3\nimport requests\nfrom moto import mock_aws\nfrom src import app\nSEEN = []\n\n\n"
        "@mock_aws\ndef test_handler_writes_object(event, context, monkeypatch):\n"
        "    s3 = boto3.client('s3', region_name='us-east-1')\n"
        "    SEEN.append(event['key'])\n"
        "    assert requests.get('http://localhost:9999/health').ok is False\n"
        "    return app.handler(event, context)\n\n\n"
        "def handler(event, context):\n    return boto3.client('s3')\n"
    )
    handler = "import boto3\n\n\ndef handler(event, context):\n    return boto3.client('s3')\n"
    found = lint(
        {"tests/test_app.py": test_code, "tests/conftest.py": test_code, "src/test_utils.py": test_code, "src/app.py": handler},
        select=["LL101", "LL102", "LL301"],
    )
    # LL301 still looks at every module: a hung test hangs the pipeline too
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [
        ("src/app.py", 5, "LL101"),
        ("src/test_utils.py", 12, "LL301"),
        ("tests/conftest.py", 12, "LL301"),
        ("tests/test_app.py", 12, "LL301"),
    ]
