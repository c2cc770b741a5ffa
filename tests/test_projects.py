"""Issue 5's fixture suite: realistic multi-file projects linted through the real engine.

Each folder under ``tests/fixtures/projects/`` is a small repository (templates and Python code
in their real layout). Every expected cross-file finding is marked on its line with a trailing
comment, ``# expect: LL402`` (``# expect: LL401, LL402`` for several), in Python, YAML and HCL
files alike; every other line must stay quiet for LL001 and LL401-LL403. The projects are full
of must-not-trigger cases: variables from Globals or ``provider.environment``, reads with a
default or under ``try``, unknown environments and roles, wildcard and admin policies, code on
S3, other runtimes, ``cdk.out``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Set, Tuple

import pytest

from lambdalint.model import Finding
from tests.conftest import lint_tree

PROJECTS = Path(__file__).parent / "fixtures" / "projects"
RULES = ["LL001", "LL401", "LL402", "LL403"]
_EXPECT = re.compile(r"#\s*expect:\s*((?:LL\d{3}\s*,?\s*)+)")
_MARKED_SUFFIXES = (".py", ".yaml", ".yml", ".tf")

Expectation = Set[Tuple[str, int, str]]  # (path relative to the project, line, rule)


def marked(project: Path) -> Expectation:
    """The ``# expect:`` markers of every file of ``project``."""
    found: Expectation = set()
    for path in sorted(project.rglob("*")):
        if not path.is_file() or path.suffix not in _MARKED_SUFFIXES:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _EXPECT.search(line)
            if match:
                for rule in re.findall(r"LL\d{3}", match.group(1)):
                    found.add((path.relative_to(project).as_posix(), number, rule))
    return found


def relative(project: Path, path: str) -> str:
    """Display paths are relative to the project (``lint_tree`` discovers from there)."""
    shown = Path(path)
    if shown.is_absolute():
        return shown.resolve().relative_to(project.resolve()).as_posix()
    return shown.as_posix()


def findings_of(project: Path, jobs: int = 1) -> List[Finding]:
    return lint_tree(project, {}, select=RULES, jobs=jobs)


def linted(project: Path, jobs: int = 1) -> Expectation:
    return {(relative(project, f.path), f.span.line, f.rule_id) for f in findings_of(project, jobs)}


ALL_PROJECTS = sorted(p.name for p in PROJECTS.iterdir() if p.is_dir())


@pytest.mark.parametrize("name", ALL_PROJECTS)
def test_marked_findings_and_nothing_else(name):
    project = PROJECTS / name
    expected = marked(project)
    assert expected, "a project without expectations tests nothing"
    assert linted(project) == expected


# -- regressions found by the projects -------------------------------------------------------

_TF_SOURCE_FILE = """
data "archive_file" "one" {
  type        = "zip"
  source_file = "${path.module}/src/cleanup.py"
  output_path = "${path.module}/build/cleanup.zip"
}

resource "aws_lambda_function" "cleanup" {
  filename         = data.archive_file.one.output_path
  source_code_hash = data.archive_file.one.output_base64sha256
  handler          = "HANDLER"
  runtime          = "python3.12"
  role             = "arn:aws:iam::123456789012:role/cleanup"
}
"""


def test_archive_file_with_source_file_links_to_that_file(lint):
    """``source_file`` puts the one file at the zip's root: ``cleanup.handler`` is that file,
    not ``src/cleanup.py/cleanup.py`` (which used to be LL401 "is in ... which does not exist")."""
    files = {"src/cleanup.py": "def handler(event, context):\n    return 1\n"}
    assert lint({**files, "main.tf": _TF_SOURCE_FILE.replace("HANDLER", "cleanup.handler")}, select=RULES) == []
    found = lint({**files, "main.tf": _TF_SOURCE_FILE.replace("HANDLER", "cleanup.handle")}, select=RULES)
    assert [(f.path, f.span.line, f.rule_id, f.hint) for f in found] == [
        ("main.tf", 11, "LL401", "did you mean `handler`?")
    ]


_SLS = "service: s\nprovider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  f:\n    handler: HANDLER\n"
_SAM_DOTTED = (
    "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n"
    "    Properties:\n      CodeUri: src/\n      Handler: HANDLER\n      Runtime: python3.12\n"
)


@pytest.mark.parametrize(
    "template, handler, files, hint",
    [
        # a moved module: the file that still carries the old name wins over a closer spelling
        (
            ("serverless.yml", _SLS),
            "src/handlers/refunds.process",
            {"src/handlers/products.py": "def process(event, context): ...\n", "src/refunds/handler.py": "def process(event, context): ...\n"},
            "did you mean `src/refunds/handler.process`?",
        ),
        # of two moved candidates, the one that defines the function
        (
            ("serverless.yml", _SLS),
            "src/handlers/refunds.process",
            {"src/refunds/models.py": "X = 1\n", "src/refunds/api.py": "def process(event, context): ...\n"},
            "did you mean `src/refunds/api.process`?",
        ),
        # a dotted handler keeps its dots, and a package is named without `__init__`
        (
            ("template.yaml", _SAM_DOTTED),
            "billing.invoice.handler",
            {"src/billing/__init__.py": "", "src/billing/invoices/__init__.py": "def handler(event, context): ...\n"},
            "did you mean `billing.invoices.handler`?",
        ),
    ],
)
def test_ll401_hint_names_where_the_module_went(lint, template, handler, files, hint):
    """The hint used to pick the closest spelling among all modules, always with dots:
    ``src/handlers/refunds.process`` -> `src.handlers.products.process`, a module that exists
    but is not the one that moved."""
    name, text = template
    found = lint({**files, name: text.replace("HANDLER", handler)}, select=["LL401"])
    assert [(f.path, f.rule_id, f.hint) for f in found] == [(name, "LL401", hint)]


_SLS_PACKAGING = """service: s
provider:
  name: aws
  runtime: python3.12
  environment:
    STAGE: dev
PACKAGE
functions:
  api:
    handler: handler.main
    module: services/api
  worker:
    handler: worker.run
    package:
      artifact: dist/worker.zip
"""


def test_serverless_module_and_package_artifact(lint):
    """serverless-python-requirements' ``module: services/api`` zips that folder's contents,
    so ``handler.main`` is ``services/api/handler.py``; a ``package.artifact`` zip is built
    elsewhere. Both used to be LL401 "names `handler.py`, which does not exist"."""
    files = {
        "services/api/handler.py": "import os\n\ndef main(event, context):\n    return os.environ['TABLE']\n",
        "serverless.yml": _SLS_PACKAGING.replace("PACKAGE\n", ""),
    }
    found = lint(files, select=RULES)
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [("services/api/handler.py", 4, "LL402")]
    assert found[0].related[0].path == "serverless.yml" and found[0].related[0].span.line == 8
    # a service-wide artifact: nothing here is the deployed code
    files["serverless.yml"] = _SLS_PACKAGING.replace("PACKAGE\n", "package:\n  artifact: dist/all.zip\n")
    assert lint(files, select=RULES) == []
    # the module's handler is checked where the module is
    files["serverless.yml"] = _SLS_PACKAGING.replace("PACKAGE\n", "").replace("handler.main", "handler.mian")
    found = lint(files, select=RULES)
    assert [(f.path, f.span.line, f.rule_id, f.hint) for f in found] == [
        ("serverless.yml", 9, "LL401", "did you mean `main`?"),
    ]


def test_serverless_without_a_runtime_is_node(lint):
    """The Serverless Framework's default runtime is Node.js: ``handler.main`` is handler.js,
    even when a Python tool sits in the folder (it was LL401 "names `handler.py`")."""
    files = {
        "serverless.yml": "service: s\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: handler.main\n",
        "handler.js": "module.exports.main = async () => ({});\n",
        "scripts.py": "print('a deploy helper')\n",
    }
    assert lint(files, select=RULES) == []
    # a runtime that is set but unresolved is unknown, not Node.js: with the Python file present,
    # the link is made and its own problems are reported
    files["serverless.yml"] = files["serverless.yml"].replace(
        "name: aws\n", "name: aws\n  runtime: ${self:custom.runtime}\n"
    ).replace("handler.main", "scripts.main")
    found = lint(files, select=RULES)
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [("serverless.yml", 7, "LL401")]


def test_unknown_runtime_with_the_module_in_another_language(tmp_path):
    """A runtime from a parameter is unknown; ``index.handler`` next to ``index.js`` is the Node
    function's, even with a build script in the folder (it was LL401 "names `web/index.py`")."""
    template = (
        "Transform: AWS::Serverless-2016-10-31\nParameters:\n  Runtime:\n    Type: String\n"
        "Resources:\n  Web:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: web/\n      Handler: index.handler\n      Runtime: !Ref Runtime\n"
    )
    files = {"template.yaml": template, "web/index.mjs": "export const handler = async () => ({});\n", "web/build.py": "X = 1\n"}
    assert lint_tree(tmp_path / "node", files, select=RULES) == []
    # without the .mjs, the Python files make a Python function likely: the handler is checked
    del files["web/index.mjs"]
    found = lint_tree(tmp_path / "python", files, select=RULES)
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [("template.yaml", 10, "LL401")]


_SAM_ONE = (
    "Transform: AWS::Serverless-2016-10-31\nResources:\n  Table:\n    Type: AWS::DynamoDB::Table\n"
    "  Queue:\n    Type: AWS::SQS::Queue\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
    "      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n      Timeout: 10\n"
    "      Policies:\n        - DynamoDBReadPolicy:\n            TableName: !Ref Table\n"
)


def test_ll403_get_caller_identity_needs_no_permission(lint):
    """``sts:GetCallerIdentity`` is allowed for every principal (it was LL403)."""
    code = "import boto3\n\ndef handler(event, context):\n    return boto3.client('sts').get_caller_identity()['Account']\n"
    assert lint({"template.yaml": _SAM_ONE, "src/app.py": code}, select=RULES) == []


_SQS_EVENT = "      Events:\n        Jobs:\n          Type: SQS\n          Properties:\n            Queue: !GetAtt Queue.Arn\n"
_STREAM_EVENT = (
    "      Events:\n        Changes:\n          Type: DynamoDB\n          Properties:\n"
    "            Stream: !GetAtt Table.StreamArn\n            StartingPosition: LATEST\n"
)


def test_ll403_counts_what_sam_and_serverless_grant_for_polled_events(tmp_path):
    """SAM and Serverless give a function with an SQS (Kinesis, DynamoDB stream) event the
    poller's permissions: deleting the message by hand was reported as AccessDenied. What they
    do not grant (ChangeMessageVisibility) still is."""
    code = (
        "import boto3\n\nsqs = boto3.client('sqs')\nstreams = boto3.client('dynamodbstreams')\n\n\n"
        "def handler(event, context):\n    sqs.delete_message(QueueUrl='q', ReceiptHandle='r')\n"
        "    sqs.change_message_visibility(QueueUrl='q', ReceiptHandle='r', VisibilityTimeout=0)\n"
        "    streams.get_records(ShardIterator='i')\n"
    )
    files = {"template.yaml": _SAM_ONE + _SQS_EVENT + _STREAM_EVENT.replace("      Events:\n", ""), "src/app.py": code}
    found = lint_tree(tmp_path / "sam", files, select=RULES)
    assert [(f.path, f.span.line, f.rule_id, f.message.split(" needs ")[0]) for f in found] == [
        ("src/app.py", 9, "LL403", "`sqs.change_message_visibility`")
    ]
    sls = (
        "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n  iamRoleStatements:\n"
        "    - Effect: Allow\n      Action: dynamodb:GetItem\n      Resource: '*'\nfunctions:\n  f:\n"
        "    handler: app.handler\n    events:\n      - sqs:\n          arn: arn:aws:sqs:eu-west-1:123456789012:q\n"
    )
    found = lint_tree(tmp_path / "sls", {"serverless.yml": sls, "app.py": code}, select=RULES)
    assert sorted((f.span.line, f.message.split(" needs ")[0]) for f in found) == [
        (9, "`sqs.change_message_visibility`"), (10, "`streams.get_records`"),
    ]


_PUT = "import boto3\n\ntable = boto3.resource('dynamodb').Table('t')\n\n\ndef handler(event, context):\n    table.put_item(Item={})\n"


@pytest.mark.parametrize(
    "extra",
    [
        # an AWS::Serverless::Connector from the function
        "  Conn:\n    Type: AWS::Serverless::Connector\n    Properties:\n      Source:\n        Id: Fn\n"
        "      Destination:\n        Id: Table\n      Permissions:\n        - Write\n",
        # an embedded connector (a resource attribute beside Properties)
        "    Connectors:\n      TableConn:\n        Properties:\n          Destination:\n            Id: Table\n"
        "          Permissions:\n            - Write\n",
        # a policy attached to the role SAM generates for the function
        "  Extra:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyName: extra\n      Roles:\n"
        "        - !Ref FnRole\n      PolicyDocument:\n        Statement:\n          - Effect: Allow\n"
        "            Action: dynamodb:PutItem\n            Resource: '*'\n",
    ],
    ids=["connector", "embedded-connector", "policy-on-generated-role"],
)
def test_ll403_quiet_when_sam_grants_the_role_elsewhere(tmp_path, extra):
    """Permissions granted outside ``Policies`` made LL403 report AccessDenied for a call that
    is allowed; the function's permissions are now not fully known, so LL403 stays quiet."""
    files = {"template.yaml": _SAM_ONE + extra, "src/app.py": _PUT}
    assert lint_tree(tmp_path / "with", files, select=RULES) == []
    # the same function without the extra grant is reported
    found = lint_tree(tmp_path / "without", {**files, "template.yaml": _SAM_ONE}, select=RULES)
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [("src/app.py", 7, "LL403")]


@pytest.mark.parametrize(
    "code",
    [
        "import os\nos.environ.setdefault('SERVICE', 'orders')\nNAME = os.environ['SERVICE']\n\ndef handler(event, context):\n    return NAME\n",
        "import os\nos.environ['SERVICE'] = 'orders'\n\ndef handler(event, context):\n    return os.environ['SERVICE']\n",
        "import os\nos.environ.update({'SERVICE': 'orders'})\n\ndef handler(event, context):\n    return os.environ['SERVICE']\n",
        "import os\nfrom dotenv import load_dotenv\n\nload_dotenv()\n\ndef handler(event, context):\n    return os.environ['SERVICE']\n",
        "import os\n\ndef handler(event, context):\n    if 'SERVICE' not in os.environ:\n        return None\n    return os.environ['SERVICE']\n",
        "import os\n\ndef handler(event, context):\n    if not os.environ.get('SERVICE'):\n        raise RuntimeError('set SERVICE')\n    return os.environ['SERVICE']\n",
    ],
    ids=["setdefault", "assigned", "update", "dotenv", "early-return", "raise-first"],
)
def test_ll402_quiet_when_the_module_sets_or_checks_the_variable(tmp_path, code):
    """Each of these was reported as a KeyError although the code sets the variable itself or
    checks it before reading it."""
    assert lint_tree(tmp_path, {"template.yaml": _SAM_ONE, "src/app.py": code}, select=RULES) == []


def test_ll402_a_check_in_another_function_does_not_guard(lint):
    code = (
        "import os\n\ndef configured():\n    if 'SERVICE' in os.environ:\n        return True\n\n\n"
        "def handler(event, context):\n    return os.environ['SERVICE']\n"
    )
    found = lint({"template.yaml": _SAM_ONE, "src/app.py": code}, select=RULES)
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [("src/app.py", 9, "LL402")]


# -- what the user reads -------------------------------------------------------------------------


def _finding(project: str, path: str, line: int, rule: str) -> Finding:
    found = [
        f for f in findings_of(PROJECTS / project)
        if relative(PROJECTS / project, f.path) == path and f.span.line == line and f.rule_id == rule
    ]
    assert len(found) == 1, found
    return found[0]


def test_ll401_messages_name_files_as_the_report_does():
    """Paths in LL401 messages are shown like the report's own paths (they were relative to the
    template: `../../services/worker/reports.py`), and a wrong code folder gets the closest
    existing folder as its hint."""
    wrong_folder = _finding("sam_orders", "template.yaml", 83, "LL401")
    assert wrong_folder.message == "Handler `app.handler` of `PaymentFunction` is in `src/payments/`, which does not exist"
    assert wrong_folder.hint == "did you mean `src/payment/`?"
    renamed = _finding("two_stacks", "stacks/worker/template.yaml", 44, "LL401")
    assert renamed.message == (
        "Handler `reports.weekly` of `ReportFunction` names `services/worker/reports.py`, which does not exist"
    )
    assert renamed.hint == "did you mean `report.weekly`?"
    moved = _finding("serverless_shop", "serverless.yml", 55, "LL401")
    assert moved.hint == "did you mean `src/refunds/handler.process`?"
    function = _finding("sam_orders", "template.yaml", 68, "LL401")
    assert function.message == "Handler `app.lambda_handler` of `GetOrderFunction`: src/get_order/app.py defines no `lambda_handler`"
    assert function.hint == "did you mean `handler`?"
    assert (function.span.column, function.span.end_column) == (16, 34)  # the handler's value
    # the Python side of a Python-side finding is its related location
    assert [(r.path, r.span.line, r.span.column, r.message) for r in function.related] == [
        ("src/get_order/app.py", 10, 5, "`handler` is defined here")
    ]
    coroutine = _finding("sam_inline", "template.yaml", 43, "LL401")
    assert coroutine.message == (
        "Handler `notify.handler` of `NotifierFunction`: `handler` is `async def`; the Python runtime calls it without awaiting"
    )
    assert [(r.path, r.span.line) for r in coroutine.related] == [("functions/notifier/notify.py", 10)]
    unknown = _finding("class_handler", "template.yaml", 40, "LL401")
    assert [(r.path, r.span.line, r.message) for r in unknown.related] == [("src/stats.py", 1, "the module the handler names")]


def test_ll402_message_related_location_and_hint():
    found = _finding("sam_orders", "src/create_order/app.py", 28, "LL402")
    assert found.message == (
        "`PAYMENT_API_URL` is not in the environment of `CreateOrderFunction` (template.yaml:44): "
        "`os.environ` raises KeyError when this line runs"
    )
    assert [(r.path, r.span.line, r.message) for r in found.related] == [
        ("template.yaml", 44, "function `CreateOrderFunction` defines no `PAYMENT_API_URL`")
    ]
    assert found.hint == (
        "define `PAYMENT_API_URL` in the function's Environment.Variables (or Globals), "
        "or read it with `os.environ.get`"
    )
    # one read, two Terraform functions built from the same code: both named, both related
    shared = _finding("terraform_ingest", "lambdas/ingest/handler.py", 21, "LL402")
    assert [(r.path, r.span.line) for r in shared.related] == [("infra/main.tf", 15), ("infra/main.tf", 53)]
    assert "`aws_lambda_function.ingest` (infra/main.tf:15), `aws_lambda_function.shared` (infra/main.tf:53)" in shared.message
    assert shared.hint.startswith("define `ARCHIVE_BUCKET` in the function's `environment { variables = ... }` block")
    # Serverless in its own words
    sls = _finding("serverless_shop", "src/handlers/invoices.py", 14, "LL402")
    assert sls.hint.startswith("define `INVOICE_TEMPLATE` in the function's `environment` (or `provider.environment`)")


def test_ll403_message_related_location_and_hint():
    found = _finding("sam_orders", "src/thumbnails/thumbs.py", 19, "LL403")
    assert found.message == (
        "`s3.put_object` needs `s3:PutObject`, which the policies of `ThumbnailFunction` (template.yaml:90) "
        "do not allow: AccessDenied at run time"
    )
    assert [(r.path, r.span.line, r.message) for r in found.related] == [
        ("template.yaml", 90, "function `ThumbnailFunction` has no `s3:PutObject`")
    ]
    assert found.hint == (
        "grant `s3:PutObject` on the resource it uses: a statement or a SAM policy template in the function's Policies"
    )
    sqs = _finding("serverless_shop", "src/handlers/checkout.py", 19, "LL403")
    assert sqs.message.startswith("`sqs.send_message` needs `sqs:SendMessage`, which the policies of `checkout` (serverless.yml:41)")
    assert [(r.path, r.span.line) for r in sqs.related] == [("serverless.yml", 41)]
    assert sqs.hint.endswith("a statement in `provider.iam.role.statements` (or the function's own role)")
    tf = _finding("terraform_ingest", "lambdas/ingest/handler.py", 15, "LL403")
    assert tf.message.startswith("`records.put_item` needs `dynamodb:PutItem`, which the policies of `aws_lambda_function.ingest` (infra/main.tf:15)")
    assert tf.hint.endswith("a statement in a policy attached to the function's role")


# -- every project, in parallel ------------------------------------------------------------------


def test_parallel_run_finds_the_same(monkeypatch):
    """Links travel to worker processes with the files they lint (pickled LinkedFunctions)."""
    import lambdalint.engine as engine

    monkeypatch.setattr(engine, "PARALLEL_THRESHOLD", 1)
    for name in ("sam_orders", "terraform_ingest", "two_stacks"):
        assert linted(PROJECTS / name, jobs=2) == marked(PROJECTS / name), name


# -- across modules (lambdalint.python.crossmodule; more in tests/test_crossmodule.py) --------------


def test_env_read_in_a_helper_of_another_module(lint):
    """package_relative's handler calls ``save`` from ``.db``; a variable read there is missing
    from the template (was a blind spot; lambdalint.python.crossmodule follows the import)."""
    template = _SAM_ONE.replace("app.handler", "pkg/handler.main")
    files = {
        "template.yaml": template,
        "src/pkg/__init__.py": "",
        "src/pkg/handler.py": "from .db import save\n\n\ndef main(event, context):\n    return save()\n",
        "src/pkg/db.py": "import os\n\n\ndef save():\n    return os.environ['ARCHIVE_TABLE']\n",
    }
    found = lint(files, select=RULES)
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [("src/pkg/db.py", 5, "LL402")]


def test_env_read_in_a_function_called_at_import(lint):
    code = "import os\n\n\ndef load():\n    return os.environ['MISSING']\n\n\nCONFIG = load()\n\n\ndef handler(event, context):\n    return CONFIG\n"
    found = lint({"template.yaml": _SAM_ONE, "src/app.py": code}, select=RULES)
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [("src/app.py", 5, "LL402")]


def test_ll401_quiet_for_a_code_folder_that_a_build_makes(tmp_path):
    """``CodeUri: build/orders/`` or ``source_dir = "${path.module}/build/lambda"`` is made by a
    build step; in a fresh checkout (CI) it does not exist yet. That was LL401 "is in
    `build/orders/`, which does not exist"; a missing folder elsewhere still is."""
    template = (
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: FOLDER\n      Handler: app.handler\n      Runtime: python3.12\n"
    )
    code = {"src/orders/app.py": "def handler(event, context):\n    return 1\n"}
    for folder in ("build/orders/", ".aws-sam/build/F/", "dist/"):
        files = {"template.yaml": template.replace("FOLDER", folder), **code}
        assert lint_tree(tmp_path / folder.replace("/", "_"), files, select=RULES) == [], folder
    found = lint_tree(tmp_path / "wrong", {"template.yaml": template.replace("FOLDER", "src/order/"), **code}, select=RULES)
    assert [(f.path, f.span.line, f.rule_id, f.hint) for f in found] == [
        ("template.yaml", 7, "LL401", "did you mean `src/orders/`?")
    ]


def test_ll401_honours_the_function_metadata_suppression(tmp_path):
    """``Metadata: {lambdalint: {ignore: [LL401]}}`` silenced LL401 for a missing module but not
    for a missing function or a bad signature (reported from the Python side)."""
    template = (
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n"
        "    Metadata:\n      lambdalint:\n        ignore: [LL401]\n    Properties:\n      CodeUri: src/\n"
        "      Handler: app.nope\n      Runtime: python3.12\n  G:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n"
    )
    code = {"src/app.py": "async def handler(event, context):\n    return 1\n"}
    found = lint_tree(tmp_path, {"template.yaml": template, **code}, select=RULES)
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [("template.yaml", 16, "LL401")]


def test_ll401_hint_never_points_into_a_virtualenv(lint):
    """With ``CodeUri: .`` and a ``venv/`` or ``build/`` in the folder, the hint for a renamed
    ``app.handler`` named a module there that merely shares the name (`build.lib.app.handler`,
    or flask's ``app`` in site-packages)."""
    template = (
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: .\n      Handler: app.handler\n      Runtime: python3.12\n"
    )
    files = {
        "template.yaml": template,
        "venv/lib/python3.12/site-packages/flask/app.py": "class Flask: ...\n",
        "build/lib/app.py": "def handler(event, context): ...\n",
        "apps.py": "def handler(event, context): ...\n",
    }
    found = lint(files, select=["LL401"])
    assert [(f.rule_id, f.hint) for f in found] == [("LL401", "did you mean `apps.handler`?")]


def test_a_template_alone_still_checks_its_handlers(tmp_path, monkeypatch):
    """``lambdalint check template.yaml`` (pre-commit after a template edit) lints the handlers
    it names too, and reports what concerns the template: here the function that is gone."""
    monkeypatch.chdir(tmp_path)
    from lambdalint.config import parse_config
    from lambdalint.discovery import discover
    from lambdalint.engine import Session, lint_files, sorted_findings

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "template.yaml").write_text(_SAM_ONE.replace("app.handler", "app.lambda_handler"))
    config = parse_config({"select": RULES}, root=tmp_path)
    found = sorted_findings(lint_files(Session.create(config), discover([tmp_path / "template.yaml"], config, cwd=tmp_path), 1))
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [("template.yaml", 11, "LL401")]


def test_ll403_quiet_for_clients_with_other_credentials(lint):
    """A client made with an assumed role's credentials (or ``**kwargs`` we cannot read) acts as
    another principal: its calls were checked against the function's own policies."""
    code = (
        "import boto3\n\nsts = boto3.client('sts')\n\n\ndef handler(event, context):\n"
        "    c = sts.assume_role(RoleArn='arn:aws:iam::222222222222:role/w', RoleSessionName='x')['Credentials']\n"
        "    theirs = boto3.client('s3', aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'],\n"
        "                          aws_session_token=c['SessionToken'])\n"
        "    theirs.put_object(Bucket='b', Key='k')\n"
        "    boto3.resource('dynamodb', **event['credentials']).Table('t').put_item(Item={})\n"
        "    boto3.client('s3', region_name='eu-west-1').put_object(Bucket='b', Key='k')\n"
    )
    found = lint({"template.yaml": _SAM_ONE, "src/app.py": code}, select=RULES)
    # only the client with the function's own credentials is checked (sts:AssumeRole is not granted either)
    assert [(f.span.line, f.message.split(" needs ")[0]) for f in found] == [
        (7, "`sts.assume_role`"), (12, "`boto3.client('s3', region_name='eu-west-1').put_object`"),
    ]


def test_ll402_ll403_quiet_under_if_main(lint):
    """``if __name__ == "__main__":`` is for local runs; Lambda imports the module and never
    runs it. Its reads and calls were reported as failing "at every cold start"."""
    code = (
        "import os\n\nimport boto3\n\n\ndef handler(event, context):\n    return 1\n\n\n"
        "if __name__ == '__main__':\n"
        "    boto3.resource('dynamodb').Table(os.environ['LOCAL_TABLE']).put_item(Item={})\n"
        "    handler({}, None)\n"
        "else:\n"
        "    ON_IMPORT = os.environ['REQUIRED']\n"
    )
    found = lint({"template.yaml": _SAM_ONE, "src/app.py": code}, select=RULES)
    assert [(f.span.line, f.rule_id) for f in found] == [(14, "LL402")]


@pytest.mark.parametrize(
    "code",
    [
        "from impl import *\n",
        "def _make():\n    return lambda event, context: 1\n\n\nglobals()['handler'] = _make()\n",
        "def __getattr__(name):\n    return lambda event, context: 1\n",
        "exec('def handler(event, context): return 1')\n",
    ],
    ids=["star-import", "globals", "module-getattr", "exec"],
)
def test_ll401_quiet_when_the_module_makes_names_dynamically(tmp_path, code):
    """``from impl import *`` (a re-export) and friends define names we cannot list: LL401
    reported "defines no `handler`" for a handler Lambda finds."""
    files = {"template.yaml": _SAM_ONE, "src/app.py": code, "src/impl.py": "def handler(event, context):\n    return 1\n"}
    assert lint_tree(tmp_path, files, select=RULES) == []


def test_ll401_a_static_module_still_reports_the_missing_name(lint):
    files = {"template.yaml": _SAM_ONE, "src/app.py": "from impl import helper\n\n\ndef main(event, context):\n    return helper()\n"}
    found = lint(files, select=RULES)
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [("template.yaml", 11, "LL401")]
