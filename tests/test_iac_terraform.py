"""The Terraform loader: fixture modules under tests/fixtures/templates/terraform/ into the exact
model (values, lines, unknowns), plus the peer suite's .tf files, read in place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from lambdalint.iac.model import (
    Conditional,
    Function,
    Interpolated,
    Located,
    Reference,
    Statement,
    Template,
    Unknown,
)
from lambdalint.iac.terraform import TerraformTemplate, load_terraform

FIXTURES = Path(__file__).parent / "fixtures" / "templates" / "terraform"
PEER_FIXTURES = Path("/work/shared/peer-suite/fixtures")


def load_folder(name: str) -> Tuple[Optional[Template], List[Tuple[str, Any, str]]]:
    folder = FIXTURES / name
    files = [(f"{name}/{p.name}", p.read_bytes()) for p in sorted(folder.glob("*.tf"))]
    return load_terraform(files)


def load(name: str) -> TerraformTemplate:
    template, errors = load_folder(name)
    assert errors == []
    assert isinstance(template, TerraformTemplate)
    return template


def load_text(text: str, *more: Tuple[str, str]) -> Optional[Template]:
    files = [("main.tf", text.encode())] + [(path, body.encode()) for path, body in more]
    template, errors = load_terraform(files)
    assert errors == []
    return template


def fn(template: Template, name: str) -> Function:
    found = [f for f in template.functions if f.logical_id == f"aws_lambda_function.{name}"]
    assert len(found) == 1
    return found[0]


def at(item: Optional[Located]) -> Tuple[Any, int]:
    """A located value as (value, line)."""
    assert item is not None
    return item.value, item.span.line


def entries(items: List[Located]) -> List[Tuple[Any, int]]:
    return [at(item) for item in items]


def plain(item: Located) -> Any:
    value = item.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def statement_summary(statement: Statement) -> Dict[str, Any]:
    return {
        "line": statement.span.line,
        "effect": at(statement.effect),
        "actions": entries(statement.actions),
        "not_actions": entries(statement.not_actions),
        "resources": entries(statement.resources),
        "condition": statement.has_condition,
        "complete": statement.complete,
    }


# --------------------------------------------------------------------------- the fixture modules


def test_module_across_files_functions():
    t = load("orders_module")
    assert t.format == "terraform"
    assert t.path == "orders_module/api.tf"  # the first file given
    assert t.files == [f"orders_module/{n}" for n in ("api.tf", "iam.tf", "main.tf", "queues.tf", "variables.tf")]
    assert [f.logical_id for f in t.functions] == ["aws_lambda_function.api", "aws_lambda_function.worker"]

    api = fn(t, "api")
    assert (api.path, api.span.line) == ("orders_module/main.tf", 13)
    assert at(api.handler) == ("app.handler", 16)
    assert at(api.runtime) == ("python3.12", 17)
    # local.api_timeout = 20: the value, at the line that uses it
    assert at(api.timeout) == (20, 20)
    assert api.timeout.path == "orders_module/main.tf"
    assert api.default_timeout == 3 and api.effective_timeout == 20
    # filename = data.archive_file.api.output_path -> the archive's source_dir, path.module = "."
    assert at(api.code_uri) == ("../src/orders_api", 9)
    assert {k: at(v) for k, v in api.environment.items()} == {
        "TABLE_NAME": ("orders-dev", 25),  # "orders-${var.stage}" with the variable's default
        "QUEUE_URL": (Reference("aws_sqs_queue.orders", "url"), 26),
        "LOG_LEVEL": ("INFO", 27),
    }
    assert at(api.role) == (Reference("aws_iam_role.api", "arn"), 15)
    assert api.dead_letter is None and api.on_failure is None

    worker = fn(t, "worker")
    assert at(worker.timeout) == (45, 38)  # var.worker_timeout's default
    assert at(worker.code_uri) == ("build/worker.zip", 37)
    assert at(worker.dead_letter) == (Reference("aws_sqs_queue.worker_dlq", "arn"), 41)


def test_module_across_files_events_and_queues():
    t = load("orders_module")
    [http] = fn(t, "api").events
    assert (http.kind, http.name, http.path, http.span.line) == (
        "http-api",
        "aws_apigatewayv2_integration.orders",
        "orders_module/api.tf",
        6,
    )
    assert at(http.integration_timeout) == (25, 11)  # 25000 ms
    # the apigateway permission adds nothing: the integration already says it
    [mapping] = fn(t, "worker").events
    assert (mapping.kind, mapping.name, mapping.path, mapping.span.line) == (
        "sqs",
        "aws_lambda_event_source_mapping.orders",
        "orders_module/queues.tf",
        19,
    )
    assert at(mapping.source) == (Reference("aws_sqs_queue.orders", "arn"), 20)
    queue = t.queues["aws_sqs_queue.orders"]
    assert (queue.path, queue.span.line, at(queue.visibility_timeout), queue.fifo) == (
        "orders_module/queues.tf",
        1,
        (300, 3),
        False,
    )
    assert t.queues["aws_sqs_queue.orders_dlq"].visibility_timeout is None


def test_module_across_files_iam():
    t = load("orders_module")
    api_role = t.roles["aws_iam_role.api"]
    assert (api_role.path, api_role.span.line) == ("orders_module/iam.tf", 12)
    assert api_role.trusted_services == {"lambda.amazonaws.com"}  # from the data policy document
    assert entries(api_role.permissions.managed_policies) == [
        ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", 19)
    ]
    assert fn(t, "api").permissions is api_role.permissions
    [policy] = api_role.permissions.policies
    assert (policy.name, policy.path, policy.span.line) == ("aws_iam_role_policy.api", "orders_module/iam.tf", 22)
    first, second = policy.statements
    assert statement_summary(first) == {
        "line": 29,
        "effect": ("Allow", 31),
        "actions": [("dynamodb:GetItem", 33), ("dynamodb:PutItem", 34), ("dynamodb:Query", 35)],
        "not_actions": [],
        "resources": [
            (Unknown("variable 'orders_table_arn' has no default"), 38),
            (Interpolated(
                "string built from values Terraform computes: ${var.orders_table_arn}/index/*",
                "${var.orders_table_arn}/index/*",
                (),
            ), 39),
        ],
        "condition": False,
        "complete": False,  # the table ARN is a variable without default
    }
    assert statement_summary(second)["resources"] == [(Reference("aws_sqs_queue.orders", "arn"), 46)]
    assert second.complete and not policy.complete

    worker_role = t.roles["aws_iam_role.worker"]
    [inline] = worker_role.permissions.policies
    assert (inline.name, inline.span.line, inline.complete) == ("aws_iam_role.worker.inline_policy[worker]", 87, True)
    assert [statement_summary(s) for s in inline.statements] == [
        {
            "line": 53,
            "effect": ("Allow", 53),  # no effect argument: Allow, at the statement block
            "actions": [("sqs:ReceiveMessage", 56), ("sqs:DeleteMessage", 57), ("sqs:GetQueueAttributes", 58)],
            "not_actions": [],
            "resources": [(Reference("aws_sqs_queue.orders", "arn"), 60)],
            "condition": False,
            "complete": True,
        },
        {
            "line": 63,
            "effect": ("Allow", 63),
            "actions": [("xray:PutTraceSegments", 65), ("xray:PutTelemetryRecords", 65)],
            "not_actions": [],
            "resources": [("*", 66)],
            "condition": False,
            "complete": True,
        },
        {
            "line": 69,
            "effect": ("Allow", 71),
            "actions": [("sqs:SendMessage", 72)],
            "not_actions": [],
            "resources": [(Reference("aws_sqs_queue.worker_dlq", "arn"), 73)],
            "condition": True,
            "complete": True,
        },
    ]
    # the documents are used by roles: none is a standalone policy, the trust one least of all
    assert t.policies == []


def test_module_resource_lines_are_per_file():
    t = load("orders_module")
    assert t.resource_lines["aws_lambda_function.api"] == (13, 30)
    assert t.resource_paths["aws_lambda_function.api"] == "orders_module/main.tf"
    assert t.resource_lines["aws_sqs_queue.orders"] == (1, 9)
    assert t.resource_paths["aws_sqs_queue.orders"] == "orders_module/queues.tf"
    assert t.resource_lines["data.aws_iam_policy_document.worker"] == (52, 81)
    assert t.resource_paths["data.aws_iam_policy_document.worker"] == "orders_module/iam.tf"


def test_s3_recursive_trigger_model():
    t = load("s3_recursive")
    thumbnailer = fn(t, "thumbnailer")
    [event] = thumbnailer.events  # the s3 permission is the same trigger as the notification
    assert (event.kind, event.name, event.span.line) == ("s3", "aws_s3_bucket_notification.images", 61)
    assert at(event.source) == (Reference("aws_s3_bucket.images", "id"), 59)
    assert event.prefix is None and event.suffix is None
    assert event.is_async
    [policy] = thumbnailer.permissions.policies
    [statement] = policy.statements
    assert entries(statement.actions) == [("s3:GetObject", 29), ("s3:PutObject", 29)]
    [resource] = statement.resources
    assert resource.span.line == 30
    assert isinstance(resource.value, Interpolated)
    assert resource.value.text == "${aws_s3_bucket.images.arn}/*"
    assert resource.value.references == (Reference("aws_s3_bucket.images", "arn"),)
    assert statement.complete
    bucket = t.buckets["aws_s3_bucket.images"]
    assert (bucket.span.line, at(bucket.name)) == (1, ("acme-images-prod", 2))
    assert at(thumbnailer.dead_letter) == (Reference("aws_sqs_queue.thumbnail_failures", "arn"), 45)


def test_s3_filters_and_failure_destination():
    t = load("s3_filtered")
    thumbnails, indexer = fn(t, "thumbnails"), fn(t, "indexer")
    [first] = thumbnails.events
    [second] = indexer.events
    assert (first.span.line, at(first.prefix), at(first.suffix)) == (94, ("uploads/", 97), (".jpg", 98))
    assert (second.span.line, at(second.prefix), at(second.suffix)) == (101, ("uploads/", 104), (".json", 105))
    assert at(first.source) == at(second.source) == (Reference("aws_s3_bucket.media", "id"), 92)
    assert at(thumbnails.on_failure) == (Reference("aws_sns_topic.media_failures", "arn"), 85)
    assert thumbnails.dead_letter is None
    assert at(indexer.dead_letter) == (Reference("aws_sns_topic.media_failures", "arn"), 74)
    assert at(t.buckets["aws_s3_bucket.media"].name) == ("acme-media-prod", 7)
    [policy] = t.roles["aws_iam_role.media"].permissions.policies
    texts = [[r.value.text for r in s.resources] for s in policy.statements]
    assert texts == [
        ["${aws_s3_bucket.media.arn}/uploads/*"],
        ["${aws_s3_bucket.media.arn}/thumbnails/*"],
        ["${aws_s3_bucket.reports.arn}/*"],
    ]
    assert [s.span.line for s in policy.statements] == [31, 37, 43]


def test_http_api_integration_without_timeout():
    t = load("http_api_timeout")
    report = fn(t, "report")
    assert at(report.timeout) == (90, 16)
    assert report.code_uri is None  # code in S3: nothing local to read
    [event] = report.events
    assert (event.kind, event.span.line, event.integration_timeout) == ("http-api", 24, None)
    role = t.roles["aws_iam_role.report"]
    assert role.trusted_services == set()  # file(...): not read
    assert report.permissions is role.permissions and role.permissions.complete


def test_rest_api_integrations():
    t = load("rest_api")
    [listing] = fn(t, "list_products").events
    assert (listing.kind, listing.name, listing.span.line) == ("api", "aws_api_gateway_integration.list", 52)
    assert at(listing.integration_timeout) == (12, 59)
    [export] = fn(t, "export").events  # uri = "${...invoke_arn}" is the reference itself
    assert (export.kind, export.span.line, export.integration_timeout) == ("api", 69, None)
    assert at(fn(t, "export").timeout) == (300, 32)
    # heredoc trust policy
    assert t.roles["aws_iam_role.lambda"].trusted_services == {"lambda.amazonaws.com"}


def test_sqs_visibility_model():
    t = load("sqs_visibility")
    assert {k: (q.span.line, at(q.visibility_timeout) if q.visibility_timeout else None, q.fifo) for k, q in t.queues.items()} == {
        "aws_sqs_queue.ingest": (6, None, False),
        "aws_sqs_queue.enrich": (10, (120, 12), False),
        "aws_sqs_queue.archive": (15, (900, 19), True),
    }
    consumers = {}
    for name in ("ingest", "enrich", "archive"):
        f = fn(t, name)
        [event] = f.events
        assert event.kind == "sqs"
        consumers[name] = (at(f.timeout), event.span.line, event.source.value)
    assert consumers == {
        "ingest": ((60, 45), 67, Reference("aws_sqs_queue.ingest", "arn")),
        "enrich": ((30, 54), 73, Reference("aws_sqs_queue.enrich", "arn")),  # by function_name
        "archive": ((120, 63), 80, Reference("aws_sqs_queue.archive", "arn")),
    }


def test_default_timeout():
    t = load("default_timeout")
    nightly, cleanup, ping = fn(t, "nightly"), fn(t, "cleanup"), fn(t, "ping")
    assert nightly.timeout is None and nightly.default_timeout == 3 and nightly.effective_timeout == 3
    assert (nightly.span.line, nightly.span.end_line) == (19, 19)
    assert at(cleanup.timeout) == (Unknown("variable 'cleanup_timeout' has no default"), 33)
    assert at(ping.timeout) == (3, 42)


def test_secrets_in_environment():
    t = load("secrets_env")
    assert {k: at(v) for k, v in fn(t, "invoices").environment.items()} == {
        "DB_HOST": ("billing.cluster-c9akciq32.eu-west-1.rds.amazonaws.com", 38),
        "DB_PASSWORD": ("Tr0ub4dor&3-billing", 39),
        "STRIPE_API_KEY": ("sk_live_FAKE0FAKE0FAKE0FAKE0FAKE", 40),
        "AWS_SECRET_ACCESS_KEY": ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 41),  # a quoted key
    }
    assert {k: at(v) for k, v in fn(t, "payments").environment.items()} == {
        "DB_PASSWORD_PARAMETER": (Reference("data.aws_ssm_parameter.db_password", "name"), 57),
        "DB_PASSWORD": (Reference("data.aws_ssm_parameter.db_password", "value"), 58),
        "STRIPE_SECRET_ARN": (Reference("aws_secretsmanager_secret.stripe", "arn"), 59),
        "ADMIN_PASSWORD": (Unknown("variable 'db_password' has no default"), 60),
        "TOKEN_TTL_SECONDS": (3600, 61),
        "PASSWORD_MIN_LENGTH": ("12", 62),
    }


def test_wildcards_heredoc_and_managed_policies():
    t = load("wildcard_iam")
    admin_role = t.roles["aws_iam_role.admin_fn"]
    assert admin_role.trusted_services == {"lambda.amazonaws.com", "edgelambda.amazonaws.com"}  # <<-JSON
    assert entries(admin_role.permissions.managed_policies) == [("arn:aws:iam::aws:policy/AdministratorAccess", 17)]
    [inline] = admin_role.permissions.policies
    assert (inline.name, inline.span.line) == ("aws_iam_role.admin_fn.inline_policy[everything]", 19)
    star, not_action = inline.statements
    assert statement_summary(star) == {
        "line": 26,
        "effect": ("Allow", 28),
        "actions": [("*", 29)],
        "not_actions": [],
        "resources": [("*", 30)],
        "condition": False,
        "complete": True,
    }
    # heredoc positions are the file's: the "*" of line 29 is at columns 17-19
    assert star.actions[0].span.column == 17 and star.actions[0].span.end_column == 20
    assert star.path == "wildcard_iam/main.tf"
    assert entries(not_action.not_actions) == [("iam:*", 34), ("organizations:*", 34)]
    assert not_action.not_actions[1].span.column == 30

    exporter_role = t.roles["aws_iam_role.exporter"]
    bucket_admin = t.policies[0]
    assert (bucket_admin.name, bucket_admin.span.line) == ("aws_iam_policy.bucket_admin", 43)
    assert t.policies == [bucket_admin]  # standalone, and attached by reference
    assert exporter_role.permissions.policies == [bucket_admin]
    assert entries(exporter_role.permissions.managed_policies) == [("arn:aws:iam::aws:policy/PowerUserAccess", 90)]
    allow, deny = bucket_admin.statements
    assert entries(allow.actions) == [("s3:*", 52)]
    assert [r.span.line for r in allow.resources] == [53, 53]
    assert at(deny.effect) == ("Deny", 56) and deny.has_condition
    assert fn(t, "exporter").permissions is exporter_role.permissions


def test_resource_star_for_actions_that_need_it():
    t = load("star_required")
    vpc, table = t.roles["aws_iam_role.search"].permissions.policies
    assert [(s.span.line, [a.value for a in s.actions], entries(s.resources), s.has_condition) for s in vpc.statements] == [
        (14, ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"], [("*", 21)], False),
        (24, ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], [("*", 27)], False),
        (30, ["cloudwatch:PutMetricData"], [("*", 33)], True),
    ]
    [statement] = table.statements
    assert entries(statement.actions) == [("dynamodb:GetItem", 46), ("dynamodb:Query", 46)]
    assert entries(statement.resources) == [("*", 47)]
    assert t.policies == []


def test_async_sources():
    t = load("async_sources")
    welcome, sync, fulfil = fn(t, "welcome"), fn(t, "sync"), fn(t, "fulfil")
    assert [(e.kind, e.name, e.span.line) for e in welcome.events] == [("sns", "aws_sns_topic_subscription.welcome", 44)]
    assert at(welcome.events[0].source) == (Reference("aws_sns_topic.signups", "arn"), 45)
    assert at(welcome.on_failure) == (Reference("aws_sqs_queue.failed_events", "arn"), 63)
    # an event target on a rule with a schedule_expression; the permission is the same trigger
    assert [(e.kind, e.name, e.span.line) for e in sync.events] == [("schedule", "aws_cloudwatch_event_target.sync", 82)]
    assert sync.on_failure is None and sync.dead_letter is None
    # only the permission says EventBridge invokes it
    assert [(e.kind, e.name, e.span.line) for e in fulfil.events] == [("eventbridge", "aws_lambda_permission.fulfil_events", 108)]
    assert at(fulfil.events[0].source) == (Reference("aws_cloudwatch_event_rule.orders_created", "arn"), 112)


def test_stream_mappings():
    t = load("streams")
    consumer = fn(t, "consumer")
    assert [(e.kind, e.span.line, e.source.value) for e in consumer.events] == [
        ("kinesis", 82, Reference("aws_kinesis_stream.clicks", "arn")),
        ("dynamodb", 88, Reference("aws_dynamodb_table.carts", "stream_arn")),
        ("msk", 94, Reference("aws_msk_cluster.events", "arn")),
        ("sqs", 101, "arn:aws:sqs:eu-west-1:123456789012:legacy-orders"),
    ]


def test_parse_error_keeps_the_other_files():
    template, errors = load_folder("broken_hcl")
    assert errors == [("broken_hcl/broken.tf", errors[0][1], "invalid HCL: unexpected end of line")]
    assert (errors[0][1].line, errors[0][1].column) == (3, 19)
    assert [f.logical_id for f in template.functions] == ["aws_lambda_function.ok"]
    ok = fn(template, "ok")
    assert ok.path == "broken_hcl/main.tf"
    assert at(ok.role) == ("arn:aws:iam::123456789012:role/shared-lambda", 3)
    assert ok.permissions.complete is False  # a role defined elsewhere


def test_module_without_lambda_or_iam_is_none():
    template, errors = load_folder("no_lambda")
    assert template is None and errors == []
    assert load_terraform([]) == (None, [])


def test_external_roles_leave_permissions_unknown():
    t = load("external_role")
    assert at(fn(t, "from_variable").role) == (Unknown("variable 'execution_role_arn' has no default"), 16)
    assert at(fn(t, "from_arn").role) == ("arn:aws:iam::123456789012:role/shared-lambda", 25)
    assert at(fn(t, "from_data").role) == (Reference("data.aws_iam_role.platform", "arn"), 34)
    for f in t.functions:
        assert f.permissions.complete is False
        assert f.permissions.policies == [] and f.permissions.managed_policies == []
    assert t.roles == {}


# --------------------------------------------------------------------------- expressions


def test_values_through_locals_variables_operators_and_conditionals():
    t = load_text(
        """
variable "stage" {
  default = "prod"
}
variable "memory" {
  type = number
}
locals {
  base    = 30
  long    = local.base * 2 + 1
  is_prod = var.stage == "prod"
  names   = { primary = "orders", "secondary" = "orders-dr" }
  loop    = local.loop
}
resource "aws_lambda_function" "a" {
  function_name = local.names["secondary"]
  timeout       = local.is_prod ? local.long : 10
  memory_size   = var.memory
  environment {
    variables = {
      A = local.names.primary
      B = var.memory > 128 ? "big" : "small"
      C = -local.base
      D = "${local.base}s"
      E = "$${not.interpolated}"
      F = local.loop
      G = format("%s-x", var.stage)
      H = tonumber("42")
      I = true
      J = null
      K = 1.5
      L = "line\\nbreak \\"quoted\\" \\u00e9"
    }
  }
}
"""
    )
    a = fn(t, "a")
    assert at(a.timeout) == (61, 17)
    env = a.environment
    assert at(env["A"]) == ("orders", 21)
    conditional = env["B"].value
    assert isinstance(conditional, Conditional)
    assert conditional.condition == "var.memory > 128"
    assert [at(b) for b in conditional.branches] == [("big", 22), ("small", 22)]
    assert at(env["C"]) == (-30, 23)
    assert at(env["D"]) == ("30s", 24)
    assert at(env["E"]) == ("${not.interpolated}", 25)
    assert isinstance(env["F"].value, Unknown) and "itself" in env["F"].value.reason
    assert at(env["G"]) == ("prod-x", 27)
    assert at(env["H"]) == (42, 28)
    assert (env["I"].value, env["J"].value, env["K"].value) == (True, None, 1.5)
    assert env["L"].value == 'line\nbreak "quoted" \u00e9'


def test_references_with_count_and_for_each_and_splats():
    t = load_text(
        """
resource "aws_lambda_function" "a" {
  count = 2
  role  = aws_iam_role.r[count.index].arn
  environment {
    variables = {
      Q  = aws_sqs_queue.q["main"].url
      Q0 = aws_sqs_queue.q[0].url
      S  = aws_sqs_queue.q[*].url
      M  = module.shared.queue_url
      E  = each.value
      R  = aws_sqs_queue.q
      X  = "${aws_sqs_queue.q.arn}:${var.nope}"
    }
  }
}
"""
    )
    a = fn(t, "a")
    assert a.role.value == Reference("aws_iam_role.r", "arn")
    env = {k: v.value for k, v in a.environment.items()}
    assert env["Q"] == env["Q0"] == Reference("aws_sqs_queue.q", "url")
    assert isinstance(env["S"], Unknown) and not isinstance(env["S"], Reference)
    assert isinstance(env["M"], Unknown) and isinstance(env["E"], Unknown)
    assert env["R"] == Reference("aws_sqs_queue.q")
    assert isinstance(env["X"], Interpolated)
    assert env["X"].text == "${aws_sqs_queue.q.arn}:${var.nope}"
    assert env["X"].references == (Reference("aws_sqs_queue.q", "arn"),)


def test_values_from_another_file_keep_their_file_and_line():
    t = load_text(
        """resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = local.read_actions, Resource = "*" }]
  })
}
""",
        (
            "locals.tf",
            """locals {
  read_actions = [
    "s3:GetObject",
    "s3:*",
  ]
}
""",
        ),
    )
    [policy] = t.policies
    [statement] = policy.statements
    assert [(a.value, a.path, a.span.line) for a in statement.actions] == [
        ("s3:GetObject", "locals.tf", 3),
        ("s3:*", "locals.tf", 4),
    ]
    assert (statement.path, statement.span.line) == ("main.tf", 4)


# --------------------------------------------------------------------------- IAM forms


def test_policy_forms_quoted_json_local_heredoc_with_interpolation_and_unknowns():
    t = load_text(
        """
locals {
  doc = jsonencode({ Statement = [{ Effect = "Allow", Action = ["sqs:*"], Resource = ["*"] }] })
}
resource "aws_iam_policy" "quoted" {
  policy = "{\\"Statement\\": [{\\"Effect\\": \\"Allow\\", \\"Action\\": \\"*\\", \\"Resource\\": \\"*\\"}]}"
}
resource "aws_iam_policy" "via_local" {
  policy = local.doc
}
resource "aws_iam_policy" "heredoc_refs" {
  policy = <<-EOT
    {
      "Statement": [{
        "Effect": "Allow",
        "Action": ["s3:PutObject"],
        "Resource": "${aws_s3_bucket.b.arn}/*"
      }]
    }
  EOT
}
resource "aws_iam_policy" "from_file" {
  policy = file("policy.json")
}
resource "aws_iam_policy" "template" {
  policy = <<EOT
{"Statement": [%{ for a in var.actions }{"Effect": "Allow", "Action": "${a}"}%{ endfor }]}
EOT
}
resource "aws_iam_policy" "old_style" {
  policy = "${data.aws_iam_policy_document.d.json}"
}
data "aws_iam_policy_document" "d" {
  statement {
    effect    = "Deny"
    actions   = ["*"]
    resources = ["*"]
  }
}
"""
    )
    policies = {p.name: p for p in t.policies}
    assert set(policies) == {
        "aws_iam_policy.quoted",
        "aws_iam_policy.via_local",
        "aws_iam_policy.heredoc_refs",
        "aws_iam_policy.from_file",
        "aws_iam_policy.template",
        "aws_iam_policy.old_style",
    }  # the data document is used by old_style: not listed on its own
    [quoted] = policies["aws_iam_policy.quoted"].statements
    assert entries(quoted.actions) == [("*", 6)] and entries(quoted.resources) == [("*", 6)]
    [via_local] = policies["aws_iam_policy.via_local"].statements
    assert entries(via_local.actions) == [("sqs:*", 3)]
    [heredoc] = policies["aws_iam_policy.heredoc_refs"].statements
    assert entries(heredoc.actions) == [("s3:PutObject", 16)]
    assert heredoc.actions[0].span.column == 20
    assert heredoc.resources[0].value.text == "${aws_s3_bucket.b.arn}/*"
    assert heredoc.resources[0].span.line == 17
    for name in ("aws_iam_policy.from_file", "aws_iam_policy.template"):
        assert policies[name].statements == [] and policies[name].complete is False
    [old] = policies["aws_iam_policy.old_style"].statements
    assert at(old.effect) == ("Deny", 35)


def test_policy_document_sources_overrides_and_dynamic_statements():
    t = load_text(
        """
data "aws_iam_policy_document" "base" {
  statement {
    sid       = "Logs"
    actions   = ["logs:*"]
    resources = ["*"]
  }
  statement {
    sid       = "Read"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::b/*"]
  }
}
data "aws_iam_policy_document" "tight" {
  source_policy_documents = [data.aws_iam_policy_document.base.json]
  statement {
    sid       = "Logs"
    actions   = ["logs:PutLogEvents"]
    resources = ["arn:aws:logs:*:*:log-group:/aws/lambda/x:*"]
  }
}
data "aws_iam_policy_document" "dyn" {
  dynamic "statement" {
    for_each = var.statements
    content {
      actions = statement.value.actions
    }
  }
}
data "aws_iam_policy_document" "no_effect" {
  statement {
    not_actions = ["iam:*"]
    resources   = ["*"]
  }
}
data "aws_iam_policy_document" "bucket_policy" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::b/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}
"""
    )
    policies = {p.name: p for p in t.policies}
    # base is used by tight; the bucket policy names principals: neither is an identity policy
    assert set(policies) == {
        "data.aws_iam_policy_document.tight",
        "data.aws_iam_policy_document.dyn",
        "data.aws_iam_policy_document.no_effect",
    }
    tight = policies["data.aws_iam_policy_document.tight"]
    assert [entries(s.actions) for s in tight.statements] == [[("logs:PutLogEvents", 18)], [("s3:GetObject", 10)]]
    assert tight.complete
    assert policies["data.aws_iam_policy_document.dyn"].complete is False
    [no_effect] = policies["data.aws_iam_policy_document.no_effect"].statements
    assert at(no_effect.effect) == ("Allow", 31) and entries(no_effect.not_actions) == [("iam:*", 32)]
    assert no_effect.is_allow


def test_role_attachments_by_name_and_policy_attachment_resource():
    t = load_text(
        """
resource "aws_iam_role" "r" {
  name               = "worker-role"
  assume_role_policy = "{}"
  managed_policy_arns = [aws_iam_policy.p.arn, data.aws_iam_policy.readonly.arn]
}
resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "sqs:SendMessage", Resource = "*" }] })
}
resource "aws_iam_role_policy" "by_name" {
  role   = "worker-role"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
}
resource "aws_iam_policy_attachment" "many" {
  name       = "many"
  roles      = [aws_iam_role.r.name, "someone-else"]
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}
resource "aws_iam_role_policy" "orphan" {
  role   = "not-in-this-module"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "sns:Publish", Resource = "*" }] })
}
"""
    )
    role = t.roles["aws_iam_role.r"]
    assert [p.name for p in role.permissions.policies] == ["aws_iam_policy.p", "aws_iam_role_policy.by_name"]
    assert [m.value for m in role.permissions.managed_policies] == [
        Reference("data.aws_iam_policy.readonly", "arn"),
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ]
    assert role.permissions.complete is False  # the data source's policy is not readable here
    assert [p.name for p in t.policies] == ["aws_iam_policy.p", "aws_iam_role_policy.orphan"]


def test_functions_found_by_name_arn_and_alias():
    t = load_text(
        """
resource "aws_lambda_function" "f" {
  function_name = "resize"
  timeout       = 10
}
resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.f.function_name
  function_version = "1"
}
resource "aws_lambda_event_source_mapping" "by_name" {
  event_source_arn = aws_sqs_queue.q.arn
  function_name    = "resize"
}
resource "aws_lambda_event_source_mapping" "by_arn" {
  event_source_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/s"
  function_name    = "arn:aws:lambda:eu-west-1:123456789012:function:resize:live"
}
resource "aws_lambda_event_source_mapping" "by_alias" {
  event_source_arn = aws_dynamodb_table.t.stream_arn
  function_name    = aws_lambda_alias.live.arn
}
resource "aws_lambda_event_source_mapping" "elsewhere" {
  event_source_arn = aws_sqs_queue.q.arn
  function_name    = "another-function"
}
resource "aws_lambda_function_url" "url" {
  function_name = aws_lambda_function.f.function_name
}
resource "aws_lambda_permission" "logs" {
  function_name = aws_lambda_function.f.arn
  principal     = "logs.amazonaws.com"
}
resource "aws_lambda_permission" "api" {
  function_name = aws_lambda_function.f.arn
  principal     = "apigateway.amazonaws.com"
}
"""
    )
    f = fn(t, "f")
    assert [(e.kind, e.name) for e in f.events] == [
        ("sqs", "aws_lambda_event_source_mapping.by_name"),
        ("kinesis", "aws_lambda_event_source_mapping.by_arn"),
        ("dynamodb", "aws_lambda_event_source_mapping.by_alias"),
        ("function-url", "aws_lambda_function_url.url"),
        ("cloudwatch-logs", "aws_lambda_permission.logs"),
    ]
    assert f.permissions.complete is False  # no role at all


def test_crlf_bom_and_unicode_files():
    text = '\ufeffresource "aws_lambda_function" "f" {\r\n  handler = "h\u00e9.handler"\r\n  timeout = 7\r\n}\r\n'
    template, errors = load_terraform([("main.tf", text.encode("utf-8"))])
    assert errors == []
    f = fn(template, "f")
    assert at(f.handler) == ("h\u00e9.handler", 2)
    assert at(f.timeout) == (7, 3)


def test_broken_block_does_not_hide_the_rest_of_its_file():
    text = """resource "aws_lambda_function" "first" {
  timeout = 5
}

resource "aws_lambda_function" "broken" {
  environment {
    variables = { A = "x" B = }
  }
}

# a comment with a brace {
resource "aws_lambda_function" "last" {
  handler = "}"
  description = <<EOF
}
EOF
  timeout = 9
}
"""
    template, errors = load_terraform([("main.tf", text.encode())])
    assert [(p, s.line) for p, s, _ in errors] == [("main.tf", 7)]
    assert [f.logical_id for f in template.functions] == ["aws_lambda_function.first", "aws_lambda_function.last"]
    assert at(fn(template, "last").timeout) == (9, 17)
    assert template.resource_lines["aws_lambda_function.last"] == (12, 18)


def test_unterminated_file_reports_its_end():
    template, errors = load_terraform([("main.tf", b'resource "aws_lambda_function" "f" {\n  timeout = 3\n')])
    assert template is None
    [(path, span, message)] = errors
    assert (path, span.line) == ("main.tf", 3)
    assert message == "invalid HCL: unexpected end of file (an unclosed block, string or bracket?)"


# --------------------------------------------------------------------------- the peer suite


def _peer_modules() -> List[Path]:
    if not PEER_FIXTURES.is_dir():
        return []
    return sorted({p.parent for p in PEER_FIXTURES.rglob("*.tf")})


@pytest.mark.skipif(not PEER_FIXTURES.is_dir(), reason="the peer suite (/work/shared/peer-suite) is not present")
def test_peer_suite_terraform_loads_in_place():
    modules = _peer_modules()
    assert modules, "the peer suite has no .tf files"
    loaded = 0
    for folder in modules:
        files = [(str(p), p.read_bytes()) for p in sorted(folder.glob("*.tf"))]
        template, errors = load_terraform(files)
        for path, span, message in errors:
            assert message.startswith("invalid HCL") and span.line >= 1
        if template is not None:
            loaded += 1
            for function in template.functions:
                assert function.span.line >= 1 and os.path.isfile(function.path)
    assert loaded >= len(modules) // 2


@pytest.mark.skipif(not PEER_FIXTURES.is_dir(), reason="the peer suite (/work/shared/peer-suite) is not present")
def test_peer_suite_policy_documents_survive_an_invalid_block():
    # checkov's fixture writes a `principals { }` block inside an object (invalid HCL): the file
    # is reported, and its other data sources are still read
    folder = PEER_FIXTURES / "checkov/tests/terraform/checks/data/aws/example_StarActionPolicyDocument"
    if not folder.is_dir():
        pytest.skip("checkov's example_StarActionPolicyDocument is not in the peer suite")
    files = [(str(p), p.read_bytes()) for p in sorted(folder.glob("*.tf"))]
    template, errors = load_terraform(files)
    assert [span.line for _, span, _ in errors] == [34]
    found = {p.name: [a.value for s in p.statements for a in s.actions] for p in template.policies}
    assert found == {
        "data.aws_iam_policy_document.flatten": [],
        "data.aws_iam_policy_document.pass": ["s3:*"],
        "data.aws_iam_policy_document.fail": ["*"],
        "data.aws_iam_policy_document.no_effect": ["*"],
    }


def test_count_for_each_and_dynamic_blocks():
    t = load_text(
        """
variable "create_role" {
  default = true
}
variable "attach_admin" {
  default = false
}
variable "dlq_arn" {
  default = null
}
resource "aws_iam_role" "lambda" {
  count              = var.create_role ? 1 : 0
  assume_role_policy = data.aws_iam_policy_document.assume[0].json
}
data "aws_iam_policy_document" "assume" {
  count = var.create_role ? 1 : 0
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}
data "aws_iam_policy_document" "logs" {
  count = 1
  statement {
    actions   = ["logs:CreateLogStream"]
    resources = ["*"]
    dynamic "condition" {
      for_each = var.conditions
      content {
        test     = condition.value.test
        variable = condition.value.variable
        values   = condition.value.values
      }
    }
  }
}
resource "aws_iam_policy" "logs" {
  count  = var.create_role ? 1 : 0
  policy = data.aws_iam_policy_document.logs[0].json
}
resource "aws_iam_role_policy_attachment" "logs" {
  count      = var.create_role ? 1 : 0
  role       = aws_iam_role.lambda[0].name
  policy_arn = aws_iam_policy.logs[0].arn
}
resource "aws_iam_role_policy_attachment" "admin" {
  count      = var.attach_admin ? 1 : 0
  role       = aws_iam_role.lambda[0].name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
resource "aws_lambda_function" "fixed" {
  role    = var.create_role ? aws_iam_role.lambda[0].arn : var.lambda_role
  timeout = 10
  dynamic "dead_letter_config" {
    for_each = var.dlq_arn == null ? [] : [true]
    content {
      target_arn = var.dlq_arn
    }
  }
}
resource "aws_lambda_function" "configurable" {
  timeout = 10
  dynamic "dead_letter_config" {
    for_each = var.dead_letter_arns
    content {
      target_arn = dead_letter_config.value
    }
  }
}
resource "aws_lambda_function_event_invoke_config" "configurable" {
  function_name = aws_lambda_function.configurable.function_name
  destination_config {
    dynamic "on_failure" {
      for_each = var.failure_destinations
      content {
        destination = on_failure.value
      }
    }
  }
}
resource "aws_lambda_permission" "sns" {
  for_each      = {}
  function_name = aws_lambda_function.fixed.function_name
  principal     = "sns.amazonaws.com"
}
"""
    )
    role = t.roles["aws_iam_role.lambda"]
    assert role.trusted_services == {"lambda.amazonaws.com"}  # data.x[0].json
    # the AdministratorAccess attachment has count 0 with the defaults: it does not exist
    assert role.permissions.managed_policies == []
    [logs] = role.permissions.policies
    [statement] = logs.statements
    assert statement.has_condition and not statement.complete  # a condition may be generated
    fixed, configurable = fn(t, "fixed"), fn(t, "configurable")
    assert fixed.permissions is role.permissions
    # the dynamic block's for_each is [] with the defaults: no DLQ; the permission has no instance
    assert fixed.dead_letter is None and fixed.events == []
    for value in (configurable.dead_letter, configurable.on_failure):
        assert isinstance(value.value, Unknown) and "dynamic" in value.value.reason
    assert (configurable.dead_letter.span.line, configurable.on_failure.span.line) == (66, 76)


def test_null_arguments_are_unset():
    t = load_text(
        """
variable "timeout" {
  default = null
}
variable "long_running" {
  type = bool
}
resource "aws_lambda_function" "a" {
  timeout = var.timeout
  handler = null
}
resource "aws_lambda_function" "b" {
  timeout = var.long_running ? 900 : null
}
"""
    )
    a, b = fn(t, "a"), fn(t, "b")
    assert a.timeout is None and a.handler is None and a.effective_timeout == 3
    conditional = b.timeout.value
    assert isinstance(conditional, Conditional) and conditional.condition == "var.long_running"
    assert [at(branch) for branch in conditional.branches] == [(900, 13), (None, 13)]


def test_rest_integration_uri_template_and_data_source_queues():
    t = load_text(
        """
data "aws_region" "current" {}
data "aws_sqs_queue" "shared" {
  name = "shared"
}
resource "aws_lambda_function" "f" {
  timeout = 40
}
resource "aws_api_gateway_integration" "legacy" {
  type = "AWS_PROXY"
  uri  = "arn:aws:apigateway:${data.aws_region.current.name}:lambda:path/2015-03-31/functions/${aws_lambda_function.f.arn}/invocations"
}
resource "aws_lambda_event_source_mapping" "shared" {
  event_source_arn = data.aws_sqs_queue.shared.arn
  function_name    = aws_lambda_function.f.arn
}
"""
    )
    f = fn(t, "f")
    assert [(e.kind, e.name, e.span.line) for e in f.events] == [
        ("sqs", "aws_lambda_event_source_mapping.shared", 13),
        ("api", "aws_api_gateway_integration.legacy", 9),
    ]
    assert f.events[0].source.value == Reference("data.aws_sqs_queue.shared", "arn")


def test_trust_heredoc_with_interpolation_and_partition_managed_arns():
    t = load_text(
        """
data "aws_partition" "current" {}
variable "extra_service" {
  default = "edgelambda.amazonaws.com"
}
resource "aws_iam_role" "r" {
  assume_role_policy = <<EOF
{
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"Service": ["lambda.amazonaws.com", "${var.extra_service}", "${var.unknown}"]},
    "Action": "sts:AssumeRole"
  }]
}
EOF
  managed_policy_arns = ["arn:${data.aws_partition.current.partition}:iam::aws:policy/ReadOnlyAccess"]
}
"""
    )
    role = t.roles["aws_iam_role.r"]
    assert role.trusted_services == {"lambda.amazonaws.com", "edgelambda.amazonaws.com"}
    [managed] = role.permissions.managed_policies
    assert isinstance(managed.value, Interpolated)
    assert managed.value.text == "arn:${data.aws_partition.current.partition}:iam::aws:policy/ReadOnlyAccess"
    assert role.permissions.complete  # an AWS managed policy, whatever the partition


def test_code_location_from_archive_file():
    t = load_text(
        """
data "archive_file" "single" {
  type        = "zip"
  source_file = "${path.module}/handlers/single.py"
  output_path = "${path.module}/dist/single.zip"
}
data "archive_file" "by_hash" {
  type        = "zip"
  source_dir  = "src/by_hash/"
  output_path = "dist/by_hash.zip"
}
resource "aws_lambda_function" "literal_output" {
  filename = "./dist/single.zip"
  handler  = "single.handler"
}
resource "aws_lambda_function" "hash_only" {
  filename         = var.package
  source_code_hash = data.archive_file.by_hash.output_base64sha256
  handler          = "app.handler"
}
resource "aws_lambda_function" "image" {
  package_type = "Image"
  image_uri    = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1"
}
"""
    )
    # filename names the archive's output: the code is the archive's source
    assert at(fn(t, "literal_output").code_uri) == ("handlers/single.py", 4)
    assert at(fn(t, "hash_only").code_uri) == ("src/by_hash", 9)
    assert fn(t, "image").code_uri is None and fn(t, "image").handler is None


def test_parse_error_quotes_the_source():
    template, errors = load_terraform([("a.tf", b'locals {\n  x = 1 @ 2\n}\n'), ("b.tf", b"resource \"aws_lambda_function\" \"f\" {\n  inline_policy {}\n}\n")])
    assert [(p, s.line, s.column, m) for p, s, m in errors] == [("a.tf", 2, 9, "invalid HCL: unexpected `@ 2`")]
    assert [f.path for f in template.functions] == ["b.tf"]
    assert template.path == "a.tf" and template.files == ["a.tf", "b.tf"]


def test_auto_loaded_tfvars_win_over_defaults():
    main = """
variable "timeout" {
  default = 10
}
variable "queue_visibility" {
  type = number
}
variable "memory" {
  default = 128
}
resource "aws_lambda_function" "f" {
  timeout     = var.timeout
  memory_size = var.memory
}
resource "aws_sqs_queue" "q" {
  visibility_timeout_seconds = var.queue_visibility
}
"""
    files = [
        ("mod/main.tf", main.encode()),
        ("mod/terraform.tfvars", b"timeout = 20\nqueue_visibility = 120\n"),
        ("mod/zz.auto.tfvars", b"timeout = 25\n"),
        ("mod/prod.tfvars", b"timeout = 900\n"),  # only with -var-file: not read
    ]
    template, errors = load_terraform(files)
    assert errors == []
    assert template.files == ["mod/main.tf"] and template.path == "mod/main.tf"
    f = fn(template, "f")
    assert at(f.timeout) == (25, 12)  # the use site's line
    assert at(template.queues["aws_sqs_queue.q"].visibility_timeout) == (120, 16)
    broken, errors = load_terraform([("mod/main.tf", main.encode()), ("mod/terraform.tfvars", b"timeout = = 1\n")])
    assert [(p, s.line) for p, s, _ in errors] == [("mod/terraform.tfvars", 1)]
    assert at(fn(broken, "f").timeout) == (10, 12)


# --------------------------------------------------------------------------- iam_json, format-neutral


def _loc(value: Any, line: int) -> Located:
    from lambdalint.model import Span

    return Located(value, Span(line, 1, line, 2), "policy.json")


def test_iam_json_statement_shapes():
    from lambdalint.iac import iam_json

    document = _loc(
        {
            "Statement": _loc(
                [
                    _loc({"Effect": _loc("Allow", 3), "Action": _loc("s3:*", 4), "Resource": _loc("*", 5)}, 2),
                    _loc(
                        {
                            "Effect": _loc("Allow", 7),
                            "NotAction": _loc([_loc("iam:*", 8)], 8),
                            "NotResource": _loc([_loc(Unknown("a parameter"), 9)], 9),
                            "Condition": _loc({}, 10),
                        },
                        6,
                    ),
                    _loc({"Action": _loc("*", 12)}, 11),  # no Effect: IAM rejects it
                    _loc("not a statement", 13),
                ],
                1,
            )
        },
        1,
    )
    statements, complete = iam_json.statements_from_document(document)
    assert not complete
    first, second, third = statements
    assert (first.span.line, first.is_allow, entries(first.actions), entries(first.resources), first.complete) == (
        2, True, [("s3:*", 4)], [("*", 5)], True,
    )
    assert first.path == "policy.json"
    assert entries(second.not_actions) == [("iam:*", 8)]
    assert not second.complete  # an unknown NotResource entry
    assert second.has_condition is False  # an empty Condition block says nothing
    assert isinstance(third.effect.value, Unknown) and not third.is_allow and not third.complete
    # a single statement object (not a list) is a statement too
    single = _loc({"Statement": _loc({"Effect": _loc("Deny", 2), "Action": _loc("*", 3)}, 2)}, 1)
    [deny], complete = iam_json.statements_from_document(single)
    assert complete and not deny.is_allow
    assert iam_json.statements_from_document(_loc(Unknown("from a file"), 1)) == ([], False)


def test_iam_json_entries_and_trust():
    from lambdalint.iac import iam_json

    interpolated = Interpolated("x", "${Bucket.Arn}/*", (Reference("Bucket", "Arn"),))
    found, complete = iam_json.entries(_loc([_loc(interpolated, 3), _loc(Reference("Q", "Arn"), 4)], 2))
    assert complete and [f.value for f in found] == [interpolated, Reference("Q", "Arn")]
    assert iam_json.entries(_loc(Unknown("parameter"), 2)) == ([], False)
    trust = _loc(
        {
            "Statement": _loc(
                [
                    _loc({"Effect": _loc("Allow", 3), "Principal": _loc({"Service": _loc([_loc("lambda.amazonaws.com", 4)], 4)}, 4)}, 2),
                    _loc({"Effect": _loc("Deny", 6), "Principal": _loc({"Service": _loc("ec2.amazonaws.com", 7)}, 7)}, 5),
                    _loc({"Effect": _loc("Allow", 9), "Principal": _loc({"AWS": _loc("*", 10)}, 10)}, 8),
                ],
                1,
            )
        },
        1,
    )
    assert iam_json.trusted_services(trust) == {"lambda.amazonaws.com"}


def test_s3_permission_without_notification_has_unknown_filters():
    t = load_text(
        """
resource "aws_lambda_function" "f" {
  timeout = 10
}
resource "aws_lambda_permission" "s3" {
  function_name = aws_lambda_function.f.function_name
  principal     = "s3.amazonaws.com"
  source_arn    = aws_s3_bucket.shared.arn
}
"""
    )
    [event] = fn(t, "f").events
    assert (event.kind, event.span.line, event.source.value) == ("s3", 5, Reference("aws_s3_bucket.shared", "arn"))
    # whether the notification (elsewhere) filters keys is unknown: not "no filter"
    assert isinstance(event.prefix.value, Unknown) and isinstance(event.suffix.value, Unknown)


def test_known_function_calls():
    t = load_text(
        """
variable "lambda_at_edge" {
  default = true
}
variable "timeout" {
  default = 60
}
locals {
  timeouts = { api = 20 }
}
resource "aws_lambda_function" "f" {
  timeout = var.lambda_at_edge ? min(var.timeout, 30) : var.timeout
  environment {
    variables = {
      A = lookup(local.timeouts, "api", 3)
      B = lookup(local.timeouts, "worker", 3)
      C = coalesce(null, "", "x")
      D = coalesce(var.unset, "x")
      E = format("%s-%d%%", upper("a"), 5)
      F = format("%05d", 5)
      G = join(",", ["a", "b"])
      H = max(1, 2.5)
      I = lookup(var.unset_map, "k", "d")
    }
  }
}
"""
    )
    f = fn(t, "f")
    assert at(f.timeout) == (30, 12)
    env = {k: v.value for k, v in f.environment.items()}
    assert (env["A"], env["B"], env["C"], env["E"], env["G"], env["H"]) == (20, 3, "x", "A-5%", "a,b", 2.5)
    for name in ("D", "F", "I"):
        assert isinstance(env[name], Unknown), name
