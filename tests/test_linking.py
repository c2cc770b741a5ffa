"""What flows from a linked template into the code rules (issue 5)."""

from __future__ import annotations

from tests.conftest import lint_tree

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Timeout: 5
      Environment:
        Variables:
          ORDERS_TABLE: orders-prod
      Policies:
        - DynamoDBCrudPolicy: {{TableName: orders-prod}}
{events}"""

API_EVENTS = """\
      Events:
        Create:
          Type: Api
          Properties: {Path: /orders, Method: post}
"""

SQS_EVENTS = """\
      Events:
        Orders:
          Type: SQS
          Properties: {Queue: arn:aws:sqs:eu-west-1:123456789012:orders}
"""

HANDLER = """\
import json
import boto3

table = boto3.resource("dynamodb").Table("orders-prod")


def handler(event, context):
    for record in event.get("Records", []):
        table.put_item(Item=json.loads(record["body"]))
    return {"statusCode": 201}
"""


def test_ll201_names_the_variable_the_template_already_sets(tmp_path):
    found = lint_tree(tmp_path, {"template.yaml": TEMPLATE.format(events=""), "src/app.py": HANDLER},
                      select=["LL201"])
    assert [(f.path, f.span.line) for f in found] == [("src/app.py", 4)]
    assert found[0].hint == (
        'the template already sets `ORDERS_TABLE` to this value for the function: read '
        '`os.environ["ORDERS_TABLE"]` instead'
    )


def test_ll303_trusts_the_template_over_the_code_guess(tmp_path):
    # The code looks like an SQS consumer; the template says API Gateway only: no LL303.
    api = lint_tree(tmp_path / "api", {"template.yaml": TEMPLATE.format(events=API_EVENTS), "src/app.py": HANDLER},
                    select=["LL303"])
    assert api == []
    sqs = lint_tree(tmp_path / "sqs", {"template.yaml": TEMPLATE.format(events=SQS_EVENTS), "src/app.py": HANDLER},
                    select=["LL303"])
    assert [(f.path, f.span.line) for f in sqs] == [("src/app.py", 9)]
    assert "SQS" in sqs[0].message and "template.yaml:" in sqs[0].message


def test_the_template_decides_which_functions_are_handlers(tmp_path):
    code = (
        "import boto3\n\n\ndef lambda_handler(event, context):\n    return boto3.client('s3')\n\n\n"
        "def process(payload, ctx):\n    return boto3.client('sqs')\n"
    )
    template = TEMPLATE.format(events="").replace("Handler: app.handler", "Handler: app.process")
    found = lint_tree(tmp_path, {"template.yaml": template, "src/app.py": code}, select=["LL101"])
    # `lambda_handler` matches the naming convention, but the template names `process`
    assert [(f.path, f.span.line) for f in found] == [("src/app.py", 9)]


def test_a_template_edit_alone_rechecks_its_handlers_cross_file_findings_only(tmp_path, monkeypatch):
    """pre-commit passes only the changed template: the handler is linted with it, and what
    concerns the template (LL402 with the template as related location) is reported; the
    handler's own findings (LL101) are not, since the handler is not in the run."""
    from lambdalint.config import parse_config
    from lambdalint.discovery import discover
    from lambdalint.engine import Session, lint_files, sorted_findings

    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        "import os\nimport boto3\n\n\ndef handler(event, context):\n"
        "    boto3.client('s3')\n    return os.environ['GONE']\n"
    )
    (tmp_path / "template.yaml").write_text(TEMPLATE.format(events=""))
    config = parse_config({}, root=tmp_path)
    files = discover([tmp_path / "template.yaml"], config, cwd=tmp_path)
    found = sorted_findings(lint_files(Session.create(config), files, 1))
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [("src/app.py", 7, "LL402")]


INLINE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Glue:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: python3.12
      Timeout: 5
      InlineCode: |
        import boto3

        def handler(event, context):
            boto3.client("s3"){noqa}
            return {{"ok": True}}
"""


def test_inline_code_is_linted_at_the_templates_lines(tmp_path):
    found = lint_tree(tmp_path, {"template.yaml": INLINE.format(noqa="")}, select=["LL101", "LL001"])
    assert [(f.path, f.span.line, f.span.column, f.rule_id) for f in found] == [("template.yaml", 13, 13, "LL101")]
    assert found[0].fix is None  # its edits would land in the YAML block: not offered
    quiet = lint_tree(tmp_path / "noqa", {"template.yaml": INLINE.format(noqa="  # noqa: LL101")}, select=["LL101"])
    assert quiet == []
    broken = lint_tree(tmp_path / "broken", {"template.yaml": INLINE.format(noqa=" +")}, select=["LL101", "LL001"])
    assert [(f.span.line, f.rule_id) for f in broken] == [(13, "LL001")]
    assert broken[0].message.startswith("inline code of `Glue`: syntax error")


def test_ll201_offers_no_env_fix_that_the_linked_template_cannot_satisfy(tmp_path):
    code = "import boto3\n\nsns = boto3.client('sns')\n\n\ndef handler(event, context):\n    sns.publish(TopicArn='arn:aws:sns:eu-west-1:123456789012:t', Message='m')\n    return boto3.resource('dynamodb').Table('orders-prod')\n"
    found = lint_tree(tmp_path, {"template.yaml": TEMPLATE.format(events=""), "src/app.py": code}, select=["LL201"])
    by_line = {f.span.line: f for f in found}
    assert by_line[8].fix is not None  # the template sets ORDERS_TABLE to this value
    assert 'os.environ["ORDERS_TABLE"]' in by_line[8].fix.edits[-1].content
    assert by_line[7].fix is None  # no TOPIC_ARN in the template: the fix would only trade LL201 for LL402


def test_ll401_hint_names_only_the_module_when_it_lacks_the_function_too(tmp_path):
    serverless = (
        "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n  timeout: 5\n"
        "functions:\n  f:\n    handler: src/handlers/order.handler\n"
    )
    code = "def create(event, context):\n    return 1\n"
    found = lint_tree(tmp_path, {"serverless.yml": serverless, "src/handlers/orders.py": code}, select=["LL401"])
    assert [f.hint for f in found] == ["did you mean the module `src/handlers/orders`? (it defines no `handler` either)"]


LOOP_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Resize:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Timeout: 30
      Environment:
        Variables:
          OUTPUT_BUCKET: !Ref Uploads
      Policies:
        - S3CrudPolicy: {{BucketName: !Ref Uploads}}
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
{filter}  Uploads:
    Type: AWS::S3::Bucket
"""

LOOP_CODE = """\
import os
import boto3

s3 = boto3.client("s3")
OUTPUT = os.environ["OUTPUT_BUCKET"]


def handler(event, context):
    for record in event["Records"]:
        key = record["s3"]["object"]["key"]
        s3.put_object(Bucket=OUTPUT, Key=f"thumbnails/{key}", Body=b"")
"""


def test_a_loop_through_an_environment_variable_is_one_finding_where_it_closes(tmp_path):
    found = lint_tree(tmp_path, {"template.yaml": LOOP_TEMPLATE.format(filter=""), "src/app.py": LOOP_CODE},
                      select=["LL304", "LL604"])
    assert [(f.path, f.span.line, f.rule_id) for f in found] == [("src/app.py", 11, "LL304")]
    (loop,) = found
    assert "to `OUTPUT_BUCKET`, which `Resize` sets to `Uploads`" in loop.message
    assert [(r.path, r.span.line) for r in loop.related] == [("template.yaml", 16), ("template.yaml", 14)]
    separated = LOOP_TEMPLATE.format(filter=(
        "            Filter:\n              S3Key:\n                Rules:\n"
        "                  - {Name: prefix, Value: uploads/}\n"
    ))
    assert lint_tree(tmp_path / "filtered", {"template.yaml": separated, "src/app.py": LOOP_CODE},
                     select=["LL304", "LL604"]) == []
    # without the code, the template's own finding stays
    alone = lint_tree(tmp_path / "alone", {"template.yaml": LOOP_TEMPLATE.format(filter="")}, select=["LL304", "LL604"])
    assert [(f.path, f.rule_id) for f in alone] == [("template.yaml", "LL604")]
