"""LL501-LL504 on hand-built template models, and the IAM action facts behind LL502.

These tests do not need a loader: they build :class:`Template` objects the way the loaders do,
so they pin the rules' logic (which values, which lines, which messages) independently of the
formats. ``tests/test_iam_fixtures.py`` runs the same rules on real files of every format.
"""

from __future__ import annotations

from typing import Any, List

from lambdalint.iac.model import (
    Conditional,
    Function,
    Located,
    Permissions,
    Policy,
    PolicyTemplate,
    Reference,
    Role,
    Statement,
    Template,
    Unknown,
)
from lambdalint.model import Span
from lambdalint.rules.ll501_iam_wildcard_action import IamWildcardAction
from lambdalint.rules.ll502_iam_wildcard_resource import IamWildcardResource
from lambdalint.rules.ll503_iam_broad_managed_policy import IamBroadManagedPolicy
from lambdalint.rules.ll504_sam_policy_template_wildcard import SamPolicyTemplateWildcard


def at(line: int, value: Any) -> Located:
    return Located(value, Span(line, 1, line, 10))


def when(condition: str, line: int, yes: Any, no: Any) -> Located:
    return at(line, Conditional(condition, (at(line, yes), at(line, no))))


def statement(line: int, actions=(), resources=("*",), effect: Any = "Allow", not_actions=()) -> Statement:
    """A statement at ``line``; its Action values on line+1, Resource values on line+2."""
    def located(values, offset):
        return [v if isinstance(v, Located) else at(line + offset, v) for v in values]

    return Statement(
        span=Span(line, 1, line, 10),
        effect=effect if isinstance(effect, Located) else at(line, effect),
        actions=located(actions, 1),
        not_actions=located(not_actions, 1),
        resources=located(resources, 2),
    )


def template(*statements: Statement, **kwargs) -> Template:
    return Template(
        path="template.yaml",
        format="sam",
        policies=[Policy("P", Span(1, 1, 1, 2), statements=list(statements))],
        **kwargs,
    )


def run(rule, model: Template):
    instance = rule(model, {})
    instance.check()
    return instance.findings


def lines(rule, model: Template) -> List[int]:
    return [f.span.line for f in run(rule, model)]


# -- LL501 ------------------------------------------------------------------------------------


def test_ll501_star_and_service_wildcards_at_their_lines():
    model = template(
        statement(10, ["s3:GetObject", "*"]),
        statement(20, ["dynamodb:*"], resources=["arn:aws:dynamodb:::table/t"]),
        statement(30, ["s3:Get*", "s3:*Object"]),
    )
    found = run(IamWildcardAction, model)
    assert [f.span.line for f in found] == [11, 21]
    assert "every action" in found[0].message
    assert "every dynamodb action" in found[1].message and found[1].hint


def test_ll501_not_action_in_allow_only():
    model = template(
        statement(10, not_actions=["iam:*"]),
        statement(20, not_actions=["s3:*"], effect="Deny"),
        statement(30, ["*"], effect="Deny"),
    )
    found = run(IamWildcardAction, model)
    assert [f.span.line for f in found] == [11]
    assert "NotAction" in found[0].message


def test_ll501_names_the_condition_of_an_if_branch():
    model = template(
        statement(10, [when("IsDev", 11, "s3:*", "s3:GetObject")]),
        statement(20, [when("IsDev", 21, "s3:PutObject", "s3:GetObject")]),
        statement(30, [when("Wide", 31, [at(31, "sqs:SendMessage"), at(32, "*")], [])]),
    )
    found = run(IamWildcardAction, model)
    assert [f.span.line for f in found] == [11, 32]
    assert '"IsDev"' in found[0].message and '"Wide"' in found[1].message


def test_ll501_effect_behind_if_and_unknowns():
    model = template(
        statement(10, ["*"], effect=when("Open", 10, "Allow", "Deny")),
        statement(20, [at(21, Unknown("parameter without default"))]),
        statement(30, ["*"], effect=at(30, Unknown("parameter"))),
        statement(40, [at(41, Reference("ActionParam"))]),
    )
    found = run(IamWildcardAction, model)
    assert [f.span.line for f in found] == [11]
    assert '"Open"' in found[0].message


def test_ll501_reports_a_statement_reachable_twice_once():
    shared = Policy("Inline", Span(5, 1, 5, 2), statements=[statement(10, ["*"])])
    role = Role("Role", Span(3, 1, 3, 2), permissions=Permissions(policies=[shared]))
    function = Function("Fn", Span(1, 1, 1, 2), permissions=Permissions(policies=[shared]))
    model = Template(path="t.yaml", format="cloudformation", functions=[function],
                     roles={"Role": role}, policies=[shared])
    assert lines(IamWildcardAction, model) == [11]


def test_ll501_ll502_one_finding_per_source_statement():
    # SAM Globals policies are read once per function: equal statements at one source span
    first, second = statement(10, ["s3:*", "s3:GetObject"]), statement(10, ["s3:*", "s3:GetObject"])
    functions = [
        Function(name, Span(1, 1, 1, 2), permissions=Permissions(policies=[Policy("P", Span(9, 1, 9, 2), statements=[st])]))
        for name, st in (("A", first), ("B", second))
    ]
    model = Template("t.yaml", "sam", functions=functions)
    assert lines(IamWildcardAction, model) == [11]
    assert lines(IamWildcardResource, model) == [12]


def test_ll501_reports_in_the_file_of_the_statement():
    st = statement(10, ["*"])
    st.path = "iam.tf"
    model = Template(path="infra", format="terraform",
                     policies=[Policy("aws_iam_policy.p", Span(9, 1, 9, 2), path="iam.tf", statements=[st])])
    (finding,) = run(IamWildcardAction, model)
    assert finding.path == "iam.tf" and finding.span.line == 11


# -- LL502 ------------------------------------------------------------------------------------


def test_ll502_scoped_actions_on_star():
    model = template(
        statement(10, ["s3:GetObject", "xray:PutTraceSegments"]),
        statement(20, ["xray:PutTraceSegments", "s3:ListAllMyBuckets", "ec2:DescribeNetworkInterfaces"]),
        statement(30, ["s3:Get*"], resources=["arn:aws:s3:::reports/*", "*"]),
        statement(40, ["s3:GetObject"], resources=["arn:aws:s3:::*"]),
        statement(50, ["iam:PassRole"], effect="Deny"),
    )
    found = run(IamWildcardResource, model)
    assert [f.span.line for f in found] == [12, 32]
    assert "s3:GetObject" in found[0].message and "xray" not in found[0].message
    assert "s3:Get*" in found[1].message
    assert "arn:aws:s3:::my-bucket/*" in found[0].hint


def test_ll502_leaves_full_wildcards_and_not_action_to_ll501():
    model = template(
        statement(10, ["*"]),
        statement(20, ["s3:*"]),
        statement(30, not_actions=["iam:*"]),
        statement(40, ["s3:*", "sqs:SendMessage"]),
    )
    found = run(IamWildcardResource, model)
    assert [f.span.line for f in found] == [42]
    assert "sqs:SendMessage" in found[0].message and "s3:*" not in found[0].message


def test_ll502_conditions_and_unknowns():
    model = template(
        statement(10, ["iam:PassRole"], resources=[when("Shared", 12, "*", "arn:aws:iam::1:role/r")]),
        statement(20, [when("Wide", 21, "dynamodb:PutItem", "xray:PutTraceSegments")]),
        statement(30, ["iam:PassRole"], resources=[when("Shared", 32, "arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b")]),
        statement(40, ["iam:PassRole"], resources=[at(42, Unknown("ImportValue"))]),
        statement(50, [at(51, Unknown("parameter"))]),
        statement(60, ["gamelift:CreateFleet", "s3:GetObjectFromTheFuture"]),
    )
    found = run(IamWildcardResource, model)
    assert [f.span.line for f in found] == [12, 22]
    assert '"Shared"' in found[0].message and '"Wide"' in found[1].message


def test_ll502_many_actions_are_summarised():
    model = template(statement(10, ["sqs:SendMessage", "sqs:DeleteMessage", "sqs:ReceiveMessage",
                                    "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]))
    (finding,) = run(IamWildcardResource, model)
    assert "and 2 more" in finding.message


# -- LL503 ------------------------------------------------------------------------------------


def _lambda_role(name: str, managed: List[Located], services=("lambda.amazonaws.com",)) -> Role:
    return Role(name, Span(1, 1, 1, 2), permissions=Permissions(managed_policies=managed),
                trusted_services=set(services))


def test_ll503_function_policies_by_name_and_arn():
    function = Function("Fn", Span(1, 1, 1, 2), permissions=Permissions(managed_policies=[
        at(10, "AWSLambdaBasicExecutionRole"),
        at(11, "AmazonS3FullAccess"),
        at(12, "arn:aws:iam::aws:policy/AdministratorAccess"),
        at(13, "arn:${AWS::Partition}:iam::aws:policy/IAMFullAccess"),
        at(14, "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        at(15, "arn:aws:iam::123456789012:policy/TeamFullAccess"),
        at(16, "AWSLambda_FullAccess"),
        at(17, "PowerUserAccess"),
        at(18, Unknown("parameter")),
        when("Admin", 19, "AdministratorAccess", "AWSLambdaBasicExecutionRole"),
    ]))
    found = run(IamBroadManagedPolicy, Template("t.yaml", "sam", functions=[function]))
    assert [f.span.line for f in found] == [11, 12, 13, 16, 17, 19]
    assert "function Fn" in found[0].message
    assert '"Admin"' in found[-1].message


def test_ll503_only_roles_that_lambda_uses():
    used = _lambda_role("UsedRole", [at(20, "AdministratorAccess")], services=())
    lambda_trust = _lambda_role("ExecRole", [at(30, "AmazonDynamoDBFullAccess")])
    ec2 = _lambda_role("InstanceRole", [at(40, "AdministratorAccess")], services=("ec2.amazonaws.com",))
    function = Function("Fn", Span(1, 1, 1, 2), role=at(2, Reference("UsedRole", "Arn")))
    model = Template("t.yaml", "cloudformation", functions=[function],
                     roles={r.logical_id: r for r in (used, lambda_trust, ec2)})
    found = run(IamBroadManagedPolicy, model)
    assert [f.span.line for f in found] == [20, 30]
    assert "role UsedRole of function Fn" in found[0].message


def test_ll503_role_shared_with_function_is_reported_once():
    role = _lambda_role("Role", [at(20, "AdministratorAccess")])
    function = Function("Fn", Span(1, 1, 1, 2), role=at(2, Reference("Role", "Arn")),
                        permissions=role.permissions)
    model = Template("t.yaml", "cloudformation", functions=[function], roles={"Role": role})
    assert lines(IamBroadManagedPolicy, model) == [20]


# -- LL504 ------------------------------------------------------------------------------------


def test_ll504_star_parameters():
    templates = [
        PolicyTemplate("S3CrudPolicy", Span(10, 1, 10, 2), parameters={"BucketName": at(11, "*")}),
        PolicyTemplate("DynamoDBCrudPolicy", Span(12, 1, 12, 2), parameters={"TableName": at(13, Reference("T"))}),
        PolicyTemplate("SQSSendMessagePolicy", Span(14, 1, 14, 2),
                       parameters={"QueueName": when("Shared", 15, "*", "jobs")}),
        PolicyTemplate("S3ReadPolicy", Span(16, 1, 16, 2), parameters={"BucketName": at(17, "logs-*")}),
        PolicyTemplate("DynamoDBReadPolicy", Span(18, 1, 18, 2), parameters={"TableName": at(19, Unknown("p"))}),
    ]
    function = Function("Fn", Span(1, 1, 1, 2), permissions=Permissions(policy_templates=templates))
    found = run(SamPolicyTemplateWildcard, Template("t.yaml", "sam", functions=[function]))
    assert [f.span.line for f in found] == [11, 15]
    assert "S3CrudPolicy with BucketName '*'" in found[0].message
    # the same template read again for another function (SAM Globals) is reported once
    twice = Function("Fn2", Span(2, 1, 2, 2), permissions=Permissions(policy_templates=list(templates)))
    copies = [PolicyTemplate(t.name, t.span, parameters=dict(t.parameters)) for t in templates]
    thrice = Function("Fn3", Span(3, 1, 3, 2), permissions=Permissions(policy_templates=copies))
    model = Template("t.yaml", "sam", functions=[function, twice, thrice])
    assert lines(SamPolicyTemplateWildcard, model) == [11, 15]
    assert '"Shared"' in found[1].message
