"""The YAML/JSON reader and the CloudFormation/SAM builder: exact values and exact lines."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from lambdalint.iac import yaml_source
from lambdalint.iac.cloudformation import build_cloudformation, is_sam, is_template
from lambdalint.iac.load import TemplateLoadError, load_template_file
from lambdalint.iac.model import Conditional, Interpolated, Located, Reference, Template, Unknown
from lambdalint.iac.yaml_source import TemplateSyntaxError, load_document, load_json, load_yaml, plain
from lambdalint.model import Span

FIXTURES = Path(__file__).parent / "fixtures" / "templates" / "cfn"


def load(name: str) -> Template:
    path = FIXTURES / name
    loaded = load_template_file(name, path.read_bytes())
    assert isinstance(loaded, Template), loaded
    return loaded


def at(item: Located):
    """(value, line) of a Located, with nested Located values shown the same way."""
    value = item.value
    if isinstance(value, Conditional):
        return ("If", value.condition, tuple(at(branch) for branch in value.branches)), item.span.line
    return value, item.span.line


def fn(template: Template, logical_id: str):
    (function,) = [f for f in template.functions if f.logical_id == logical_id]
    return function


# -- YAML ----------------------------------------------------------------------------------------


SHORT_FORMS = """\
A: !Ref Bucket
B: !GetAtt Queue.Arn
C: !GetAtt [Queue, QueueName]
D: !Sub "${Bucket}/*"
E: !Sub ["${x}-y", {x: !Ref Stage}]
F: !Join [",", [a, b]]
G: !Select [0, !GetAZs ""]
H: !Split [",", "a,b"]
I: !If [IsProd, 1, 2]
J: !Equals [!Ref Stage, prod]
K: !And [!Condition A, !Or [!Condition B, !Not [!Condition C]]]
L: !FindInMap [Map, !Ref "AWS::Region", Key]
M: !Base64 text
N: !Cidr [10.0.0.0/16, 4, 8]
O: !ImportValue shared
P: !Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}
"""


def test_every_short_form_becomes_its_long_form():
    tree = plain(load_yaml(SHORT_FORMS))
    assert tree == {
        "A": {"Ref": "Bucket"},
        "B": {"Fn::GetAtt": ["Queue", "Arn"]},
        "C": {"Fn::GetAtt": ["Queue", "QueueName"]},
        "D": {"Fn::Sub": "${Bucket}/*"},
        "E": {"Fn::Sub": ["${x}-y", {"x": {"Ref": "Stage"}}]},
        "F": {"Fn::Join": [",", ["a", "b"]]},
        "G": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "H": {"Fn::Split": [",", "a,b"]},
        "I": {"Fn::If": ["IsProd", 1, 2]},
        "J": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "K": {"Fn::And": [{"Condition": "A"}, {"Fn::Or": [{"Condition": "B"}, {"Fn::Not": [{"Condition": "C"}]}]}]},
        "L": {"Fn::FindInMap": ["Map", {"Ref": "AWS::Region"}, "Key"]},
        "M": {"Fn::Base64": "text"},
        "N": {"Fn::Cidr": ["10.0.0.0/16", 4, 8]},
        "O": {"Fn::ImportValue": "shared"},
        "P": {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}},
    }


def test_spans_of_values_and_keys_are_exact():
    root = load_yaml("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties: {BucketName: x}\n")
    resources = root.value["Resources"]
    assert resources.value.key_span("Bucket") == Span(2, 3, 2, 9)
    bucket = resources.value["Bucket"].value
    assert bucket["Type"].span == Span(3, 11, 3, 26)
    assert bucket["Properties"].value["BucketName"].span == Span(4, 30, 4, 31)


def test_scalars_keep_their_types_and_dates_stay_text():
    tree = plain(load_yaml("a: 30\nb: '30'\nc: true\nd: null\ne: 2010-09-09\nf: 1.5\n"))
    assert tree == {"a": 30, "b": "30", "c": True, "d": None, "e": "2010-09-09", "f": 1.5}


def test_anchors_aliases_and_merge_keys():
    text = "defaults: &d {Timeout: 10, Runtime: py}\nfn:\n  <<: *d\n  Timeout: 20\nother: *d\n"
    tree = plain(load_yaml(text))
    assert tree["fn"] == {"Timeout": 20, "Runtime": "py"}
    assert tree["other"] == {"Timeout": 10, "Runtime": "py"}


def _alias_bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_quickly():
    start = time.perf_counter()
    with pytest.raises(TemplateSyntaxError) as error:
        load_yaml(_alias_bomb())
    assert time.perf_counter() - start < 1.0
    assert "alias bomb" in error.value.message


def test_a_self_referencing_alias_is_an_error_not_a_hang():
    with pytest.raises(TemplateSyntaxError) as error:
        load_yaml("a: &a [1, *a]\n")
    assert "refers to itself" in error.value.message


def test_invalid_yaml_reports_its_line():
    with pytest.raises(TemplateSyntaxError) as error:
        load_yaml("Resources:\n  A:\n    Type: AWS::S3::Bucket\n   Properties: [\n")
    assert error.value.span.line in (4, 5)


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML without libyaml")
def test_the_c_loader_and_the_python_loader_agree(monkeypatch):
    text = (FIXTURES / "sam_orders_app.yaml").read_text()
    fast = load_yaml(text)
    monkeypatch.setattr(yaml_source, "_Loader", yaml.SafeLoader)
    slow = load_yaml(text)
    assert fast == slow


# -- JSON ----------------------------------------------------------------------------------------


def test_json_with_tabs_and_exact_positions():
    text = '{\n\t"Resources": {\n\t\t"Q": {"Type": "AWS::SQS::Queue",\n\t\t\t"Properties": {"VisibilityTimeout": 60}}\n\t}\n}\n'
    root = load_json(text)
    queue = root.value["Resources"].value["Q"].value
    assert queue["Properties"].value["VisibilityTimeout"] == Located(60, Span(4, 40, 4, 42))
    assert root.value["Resources"].value.key_span("Q") == Span(3, 3, 3, 6)


def test_json_errors_carry_their_line():
    with pytest.raises(TemplateSyntaxError) as error:
        load_json('{\n  "a": 1,\n  "b": [1, 2,]\n}\n')
    assert error.value.span.line == 3
    assert error.value.message.startswith("invalid JSON")


def test_json_values_match_the_json_module():
    import json

    text = (FIXTURES / "cfn_s3_notifications.json").read_text()
    assert plain(load_json(text)) == json.loads(text)
    escapes = '{"a": "\\u00e9\\n\\/", "b": [1e3, -0.5, true, false, null]}'
    assert plain(load_json(escapes)) == json.loads(escapes)


def test_json_looking_yaml_falls_back_to_yaml():
    root = load_document("{Resources: {A: {Type: 'AWS::S3::Bucket'}}}\n", "template.yaml")
    assert plain(root) == {"Resources": {"A": {"Type": "AWS::S3::Bucket"}}}


def test_a_large_json_template_loads_fast():
    resources = ",\n".join(
        f'    "Queue{i}": {{\n      "Type": "AWS::SQS::Queue",\n      "Properties": {{"VisibilityTimeout": {i}}}\n    }}'
        for i in range(3000)
    )
    text = '{\n  "AWSTemplateFormatVersion": "2010-09-09",\n  "Resources": {\n' + resources + "\n  }\n}\n"
    start = time.perf_counter()
    template = load_template_file("big.json", text.encode())
    assert time.perf_counter() - start < 3.0
    assert isinstance(template, Template) and len(template.queues) == 3000
    assert template.queues["Queue2999"].visibility_timeout == Located(2999, Span(4 + 4 * 2999 + 2, 43, 4 + 4 * 2999 + 2, 47))


# -- what is a template --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("AWSTemplateFormatVersion: '2010-09-09'\n", True),
        ("Resources:\n  A:\n    Type: AWS::SQS::Queue\n", True),
        ("Resources:\n  A:\n    Type: Custom::Thing\n", False),
        ("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n", False),
        ("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n", False),
        ("- a\n- b\n", False),
    ],
)
def test_is_template(text, expected):
    assert is_template(load_yaml(text)) is expected


def test_sam_is_recognised_from_a_list_of_transforms():
    template = load("sam_least_privilege.yaml")
    assert template.format == "sam"
    assert is_sam(load_yaml("Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]\n"))
    assert load("cfn_plain_lambda.yaml").format == "cloudformation"


# -- the large SAM app ---------------------------------------------------------------------------


def test_sam_app_functions_and_globals():
    template = load("sam_orders_app.yaml")
    assert [f.logical_id for f in template.functions] == [
        "CreateOrderFunction", "ProcessOrderFunction", "StreamAuditFunction", "NotifyFunction",
        "ReportFunction", "ExportFunction",
    ]
    create = fn(template, "CreateOrderFunction")
    assert create.span.line == 76
    assert at(create.handler) == ("create.handler", 80)
    assert at(create.code_uri) == ("src/orders/", 79)
    assert at(create.runtime) == ("python3.12", 31)  # from Globals
    assert at(create.timeout) == (20, 32)  # Globals.Function.Timeout
    # Globals' variables merged with the function's; Ref of a parameter -> its default there
    assert {k: at(v) for k, v in create.environment.items()} == {
        "STAGE": ("prod", 37),
        "POWERTOOLS_SERVICE_NAME": ("orders", 38),
        "LOG_LEVEL": ("INFO", 39),
        "TABLE_NAME": (Reference("OrdersTable"), 83),
        "QUEUE_URL": (Reference("OrdersQueue"), 84),
    }
    assert at(fn(template, "ProcessOrderFunction").timeout) == (30, 102)  # function wins
    assert at(fn(template, "StreamAuditFunction").timeout) == (("If", "IsProd", ((60, 130), (10, 130))), 130)


def test_sam_app_events():
    template = load("sam_orders_app.yaml")
    events = {
        f.logical_id: [(e.kind, e.name, e.span.line, e.source and at(e.source)) for e in f.events]
        for f in template.functions
    }
    assert events == {
        "CreateOrderFunction": [("api", "CreateOrder", 91, None)],
        "ProcessOrderFunction": [("sqs", "OrdersBatch", 119, (Reference("OrdersQueue", "Arn"), 122))],
        "StreamAuditFunction": [("dynamodb", "TableStream", 135, (Reference("OrdersTable", "StreamArn"), 138))],
        "NotifyFunction": [
            ("sns", "OrderPlaced", 161, (Reference("OrderEventsTopic"), 164)),
            ("schedule", "Nightly", 165, ("cron(0 3 * * ? *)", 168)),
        ],
        "ReportFunction": [("eventbridge", "Rule", 180, None)],
        "ExportFunction": [("http-api", "Export", 206, None)],
    }


def test_sam_app_policies():
    template = load("sam_orders_app.yaml")
    create = fn(template, "CreateOrderFunction")
    assert [(t.name, t.span.line, {k: at(v) for k, v in t.parameters.items()})
            for t in create.permissions.policy_templates] == [
        ("DynamoDBCrudPolicy", 86, {"TableName": (Reference("OrdersTable"), 87)}),
        ("SQSSendMessagePolicy", 88, {"QueueName": (Reference("OrdersQueue", "QueueName"), 89)}),
    ]
    process = fn(template, "ProcessOrderFunction")
    (policy,) = process.permissions.policies
    first, second = policy.statements
    assert (first.span.line, at(first.effect)) == (109, ("Allow", 109))
    assert [at(a) for a in first.actions] == [("dynamodb:GetItem", 111), ("dynamodb:UpdateItem", 112)]
    assert [at(r) for r in first.resources] == [(Reference("OrdersTable", "Arn"), 113)]
    assert [at(a) for a in second.actions] == [("s3:*", 115)]
    (resource,) = second.resources
    assert resource.span.line == 117
    assert isinstance(resource.value, Interpolated)
    assert resource.value.text == "arn:${AWS::Partition}:s3:::${InvoicesBucket}/*"
    assert resource.value.references == (Reference("InvoicesBucket"),)
    assert second.complete and process.permissions.complete

    audit = fn(template, "StreamAuditFunction")
    assert [at(m) for m in audit.permissions.managed_policies] == [
        ("AWSLambdaBasicExecutionRole", 132),
        ("arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess", 133),
    ]
    notify = fn(template, "NotifyFunction")
    (statement,) = notify.permissions.policies[0].statements  # a Statement mapping, not a list
    assert [at(r) for r in statement.resources] == [("*", 159)]
    # an !If policy with AWS::NoValue contributes its one real branch
    export = fn(template, "ExportFunction")
    assert [t.name for t in export.permissions.policy_templates] == ["S3WritePolicy", "CloudWatchPutMetricPolicy"]


def test_sam_app_roles_dead_letters_and_destinations():
    template = load("sam_orders_app.yaml")
    report = fn(template, "ReportFunction")
    assert isinstance(report.role.value, Unknown)  # a parameter without default
    assert report.permissions.complete is False
    assert at(report.on_failure) == (Reference("OrdersDeadLetterQueue", "Arn"), 190)
    notify = fn(template, "NotifyFunction")
    assert at(notify.dead_letter) == (Reference("OrdersDeadLetterQueue", "Arn"), 171)
    assert at(template.queues["OrdersQueue"].visibility_timeout) == (60, 58)
    assert template.queues["OrdersDeadLetterQueue"].visibility_timeout is None
    assert isinstance(template.buckets["InvoicesBucket"].name.value, Interpolated)
    assert template.resource_lines["OrdersTable"] == (42, 53)
    assert template.resource_lines["ExportFunction"] == (192, 210)


# -- intrinsics ----------------------------------------------------------------------------------


def test_parameters_imports_and_conditions():
    template = load("sam_conditions_params.yaml")
    function = fn(template, "ConditionalFunction")
    assert function.timeout.value == Unknown("parameter FunctionTimeout has no default")
    assert isinstance(function.environment["SHARED_TABLE"].value, Unknown)
    assert at(function.environment["LOG_LEVEL"]) == (("If", "IsDev", (("DEBUG", 29), ("INFO", 29))), 29)
    first, second = function.permissions.policies[0].statements
    assert [at(a) for a in first.actions] == [(("If", "IsDev", (("*", 35), ("s3:GetObject", 36))), 33)]
    assert [at(r) for r in first.resources] == [("*", 37)]  # the default of BucketArn, at the Ref
    assert [at(a) for a in second.actions] == [("s3:devObject", 40)]  # !Sub with a known default
    assert isinstance(second.resources[0].value, Interpolated)
    assert isinstance(function.events[0].source.value, Unknown)
    assert function.events[0].kind == "kinesis"


def _resolve(snippet: str):
    text = "Parameters:\n  P: {Type: String, Default: dflt}\n  N: {Type: String}\n" \
           "Mappings:\n  M: {k1: {k2: mapped}}\n" \
           "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags: " + snippet + "\n"
    template = build_cloudformation("t.yaml", load_yaml(text))
    from lambdalint.iac.cloudformation import CloudFormationBuilder

    builder = CloudFormationBuilder(template, load_yaml(text))
    return builder.resolver.resolve(load_yaml(text).value["Resources"].value["B"].value["Properties"]).value.get("Tags")


@pytest.mark.parametrize(
    "snippet, expected",
    [
        ("!Ref B", Reference("B")),
        ("!Ref P", "dflt"),
        ("!Ref N", Unknown("parameter N has no default")),
        ("!GetAtt B.Arn", Reference("B", "Arn")),
        ("!Sub 'x-${P}'", "x-dflt"),
        ("!Sub '${B.Arn}'", Reference("B", "Arn")),
        ("!Sub ['${v}-z', {v: !Ref P}]", "dflt-z"),
        ("!Sub 'a-${!Literal}'", "a-${Literal}"),
        ("!Join ['-', [a, !Ref P]]", "a-dflt"),
        ("!FindInMap [M, k1, k2]", "mapped"),
        ("!Select [1, [a, b, c]]", "b"),
    ],
)
def test_intrinsics_resolve_where_the_template_says(snippet, expected):
    assert _resolve(snippet).value == expected


def test_no_value_removes_a_property_and_partial_joins_name_their_references():
    assert _resolve("!Ref AWS::NoValue") is None
    joined = _resolve("!Join ['', [!GetAtt B.Arn, '/*']]").value
    assert isinstance(joined, Interpolated)
    assert (joined.text, joined.references) == ("${B.Arn}/*", (Reference("B", "Arn"),))
    assert isinstance(_resolve("!Sub '${AWS::Region}-x'").value, Interpolated)


# -- plain CloudFormation ------------------------------------------------------------------------


def test_plain_cloudformation_role_mapping_and_policy():
    template = load("cfn_plain_lambda.yaml")
    worker = fn(template, "WorkerFunction")
    assert worker.span.line == 41 and worker.timeout is None and worker.default_timeout == 3
    assert at(worker.role) == (Reference("WorkerRole", "Arn"), 46)
    assert worker.permissions is template.roles["WorkerRole"].permissions
    assert template.roles["WorkerRole"].trusted_services == {"lambda.amazonaws.com"}
    assert worker.inline_code.value.startswith("import json")
    assert at(worker.environment["DB_PASSWORD"]) == ("hunter2-Sup3rSecret", 54)
    assert at(worker.dead_letter) == (Reference("JobsDeadLetterQueue", "Arn"), 57)
    assert [(e.kind, e.name, e.span.line, at(e.source)) for e in worker.events] == [
        ("sqs", "WorkerMapping", 59, (Reference("JobsQueue", "Arn"), 62)),
    ]
    inline, extra = worker.permissions.policies
    assert (inline.name, inline.span.line) == ("worker-inline", 19)
    assert [at(a) for a in inline.statements[0].actions] == [("*", 24)]
    # the AWS::IAM::Policy is a template policy and attached to the role it names
    assert template.policies == [extra]
    assert (extra.name, extra.span.line) == ("extra", 66)
    assert [at(a) for a in extra.statements[0].not_actions] == [("iam:*", 75)]
    managed = worker.permissions.managed_policies
    assert at(managed[0]) == ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", 16)
    assert managed[1].value.text == "arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess"
    assert worker.permissions.complete is False  # a managed policy ARN known only at deploy time


def test_json_managed_policy_invoke_config_and_subscription():
    template = load("cfn_role_policies.json")
    function = fn(template, "AppFunction")
    (policy,) = function.permissions.policies
    assert policy.name == "AppManagedPolicy" and policy is template.policies[0]
    assert [at(m) for m in function.permissions.managed_policies] == [
        ("arn:aws:iam::aws:policy/PowerUserAccess", 11)
    ]
    allow, deny = policy.statements
    assert [at(a) for a in allow.actions] == [("dynamodb:*", 23)]
    assert deny.has_condition and not deny.is_allow
    assert at(function.on_failure) == (Reference("AppTopic", "Arn"), 50)
    assert [(e.kind, e.name, e.span.line) for e in function.events] == [("sns", "AppSubscription", 41)]
    assert at(function.timeout) == (15, 35)


def test_json_bucket_notifications_with_filters():
    template = load("cfn_s3_notifications.json")
    function = fn(template, "IngestFunction")
    assert [(e.kind, e.name, e.span.line, at(e.source), e.prefix and at(e.prefix), e.suffix and at(e.suffix))
            for e in function.events] == [
        ("s3", "IngestBucket", 58, (Reference("IngestBucket"), 52), None, None),
        ("s3", "FilteredBucket", 71, (Reference("FilteredBucket"), 66), ("incoming/", 76), (".csv", 77)),
    ]
    (policy,) = function.permissions.policies
    assert [r.value.text for s in policy.statements for r in s.resources] == [
        "${IngestBucket.Arn}/*", "arn:aws:s3:::${FilteredBucket}/*",
    ]
    assert [at(a) for a in policy.statements[0].actions] == [("s3:GetObject", 28), ("s3:PutObject", 28)]


def test_api_gateway_integrations_become_api_events():
    template = load("cfn_apigateway.yaml")
    rest, http = template.functions
    assert [(e.kind, e.name, e.span.line, at(e.integration_timeout)) for e in rest.events] == [
        ("api", "RestMethod", 38, (29, 48))
    ]
    assert [(e.kind, e.name, e.span.line, at(e.integration_timeout)) for e in http.events] == [
        ("http-api", "HttpIntegration", 57, (20, 64))
    ]


def test_sam_s3_events_policy_templates_and_filters():
    template = load("sam_thumbnails_recursive.yaml")
    thumbnail = fn(template, "ThumbnailFunction")
    (event,) = thumbnail.events
    assert (event.kind, at(event.source), event.prefix, event.suffix) == (
        "s3", (Reference("ImagesBucket"), 29), None, None
    )
    (policy_template,) = thumbnail.permissions.policy_templates
    assert (policy_template.name, at(policy_template.parameters["BucketName"])) == (
        "S3CrudPolicy", (Reference("ImagesBucket"), 24)
    )
    separated = fn(template, "SeparatedFunction")
    assert (at(separated.events[0].prefix), at(separated.events[0].suffix)) == (("uploads/", 56), (".jpg", 58))


def test_sqs_queues_and_sam_destinations():
    template = load("sam_queue_worker.yaml")
    assert {k: q.visibility_timeout and at(q.visibility_timeout) for k, q in template.queues.items()} == {
        "ShortQueue": (20, 14), "DefaultQueue": None, "LongQueue": (600, 22),
    }
    assert template.queues["LongQueue"].fifo is True
    api = load("sam_api_timeouts.yaml")
    worker = fn(api, "WorkerFunction")
    # SAM creates the SNS topic for an OnFailure without Destination: it still counts
    assert plain(worker.on_failure) == {"Type": "SNS"}
    assert at(fn(api, "SlowApiFunction").timeout) == (45, 8)
    assert [e.kind for e in worker.events] == ["schedule"]


def test_policy_templates_with_wildcards_keep_their_lines():
    template = load("sam_policy_templates.yaml")
    wildcard = fn(template, "WildcardTemplatesFunction")
    assert [(t.name, t.span.line, {k: at(v) for k, v in t.parameters.items() if isinstance(v.value, str)})
            for t in wildcard.permissions.policy_templates] == [
        ("S3CrudPolicy", 24, {"BucketName": ("*", 25)}),
        ("DynamoDBCrudPolicy", 26, {"TableName": ("*", 27)}),
        ("SQSPollerPolicy", 28, {}),
        ("LambdaInvokePolicy", 30, {}),  # FunctionName: !Ref AWS::NoValue is dropped
    ]
    scoped = fn(template, "ScopedTemplatesFunction")
    assert [at(m) for m in scoped.permissions.managed_policies] == [("AWSXrayWriteOnlyAccess", 43)]


def test_metadata_suppression():
    template = load("sam_metadata_suppression.yaml")
    assert template.suppressed_everywhere == {"LL601"}
    assert template.suppressed == {"LegacyFunction": {"LL501", "LL502"}}
    assert fn(template, "LegacyFunction").suppressed == {"LL501", "LL502"}
    assert template.suppressed_at(23) == {"LL601", "LL501", "LL502"}
    assert template.suppressed_at(35) == {"LL601"}


def test_least_privilege_template_reads_completely():
    template = load("sam_least_privilege.yaml")
    customers = fn(template, "CustomersFunction")
    assert at(customers.environment["DB_PASSWORD"]) == (
        "{{resolve:secretsmanager:prod/db:SecretString:password}}", 33
    )
    assert customers.permissions.complete is True
    reports = fn(template, "ReportsFunction")
    assert at(reports.on_failure) == (Reference("FailureQueue", "Arn"), 85)
    assert at(reports.events[0].prefix) == ("uploads/", 80)


def test_every_fixture_loads():
    for path in sorted(FIXTURES.iterdir()):
        if path.suffix not in (".yaml", ".json"):
            continue
        loaded = load_template_file(path.name, path.read_bytes())
        assert isinstance(loaded, Template), (path, loaded)
        assert loaded.functions, path


def test_unparsable_files_are_errors_only_when_plausibly_templates():
    broken = b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  A: [\n"
    error = load_template_file("infra/stack.yaml", broken)
    assert isinstance(error, TemplateLoadError) and error.span.line == 4
    assert isinstance(load_template_file("template.yaml", b"a: [\n"), TemplateLoadError)
    # a Helm chart or any YAML that says nothing about CloudFormation is not our business
    assert load_template_file("chart/values.yaml", b"Resources: {{ .Values.x }\n") is None
    assert load_template_file("ci.yml", b"jobs: [\n") is None
    assert load_template_file("notes.json", b"\xff\xfe garbage") is None


WIRING = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Role: !GetAtt FnRole.Arn
      FunctionUrlConfig:
        AuthType: AWS_IAM
  FnRole:
    Type: AWS::IAM::Role
  FnRolePolicy:
    Type: AWS::IAM::RolePolicy
    Properties:
      RoleName: !Ref FnRole
      PolicyName: inline
      PolicyDocument:
        Statement: [{Effect: Allow, Action: "logs:*", Resource: "*"}]
  Nightly:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: rate(1 day)
      FlexibleTimeWindow: {Mode: "OFF"}
      Target: {Arn: !GetAtt Fn.Arn, RoleArn: arn:aws:iam::123456789012:role/s}
  Logs:
    Type: AWS::Logs::SubscriptionFilter
    Properties:
      LogGroupName: /aws/app
      FilterPattern: ""
      DestinationArn: !GetAtt Fn.Arn
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [app]}
      Targets:
        - Id: fn
          Arn: !GetAtt Fn.Arn
"""


def test_other_resources_that_invoke_or_grant_a_function():
    template = build_cloudformation("t.yaml", load_yaml(WIRING))
    (function,) = template.functions
    assert [(e.kind, e.name, e.span.line) for e in function.events] == [
        ("function-url", "FunctionUrlConfig", 9),
        ("eventbridge", "Rule", 37),
        ("schedule", "Nightly", 20),
        ("cloudwatch-logs", "Logs", 26),
    ]
    (policy,) = function.permissions.policies
    assert policy.name == "inline" and template.policies == [policy]
    assert [a.value for a in policy.statements[0].actions] == ["logs:*"]


OPENAPI = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionBody:
        openapi: "3.0.1"
        paths:
          /orders:
            post:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                timeoutInMillis: 10000
                uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${OrdersFn.Arn}/invocations"
  OrdersFn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Timeout: 60
"""


def test_openapi_bodies_put_functions_behind_the_api():
    (function,) = build_cloudformation("t.yaml", load_yaml(OPENAPI)).functions
    assert [(e.kind, e.name, e.span.line, at(e.integration_timeout)) for e in function.events] == [
        ("api", "Api", 13, (10, 15))
    ]


def test_only_the_first_yaml_document_is_read():
    text = "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n---\n"
    assert isinstance(load_template_file("template.yaml", text.encode()), Template)
    assert plain(load_yaml("---\na: 1\n---\nb: [\n")) == {"a": 1}


def test_dot_template_files_count_only_when_their_text_says_so():
    html = b"<html><body>{{ name }}: [</body></html>\n"
    assert load_template_file("emails/welcome.template", html) is None
    broken = b"AWSTemplateFormatVersion: '2010-09-09'\nResources: [\n"
    assert isinstance(load_template_file("infra/app.template", broken), TemplateLoadError)
    good = b'{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}'
    assert isinstance(load_template_file("infra/app.template", good), Template)


EMBEDDED = """\
AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  Wide: !Equals [a, b]
Resources:
  Data:
    Type: AWS::S3::Bucket
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: embedded
          PolicyDocument: !Sub |
            {
              "Statement": [{
                "Effect": "Allow",
                "Action": ["s3:GetObject", "*"],
                "Resource": "arn:aws:s3:::${Data}/*"
              }]
            }
        - PolicyName: conditional
          PolicyDocument: !If
            - Wide
            - Statement: [{Effect: Allow, Action: "*", Resource: "*"}]
            - Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Handler: a.b
      Role: !Sub "arn:aws:iam::${AWS::AccountId}:role/${Role}"
"""


def test_json_string_and_conditional_policy_documents():
    template = build_cloudformation("t.yaml", load_yaml(EMBEDDED))
    (function,) = template.functions
    assert function.permissions is template.roles["Role"].permissions  # role named in a !Sub
    embedded, conditional = function.permissions.policies
    (statement,) = embedded.statements
    assert [at(a) for a in statement.actions] == [("s3:GetObject", 16), ("*", 16)]
    (resource,) = statement.resources
    assert resource.span.line == 17
    assert resource.value.references == (Reference("Data"),)
    assert [[at(a) for a in s.actions] for s in conditional.statements] == [[("*", 23)], [("s3:GetObject", 24)]]


def test_sam_resources_without_the_transform_still_get_sam_semantics():
    text = (
        "Globals:\n  Function:\n    Timeout: 30\n    Handler: hello.handler\n"
        "Resources:\n  MinimalFunction:\n    Type: AWS::Serverless::Function\n"
    )
    template = build_cloudformation("t.yaml", load_yaml(text))
    assert template.format == "sam"
    (function,) = template.functions
    assert (at(function.timeout), at(function.handler), function.span.line) == ((30, 3), ("hello.handler", 4), 6)


def test_files_larger_than_any_template_are_not_parsed():
    from lambdalint.iac import load as load_module

    data = b'{"Resources": {"A": {"Type": "AWS::SQS::Queue"}}, "pad": "' + b"x" * load_module.MAX_TEMPLATE_BYTES + b'"}'
    assert load_template_file("data.json", data) is None


def test_statement_edges_read_like_every_other_policy_document():
    """CloudFormation statements go through the same reader as Terraform's JSON policies: IAM's
    Effect is case-sensitive (``allow`` is not Allow), a null Resource is not an entry, an
    empty Condition narrows nothing. Each makes the policy incomplete or not, which decides
    whether LL403 may say a permission is missing."""
    text = (
        "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n"
        "      AssumeRolePolicyDocument: {{}}\n      Policies:\n"
        "        - PolicyName: {name}\n          PolicyDocument:\n            Statement:\n"
        "              - Effect: {effect}\n                Action: s3:GetObject\n"
        "                Resource: {resource}\n                Condition: {condition}\n"
    )

    def policy(name="p", effect="Allow", resource="'*'", condition="{x: 1}"):
        template = load_template_file("t.yaml", text.format(name=name, effect=effect, resource=resource, condition=condition).encode())
        (found,) = template.roles["Role"].permissions.policies
        return found

    whole = policy()
    assert whole.complete and whole.statements[0].has_condition
    assert policy(condition="{}").statements[0].has_condition is False
    assert not policy(effect="allow").complete
    lost = policy(resource="~")
    assert not lost.complete and lost.statements[0].resources == []
