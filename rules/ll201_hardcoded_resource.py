"""LL201 hardcoded-resource."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Optional, Set, Tuple

import libcst as cst
from libcst.metadata import PositionProvider

from lambdalint.model import Edit, Fix, FixSafety
from lambdalint.python import sdk, values
from lambdalint.python.edits import insertion_edit, module_insertion_line
from lambdalint.rule import Example, Option, PythonRule

#: SDK parameters that name an environment-specific resource -> (what it is, the environment
#: variable the hint suggests)
RESOURCE_PARAMETERS: Dict[str, Tuple[str, str]] = {
    "Bucket": ("bucket name", "BUCKET_NAME"),
    "TableName": ("table name", "TABLE_NAME"),
    "QueueUrl": ("queue URL", "QUEUE_URL"),
    "QueueName": ("queue name", "QUEUE_NAME"),
    "TopicArn": ("topic ARN", "TOPIC_ARN"),
    # not FUNCTION_NAME: Lambda's own AWS_LAMBDA_FUNCTION_NAME names the running function
    "FunctionName": ("function name", "TARGET_FUNCTION_NAME"),
    "StateMachineArn": ("state machine ARN", "STATE_MACHINE_ARN"),
    "SecretId": ("secret id", "SECRET_ID"),
    "StreamName": ("stream name", "STREAM_NAME"),
    "DeliveryStreamName": ("delivery stream name", "DELIVERY_STREAM_NAME"),
    "EventBusName": ("event bus name", "EVENT_BUS_NAME"),
    "ExpectedBucketOwner": ("account id", "ACCOUNT_ID"),
    "QueueOwnerAWSAccountId": ("account id", "ACCOUNT_ID"),
}
#: values of those parameters that are the same in every account
UNIVERSAL_VALUES = {"EventBusName": {"default"}}
#: SSM parameter paths that AWS publishes in every account and region (latest AMI ids,
#: Secrets Manager references, service metadata)
UNIVERSAL_PARAMETER_PREFIXES = ("/aws/service/", "/aws/reference/")

#: client settings that pin an environment
SDK_SETTINGS: Dict[str, Tuple[str, str]] = {
    "region_name": ("region", "AWS_REGION"),
    "endpoint_url": ("endpoint URL", "ENDPOINT_URL"),
}
#: services whose API lives in one region whatever the function's region: pinning it is right
SINGLE_REGION_SERVICES = {
    "iam", "organizations", "route53", "route53domains", "cloudfront", "ce", "budgets",
    "pricing", "globalaccelerator", "shield", "health", "support", "account", "cur",
    "marketplace-catalog", "savingsplans", "waf", "billingconductor", "trustedadvisor",
}
#: services whose CloudFront-scoped resources must live in us-east-1 (certificates, web ACLs)
US_EAST_1_SERVICES = {"acm", "wafv2"}

#: boto3 resource factories: method -> (positional index of the resource id, what it is, env)
RESOURCE_FACTORIES: Dict[str, Tuple[int, str, str, Tuple[str, ...]]] = {
    "Table": (0, "table name", "TABLE_NAME", ("dynamo", "ddb")),
    "Bucket": (0, "bucket name", "BUCKET_NAME", ("s3", "bucket")),
    "Object": (0, "bucket name", "BUCKET_NAME", ("s3",)),
    "ObjectSummary": (0, "bucket name", "BUCKET_NAME", ("s3",)),
    "BucketPolicy": (0, "bucket name", "BUCKET_NAME", ("s3",)),
    "Queue": (0, "queue URL", "QUEUE_URL", ("sqs", "queue")),
    "Topic": (0, "topic ARN", "TOPIC_ARN", ("sns", "topic")),
}
#: S3 transfer methods that take the bucket positionally: method -> index
S3_TRANSFER_METHODS = {"upload_file": 1, "upload_fileobj": 1, "download_file": 0,
                       "download_fileobj": 0}
#: SSM reads whose ``Name=`` is a parameter path
SSM_METHODS = {"get_parameter": "Name", "get_parameter_history": "Name"}

BOTO3_FACTORIES = tuple(sdk.BOTO3_FACTORIES)

REGION = r"(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob)-[a-z]+-\d"
_REGION_RE = re.compile(rf"^{REGION}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_ARN_RE = re.compile(
    r"arn:(aws(?:-[a-z]+)*):([a-z0-9-]+|\x00):([^:\s\"']*):([^:\s\"']*):([^\s\"',]+)"
)
_AWS_URL_RE = re.compile(r"https?://[^\s\"'<>]*amazonaws\.com(?:\.cn)?(?:/[^\s\"'<>?#]*)?")
_QUEUE_HOST_RE = re.compile(
    rf"^https?://(?:sqs\.({REGION})\.amazonaws\.com|({REGION})\.queue\.amazonaws\.com"
    r"|queue\.amazonaws\.com|sqs\.[^/]*)/"
)
_ACCOUNT_IN_URL_RE = re.compile(r"(?<![\d\x00])\d{12}(?![\d\x00])")


@dataclass
class _Hit:
    node: cst.BaseExpression
    message: str
    hint: str
    #: a hit found by the SDK parameter it is passed to; a bare pattern hit yields to it
    precise: bool
    #: the environment variable the unsafe fix reads instead (None: no automatic fix)
    env: Optional[str] = None
    #: what the value is ("bucket name"), for the hint
    what: str = "resource"


def describe_arn(text: str) -> Optional[str]:
    """Why the ARN(s) in ``text`` (holes as :data:`values.HOLE`) pin an environment, or
    ``None`` when they do not (AWS-managed ARNs, prefixes, wildcards, ARNs whose region and
    account are filled in at run time)."""
    for match in _ARN_RE.finditer(text):
        _, service, region, account, resource = match.groups()
        if account == "aws":  # AWS-managed policies and AWS-owned resources
            continue
        known_region = bool(_REGION_RE.match(region))
        known_account = bool(_ACCOUNT_RE.match(account))
        reasons = []
        if known_region:
            reasons.append(f"region {region}")
        if known_account:
            reasons.append(f"account {account}")
        if reasons:
            return ", ".join(reasons)
        # S3 buckets are the resources whose ARNs have neither region nor account; other such
        # ARNs are AWS's own (``arn:aws:states:::lambda:invoke`` service integrations)
        if service == "s3" and region == "" and account == "" and values.HOLE not in resource:
            if re.search(r"[A-Za-z0-9]", resource.replace("*", "")):
                return "a fixed resource name"
    return None


def describe_aws_url(text: str) -> Optional[str]:
    """Why an AWS service URL in ``text`` pins an environment: an account id in it, or a
    region in an SQS queue URL."""
    for match in _AWS_URL_RE.finditer(text):
        url = match.group(0)
        reasons = []
        queue = _QUEUE_HOST_RE.match(url)
        if queue and (queue.group(1) or queue.group(2)):
            reasons.append(f"region {queue.group(1) or queue.group(2)}")
        account = _ACCOUNT_IN_URL_RE.search(url)
        if account:
            reasons.append(f"account {account.group(0)}")
        if reasons:
            return ", ".join(reasons)
    return None


def _shorten(text: str, limit: int = 70) -> str:
    text = text.replace(values.HOLE, "{…}")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class HardcodedResource(PythonRule):
    """An environment-specific AWS resource hardcoded where the code configures AWS.

    ## What it does
    Flags string literals that name a resource of one environment:

    - given to SDK parameters that name resources: `Bucket=`, `TableName=`, `QueueUrl=`,
      `QueueName=`, `TopicArn=`, `FunctionName=`, `StateMachineArn=`, `SecretId=`,
      `StreamName=`, `DeliveryStreamName=`, `EventBusName=` (not `"default"`),
      `ExpectedBucketOwner=`, as keywords or as keys of a parameter dict, `Name=` of
      `ssm.get_parameter`, the bucket of `upload_file`/`download_file`;
    - `region_name=` and `endpoint_url=` of clients, resources, sessions and `Config`
      (not the region of services that live in one region, such as IAM or `acm` in
      us-east-1);
    - resource handles: `dynamodb.Table("...")`, `s3.Bucket("...")`, `s3.Object("...", key)`,
      `sqs.Queue("...")`, `sns.Topic("...")` on a boto3 resource (resolved through names and
      `self` attributes bound once; a parameter or attribute of unknown origin counts when its
      name says so, such as `dynamodb` or `s3_resource`);
    - anywhere: an ARN with a literal region or 12-digit account id (or an S3-style ARN with a
      fixed name), an AWS URL with an account id, an SQS queue URL with a literal region.

    A name bound once to such a literal (`TABLE = "orders-prod"`, then `TableName=TABLE`) is
    reported at its definition. Not flagged: values read from `os.environ` (a literal
    default such as `os.environ.get("REGION", "us-east-1")` is fine), f-strings whose
    environment parts are filled in at run time, docstrings, code under
    `if __name__ == "__main__":`, and test files (`test-file-patterns` option).

    ## Why is this bad in Lambda
    The same code is deployed to several stages and accounts. A hardcoded bucket, table or
    ARN makes the dev deployment write to production (or fail with AccessDenied), breaks
    every new stage or region, and hides from the template which resources the function
    touches, so permissions and dependencies cannot be reviewed in one place.

    ## Example
    ```python
    import boto3

    table = boto3.resource("dynamodb", region_name="eu-west-1").Table("orders-prod")
    ```

    ## Use instead
    ```python
    import os
    import boto3

    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    ```

    ## Fix safety
    Reading the value from an environment variable is an unsafe fix: the template must
    define that variable for every function that runs the code, or the function fails at
    import. The unsafe fix replaces a literal passed to a resource parameter with
    `os.environ["<NAME>"]` (the variable a linked template already sets to that value, else a
    name derived from the parameter, e.g. `TABLE_NAME`, `TARGET_FUNCTION_NAME` for
    `FunctionName=` so that it cannot be mistaken for Lambda's own `AWS_LAMBDA_FUNCTION_NAME`)
    and adds `import os`; ARNs and URLs found by their shape, and regions, get only the hint.

    The fix is withheld when a linked template lists the function's environment variables and
    that variable is not among them: the change would only trade this finding for a missing
    variable (LL402). The hint then says to define the variable in the function's environment.
    The hint names the variable the template sets when it sets one to this very value (or sets
    the suggested name); otherwise, and in projects without a template, it says to define the
    variable and read it with `os.environ[...]`.
    """

    id = "LL201"
    name = "hardcoded-resource"
    fix_safety = FixSafety.UNSAFE
    options = {
        "test-file-patterns": Option(
            list,
            list(values.DEFAULT_TEST_PATTERNS),
            "files not checked: base-name globs (`test_*.py`), folder names ending in `/` "
            "(`tests/`), or globs on the whole path; `[]` checks tests too",
        ),
    }

    INVALID = (
        Example(
            "import boto3\n\ns3 = boto3.client('s3')\n\ndef handler(event, context):\n"
            "    s3.put_object(Bucket='orders-prod', Key=event['id'], Body=b'')\n",
            lines=(6,),
        ),
        # a constant reported at its definition, however far from its use
        Example(
            "import boto3 as b\n\nTABLE = 'orders-prod'\nddb = b.resource('dynamodb')\n\n"
            "def handler(event, context):\n    return ddb.Table(TABLE).get_item(Key={'id': 1})\n",
            lines=(3,),
        ),
        Example(
            "import boto3\n\nsqs = boto3.client('sqs', region_name='eu-west-1')\n"
            "QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders'\n"
            "TOPIC = 'arn:aws:sns:eu-west-1:123456789012:alerts'\n",
            lines=(3, 4, 5),
        ),
        Example(
            "import boto3\n\ndef handler(event, context):\n"
            "    boto3.client('lambda').invoke(FunctionName='resize-prod', Payload=b'{}')\n"
            "    boto3.client('ssm').get_parameter(Name='/prod/db/url')\n"
            "    boto3.client('s3').upload_file('/tmp/x', 'reports-bucket', 'k')\n"
            "    boto3.client('events').put_events(Entries=[{'EventBusName': 'orders-bus'}])\n",
            lines=(4, 5, 6, 7),
        ),
        # ARNs built with an f-string but a literal account; endpoint URLs
        Example(
            "import os\nimport boto3\n\nREGION = os.environ['AWS_REGION']\n"
            "ARN = f'arn:aws:states:{REGION}:123456789012:stateMachine:orders'\n"
            "ddb = boto3.client('dynamodb', endpoint_url='http://localhost:8000')\n",
            lines=(5, 6),
        ),
        # a local binding, a walrus, and both arms of a conditional
        Example(
            "import boto3\ns3 = boto3.client('s3')\n\ndef handler(event, context):\n"
            "    bucket = 'media-prod'\n    s3.get_object(Bucket=bucket, Key='k')\n"
            "    if (name := 'logs-prod'):\n        s3.get_object(Bucket=name, Key='k')\n"
            "    s3.get_object(Bucket='a-dev' if event.get('dev') else 'a-prod', Key='k')\n",
            lines=(5, 7, 9, 9),
        ),
    )
    VALID = (
        Example(
            "import os\nimport boto3\n\nREGION = os.environ.get('REGION', 'us-east-1')\n"
            "BUCKET = os.environ['BUCKET']\nTOPIC = os.getenv('TOPIC_ARN', "
            "'arn:aws:sns:us-east-1:123456789012:dev-alerts')\n"
            "s3 = boto3.client('s3', region_name=REGION)\n\n"
            "def handler(event, context):\n    s3.put_object(Bucket=BUCKET, Key='k', Body=b'',"
            " ContentType='application/json')\n"
            "    return s3.get_object(Bucket=event['Records'][0]['s3']['bucket']['name'], Key='k')\n"
        ),
        # Powertools service names, JSON keys, HTTP methods, content types
        Example(
            "from aws_lambda_powertools import Logger, Tracer\nimport json\n\n"
            "logger = Logger(service='orders')\ntracer = Tracer(service='orders')\n\n"
            "def handler(event, context):\n    body = json.loads(event['body'])\n"
            "    if event['httpMethod'] == 'POST':\n        return {'statusCode': 200, "
            "'headers': {'Content-Type': 'application/json'}, 'body': body['bucket']}\n"
        ),
        # ARNs with the environment filled in at run time, AWS-managed ARNs, prefixes
        Example(
            "import os\n\nREGION = os.environ['AWS_REGION']\nACCOUNT = os.environ['ACCOUNT_ID']\n"
            "ARN = f'arn:aws:sqs:{REGION}:{ACCOUNT}:orders'\n"
            "POLICY = 'arn:aws:iam::aws:policy/ReadOnlyAccess'\n"
            "BUCKET_ARN = 'arn:aws:s3:::{}/*'.format(os.environ['BUCKET'])\n\n"
            "def handler(event, context):\n"
            "    return event['Records'][0]['eventSourceARN'].startswith('arn:aws:sqs:')\n"
        ),
        # a literal default in an `or`, regions of single-region services
        Example(
            "import os, boto3\n\nTABLE = os.environ.get('TABLE') or 'orders-dev'\n"
            "iam = boto3.client('iam', region_name='us-east-1')\n"
            "acm = boto3.client('acm', region_name='us-east-1')\n\n"
            "def handler(event, context):\n    return boto3.resource('dynamodb').Table(TABLE)\n"
        ),
        # test files are fixtures, not configuration
        Example(
            "import boto3\n\ndef test_put():\n    boto3.client('s3').put_object(Bucket='test-bucket',"
            " Key='k')\n",
            path="tests/test_app.py",
        ),
        Example(
            "import boto3\nTABLE = 'orders'\n", path="conftest.py",
        ),
        # not the SDK: SQLAlchemy tables, names bound twice, tryout code, docstrings
        Example(
            "import sqlalchemy as sa\nimport boto3\n\nmeta = sa.MetaData()\n"
            "users = sa.Table('users', meta)\n\nBUCKET = 'a'\nBUCKET = 'b'\n\n"
            "def handler(event, context):\n"
            "    '''Copies to arn:aws:s3:::archive-prod.'''\n"
            "    return boto3.client('s3').get_object(Bucket=BUCKET, Key='k')\n\n"
            "if __name__ == '__main__':\n"
            "    handler({'queue': 'https://sqs.us-east-1.amazonaws.com/123456789012/q'}, None)\n"
        ),
        # f-strings whose environment-specific part comes from the environment
        Example(
            "import os, boto3\nSTAGE = os.environ['STAGE']\n\n"
            "def handler(event, context):\n"
            "    return boto3.client('s3').get_object(Bucket=f'orders-{STAGE}', Key='k')\n"
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        patterns = self.option("test-file-patterns")
        self._skip = values.is_test_file(self.facts.relative_path, patterns)
        self._hits: Dict[cst.CSTNode, _Hit] = {}

    # -- collecting ----------------------------------------------------------------------------

    def _names_of(self, node: cst.CSTNode) -> Set[str]:
        return self.qualified_names(node)

    def _add(self, hit: _Hit) -> None:
        previous = self._hits.get(hit.node)
        if previous is None or (hit.precise and not previous.precise):
            self._hits[hit.node] = hit

    def visit_Call(self, node: cst.Call) -> None:
        if self._skip or values.in_main_guard(node, self.get_metadata):
            return
        names: Optional[Set[str]] = None
        for arg in node.args:
            if arg.keyword is None:
                continue
            key = arg.keyword.value
            if key in RESOURCE_PARAMETERS:
                what, env = RESOURCE_PARAMETERS[key]
                self._check_value(arg.value, key, what, env, f"`{key}=`")
            elif key in SDK_SETTINGS:
                names = names if names is not None else self._call_names(node)
                if key == "region_name" and self._pins_single_region_service(node, arg.value, names):
                    continue
                what, env = SDK_SETTINGS[key]
                self._check_value(arg.value, key, what, env, f"`{key}=`")
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method in SSM_METHODS:
            arg = values.keyword(node, SSM_METHODS[method])
            if arg is not None:
                self._check_value(arg.value, "Name", "parameter name", "PARAMETER_NAME",
                                  f"`Name=` of `{method}`")
        elif method in RESOURCE_FACTORIES:
            index, what, env, hints = RESOURCE_FACTORIES[method]
            value = self._positional(node, index)
            if value is not None and self._is_boto3_receiver(node, method, hints):
                self._check_value(value, method, what, env, f"`{method}(...)`")
        elif method in S3_TRANSFER_METHODS:
            value = self._positional(node, S3_TRANSFER_METHODS[method])
            if value is not None and self._is_boto3_receiver(node, method, ("s3",)):
                self._check_value(value, "Bucket", "bucket name", "BUCKET_NAME",
                                  f"the bucket of `{method}`")

    def visit_DictElement(self, node: cst.DictElement) -> None:
        if self._skip:
            return
        key = values.string_value(node.key)
        if key is None or key.text not in RESOURCE_PARAMETERS:
            return
        if values.in_main_guard(node, self.get_metadata):
            return
        what, env = RESOURCE_PARAMETERS[key.text]
        self._check_value(node.value, key.text, what, env, f'`"{key.text}"`')

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self._scan_string(node)

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        self._scan_string(node)

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self._scan_string(node)

    def _scan_string(self, node: cst.BaseExpression) -> None:
        """ARNs and AWS URLs that pin a region or account, wherever they are."""
        if self._skip or not values.is_outermost_string(node, self.get_metadata):
            return
        value = values.string_value(node)
        if value is None or value.is_bytes:
            return
        text = values.template_text(value)
        if "arn:aws" not in text and "amazonaws.com" not in text:
            return
        if values.is_docstring_or_bare(node, self.get_metadata):
            return
        if values.is_config_default(node, self.get_metadata, self._names_of):
            return
        if values.in_main_guard(node, self.get_metadata):
            return
        reason = describe_arn(text)
        kind = "ARN"
        if reason is None:
            reason, kind = describe_aws_url(text), "AWS URL"
        if reason is None:
            return
        self._add(
            _Hit(
                node,
                f"Hardcoded {kind} `{_shorten(text)}` pins one environment ({reason})",
                "build it from configuration: define it in the function's environment and read "
                "it with `os.environ[...]`, or fill region and account from `AWS_REGION` and the "
                "function's own ARN (`context.invoked_function_arn`)",
                precise=False,
            )
        )

    # -- deciding --------------------------------------------------------------------------------

    def _call_names(self, call: cst.Call) -> Set[str]:
        return values.call_names(call, self._names_of, self.get_metadata)

    @staticmethod
    def _positional(call: cst.Call, index: int) -> Optional[cst.BaseExpression]:
        positional = [a for a in call.args if a.keyword is None]
        if any(a.star for a in positional[: index + 1]) or len(positional) <= index:
            return None
        return positional[index].value

    def _is_boto3_receiver(self, call: cst.Call, method: str, hints: Tuple[str, ...]) -> bool:
        """``x.Table(...)`` where ``x`` was made by ``boto3.resource(...)`` (resolved), or, when
        where ``x`` comes from cannot be seen (a parameter, an attribute), a name that says what
        it is (``dynamodb``, ``s3_resource``)."""
        if not isinstance(call.func, cst.Attribute):
            return False
        receiver = call.func.value
        made_by = values.object_factories(receiver, self._names_of, self.get_metadata)
        if made_by:
            # resolved: a service resource, or something else (``bucket.Object(key)``)
            return bool(made_by & set(BOTO3_FACTORIES))
        if values.imported_names(call.func, self.get_metadata) or (
            self._call_names(call) & {f"{cls}.{method}" for cls in self.facts.classes}
        ):
            return False  # something else: sqlalchemy.Table, a class of this module, an import
        identifier = values.identifier_of(receiver)
        if not identifier:
            return False
        lowered = identifier.lower()
        return any(hint in lowered for hint in hints)

    def _pins_single_region_service(
        self, call: cst.Call, region: cst.BaseExpression, names: Set[str]
    ) -> bool:
        if not any(name in BOTO3_FACTORIES for name in names):
            return False
        first = self._positional(call, 0)
        service_arg = values.keyword(call, "service_name")
        service = values.string_value(service_arg.value if service_arg else first) if (
            service_arg or first is not None
        ) else None
        if service is None or service.text is None:
            return False
        if service.text in SINGLE_REGION_SERVICES:
            return True
        region_value = values.string_value(values.resolve(region, self.get_metadata).value)
        return (
            service.text in US_EAST_1_SERVICES
            and region_value is not None
            and region_value.text == "us-east-1"
        )

    def _check_value(
        self, expression: cst.BaseExpression, parameter: str, what: str, env: str, where: str
    ) -> None:
        resolved = values.resolve(expression, self.get_metadata)
        leaves = list(values.literal_leaves(resolved.value))
        if any(values.is_external_read(leaf, self._names_of) for leaf in leaves):
            return  # configuration with a fallback
        if isinstance(resolved.value, cst.IfExp) and values.mentions_config(
            resolved.value.test, self._names_of, self.get_metadata
        ):
            return  # ``"http://localhost:8000" if IS_LOCAL else None``: chosen by configuration
        for leaf in leaves:
            literal = values.string_value(leaf)
            if literal is None or literal.text is None or not literal.text.strip():
                continue
            if literal.text in UNIVERSAL_VALUES.get(parameter, ()):
                continue
            if parameter == "Name" and literal.text.startswith(UNIVERSAL_PARAMETER_PREFIXES):
                continue
            if parameter in ("ExpectedBucketOwner", "QueueOwnerAWSAccountId") and not (
                _ACCOUNT_RE.match(literal.text)
            ):
                continue
            self._add(
                _Hit(
                    leaf,
                    self._message(what, literal.text, where, resolved, expression),
                    self._hint(parameter, env),
                    precise=True,
                    env=None if parameter == "region_name" else env,
                    what=what,
                )
            )

    def _message(
        self, what: str, text: str, where: str, resolved: values.Resolved,
        use: cst.BaseExpression,
    ) -> str:
        message = f"Hardcoded {what} `{_shorten(text)}` in {where}"
        constant = resolved.constant
        if constant is not None:
            line = self.get_metadata(PositionProvider, use).start.line
            message = (
                f"Hardcoded {what} `{_shorten(text)}`, used through `{constant.value}` in "
                f"{where} on line {line}"
            )
        return message

    @staticmethod
    def _hint(parameter: str, env: str) -> str:
        if parameter == "region_name":
            return (
                "drop `region_name`: in Lambda the SDK uses the function's own region "
                "(`AWS_REGION`); read it from an environment variable if it must differ"
            )
        return (
            f"define `{env}` in the function's environment and read it with "
            f'`os.environ["{env}"]`'
        )

    def finish(self) -> None:
        # A linked template that already holds the value in a variable: name that variable.
        by_value = {value: name for link in self.facts.all_links for name, value in link.environment_values}
        for hit in self._hits.values():
            hint = hit.hint
            value = hit.node.evaluated_value if isinstance(hit.node, cst.SimpleString) else None
            name = by_value.get(value) if isinstance(value, str) else None
            if name is not None:
                hint = (
                    f"the template already sets `{name}` to this value for the function: read "
                    f'`os.environ["{name}"]` instead'
                )
            elif hit.env is not None and self.facts.links and all(
                link.environment is not None and hit.env in link.environment for link in self.facts.links
            ):
                hint = (
                    f"the template sets `{hit.env}` for the function: read "
                    f'`os.environ["{hit.env}"]` instead (check that it names this {hit.what})'
                )
            self.report(hit.node, hit.message, hint=hint, fix=self._environment_fix(hit, name or hit.env))

    def _environment_fix(self, hit: _Hit, variable: Optional[str]) -> Optional[Fix]:
        """Read the value from ``os.environ`` instead (adding ``import os`` when needed). Unsafe:
        the template must define the variable for every function that runs this code."""
        if variable is None or not isinstance(hit.node, cst.SimpleString):
            return None
        if any(link.environment is not None and variable not in link.environment for link in self.facts.all_links):
            return None  # the linked template does not define it: the fix would only trade this for LL402
        edits = [Edit(self.span_of(hit.node), f'os.environ["{variable}"]')]
        if "os" not in self.facts.module_level_names:
            line = module_insertion_line(
                self.facts.module, set(), lambda statement: self.context.position_of(statement).end.line
            )
            edits.insert(0, insertion_edit(line, "import os", after_blank=False))
        return Fix(f'Read `os.environ["{variable}"]`', FixSafety.UNSAFE, tuple(edits))
