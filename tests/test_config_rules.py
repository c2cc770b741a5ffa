"""LL201 hardcoded-resource and LL202 hardcoded-secret: a corpus of realistic handlers with
exact expected findings, the shared value helpers, and the rules' options and messages.

Corpus convention: a line that must be reported ends with ``# expect: LL201`` (several ids
separated by commas); ``# expect-below: LL202`` on a line of its own stands for the next line
(for findings on a line that cannot carry a comment, such as the start of a long string).
Every file of the folder is linted as one project and the (path, line, rule) sets must be equal.
"""

from __future__ import annotations

import io
import tokenize
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence, Set, Tuple

import pytest

from lambdalint.config import ConfigError, parse_config
from lambdalint.model import FixSafety, Severity
from lambdalint.python import values
from tests.conftest import lint_tree

FIXTURES = Path(__file__).parent / "fixtures" / "handlers"

Expected = Set[Tuple[str, int, str]]


def expected_findings(relative: str, text: str) -> Expected:
    """The ``# expect:`` annotations of one file, read from its real comments."""
    found: Expected = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type != tokenize.COMMENT:
            continue
        comment = token.string.lstrip("#").strip()
        for marker, offset in (("expect:", 0), ("expect-below:", 1)):
            if comment.startswith(marker):
                for rule_id in comment[len(marker):].split(","):
                    found.add((relative, token.start[0] + offset, rule_id.strip()))
    return found


def corpus(family: str) -> Dict[str, str]:
    root = FIXTURES / family
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*.py"))
    }


def check_corpus(
    tmp_path: Path, family: str, rules: Sequence[str], config: Optional[Mapping] = None
) -> None:
    files = corpus(family)
    expected: Expected = set()
    for relative, text in files.items():
        expected |= expected_findings(relative, text)
    found = lint_tree(tmp_path, files, select=list(rules), config=config)
    actual = {(f.path, f.span.line, f.rule_id) for f in found if f.rule_id in rules}
    messages = {(f.path, f.span.line, f.rule_id): f.message for f in found}
    unexpected = sorted(actual - expected)
    missed = sorted(expected - actual)
    assert not unexpected and not missed, (
        "unexpected: " + repr([(k, messages.get(k)) for k in unexpected]) + "\nmissed: " + repr(missed)
    )


def lint_one(tmp_path: Path, code: str, rule: str, path: str = "app.py", config=None):
    return [f for f in lint_tree(tmp_path, {path: code}, select=[rule], config=config) if f.rule_id == rule]


# -- the corpus ----------------------------------------------------------------------------------


def test_config_corpus_has_enough_realistic_handlers():
    files = corpus("config")
    handlers = [text for text in files.values() if "def handler" in text or "def lambda_handler" in text
                or "handler = " in text]
    assert len(handlers) >= 15
    joined = "\n".join(files.values())
    # the shapes the issue asks the corpus to cover
    for needle in ("async def handler", "class UserService", "match method:", ":= ",
                   "from __future__ import annotations", "import boto3 as aws"):
        assert needle in joined, needle


def test_config_corpus_findings_are_exact(tmp_path):
    check_corpus(tmp_path, "config", ["LL201", "LL202"])


def test_expect_annotations_are_read_from_comments_only():
    text = 'x = "# expect: LL201"\ny = 1  # expect: LL202, LL201\n# expect-below: LL301\nz = 2\n'
    assert expected_findings("a.py", text) == {
        ("a.py", 2, "LL202"), ("a.py", 2, "LL201"), ("a.py", 4, "LL301"),
    }


# -- values helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,is_test",
    [
        ("tests/test_app.py", True),
        ("src/orders/test_handler.py", True),
        ("src/orders/handler_test.py", True),
        ("conftest.py", True),
        ("src/tests/helpers.py", True),
        ("test/fixtures.py", True),
        ("src/orders/app.py", False),
        ("src/contest.py", False),
        ("src/latest/app.py", False),
        ("src\\tests\\data.py", True),
    ],
)
def test_is_test_file_defaults(path, is_test):
    assert values.is_test_file(path) is is_test


def test_is_test_file_custom_patterns():
    assert values.is_test_file("qa/checks.py", ["qa/"])
    assert values.is_test_file("src/spec/app_spec.py", ["*_spec.py"])
    assert values.is_test_file("src/it/app.py", ["src/it/*.py"])
    assert not values.is_test_file("tests/test_app.py", [])


@pytest.mark.parametrize(
    "text", ["", "  ", "changeme", "CHANGEME", "<token>", "${TOKEN}", "$TOKEN", "xxx", "XXXXXXXX",
             "****", "your-api-key-here", "your_password", "AKIAIOSFODNN7EXAMPLE", "{{ token }}",
             "dummy-secret", "secret-placeholder", "test", ":****", "ab****yz", "Bearer", "---"],
)
def test_placeholders(text):
    assert values.is_placeholder(text)


@pytest.mark.parametrize("text", ["hunter2-prod", "Xk29fPq7zz", "AKIA4QWZ7RTYPLMN2XVB", "s3cr3t"])
def test_not_placeholders(text):
    assert not values.is_placeholder(text)


def test_string_value_through_concatenation_and_fstrings():
    import libcst as cst

    expression = cst.parse_expression('"arn:aws:" "sns:" f"{region}:123:t"')
    value = values.string_value(expression)
    assert value is not None and value.text is None and value.has_holes
    assert value.with_holes() == "arn:aws:sns:" + values.HOLE + ":123:t"
    assert values.string_value(cst.parse_expression("b'AKIA'")).is_bytes
    assert values.string_value(cst.parse_expression("name")) is None
    formatted = values.string_value(cst.parse_expression('"arn:aws:s3:::{}/*"'))
    assert values.template_text(formatted) == "arn:aws:s3:::" + values.HOLE + "/*"
    named = values.string_value(cst.parse_expression('"arn:aws:sqs:{region}:%s:{0!s}"'))
    assert values.template_text(named) == "arn:aws:sqs:" + ":".join([values.HOLE] * 3)
    policy = values.string_value(cst.parse_expression("""'{"Resource": "arn:aws:s3:::b"}'"""))
    assert values.template_text(policy) == '{"Resource": "arn:aws:s3:::b"}'


# -- LL201 ---------------------------------------------------------------------------------------

from lambdalint.rules.ll201_hardcoded_resource import describe_arn, describe_aws_url  # noqa: E402


@pytest.mark.parametrize(
    "text,reason",
    [
        ("arn:aws:sns:us-east-1:123456789012:t", "region us-east-1, account 123456789012"),
        ("arn:aws-cn:sqs:cn-north-1:\x00:q", "region cn-north-1"),
        ("arn:aws:iam::123456789012:role/app", "account 123456789012"),
        ("arn:aws:s3:::media-prod/*", "a fixed resource name"),
        ("see arn:aws:s3:::media-prod for details", "a fixed resource name"),
        ("arn:aws:iam::aws:policy/ReadOnlyAccess", None),
        ("arn:aws:sqs:\x00:\x00:orders", None),
        ("arn:aws:s3:::\x00/*", None),
        ("arn:aws:s3:::*", None),
        ("arn:aws:sqs:", None),
        ("arn:aws:sqs:*:*:orders", None),
        ("arn:aws:states:::lambda:invoke", None),
        ("arn:aws:states:::dynamodb:putItem", None),
    ],
)
def test_describe_arn(text, reason):
    assert describe_arn(text) == reason


@pytest.mark.parametrize(
    "text,reason",
    [
        ("https://sqs.eu-west-1.amazonaws.com/123456789012/q", "region eu-west-1, account 123456789012"),
        ("https://sqs.eu-west-1.amazonaws.com/\x00/q", "region eu-west-1"),
        ("https://sqs.\x00.amazonaws.com/\x00/q", None),
        ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com/app", "account 123456789012"),
        ("https://s3.amazonaws.com/bucket/key?X-Amz-Date=20240101T000000Z&n=123456789012", None),
        ("https://abc.execute-api.us-east-1.amazonaws.com/prod", None),
    ],
)
def test_describe_aws_url(text, reason):
    assert describe_aws_url(text) == reason


def test_ll201_constant_is_reported_at_its_definition_with_the_use(tmp_path):
    code = (
        "import boto3\n\nBUCKET = 'media-prod'\n\ndef handler(event, context):\n"
        "    boto3.client('s3').put_object(Bucket=BUCKET, Key='k', Body=b'')\n"
    )
    (finding,) = lint_one(tmp_path, code, "LL201")
    assert (finding.span.line, finding.span.column) == (3, 10)
    assert "`media-prod`" in finding.message and "`BUCKET`" in finding.message
    assert "line 6" in finding.message
    assert 'os.environ["BUCKET_NAME"]' in finding.hint
    assert finding.severity is Severity.WARNING
    assert finding.fix.safety is FixSafety.UNSAFE
    assert [edit.content for edit in finding.fix.edits] == ["import os\n", 'os.environ["BUCKET_NAME"]']


def test_ll201_one_finding_per_literal(tmp_path):
    # a queue URL constant used twice and also matching the URL pattern: one finding
    code = (
        "import boto3\nsqs = boto3.client('sqs')\n"
        "Q = 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders'\n\n"
        "def handler(event, context):\n    sqs.send_message(QueueUrl=Q, MessageBody='a')\n"
        "    sqs.send_message(QueueUrl=Q, MessageBody='b')\n"
    )
    (finding,) = lint_one(tmp_path, code, "LL201")
    assert finding.span.line == 3 and "queue URL" in finding.message


def test_ll201_region_hint_mentions_lambda_region(tmp_path):
    (finding,) = lint_one(tmp_path, "import boto3\nc = boto3.client('s3', region_name='eu-west-1')\n", "LL201")
    assert "AWS_REGION" in finding.hint


def test_ll201_test_file_patterns_option(tmp_path):
    code = "import boto3\nboto3.client('s3').get_object(Bucket='fixtures-bucket', Key='k')\n"
    assert lint_one(tmp_path / "a", code, "LL201", path="tests/test_s3.py") == []
    found = lint_one(
        tmp_path / "b", code, "LL201", path="tests/test_s3.py",
        config={"options": {"LL201": {"test-file-patterns": []}}},
    )
    assert [f.span.line for f in found] == [2]
    found = lint_one(
        tmp_path / "c", code, "LL201", path="qa/smoke.py",
        config={"options": {"LL201": {"test-file-patterns": ["qa/"]}}},
    )
    assert found == []


def test_ll201_option_type_is_checked():
    with pytest.raises(ConfigError, match="test-file-patterns"):
        parse_config({"options": {"LL201": {"test-file-patterns": "tests/"}}}, root=Path("."))


@pytest.mark.parametrize(
    "code,lines",
    [
        # a resource handed in as a parameter, named for what it is
        ("def save(dynamodb, item):\n    return dynamodb.Table('orders').put_item(Item=item)\n", [2]),
        # resources kept on self, also through a session
        ("import boto3\nclass Repo:\n    def __init__(self):\n"
         "        self.res = boto3.session.Session().resource('s3')\n"
         "    def get(self):\n        return self.res.Bucket('media-prod').Object('k')\n", [6]),
        # s3.Object(bucket, key), sqs.Queue(url), sns.Topic(arn)
        ("import boto3\ns3 = boto3.resource('s3')\nsqs = boto3.resource('sqs')\nsns = boto3.resource('sns')\n"
         "s3.Object('media-prod', 'k')\nsqs.Queue('https://sqs.eu-west-1.amazonaws.com/123456789012/q')\n"
         "sns.Topic('arn:aws:sns:eu-west-1:123456789012:t')\n", [5, 6, 7]),
        # a class constant read through self
        ("import boto3\nclass Handler:\n    TABLE = 'orders-prod'\n    def __init__(self):\n"
         "        self.table = boto3.resource('dynamodb').Table(self.TABLE)\n", [3]),
        # an ARN inside a JSON policy string
        ("POLICY = '{\"Effect\": \"Allow\", \"Resource\": \"arn:aws:s3:::media-prod/*\"}'\n", [1]),
        # download_file's bucket comes first
        ("import boto3\nboto3.client('s3').download_file('media-prod', 'k', '/tmp/k')\n", [2]),
        # the account in bucket-owner checks
        ("import boto3\nboto3.client('s3').get_object(Bucket=B, Key='k', ExpectedBucketOwner='123456789012')\n", [2]),
        # a conditional between two hardcoded names, chosen by the event
        ("import boto3\ndef h(event, context):\n    t = 'orders-eu' if event['eu'] else 'orders-us'\n"
         "    return boto3.resource('dynamodb').Table(t)\n", [3, 3]),
    ],
)
def test_ll201_more_shapes(tmp_path, code, lines):
    assert [f.span.line for f in lint_one(tmp_path, code, "LL201")] == lines


@pytest.mark.parametrize(
    "code",
    [
        # the resource name from the event, from a helper, or built from the environment
        "import boto3\ns3 = boto3.client('s3')\ndef h(event, context):\n"
        "    s3.get_object(Bucket=event['bucket'], Key='k')\n",
        "import os, boto3\ndef h(event, context):\n"
        "    boto3.client('s3').get_object(Bucket=os.environ.get('B', 'fallback-bucket'), Key='k')\n",
        # a name bound in two places is not a constant
        "import boto3\nimport random\nB = 'a'\nif random.random():\n    B = 'b'\n"
        "boto3.client('s3').get_object(Bucket=B, Key='k')\n",
        # keyword names that are not resource parameters
        "import boto3\nboto3.client('s3').put_object(Bucket=B, Key='reports/2024.csv', "
        "ContentType='text/csv', ACL='private', StorageClass='STANDARD_IA')\n",
        # the Table method of something that is not boto3
        "from pynamo_helpers import tables\nt = tables.Table('users')\n",
        "class Store:\n    def Table(self, name):\n        return name\n\nStore().Table('orders')\n",
        # the Object of a Bucket resource takes a key, not a bucket
        "import boto3, os\ns3_bucket = boto3.resource('s3').Bucket(os.environ['B'])\n"
        "obj = s3_bucket.Object('reports/latest.csv')\n"
        "obj2 = boto3.resource('s3').Bucket(os.environ['B']).Object('k')\n",
        # a logger's service name and metric namespace
        "from aws_lambda_powertools import Logger, Metrics\nlogger = Logger(service='payments')\n"
        "metrics = Metrics(namespace='Payments', service='payments')\n",
        # a parameter path from configuration, or one that AWS publishes everywhere
        "import os, boto3\nboto3.client('ssm').get_parameter(Name=os.environ['PARAM'])\n",
        "import boto3\nboto3.client('ssm').get_parameter(\n"
        "    Name='/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64')\n",
        # Step Functions service integrations are AWS's ARNs, the same everywhere
        "STATE = {'Type': 'Task', 'Resource': 'arn:aws:states:::lambda:invoke'}\n",
        # bytes and empty strings
        "import boto3\nboto3.client('s3').put_object(Bucket='', Key='k', Body=b'arn:aws:s3:::x')\n",
    ],
)
def test_ll201_quiet(tmp_path, code):
    assert lint_one(tmp_path, code, "LL201") == []


# -- LL202 ---------------------------------------------------------------------------------------

from lambdalint.rules.ll202_hardcoded_secret import secret_kind  # noqa: E402


@pytest.mark.parametrize(
    "name,kind",
    [
        ("password", "password"), ("DB_PASSWORD", "password"), ("dbPassword", "password"),
        ("passwd", "password"), ("db_pwd", "password"), ("api_key", "API key"),
        ("apiKey", "API key"), ("X-Api-Key", "API key"), ("APIKEY", "API key"),
        ("secret", "secret"), ("client_secret", "secret"), ("token", "token"),
        ("GITHUB_TOKEN", "token"), ("aws_session_token", "token"),
        ("aws_secret_access_key", "secret access key"), ("private_key", "private key"),
        ("privateKey", "private key"), ("SECRET_KEY", "secret key"),
    ],
)
def test_secret_names(name, kind):
    assert secret_kind(name) == kind


@pytest.mark.parametrize(
    "name",
    ["token_url", "password_field", "secret_name", "secret_arn", "token_type", "next_token",
     "NextToken", "ClientToken", "ContinuationToken", "max_tokens", "password_hash",
     "api_key_header", "secret_id", "TOKEN_ENV_VAR", "pwd", "username", "key", "private_key_path"],
)
def test_not_secret_names(name):
    assert secret_kind(name) is None


def test_ll202_never_shows_the_secret(tmp_path):
    code = (
        "password = 'Wint3r-is-coming-42'\nKEY = 'AKIA4QWZ7RTYPLMN2XVB'\n"
        "DSN = 'mysql://app:Xk29fPq7zz@db/app'\nTOKEN = 'ghp_" + "a1B2" * 9 + "'\n"
    )
    found = lint_one(tmp_path, code, "LL202")
    assert [f.span.line for f in found] == [1, 2, 3, 4]
    for finding, secret in zip(found, ["Wint3r-is-coming-42", "4QWZ7RTYPLMN2XVB", "Xk29fPq7zz", "a1B2a1B2"]):
        assert secret not in finding.message
        assert secret not in (finding.hint or "")
    assert "AKIA****" in found[1].message
    assert all(f.severity is Severity.ERROR for f in found)


def test_ll202_test_files_keep_only_provider_credentials(tmp_path):
    code = (
        "PASSWORD = 'fixture-password-1'\nKEY = 'AKIA4QWZ7RTYPLMN2XVB'\n"
        "DB = 'postgresql://app:Xk29fPq7zz@testdb/app'\n"
        "PEM = '-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj'\n"
    )
    found = lint_one(tmp_path / "a", code, "LL202", path="tests/test_login.py")
    assert [f.span.line for f in found] == [2]
    found = lint_one(
        tmp_path / "b", code, "LL202", path="tests/test_login.py",
        config={"options": {"LL202": {"test-file-patterns": []}}},
    )
    assert [f.span.line for f in found] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "code,lines",
    [
        # conditional values: both literal arms are secrets
        ("import sys\npassword = 'Pr0d-pass!' if sys.argv else 'D3v-pass!'\n", [2, 2]),
        # a secret written into the environment by the code itself
        ("import os\nos.environ['DB_PASSWORD'] = 'Wint3r-is-coming-42'\n", [2]),
        # keyword of any call, including dict(...)
        ("cfg = dict(api_key='8c1f0e2d9b7a6c5e4d3f')\n", [1]),
        # annotated class attribute (pydantic/dataclass settings)
        ("class Settings:\n    db_password: str = 'Tr0ub4dor&3'\n", [2]),
        # bytes secret keys
        ("SECRET_KEY = b'\\x8f\\x1a9z-signing-key-bytes'\n", [1]),
        # a short plain-word password is still a password (default credentials)
        ("import pymysql\npymysql.connect(host='db', user='root', password='admin')\n", [2]),
        # an Authorization header with a literal bearer token
        ("headers = {'token': 'Bearer 5f4dcc3b5aa765d61d8327deb882cf99'}\n", [1]),
        # signing keys of jwt and hmac, inline or through a constant with an innocent name
        ("import jwt, hmac, hashlib\nSIGNING = 'k3y-f0r-s1gn1ng-t0kens'\n"
         "def h(event, context):\n    jwt.encode({'sub': 1}, SIGNING, algorithm='HS256')\n"
         "    jwt.decode(event['t'], key='an0ther-s1gning-k3y', algorithms=['HS256'])\n"
         "    return hmac.new(b'webh00k-s1gning-k3y', b'body', hashlib.sha256)\n", [2, 5, 6]),
        # a slack token anywhere
        ("WEBHOOK = {'url': 'https://hooks.example.com', 'auth': 'xoxb-1234567890-abcdefghijABCDEFGHIJ'}\n", [1]),
    ],
)
def test_ll202_more_shapes(tmp_path, code, lines):
    assert [f.span.line for f in lint_one(tmp_path, code, "LL202")] == lines


@pytest.mark.parametrize(
    "code",
    [
        "password = None\ntoken = 0\nsecret = os.environ['S']\n",
        "def login(user, password):\n    return password == user\n",
        "import os\nDB = {'password': os.environ['DB_PASSWORD'], 'user': 'app'}\n",
        "token = f'Bearer {os.environ[\"T\"]}'\n",
        "if __name__ == '__main__':\n    password = 'local-only-pass'\n",
        "PEM_HEADER = '-----BEGIN PRIVATE KEY-----'\n",
        "secret = 'prod/orders/db'\nSECRET = 'orders-db-credentials'\n",
        "password_prompt = 'Enter password:'\napi_key = 'missing api key'\n",
        # regular expressions (found linting pygments: a lexer's token pattern)
        "jsonnet_token = r'[^\\W\\d]\\w*'\nTOKEN = '[A-Za-z0-9]{32}'\nPASSWORD = r'^(?=.*\\d).{8,}$'\n",
        # plain words are not generated tokens or keys (a password may be one, see below)
        "token = 'start'\napi_key = 'header'\nsecret = 'Internal'\n",
        "url = 'https://user@example.com/path'\n",
        # local development databases
        "LOCAL = 'postgresql://postgres:postgres@db:5432/app'\nDEV = 'mysql://app:devpass1@localhost/app'\n",
        "DSN = 'postgresql://{user}:{password}@{host}/db'\n",
        # a public key to verify RS256 tokens is not a secret
        "import jwt\nPUBLIC_KEY = '-----BEGIN PUBLIC KEY-----MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1L-----END PUBLIC KEY-----'\n"
        "def h(event, context):\n    return jwt.decode(event['t'], PUBLIC_KEY, algorithms=['RS256'])\n",
        # signing keys from configuration
        "import os, jwt\ndef h(event, context):\n"
        "    return jwt.decode(event['t'], os.environ['JWT_KEY'], algorithms=['HS256'])\n",
    ],
)
def test_ll202_quiet(tmp_path, code):
    assert lint_one(tmp_path, code, "LL202") == []


def test_noqa_on_the_reported_line_silences_a_constant(tmp_path):
    code = (
        "import boto3\n\nPUBLIC_DATA = 'noaa-ghcn-pds'  # noqa: LL201 - a public dataset\n"
        "ORDERS = 'orders-prod'\n\ndef handler(event, context):\n"
        "    boto3.client('s3').get_object(Bucket=PUBLIC_DATA, Key='k')\n"
        "    boto3.client('s3').get_object(Bucket=ORDERS, Key='k')\n"
    )
    assert [f.span.line for f in lint_one(tmp_path, code, "LL201")] == [4]


def test_crlf_and_bom_files(tmp_path):
    code = "\ufeffimport boto3\r\nKEY = 'AKIA4QWZ7RTYPLMN2XVB'\r\nT = boto3.resource('dynamodb').Table('orders-prod')\r\n"
    path = tmp_path / "app.py"
    path.write_bytes(code.encode("utf-8"))
    found = lint_tree(tmp_path, {}, select=["LL201", "LL202"])
    assert [(f.span.line, f.rule_id) for f in found] == [(2, "LL202"), (3, "LL201")]


def test_ll202_corpus_messages_never_contain_the_flagged_literal(tmp_path):
    files = corpus("config")
    found = [f for f in lint_tree(tmp_path, files, select=["LL202"]) if f.rule_id == "LL202"]
    assert found
    for finding in found:
        lines = files[finding.path].splitlines()
        span = finding.span
        if span.line == span.end_line:
            literal = lines[span.line - 1][span.column - 1 : span.end_column - 1]
        else:
            literal = "\n".join(lines[span.line - 1 : span.end_line])
        secret = literal.strip("'\"rbf")
        assert len(secret) >= 8
        for start in range(0, len(secret) - 7):
            assert secret[start : start + 8] not in finding.message, (finding.path, finding.span.line)
