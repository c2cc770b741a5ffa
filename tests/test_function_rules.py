"""LL601-LL606 on hand-built template models: the rules' logic, independent of the loaders.

(The loaders' output for real SAM, CloudFormation JSON, Serverless and Terraform files is run
through the same rules in ``tests/test_function_rules_formats.py``.)
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from lambdalint.iac.function_facts import (
    BucketIdentity,
    action_writes_objects,
    resource_covers_bucket,
    seconds,
)
from lambdalint.iac.model import (
    Bucket,
    Conditional,
    EventSource,
    Function,
    Interpolated,
    Located,
    Permissions,
    Policy,
    PolicyTemplate,
    Queue,
    Reference,
    Role,
    Statement,
    Template,
    Unknown,
)
from lambdalint.iac.secrets import secret_kind, secret_name
from lambdalint.model import Severity, Span
from lambdalint.registry import all_rules


def span(line: int) -> Span:
    return Span(line, 1, line, 20)


def at(value: Any, line: int) -> Located:
    return Located(value, span(line))


def run(rule_id: str, template: Template):
    rule = all_rules()[rule_id](template, {})
    rule.check()
    return rule.findings


def lines(findings) -> List[int]:
    return [f.span.line for f in findings]


def function(
    name: str = "Fn",
    line: int = 1,
    *,
    timeout: Optional[Located] = None,
    default: int = 3,
    events: Optional[List[EventSource]] = None,
    environment: Optional[Dict[str, Located]] = None,
    permissions: Optional[Permissions] = None,
    role: Optional[Located] = None,
    dead_letter: Optional[Located] = None,
    on_failure: Optional[Located] = None,
) -> Function:
    return Function(
        name,
        span(line),
        timeout=timeout,
        default_timeout=default,
        events=events or [],
        environment=environment or {},
        permissions=permissions or Permissions(),
        role=role,
        dead_letter=dead_letter,
        on_failure=on_failure,
    )


def template(*functions: Function, **extra) -> Template:
    return Template("template.yaml", extra.pop("format", "sam"), functions=list(functions), **extra)


# -- LL601 -------------------------------------------------------------------------------------


def test_ll601_reports_functions_without_timeout_at_their_line():
    found = run(
        "LL601",
        template(
            function("Resize", 3),
            function("Fast", 9, timeout=at(5, 12)),
            function("FromParam", 15, timeout=at(Unknown("parameter without default"), 18)),
        ),
    )
    assert lines(found) == [3]
    assert "`Resize`" in found[0].message and "3 s" in found[0].message


def test_ll601_names_the_serverless_default():
    found = run("LL601", template(function("resize", 6, default=6), format="serverless"))
    assert lines(found) == [6] and "6 s" in found[0].message


# -- LL602 -------------------------------------------------------------------------------------


def api_event(line: int, kind: str = "api", integration: Optional[Located] = None) -> EventSource:
    return EventSource(kind, "Get", span(line), integration_timeout=integration)


def test_ll602_reports_the_timeout_line_above_29_seconds():
    found = run(
        "LL602",
        template(
            function("Slow", 1, timeout=at(30, 5), events=[api_event(8)]),
            function("Limit", 20, timeout=at(29, 25), events=[api_event(28)]),
            function("Http", 40, timeout=at("60", 45), events=[api_event(48, "http-api")]),
            function("Worker", 60, timeout=at(900, 65), events=[EventSource("sqs", "Q", span(68))]),
            function("Default", 80, events=[api_event(88)]),
        ),
    )
    assert lines(found) == [5, 45]
    assert found[0].related[0].span.line == 8
    assert "HTTP API" in found[1].message


def test_ll602_uses_the_integration_timeout_when_set():
    found = run(
        "LL602",
        template(
            function("Short", 1, timeout=at(15, 5), events=[api_event(8, integration=at(12, 30))]),
            function("Long", 40, timeout=at(60, 45), events=[api_event(48, integration=at(90, 50))]),
            function("Unknown", 60, timeout=at(60, 65), events=[api_event(68, integration=at(Unknown("x"), 70))]),
        ),
    )
    assert lines(found) == [5]
    assert "12 s" in found[0].message


def test_ll602_reports_a_branch_of_if_with_its_condition():
    timeout = at(Conditional("IsProd", (at(300, 5), at(20, 5))), 5)
    found = run("LL602", template(function("Report", 1, timeout=timeout, events=[api_event(9)])))
    assert lines(found) == [5] and "`IsProd`" in found[0].message


# -- LL603 -------------------------------------------------------------------------------------


def sqs_event(target: Any, line: int = 30, literal: bool = False) -> EventSource:
    source = at(Reference(target, "Arn") if isinstance(target, str) and not literal else target, line)
    return EventSource("sqs", "Work", span(line), source=source)


def queue(name: str, line: int, visibility: Optional[Located] = None) -> Queue:
    return Queue(name, span(line), visibility_timeout=visibility)


def test_ll603_warning_below_six_times_error_below_once():
    queues = {
        "Warn": queue("Warn", 1, at(120, 3)),
        "Err": queue("Err", 5, at(60, 7)),
        "Ok": queue("Ok", 9, at(180, 11)),
        "Default": queue("Default", 13),
    }
    found = run(
        "LL603",
        template(
            function("A", 20, timeout=at(30, 22), events=[sqs_event("Warn")]),
            function("B", 40, timeout=at(100, 42), events=[sqs_event("Err")]),
            function("C", 60, timeout=at(30, 62), events=[sqs_event("Ok")]),
            function("D", 80, timeout=at("10", 82), events=[sqs_event("Default")]),
            queues=queues,
        ),
    )
    assert lines(found) == [3, 7, 13]
    assert [f.severity for f in found] == [Severity.WARNING, Severity.ERROR, Severity.WARNING]
    assert [f.related[0].span.line for f in found] == [22, 42, 82]
    assert "30 s (the default)" in found[2].message


def test_ll603_default_function_timeout_against_default_queue_is_fine():
    found = run(
        "LL603",
        template(function("A", 20, events=[sqs_event("Q")]), queues={"Q": queue("Q", 1)}),
    )
    assert found == []


def test_ll603_stays_quiet_on_unknowns():
    found = run(
        "LL603",
        template(
            function("A", 20, timeout=at(300, 22), events=[sqs_event("Param")]),
            function("B", 40, timeout=at(Unknown("param"), 42), events=[sqs_event("Small")]),
            function("C", 60, timeout=at(300, 62), events=[sqs_event("arn:aws:sqs:us-east-1:1:Small", literal=True)]),
            function("D", 80, timeout=at(300, 82), events=[sqs_event(Unknown("import"))]),
            queues={"Param": queue("Param", 1, at(Unknown("Ref AWS::Region"), 2)), "Small": queue("Small", 5, at(1, 6))},
        ),
    )
    assert found == []


def test_ll603_string_timeout_is_a_number():
    found = run(
        "LL603",
        template(
            function("A", 20, timeout=at("600", 22), events=[sqs_event("Q")]),
            queues={"Q": queue("Q", 1, at(300, 2))},
        ),
    )
    assert lines(found) == [2] and found[0].severity is Severity.ERROR


def test_ll603_one_finding_per_queue_and_consumer_with_the_worst_branch():
    timeout = at(Conditional("Big", (at(600, 22), at(40, 22))), 22)
    found = run(
        "LL603",
        template(
            function("A", 20, timeout=timeout, events=[sqs_event("Q"), sqs_event("Q", 31)]),
            queues={"Q": queue("Q", 1, at(300, 2))},
        ),
    )
    assert lines(found) == [2]
    assert found[0].severity is Severity.ERROR and "`Big`" in found[0].message


def test_ll603_follows_an_arn_string_to_the_queue_of_that_name():
    """A Serverless/SAM event may name its queue by ARN string instead of a reference; the
    queue's literal name (QueueName, Terraform ``name``) is what ties them, not its logical id;
    two queues of one name are not guessed between."""
    named = Queue("Jobs", span(1), visibility_timeout=at(60, 2), name="jobs-queue")
    unnamed = Queue("jobs-queue", span(5), visibility_timeout=at(1, 6))
    interpolated = Interpolated("account", text="arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:jobs-queue")
    found = run(
        "LL603",
        template(
            function("A", 20, timeout=at(30, 22), events=[sqs_event("arn:aws:sqs:us-east-1:123456789012:jobs-queue", literal=True)]),
            function("B", 40, timeout=at(30, 42), events=[sqs_event(interpolated, literal=True)]),
            function("C", 60, timeout=at(30, 62), events=[sqs_event("arn:aws:sqs:us-east-1:1:other-queue", literal=True)]),
            function("D", 80, timeout=at(30, 82), events=[sqs_event("arn:aws:sns:us-east-1:1:jobs-queue", literal=True)]),
            queues={"Jobs": named, "jobs-queue": unnamed},
        ),
    )
    assert [(f.span.line, f.related[0].span.line) for f in found] == [(2, 22), (2, 42)]
    twins = {"Jobs": named, "Copy": Queue("Copy", span(9), visibility_timeout=at(60, 10), name="jobs-queue")}
    quiet = run(
        "LL603",
        template(function("A", 20, timeout=at(30, 22), events=[sqs_event("arn:aws:sqs:us-east-1:1:jobs-queue", literal=True)]), queues=twins),
    )
    assert quiet == []


def test_ll603_arn_strings_in_real_templates(lint):
    sam = (
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Jobs:\n    Type: AWS::SQS::Queue\n"
        "    Properties:\n      QueueName: jobs\n      VisibilityTimeout: 60\n"
        "  Worker:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n"
        "      Runtime: python3.12\n      CodeUri: src/\n      Timeout: 30\n      Events:\n        Work:\n"
        "          Type: SQS\n          Properties:\n"
        "            Queue: !Sub arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:jobs\n"
    )
    terraform = (
        'resource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n  visibility_timeout_seconds = 60\n}\n'
        'resource "aws_lambda_function" "worker" {\n  function_name = "worker"\n  handler = "app.handler"\n'
        '  runtime = "python3.12"\n  role = "arn:aws:iam::123456789012:role/w"\n  filename = "w.zip"\n  timeout = 30\n}\n'
        'resource "aws_lambda_event_source_mapping" "jobs" {\n'
        '  event_source_arn = "arn:aws:sqs:us-east-1:123456789012:jobs"\n'
        '  function_name = aws_lambda_function.worker.arn\n}\n'
    )
    found = lint({"sam/template.yaml": sam, "tf/main.tf": terraform}, select=["LL603"])
    assert [(f.path, f.span.line) for f in found] == [("sam/template.yaml", 7), ("tf/main.tf", 3)]


# -- LL604 -------------------------------------------------------------------------------------


def statement(actions, resources, line: int, effect: str = "Allow", condition: bool = False, not_actions=()):
    return Statement(
        span(line),
        at(effect, line),
        actions=[at(a, line + 1) for a in actions],
        not_actions=[at(a, line + 1) for a in not_actions],
        resources=[at(r, line + 2) for r in resources],
        has_condition=condition,
    )


def s3_event(target: Any, line: int = 30, prefix=None, suffix=None, literal: bool = False) -> EventSource:
    source = at(Reference(target) if isinstance(target, str) and not literal else target, line + 3)
    return EventSource("s3", "Upload", span(line), source=source, prefix=prefix, suffix=suffix)


def with_policy(*statements: Statement) -> Permissions:
    return Permissions(policies=[Policy("inline", span(10), statements=list(statements))])


BUCKETS = {
    "Uploads": Bucket("Uploads", span(1)),
    "Named": Bucket("Named", span(3), name=at("acme-media", 4)),
    "Other": Bucket("Other", span(5)),
}


@pytest.mark.parametrize(
    "resource",
    [
        Interpolated("join", "${Uploads.Arn}/*", (Reference("Uploads", "Arn"),)),
        "arn:${AWS::Partition}:s3:::${Uploads}/*",
        "arn:aws:s3:::${Uploads.Arn}/*",  # odd, but it names the bucket
        {"Fn::Sub": "arn:aws:s3:::${Uploads}/out/*"},
        {"Fn::Join": ["", ["arn:aws:s3:::", at(Reference("Uploads"), 12), "/*"]]},
        "*",
        "arn:aws:s3:::*",
        "arn:aws:s3:::*/*",
    ],
)
def test_ll604_write_on_the_trigger_bucket(resource):
    fn = function(
        "Thumb", 20, timeout=at(10, 21),
        permissions=with_policy(statement(["s3:GetObject", "s3:PutObject"], [resource], 40)),
        events=[s3_event("Uploads")],
    )
    found = run("LL604", template(fn, buckets=BUCKETS))
    assert lines(found) == [30]
    assert found[0].related[0].span.line == 42
    assert "line 42" in found[0].message


@pytest.mark.parametrize(
    "resource",
    [
        # the bucket's own ARN authorizes no object write (s3:PutObject needs B/key)
        Reference("Uploads"),
        Reference("Uploads", "Arn"),
        "arn:aws:s3:::${Uploads}",
        Reference("Other", "Arn"),
        "${Other.Arn}/*",
        "arn:aws:s3:::${Uploads}-logs/*",
        "arn:aws:s3:::${Other}/*",
        "arn:aws:s3:::some-other-bucket/*",
        Unknown("parameter"),
        "arn:aws:dynamodb:*:*:table/*",
    ],
)
def test_ll604_write_elsewhere_is_fine(resource):
    fn = function(
        "Thumb", 20, timeout=at(10, 21),
        permissions=with_policy(statement(["s3:PutObject"], [resource], 40)),
        events=[s3_event("Uploads")],
    )
    assert run("LL604", template(fn, buckets=BUCKETS)) == []


@pytest.mark.parametrize("action", ["s3:PutObject", "S3:PUTOBJECT", "s3:Put*", "s3:*", "*", "s3:*Object", "s3:CopyObject"])
def test_ll604_write_actions(action):
    assert action_writes_objects(action)


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObjectAcl", "s3:PutObjectTagging", "s3:DeleteObject", "s3:List*", "sqs:*"])
def test_ll604_non_write_actions(action):
    assert not action_writes_objects(action)


def test_ll604_literal_bucket_names_and_arns():
    named = BucketIdentity("Named", "acme-media")
    assert resource_covers_bucket(at("arn:aws:s3:::acme-media/*", 1), named)
    assert resource_covers_bucket(at("arn:aws:s3:::acme-*/*", 1), named)
    assert not resource_covers_bucket(at("arn:aws:s3:::acme-media-out/*", 1), named)
    assert resource_covers_bucket(at("arn:aws:s3:::acme-media/thumbnails/*", 1), named)
    assert resource_covers_bucket(at("arn:aws:s3:::acme-*", 1), named)  # IAM's * matches "/"
    assert resource_covers_bucket(at("arn:aws:s3:::*", 1), named)
    assert not resource_covers_bucket(at("arn:aws:s3:::acme-media", 1), named)  # the bucket itself
    # a bucket without a literal name (CloudFormation generates one): a literal never matches it
    generated = BucketIdentity("Uploads", None)
    assert not resource_covers_bucket(at("arn:aws:s3:::uploads/*", 1), generated)
    # Terraform interpolation
    tf = BucketIdentity("aws_s3_bucket.images", "images-prod")
    assert resource_covers_bucket(at("${aws_s3_bucket.images.arn}/*", 1), tf)
    assert not resource_covers_bucket(at("${aws_s3_bucket.images_out.arn}/*", 1), tf)


def test_ll604_sam_policy_templates():
    def thumb(name, bucket_param, prefix=None):
        policies = Permissions(policy_templates=[PolicyTemplate(name, span(13), parameters={"BucketName": at(bucket_param, 14)})])
        return function("Thumb", 20, timeout=at(10, 21), permissions=policies, events=[s3_event("Named", prefix=prefix)])

    assert lines(run("LL604", template(thumb("S3CrudPolicy", Reference("Named")), buckets=BUCKETS))) == [30]
    assert lines(run("LL604", template(thumb("S3WritePolicy", "acme-media"), buckets=BUCKETS))) == [30]
    assert lines(run("LL604", template(thumb("S3FullAccessPolicy", "*"), buckets=BUCKETS))) == [30]
    assert run("LL604", template(thumb("S3ReadPolicy", Reference("Named")), buckets=BUCKETS)) == []
    assert run("LL604", template(thumb("S3CrudPolicy", Reference("Other")), buckets=BUCKETS)) == []
    assert run("LL604", template(thumb("S3CrudPolicy", Reference("Named"), prefix=at("in/", 35)), buckets=BUCKETS)) == []


def test_ll604_role_permissions_count():
    role = Role("ThumbRole", span(50), permissions=with_policy(statement(["s3:*"], ["${Uploads.Arn}/*"], 55)))
    fn = function("Thumb", 20, timeout=at(10, 21), role=at(Reference("ThumbRole", "Arn"), 22), events=[s3_event("Uploads")])
    found = run("LL604", template(fn, buckets=BUCKETS, roles={"ThumbRole": role}))
    assert lines(found) == [30] and found[0].related[0].span.line == 57


def test_ll604_quiet_with_filters_conditions_and_denies():
    write = statement(["s3:PutObject"], ["arn:aws:s3:::${Uploads}/*"], 40)
    cases = [
        function("A", 20, permissions=with_policy(write), events=[s3_event("Uploads", suffix=at(".jpg", 35))]),
        function("B", 20, permissions=with_policy(statement(["s3:PutObject"], ["*"], 40, condition=True)), events=[s3_event("Uploads")]),
        function("C", 20, permissions=with_policy(write, statement(["s3:PutObject"], ["*"], 45, effect="Deny")), events=[s3_event("Uploads")]),
        function("D", 20, permissions=with_policy(write), events=[s3_event(Unknown("param"))]),
    ]
    for case in cases:
        assert run("LL604", template(case, buckets=BUCKETS)) == [], case.logical_id


def test_ll604_not_action_that_leaves_put_object_in():
    fn = function("A", 20, permissions=with_policy(statement([], ["*"], 40, not_actions=["iam:*"])), events=[s3_event("Uploads")])
    assert lines(run("LL604", template(fn, buckets=BUCKETS))) == [30]
    fn = function("B", 20, permissions=with_policy(statement([], ["*"], 40, not_actions=["s3:*"])), events=[s3_event("Uploads")])
    assert run("LL604", template(fn, buckets=BUCKETS)) == []


def test_ll604_literal_trigger_bucket_name():
    fn = function(
        "A", 20,
        permissions=with_policy(statement(["s3:PutObject"], ["arn:aws:s3:::acme-media/*"], 40)),
        events=[s3_event("acme-media", literal=True)],
    )
    assert lines(run("LL604", template(fn, buckets=BUCKETS))) == [30]
    fn.events = [s3_event("external-bucket", literal=True)]
    assert run("LL604", template(fn, buckets=BUCKETS)) == []


# -- LL605 -------------------------------------------------------------------------------------


def test_ll605_async_sources_need_a_destination():
    found = run(
        "LL605",
        template(
            function("OnTopic", 1, events=[EventSource("sns", "Topic", span(5)), EventSource("schedule", "Nightly", span(8))]),
            function("WithDlq", 20, events=[EventSource("s3", "Up", span(25))], dead_letter=at(Reference("Dlq", "Arn"), 22)),
            function("WithDest", 40, events=[EventSource("eventbridge", "Rule", span(45))], on_failure=at("SQS", 42)),
            function("Api", 60, events=[EventSource("api", "Get", span(65)), EventSource("sqs", "Q", span(68))]),
            function("NoTrigger", 80),
            function("Logs", 100, events=[EventSource("cloudwatch-logs", "Sub", span(105)), EventSource("iot", "Rule", span(108))]),
        ),
    )
    assert lines(found) == [1, 100]
    assert [r.span.line for r in found[0].related] == [5, 8]
    assert "SNS, schedule" in found[0].message


# -- LL606 -------------------------------------------------------------------------------------


def test_ll606_reports_each_secret_value_line():
    env = {
        "TABLE_NAME": at("orders", 10),
        "DB_PASSWORD": at("hunter2-prod", 11),
        "AWS_ACCESS_KEY_ID": at("AKIAIOSFODNN7EXAMPLE", 12),
        "AWS_SECRET_ACCESS_KEY": at("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 13),
        "key1": at("AKIAAAAAAAAAAAAAAAAA", 14),
        "DB_PASSWORD_SECRET_ARN": at(Reference("DbSecret"), 15),
        "API_TOKEN": at("{{resolve:ssm-secure:/prod/token}}", 16),
        "GH": at("ghp_" + "a1B2" * 9, 17),
        "MAYBE": at(Conditional("IsProd", (at("{{resolve:secretsmanager:x}}", 18), at("sk_live_" + "x" * 24, 18))), 18),
    }
    found = run("LL606", template(function("Api", 1, environment=env)))
    assert lines(found) == [11, 12, 13, 14, 17, 18]
    assert all(f.severity is Severity.ERROR for f in found)
    assert "when not `IsProd`" in found[-1].message
    assert "hunter2" not in " ".join(f.message for f in found)  # never echo the secret


def test_ll606_shared_variables_are_reported_once():
    shared = at("AKIAIOSFODNN7EXAMPLE", 7)
    found = run("LL606", template(function("a", 10, environment={"K": shared}), function("b", 20, environment={"K": shared})))
    assert lines(found) == [7]
    assert "(shared by `a`, `b`)" in found[0].message
    # written above its only function: a provider/Globals variable
    found = run("LL606", template(function("a", 10, environment={"K": shared})))
    assert "(shared by `a`)" in found[0].message
    found = run("LL606", template(function("a", 1, environment={"K": shared})))
    assert "of `a`" in found[0].message


@pytest.mark.parametrize(
    "name,value",
    [
        ("DB_PASSWORD", "correct horse battery"),
        ("dbPassword", "Tr0ub4dor&3"),
        ("JWT_SECRET", "my-jwt-signing-secret"),
        ("STRIPE_API_KEY", "rk_test_abcdefabcdef"),
        ("GITHUB_TOKEN", "abcdef0123456789"),
        ("PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."),
        ("CONFIG", "-----BEGIN PRIVATE KEY-----"),
        ("DATABASE_URL", "mysql://admin:Sup3rS3cret@db:3306/app"),
        ("REDIS_URL", "redis://:Sup3rS3cret@cache.internal:6379/0"),
        ("OPENAI_KEY", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"),
        ("SLACK_WEBHOOK", "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX"),
        ("WHATEVER", "xoxb-1234567890-abcdefghij"),
        ("AWS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("APP_CREDENTIALS", "user:pass123"),
        ("SECRET_KEY_BASE", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
        ("GITHUB_TOKEN_PROD", "abcdef0123456789"),
        ("API_KEY_V2", "k-8f7e6d5c4b3a"),
        ("MYSQL_ROOT_PASSWORD", "12345678"),
        ("clientSecret", "0a1b2c3d4e5f"),
    ],
)
def test_ll606_secret_kinds(name, value):
    assert secret_kind(name, value) is not None


@pytest.mark.parametrize(
    "name,value",
    [
        ("DB_PASSWORD_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"),
        ("APP_PRIVATE_KEY_SECRET_NAME", "my-secret"),
        ("API_KEY_PARAMETER", "/prod/api/key"),
        ("TOKEN_URL", "https://auth.example.com/oauth/token"),
        ("TOKEN_TTL", "3600"),
        ("PASSWORD_MIN_LENGTH", "12"),
        ("AUTH_ENABLED", "true"),
        ("DB_PASSWORD", ""),
        ("DB_PASSWORD", "changeme"),
        ("API_TOKEN", "<your token here>"),
        ("DB_PASSWORD", "{{resolve:secretsmanager:prod/db:SecretString:password}}"),
        ("DB_PASSWORD", "{{resolve:ssm-secure:/prod/db/password}}"),
        ("SLACK_TOKEN", "${ssm:/notify/slack-token}"),
        ("DB_SECRET", "prod/db/credentials"),
        ("TAGS", "git.commit.sha:55e7e7703f17c41f276caf8f1a1b744d674259f8"),
        ("COMMIT", "55e7e7703f17c41f276caf8f1a1b744d674259f8"),
        ("S3_KEY", "uploads/2024/report.csv"),
        ("PUBLIC_KEY", "ssh-ed25519 AAAAC3Nza"),
        ("DATABASE_URL", "postgres://db.internal:5432/app"),
        ("DATABASE_URL", "postgres://postgres:postgres@localhost:5432/app"),
        ("MODEL_ID", "sk-learn-gradient-boosting-classifier-v2"),
        ("SECRETS_MANAGER_ENDPOINT", "https://secretsmanager.eu-west-1.amazonaws.com"),
        ("TOKEN_HEADER", "x-api-token"),
        ("AWS_ACCESS_KEY_ID", "${env:AWS_ACCESS_KEY_ID}"),
        ("PASSWORD_COMPLEXITY", "high-entropy"),
        ("PASSWORD_HASH", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"),
        ("TOKEN_BUCKET_CAPACITY", "1000"),
        ("MAX_TOKEN", "4096"),
        ("SECRETS_MANAGER", "enabled"),
        ("USE_SECRETS_MANAGER", "true"),
        ("JWT_SECRET_ALGORITHM", "HS256"),
        ("GOOGLE_APPLICATION_CREDENTIALS", "/var/task/service-account.json"),
        ("KMS_KEY_ALIAS", "alias/app-data"),
        ("TOKENIZER_MODEL", "bert-base-uncased"),
    ],
)
def test_ll606_not_secrets(name, value):
    assert secret_kind(name, value) is None


def test_secret_names():
    assert secret_name("apiKey") and secret_name("APIKey") and secret_name("AWS_SECRET_ACCESS_KEY")
    assert not secret_name("DB_PASSWORD_SECRET_ARN") and not secret_name("KEY") and not secret_name("MONKEY")
    assert secret_name("AWS_SECRET_ACCESS_KEY") and not secret_name("AWS_ACCESS_KEY_ID")
    assert not secret_name("PUBLIC_KEY") and not secret_name("SSH_PUBLIC_KEY") and not secret_name("TOKENS")


def test_seconds():
    assert [seconds(v) for v in (30, "600", " 45 ", 12.0)] == [30, 600, 45, 12]
    assert [seconds(v) for v in (True, "10s", Unknown("x"), Reference("P"), 1.5, None)] == [None] * 6


def test_ll601_and_ll603_an_if_branch_without_timeout_is_the_default():
    timeout = at(Conditional("IsProd", (at(120, 5), at(None, 5))), 5)
    found = run("LL601", template(function("Job", 1, timeout=timeout)))
    assert lines(found) == [1] and "when not `IsProd`" in found[0].message
    # the default 3 s branch is fine for a 30 s queue, the 120 s one is not
    found = run(
        "LL603",
        template(function("Job", 1, timeout=timeout, events=[sqs_event("Q")]), queues={"Q": queue("Q", 20)}),
    )
    assert lines(found) == [20] and "120 s when `IsProd`" in found[0].message


def test_ll602_http_apis_wait_30_seconds_rest_apis_29():
    found = run(
        "LL602",
        template(
            function("Http30", 1, timeout=at(30, 5), events=[api_event(8, "http-api")]),
            function("Http31", 20, timeout=at(31, 25), events=[api_event(28, "http-api")]),
            function("Rest30", 40, timeout=at(30, 45), events=[api_event(48, "api")]),
        ),
    )
    assert lines(found) == [25, 45]
    assert "after 30 s" in found[0].message and "after 29 s" in found[1].message


def test_ll604_managed_policies_that_write_everywhere():
    def thumb(*arns):
        permissions = Permissions(managed_policies=[at(arn, 12) for arn in arns])
        return function("Thumb", 20, permissions=permissions, events=[s3_event("Uploads")])

    for arn in (
        "AmazonS3FullAccess",
        "arn:aws:iam::aws:policy/AWSLambdaExecute",
        Interpolated("sub", "arn:${AWS::Partition}:iam::aws:policy/PowerUserAccess", ()),
    ):
        found = run("LL604", template(thumb(arn), buckets=BUCKETS))
        assert lines(found) == [30] and found[0].related[0].span.line == 12, arn
    quiet = thumb(
        "AmazonS3ReadOnlyAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::123456789012:policy/AmazonS3FullAccess",  # a customer policy of that name
    )
    assert run("LL604", template(quiet, buckets=BUCKETS)) == []


def test_ll606_unquoted_numbers_are_text_for_passwords_only():
    env = {"DB_PASSWORD": at(12345678, 3), "API_TOKEN": at(50000000, 4), "PASSWORD": at(True, 5)}
    assert lines(run("LL606", template(function("Api", 1, environment=env)))) == [3]


def test_ll604_unknown_trigger_bucket_only_wildcard_grants_count():
    def fn(resource, source):
        return function(
            "A", 20,
            permissions=with_policy(statement(["s3:PutObject"], [resource], 40)),
            events=[s3_event(source)],
        )

    param = Unknown("parameter UploadBucket has no default")
    interpolated = Interpolated("sub", "uploads-${AWS::AccountId}", ())
    for source in (param, interpolated):
        found = run("LL604", template(fn("*", source), buckets=BUCKETS))
        assert lines(found) == [30] and "its trigger bucket" in found[0].message
        assert lines(run("LL604", template(fn("arn:aws:s3:::*/*", source), buckets=BUCKETS))) == [30]
        assert run("LL604", template(fn("${Uploads.Arn}/*", source), buckets=BUCKETS)) == []
        assert run("LL604", template(fn("arn:aws:s3:::uploads-*/*", source), buckets=BUCKETS)) == []


def test_unknowns_are_logged_at_debug_level(caplog):
    caplog.set_level("DEBUG")
    run(
        "LL603",
        template(
            function("A", 20, timeout=at(300, 22), events=[sqs_event("Param")]),
            queues={"Param": queue("Param", 1, at(Unknown("parameter Visibility has no default"), 2))},
        ),
    )
    run("LL606", template(function("B", 1, environment={"DB_PASSWORD": at(Unknown("parameter DbPassword has no default"), 3)})))
    text = caplog.text
    assert "LL603" in text and "parameter Visibility has no default" in text
    assert "LL606" in text and "parameter DbPassword has no default" in text


def test_ll602_a_shared_timeout_is_one_finding_naming_every_api_function():
    shared = at(60, 4)  # Globals.Function.Timeout / provider.timeout
    found = run(
        "LL602",
        template(
            function("List", 10, timeout=shared, events=[api_event(15)]),
            function("Get", 20, timeout=shared, events=[api_event(25, "http-api")]),
            function("Worker", 30, timeout=shared, events=[EventSource("sqs", "Q", span(35))]),
        ),
    )
    assert lines(found) == [4]
    assert "Functions `List`, `Get` may run 60 s" in found[0].message and "29 s" in found[0].message
    assert [r.span.line for r in found[0].related] == [15, 25]


ODD_VALUES = [
    None, True, 0, -5, 2.5, "", "abc", "600", "*", "arn:aws:s3:::*", "arn:aws:sqs:r:1:q", [], {},
    [at("x", 1)], {"Fn::Sub": at(["a"], 1)}, {"Fn::Join": at(["", at([], 1)], 1)},
    Reference("Q"), Reference("Uploads", "Arn"), Unknown("?"), Interpolated("?", "${Uploads}/*", ()),
    Conditional("C", (at(None, 1), at(Unknown("?"), 1))),
]


def test_rules_never_crash_on_odd_values():
    import random

    rng = random.Random(20261123)

    def odd(line: int) -> Located:
        return at(rng.choice(ODD_VALUES), line)

    for _ in range(300):
        statements = [
            Statement(span(9), odd(9), actions=[odd(9)], not_actions=[odd(9)] if rng.random() < 0.3 else [],
                      resources=[odd(9)], has_condition=rng.random() < 0.2)
        ]
        permissions = Permissions(
            policies=[Policy("p", span(8), statements=statements)],
            managed_policies=[odd(8)],
            policy_templates=[PolicyTemplate(rng.choice(["S3CrudPolicy", "X"]), span(8), parameters={"BucketName": odd(8)})],
        )
        events = [
            EventSource(kind, "E", span(7), source=odd(7), prefix=rng.choice([None, odd(7)]),
                        integration_timeout=rng.choice([None, odd(7)]))
            for kind in rng.sample(["api", "http-api", "s3", "sqs", "sns", "schedule", "other"], 3)
        ]
        fn = function(
            "F", 5, timeout=rng.choice([None, odd(6)]), events=events, permissions=permissions,
            environment={"DB_PASSWORD": odd(4), "X": odd(4)}, role=rng.choice([None, odd(3)]),
            dead_letter=rng.choice([None, odd(3)]),
        )
        tpl = template(
            fn, buckets=dict(BUCKETS), queues={"Q": queue("Q", 2, rng.choice([None, odd(2)]))},
        )
        for rule_id in ("LL601", "LL602", "LL603", "LL604", "LL605", "LL606"):
            run(rule_id, tpl)


def test_ll602_websocket_integrations_in_terraform(lint):
    """A WebSocket API's integration waits 29 s at most (an HTTP API's 30 s): before, WebSocket
    integrations were 'other' events and never checked."""
    api = (
        'resource "aws_apigatewayv2_api" "chat" {{\n  name = "chat"\n  protocol_type = "{protocol}"\n}}\n'
        'resource "aws_apigatewayv2_integration" "send" {{\n  api_id = aws_apigatewayv2_api.chat.id\n'
        '  integration_type = "AWS_PROXY"\n  integration_uri = aws_lambda_function.chat.invoke_arn\n}}\n'
        'resource "aws_lambda_function" "chat" {{\n  function_name = "chat"\n  handler = "app.handler"\n'
        '  runtime = "python3.12"\n  role = "arn:aws:iam::123456789012:role/c"\n  filename = "c.zip"\n  timeout = 30\n}}\n'
    )
    found = lint({"ws/main.tf": api.format(protocol="WEBSOCKET"), "http/main.tf": api.format(protocol="HTTP")}, select=["LL602"])
    assert [(f.path, f.span.line) for f in found] == [("ws/main.tf", 16)]
    assert "WebSocket API" in found[0].message
