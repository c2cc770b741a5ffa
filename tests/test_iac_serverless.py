"""Serverless Framework serverless.yml -> the model: variables, provider defaults, events,
IAM and raw CloudFormation resources."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdalint.iac.load import load_template_file
from lambdalint.iac.model import Conditional, Interpolated, Located, Reference, Template, Unknown
from lambdalint.iac.serverless import build_serverless, is_serverless
from lambdalint.iac.yaml_source import load_yaml

FIXTURES = Path(__file__).parent / "fixtures" / "templates" / "serverless"


def load(name: str) -> Template:
    path = FIXTURES / name / "serverless.yml"
    loaded = load_template_file(f"{name}/serverless.yml", path.read_bytes(), path.parent)
    assert isinstance(loaded, Template), loaded
    return loaded


def at(item: Located):
    value = item.value
    if isinstance(value, Conditional):
        return ("If", value.condition, tuple(at(b) for b in value.branches)), item.span.line
    return value, item.span.line


def fn(template: Template, name: str):
    (function,) = [f for f in template.functions if f.logical_id == name]
    return function


def build(text: str, tmp_path: Path = None) -> Template:
    return build_serverless("serverless.yml", load_yaml(text), tmp_path)


def test_is_serverless():
    assert is_serverless(load_yaml("service: a\nprovider: {name: aws}\n"))
    assert is_serverless(load_yaml("service: a\nprovider: aws\n"))
    assert not is_serverless(load_yaml("service: a\nprovider: {name: google}\n"))
    assert not is_serverless(load_yaml("services:\n  web: {image: nginx}\n"))


def test_orders_functions_timeouts_and_handlers():
    template = load("orders")
    assert template.format == "serverless"
    assert [f.logical_id for f in template.functions] == ["createOrder", "processJobs", "slowApi", "upload"]
    create = fn(template, "createOrder")
    assert (create.span.line, at(create.handler)) == (34, ("src/orders/create.handler", 35))
    assert at(create.timeout) == (20, 15)  # provider.timeout
    assert create.default_timeout == 6
    assert at(create.code_uri) == ("orders", 34)
    assert at(fn(template, "processJobs").timeout) == (60, 42)
    assert at(fn(template, "slowApi").timeout) == (40, 52)


def test_orders_variables_and_environment():
    template = load("orders")
    create = fn(template, "createOrder")
    # ${self:custom.tableName} -> orders-${self:provider.stage} -> ${opt:stage, 'dev'}
    assert {k: at(v) for k, v in create.environment.items()} == {
        "TABLE_NAME": ("orders-dev", 17),
        "LOG_LEVEL": ("INFO", 18),  # ${env:LOG_LEVEL, 'INFO'}: the default, never the real env
        "STRIPE_SECRET_KEY": ("sk_live_51HqLyjWDarjtT1zdp7dcXbQ", 19),
    }
    jobs = fn(template, "processJobs")
    assert at(jobs.environment["TABLE_NAME"]) == ("orders-dev-override", 45)  # function wins
    assert at(jobs.environment["QUEUE_URL"]) == (Reference("JobsQueue"), 44)
    upload = fn(template, "upload")
    assert isinstance(upload.environment["REGION_NAME"].value, Unknown)  # ${env:X} without default
    assert at(upload.environment["BUCKET"]) == ("orders-service-dev-uploads", 60)


def test_orders_events_and_destinations():
    template = load("orders")
    events = {
        f.logical_id: [(e.kind, e.name, e.span.line, e.source and at(e.source)) for e in f.events]
        for f in template.functions
    }
    assert events == {
        "createOrder": [("api", "http[0]", 37, None)],
        "processJobs": [("sqs", "sqs[0]", 47, (Reference("JobsQueue", "Arn"), 48))],
        "slowApi": [("http-api", "httpApi[0]", 54, None)],
        "upload": [("s3", "s3[0]", 63, ("orders-service-dev-uploads", 64))],
    }
    upload = fn(template, "upload")
    s3 = upload.events[0]
    assert (at(s3.prefix), at(s3.suffix)) == (("incoming/", 67), (".csv", 68))
    assert at(upload.on_failure) == ("arn:aws:sqs:eu-west-1:123456789012:upload-failures", 70)
    # the framework creates the bucket, under its own logical id
    assert at(template.buckets["S3BucketOrdersservicedevuploads"].name) == ("orders-service-dev-uploads", 64)


def test_orders_iam_and_resources():
    template = load("orders")
    create, jobs = fn(template, "createOrder"), fn(template, "processJobs")
    assert create.permissions is jobs.permissions  # one shared role
    assert template.roles["IamRoleLambdaExecution"].permissions is create.permissions
    (policy,) = create.permissions.policies
    first, second = policy.statements
    assert first.span.line == 23
    assert [at(a) for a in first.actions] == [("dynamodb:GetItem", 25), ("dynamodb:PutItem", 26)]
    assert [at(r) for r in first.resources] == [("arn:aws:dynamodb:eu-west-1:*:table/orders-dev", 28)]
    assert [at(a) for a in second.actions] == [("sqs:*", 30)]
    assert [at(r) for r in second.resources] == [(Reference("JobsQueue", "Arn"), 31)]
    # resources: raw CloudFormation through the same builder
    assert at(template.queues["JobsQueue"].visibility_timeout) == (120, 78)
    assert template.resource_lines["JobsQueue"] == (74, 78)


def test_legacy_iam_role_statements_and_managed_policies():
    template = load("legacy-iam")
    nightly = fn(template, "nightly")
    assert nightly.timeout is None and nightly.default_timeout == 6
    assert nightly.span.line == 18
    (policy,) = nightly.permissions.policies
    assert [at(a) for a in policy.statements[0].actions] == [("*", 9)]
    assert [at(m) for m in nightly.permissions.managed_policies] == [
        ("arn:aws:iam::aws:policy/AdministratorAccess", 15)
    ]
    on_topic = fn(template, "onTopic")
    assert [(e.kind, e.name, e.span.line) for e in on_topic.events] == [
        ("sns", "sns[0]", 26), ("dynamodb", "stream[1]", 27), ("eventbridge", "eventBridge[2]", 30),
    ]
    assert [(e.kind, e.span.line) for e in nightly.events] == [("schedule", 21)]


def test_media_sls_stage_existing_buckets_and_streams():
    template = load("media")
    resize = fn(template, "resize")
    assert at(resize.environment["MEDIA_BUCKET"]) == ("media-dev-assets", 7)  # ${sls:stage}
    assert [(e.kind, at(e.source)) for e in resize.events] == [
        ("s3", ("media-prod-originals", 25)), ("s3", ("media-prod-thumbs", 28)),
    ]
    # `existing: true` buckets are not created by this service
    assert list(template.buckets) == ["S3BucketMediaprodthumbs"]
    (statement,) = resize.permissions.policies[0].statements
    assert [at(r) for r in statement.resources] == [("arn:aws:s3:::media-dev-assets/*", 15)]
    reader = fn(template, "kinesisReader")
    assert [(e.kind, e.span.line) for e in reader.events] == [("kinesis", 33)]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("${opt:stage, 'dev'}", "dev"),
        ("${opt:stage}", Unknown("${opt:stage} is a command-line option")),
        ("${env:X, 'fallback'}", "fallback"),
        ("${env:X, ${self:custom.other}}", "other-value"),
        ("pre-${self:custom.other}-post", "pre-other-value-post"),
        ("${self:custom.count}", 3),
        ("${self:custom.${self:custom.key}}", "other-value"),
        ("${self:custom.missing, 'dflt'}", "dflt"),
        ("${ssm:/prod/password}", Unknown("${ssm:/prod/password} is only known at deploy time")),
        ("${file(./nope.js):x}", None),
        ("${self:custom.loop}", None),
        ("x-${env:UNSET}", Interpolated("${env:UNSET} is read from the environment at deploy time", text="x-${env:UNSET}")),
        (
            "arn:aws:sqs:${aws:region}:${aws:accountId}:${self:custom.other}",
            Interpolated(
                "${aws:accountId} is only known at deploy time",
                text="arn:aws:sqs:us-east-1:${aws:accountId}:other-value",
            ),
        ),
    ],
)
def test_variables(value, expected):
    text = (
        "service: s\nprovider: {name: aws}\n"
        "custom:\n  other: other-value\n  count: 3\n  key: other\n  loop: ${self:custom.loop}\n"
        f"functions:\n  f:\n    handler: h.h\n    environment:\n      V: \"{value}\"\n"
    )
    resolved = build(text).functions[0].environment["V"].value
    if expected is None:
        assert isinstance(resolved, Unknown)
    else:
        assert resolved == expected


def test_file_variables_read_yaml_and_json_beside_the_file(tmp_path):
    (tmp_path / "vars.json").write_text('{"action": "*", "nested": {"timeout": 12}}')
    (tmp_path / "config.yml").write_text("table: t-${opt:stage, 'dev'}\n")
    text = (
        "service: s\ncustom: ${file(vars.json)}\n"
        "provider:\n  name: aws\n  iamRoleStatements:\n    - Effect: Allow\n"
        "      Action: ${self:custom.action}\n      Resource: '*'\n"
        "functions:\n  f:\n    handler: h.h\n    timeout: ${file(./vars.json):nested.timeout}\n"
        "    environment:\n      TABLE: ${file(./config.yml):table}\n"
    )
    template = build(text, tmp_path)
    function = template.functions[0]
    assert at(function.timeout) == (12, 12)
    assert at(function.environment["TABLE"]) == ("t-dev", 14)
    (statement,) = function.permissions.policies[0].statements
    assert [at(a) for a in statement.actions] == [("*", 7)]
    # without the folder (stdin), file variables stay unknown
    assert isinstance(build(text).functions[0].timeout.value, Unknown)


def test_explicit_roles_and_per_function_statements():
    text = """\
service: s
provider:
  name: aws
  iam:
    role:
      statements:
        - {Effect: Allow, Action: "s3:GetObject", Resource: "*"}
functions:
  own:
    handler: a.h
    role: CustomRole
  external:
    handler: b.h
    role: arn:aws:iam::123456789012:role/x
  perFunction:
    handler: c.h
    iamRoleStatementsInherit: true
    iamRoleStatements:
      - {Effect: Allow, Action: "sqs:*", Resource: "*"}
resources:
  Resources:
    CustomRole:
      Type: AWS::IAM::Role
      Properties:
        Policies:
          - PolicyName: p
            PolicyDocument:
              Statement: [{Effect: Allow, Action: "dynamodb:*", Resource: "*"}]
    ExtraPolicy:
      Type: AWS::IAM::Policy
      Properties:
        PolicyName: extra
        Roles: [{Ref: IamRoleLambdaExecution}]
        PolicyDocument:
          Statement: [{Effect: Allow, Action: "kms:Decrypt", Resource: "*"}]
"""
    template = build(text)
    own, external, per_function = template.functions
    assert own.permissions is template.roles["CustomRole"].permissions
    assert [a.value for p in own.permissions.policies for s in p.statements for a in s.actions] == ["dynamodb:*"]
    assert external.permissions.complete is False
    actions = [a.value for p in per_function.permissions.policies for s in p.statements for a in s.actions]
    assert actions == ["s3:GetObject", "kms:Decrypt", "sqs:*"]
    shared = template.roles["IamRoleLambdaExecution"].permissions
    assert [p.name for p in shared.policies] == ["IamRoleLambdaExecution", "extra"]


def test_resources_link_to_functions_by_their_logical_ids():
    text = """\
service: s
provider: {name: aws, timeout: 10}
functions:
  worker-fn:
    handler: w.h
resources:
  Resources:
    Jobs:
      Type: AWS::SQS::Queue
    Mapping:
      Type: AWS::Lambda::EventSourceMapping
      Properties:
        FunctionName: {Ref: WorkerDashfnLambdaFunction}
        EventSourceArn: {"Fn::GetAtt": [Jobs, Arn]}
"""
    (function,) = build(text).functions
    assert [(e.kind, e.name, e.span.line) for e in function.events] == [("sqs", "Mapping", 10)]
    assert at(function.timeout) == (10, 2)


def test_functions_given_as_a_list_and_function_urls():
    text = "service: s\nprovider: {name: aws}\nfunctions:\n  - a:\n      handler: a.h\n      url: true\n  - b:\n      handler: b.h\n"
    template = build(text)
    assert [(f.logical_id, f.span.line) for f in template.functions] == [("a", 4), ("b", 7)]
    assert [(e.kind, e.span.line) for e in template.functions[0].events] == [("function-url", 6)]


def test_billing_file_variables_and_a_role_from_resources():
    template = load("billing")
    invoice, export, reconcile = template.functions
    # ${file(./config.${self:custom.stage}.yml)} -> config.dev.yml, read beside serverless.yml
    assert at(invoice.timeout) == (45, 18)
    assert at(export.environment["EXPORT_BUCKET"]) == ("billing-dev-exports", 27)
    assert isinstance(export.environment["API_TOKEN"].value, Unknown)  # ${ssm:...}
    # provider.iam.role names a role of `resources`: its policies are every function's
    assert at(invoice.role) == ("BillingRole", 13)
    assert invoice.permissions is template.roles["BillingRole"].permissions is reconcile.permissions
    assert "IamRoleLambdaExecution" not in template.roles
    (policy,) = invoice.permissions.policies
    assert [[at(a) for a in s.actions] for s in policy.statements][:2] == [
        [("s3:GetObject", 66), ("s3:PutObject", 67)], [("*", 70)],
    ]
    assert [at(r) for r in policy.statements[0].resources] == [("arn:aws:s3:::billing-dev-exports/*", 68)]
    assert [(e.kind, at(e.source)) for e in reconcile.events] == [("sqs", (Reference("ReconcileQueue", "Arn"), 42))]
    assert at(template.queues["ReconcileQueue"].visibility_timeout) == (900, 49)


def test_old_style_fallbacks_and_framework_defaults():
    text = """\
service: todo-api
provider:
  name: aws
  environment:
    TODO_TABLE: ${self:service}-${opt:stage, self:provider.stage}
  iamRoleStatements:
    - Effect: Allow
      Action: [dynamodb:GetItem]
      Resource: "arn:aws:dynamodb:${opt:region, self:provider.region}:*:table/${self:provider.environment.TODO_TABLE}"
functions:
  get:
    handler: todos/get.get
"""
    (function,) = build(text).functions
    assert at(function.environment["TODO_TABLE"]) == ("todo-api-dev", 5)
    (statement,) = function.permissions.policies[0].statements
    assert [at(r) for r in statement.resources] == [("arn:aws:dynamodb:us-east-1:*:table/todo-api-dev", 9)]


def test_cloudformation_sub_placeholders_are_not_serverless_variables():
    text = """\
service: s
provider:
  name: aws
  iam:
    role:
      statements:
        - Effect: Allow
          Action: s3:PutObject
          Resource: !Sub "arn:${AWS::Partition}:s3:::${Uploads}/${self:custom.prefix}/*"
custom:
  prefix: out
functions:
  f:
    handler: h.h
resources:
  Resources:
    Uploads:
      Type: AWS::S3::Bucket
"""
    (function,) = build(text).functions
    (resource,) = function.permissions.policies[0].statements[0].resources
    assert resource.value.text == "arn:${AWS::Partition}:s3:::${Uploads}/out/*"
    assert resource.value.references == (Reference("Uploads"),)
