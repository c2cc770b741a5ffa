"""Regressions from the new-user precision review: each test is the reproduction, with the
exact findings it must give and the tempting cases that must stay quiet."""

from __future__ import annotations

from textwrap import dedent

from lambdalint.model import Severity


# -- 1. LL101: clients that must be created per request --------------------------------------

LL101_REVIEW = dedent(
    """\
    import os
    import boto3
    sts = boto3.client("sts")
    REGION = "eu-west-1"
    def handler(event, context):
        creds = sts.assume_role(RoleArn=event["tenant_role_arn"], RoleSessionName=context.aws_request_id)["Credentials"]
        s3 = boto3.client("s3", aws_access_key_id=creds["AccessKeyId"],
                          aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
        regional = boto3.client("ec2", region_name=event["region"])
        session = boto3.Session(aws_access_key_id=creds["AccessKeyId"])
        tenant_ddb = session.client("dynamodb")
        endpoint = event.get("endpoint")
        custom = boto3.client("s3", endpoint_url=endpoint)
        fixed = boto3.client("sqs", region_name=REGION)
        env = boto3.client("sns", region_name=os.environ["AWS_REGION"])
        region = os.environ.get("TABLE_REGION", "eu-west-1")
        via_local = boto3.resource("dynamodb", region_name=region)
        plain = boto3.Session(region_name=REGION).client("ssm")
        return {"b": len(s3.list_buckets()["Buckets"]), "v": len(regional.describe_vpcs()["Vpcs"])}
    """
)


def test_ll101_quiet_for_per_request_clients_fires_for_constant_ones(lint):
    findings = lint({"app.py": LL101_REVIEW}, select=["LL101"])
    assert sorted(f.span.line for f in findings) == [14, 15, 17, 18]


# -- 4. LL502: Lambda's standard logging statement -------------------------------------------

LL502_SAM = dedent(
    """\
    Transform: AWS::Serverless-2016-10-31
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Timeout: 10
          Policies:
            - Statement:
                - Effect: Allow
                  Action: [logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents]
                  Resource: "*"
                - Effect: Allow
                  Action: [logs:CreateLogStream, logs:DeleteLogGroup]
                  Resource: "*"
                - Effect: Allow
                  Action: logs:Put*
                  Resource: "*"
    """
)

LL502_TF = dedent(
    """\
    data "aws_iam_policy_document" "logging" {
      statement {
        actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
        resources = ["*"]
      }
      statement {
        actions   = ["logs:PutLogEvents", "logs:GetLogEvents"]
        resources = ["*"]
      }
    }
    """
)


def test_ll502_exempts_exactly_the_basic_execution_logging_actions(lint):
    findings = lint({"template.yaml": LL502_SAM, "main.tf": LL502_TF}, select=["LL502", "LL501"])
    got = sorted((f.path.rsplit("/", 1)[-1], f.span.line, f.rule_id) for f in findings)
    assert got == [("main.tf", 8, "LL502"), ("template.yaml", 16, "LL502"), ("template.yaml", 19, "LL502")]
    by_line = {f.span.line: f.message for f in findings if f.path.endswith("template.yaml")}
    assert "logs:DeleteLogGroup" in by_line[16] and "CreateLogStream" not in by_line[16]


# -- 2. LL304: a written key the code cannot describe, and the trigger's filter ---------------

LL304_SERVERLESS = dedent(
    """\
    service: media
    custom:
      mediaBucket: acme-media
    provider:
      name: aws
      runtime: python3.12
    functions:
      resize:
        handler: handler.handler
        timeout: 30
        events:
          - s3:
              bucket: ${{self:custom.mediaBucket}}
              event: s3:ObjectCreated:*
              {rules}
              existing: true
    """
)

LL304_HANDLER = dedent(
    """\
    import urllib.parse
    import boto3
    s3 = boto3.client("s3")
    def handler(event, context):
        for record in event["Records"]:
            bucket = record["s3"]["bucket"]["name"]
            key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
            out_key = key.replace("incoming/", "resized/", 1)
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            s3.put_object(Bucket=bucket, Key=out_key, Body=body)
            s3.put_object(Bucket=bucket, Key=f"resized/{key}", Body=body)
            s3.put_object(Bucket=bucket, Key=f"incoming/{key}.small", Body=body)
            s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key})
    """
)


def _ll304(lint, rules):
    files = {
        "serverless.yml": LL304_SERVERLESS.format(rules=rules),
        "handler.py": LL304_HANDLER,
    }
    return [f for f in lint(files, select=["LL304", "LL604"]) if f.rule_id == "LL304"]


def test_ll304_unknown_key_under_a_prefix_filter_is_a_warning_naming_the_filter(lint):
    findings = _ll304(lint, "rules: [{prefix: incoming/}]")
    got = {f.span.line: f for f in findings}
    assert sorted(got) == [10, 12, 13]
    unknown = got[10]
    assert unknown.severity is Severity.WARNING
    assert "prefix `incoming/`" in unknown.message
    assert [(r.path.rsplit("/", 1)[-1], r.span.line) for r in unknown.related] == [("serverless.yml", 12)]
    assert got[12].severity is Severity.ERROR  # provably under incoming/
    assert got[13].severity is Severity.ERROR  # the same key


def test_ll304_unknown_key_without_a_filter_is_an_error_with_the_trigger(lint):
    findings = _ll304(lint, "")
    got = {f.span.line: f for f in findings}
    assert sorted(got) == [10, 11, 12, 13]
    assert all(f.severity is Severity.ERROR for f in findings)
    assert "(no filter)" in got[10].message
    assert [(r.path.rsplit("/", 1)[-1], r.span.line) for r in got[10].related] == [("serverless.yml", 12)]


# -- 3. LL102: a memo cache keyed by request data ---------------------------------------------

LL102_CACHE = dedent(
    """\
    import functools
    import json
    import requests
    _rates = {}
    _bounded = {}
    _orders = {}
    def get_rate(currency):
        if currency not in _rates:
            _rates[currency] = requests.get(f"https://rates.example.com/{currency}", timeout=5).json()["rate"]
        return _rates[currency]
    def get_bounded(currency):
        if len(_bounded) > 100:
            _bounded.clear()
        if currency not in _bounded:
            _bounded[currency] = requests.get(f"https://rates.example.com/{currency}", timeout=5).json()["rate"]
        return _bounded[currency]
    @functools.lru_cache(maxsize=256)
    def get_memo(currency):
        return requests.get(f"https://rates.example.com/{currency}", timeout=5).json()["rate"]
    def handler(event, context):
        currency = event["queryStringParameters"]["currency"]
        _orders[currency] = json.loads(event["body"])
        return {"statusCode": 200, "body": json.dumps({"r": get_rate(currency), "b": get_bounded(currency), "m": get_memo(currency)})}
    """
)


def test_ll102_a_cache_keyed_by_request_data_is_named_as_an_unbounded_cache(lint):
    findings = lint({"app.py": LL102_CACHE}, select=["LL102"])
    got = {f.span.line: f for f in findings}
    assert sorted(got) == [9, 22]  # _bounded is cleared when it grows, get_memo is an lru_cache
    cache = got[9]
    assert cache.message.startswith("Module-level `_rates` is a cache keyed by request data")
    assert "Request data" not in cache.message and "is stored in" not in cache.message
    assert "functools.lru_cache(maxsize=...)" in cache.hint and "len(" in cache.hint
    # the value itself is request data: the original message
    assert got[22].message.startswith("Request data (")
    assert "stored in module-level `_orders`" in got[22].message


def test_ll102_setdefault_memo_keyed_by_request_data(lint):
    code = (
        "import requests\n_rates = {}\n\ndef handler(event, context):\n"
        "    c = event['currency']\n"
        "    _rates.setdefault(c, requests.get(f'https://r.example.com/{c}', timeout=5).json())\n"
        "    _rates.setdefault('last', event['body'])\n"
    )
    found = {f.span.line: f.message for f in lint({"app.py": code}, select=["LL102"])}
    assert sorted(found) == [6, 7]
    assert found[6].startswith("Module-level `_rates` is a cache keyed by request data (event[\"currency\"])")
    assert found[7].startswith('Request data (event["body"]) is stored in module-level `_rates`')


# -- 5. LL201: a hint that says only what is true ----------------------------------------------

LL201_CODE = dedent(
    """\
    import boto3
    s3 = boto3.client("s3")
    def handler(event, context):
        s3.put_object(Bucket="acme-prod-uploads", Key="k", Body=b"")
        boto3.client("lambda").invoke(FunctionName="resize-prod", Payload=b"{}")
        return boto3.resource("dynamodb").Table("orders-prod")
    """
)

LL201_TEMPLATE = dedent(
    """\
    Transform: AWS::Serverless-2016-10-31
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: src/
          Handler: app.handler
          Runtime: python3.12
          Timeout: 10
          Environment:
            Variables:
              BUCKET_NAME: !Ref Uploads
              ORDERS: orders-prod
      Uploads:
        Type: AWS::S3::Bucket
    """
)


def test_ll201_without_a_template_says_to_define_the_variable(lint):
    found = {f.span.line: f for f in lint({"app.py": LL201_CODE}, select=["LL201"])}
    assert sorted(found) == [4, 5, 6]
    assert found[4].hint == (
        "define `BUCKET_NAME` in the function's environment and read it with "
        '`os.environ["BUCKET_NAME"]`'
    )
    assert "the template sets" not in found[4].hint
    assert "`TARGET_FUNCTION_NAME`" in found[5].hint
    assert found[5].fix is not None and 'os.environ["TARGET_FUNCTION_NAME"]' in found[5].fix.edits[-1].content
    assert "FUNCTION_NAME`" not in found[5].hint.replace("TARGET_FUNCTION_NAME`", "")


def test_ll201_with_a_template_names_what_it_sets_and_withholds_the_fix_otherwise(lint):
    found = {
        f.span.line: f
        for f in lint({"template.yaml": LL201_TEMPLATE, "src/app.py": LL201_CODE}, select=["LL201"])
    }
    assert sorted(found) == [4, 5, 6]
    assert found[4].hint.startswith("the template sets `BUCKET_NAME` for the function")
    assert found[4].fix is not None
    assert found[6].hint.startswith("the template already sets `ORDERS` to this value")
    # TARGET_FUNCTION_NAME is not in the template's environment: no fix, and the hint says so
    assert found[5].fix is None
    assert found[5].hint.startswith("define `TARGET_FUNCTION_NAME` in the function's environment")


# -- 6. LL302: a suggested Config that fits, and a Config whose retries do not ----------------

LL302_CODE = dedent(
    """\
    import boto3
    from botocore.config import Config
    plain = boto3.client("s3")
    both = boto3.client("sqs", config=Config(connect_timeout=2, read_timeout=1))
    fits = boto3.client("sns", config=Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1}))
    """
)


def _ll302(lint, timeout):
    return {
        f.span.line: f
        for f in lint({"app.py": LL302_CODE}, select=["LL302"], config={"options": {"LL302": {"function-timeout": timeout}}})
    }


def test_ll302_for_a_3_s_function_the_suggestion_fits_and_a_config_with_retries_is_checked(lint):
    from lambdalint.rules.ll302_sdk_client_without_timeout import suggested_config

    found = _ll302(lint, 3)
    assert sorted(found) == [3, 4]
    assert "connect_timeout=1, read_timeout=1, retries={'total_max_attempts': 1}" in found[3].hint
    assert "(1 + 1) x 1 = 2 s, within the 3 s timeout" in found[3].hint
    fixed = found[3].fix.edits[-1].content
    assert "read_timeout=1, retries={'total_max_attempts': 1}" in fixed
    assert found[4].message == (
        "The boto3 client for `sqs` sets both timeouts, but with its retries one call can still "
        "wait up to (2 s + 1 s) x 5 attempts = 15 s (connect + read, per attempt), longer than "
        "the function's 3 s timeout"
    )
    # every suggestion fits its function timeout
    for limit in range(3, 901):
        connect, read, attempts = suggested_config(limit)
        assert (connect + read) * attempts <= limit
    assert suggested_config(2) is None


def test_ll302_says_so_when_no_useful_split_fits(lint):
    found = _ll302(lint, 2)
    assert sorted(found) == [3, 4]
    assert found[3].fix is None
    assert "leaves no room for a useful connect/read timeout split" in found[3].hint


def test_ll304_without_a_template_a_replaced_prefix_is_a_warning_and_an_opaque_key_an_error(lint):
    code = LL304_HANDLER.replace('Key=f"incoming/{key}.small"', "Key=transform(key)")
    code = code.replace("def handler", "def transform(k):\n    return k[::-1]\ndef handler")
    found = {f.span.line: f for f in lint({"handler.py": code}, select=["LL304"])}
    assert sorted(found) == [12, 13, 14, 15]
    assert found[12].severity is Severity.WARNING
    assert "`.replace('incoming/', 'resized/')`" in found[12].message
    assert "filter decides" in found[12].message
    assert found[13].severity is Severity.WARNING  # f"resized/{key}": the literal prefix case
    assert found[14].severity is Severity.ERROR  # a key the code does not describe at all
    assert found[15].severity is Severity.ERROR  # the same key
