"""Per-invocation reach across the project's own modules (lambdalint.python.crossmodule): a
helper that a handler imports and calls per invocation is checked with that handler's template
link, event source and request taint."""

from __future__ import annotations

import json

import pytest

from lambdalint.cache import CACHE_FOLDER
from lambdalint.cli import main
from tests.conftest import lint_tree

LINK_RULES = ["LL001", "LL401", "LL402", "LL403"]
CODE_RULES = ["LL101", "LL102", "LL303"]

_SAM = (
    "Transform: AWS::Serverless-2016-10-31\nResources:\n  Table:\n    Type: AWS::DynamoDB::Table\n"
    "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
    "      CodeUri: CODE\n      Handler: HANDLER\n      Runtime: python3.12\n      Timeout: 10\n"
    "      Environment:\n        Variables:\n          TABLE: !Ref Table\n"
    "      Policies:\n        - DynamoDBReadPolicy:\n            TableName: !Ref Table\n"
)


def sam(handler: str, code: str = "src/") -> str:
    return _SAM.replace("CODE", code).replace("HANDLER", handler)


def marks(found):
    return [(f.path, f.span.line, f.rule_id) for f in found]


_READS_MISSING = "import os\n\n\ndef save(item):\n    return os.environ['ARCHIVE'], item\n"


# -- the import forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "handler_code",
    [
        "from db import save\n\n\ndef handler(event, context):\n    return save(event)\n",
        "from db import save as persist\n\n\ndef handler(event, context):\n    return persist(event)\n",
        "import db\n\n\ndef handler(event, context):\n    return db.save(event)\n",
        "import db as storage\n\n\ndef handler(event, context):\n    return storage.save(event)\n",
        "def handler(event, context):\n    from db import save\n    return save(event)\n",
        "import db\n\n\ndef handler(event, context):\n    return _inner(event)\n\n\ndef _inner(event):\n    return db.save(event)\n",
    ],
    ids=["from-import", "aliased", "module-attribute", "module-alias", "local-import", "through-own-helper"],
)
def test_absolute_imports_in_the_code_folder(lint, handler_code):
    files = {"template.yaml": sam("app.handler"), "src/app.py": handler_code, "src/db.py": _READS_MISSING}
    assert marks(lint(files, select=LINK_RULES)) == [("src/db.py", 5, "LL402")]


@pytest.mark.parametrize(
    "handler_code",
    [
        "from .db import save\n\n\ndef main(event, context):\n    return save(event)\n",
        "from . import db\n\n\ndef main(event, context):\n    return db.save(event)\n",
        "from pkg.db import save as persist\n\n\ndef main(event, context):\n    return persist(event)\n",
        "import pkg.db\n\n\ndef main(event, context):\n    return pkg.db.save(event)\n",
        "from .store.db import save\n\n\ndef main(event, context):\n    return save(event)\n",
    ],
    ids=["relative", "relative-module", "absolute-aliased", "dotted-module", "subpackage"],
)
def test_package_imports(lint, handler_code):
    db = "src/pkg/store/db.py" if "store" in handler_code else "src/pkg/db.py"
    files = {
        "template.yaml": sam("pkg/handler.main"),
        "src/pkg/__init__.py": "",
        "src/pkg/store/__init__.py": "",
        "src/pkg/handler.py": handler_code,
        db: _READS_MISSING,
    }
    assert marks(lint(files, select=LINK_RULES)) == [(db, 5, "LL402")]


def test_parent_package_relative_import_and_dotted_handler(lint):
    files = {
        "template.yaml": sam("pkg.api.handler.main"),
        "src/pkg/__init__.py": "",
        "src/pkg/api/__init__.py": "",
        "src/pkg/api/handler.py": "from ..shared import save\n\n\ndef main(event, context):\n    return save(event)\n",
        "src/pkg/shared.py": _READS_MISSING,
    }
    assert marks(lint(files, select=LINK_RULES)) == [("src/pkg/shared.py", 5, "LL402")]


def test_class_of_another_module_runs_its_initialiser(lint):
    repo = "import os\n\n\nclass Repo:\n    def __init__(self):\n        self.table = os.environ['ARCHIVE']\n"
    code = "from repo import Repo\n\n\ndef handler(event, context):\n    return Repo()\n"
    files = {"template.yaml": sam("app.handler"), "src/app.py": code, "src/repo.py": repo}
    assert marks(lint(files, select=LINK_RULES)) == [("src/repo.py", 6, "LL402")]


def test_helper_module_scope_runs_at_the_cold_start_of_its_callers(lint):
    helper = "import os\n\nARCHIVE = os.environ['ARCHIVE']\n\n\ndef save(item):\n    return ARCHIVE, item\n"
    code = "from db import save\n\n\ndef handler(event, context):\n    return save(event)\n"
    found = lint({"template.yaml": sam("app.handler"), "src/app.py": code, "src/db.py": helper}, select=LINK_RULES)
    assert marks(found) == [("src/db.py", 3, "LL402")]
    assert "at every cold start" in found[0].message


# -- what flows across: permissions, clients, triggers, request data ---------------------------


def test_permission_missing_for_a_write_in_a_helper(lint):
    helper = (
        "import boto3\n\nTABLE = boto3.resource('dynamodb').Table('t')\n\n\n"
        "def save(item):\n    TABLE.put_item(Item=item)\n"
    )
    code = "from db import save\n\n\ndef handler(event, context):\n    save(event)\n"
    found = lint({"template.yaml": sam("app.handler"), "src/app.py": code, "src/db.py": helper}, select=LINK_RULES)
    assert marks(found) == [("src/db.py", 7, "LL403")]
    assert "`Fn` (template.yaml:5)" in found[0].message


def test_helpers_of_helpers(lint):
    files = {
        "template.yaml": sam("app.handler"),
        "src/app.py": "import service\n\n\ndef handler(event, context):\n    return service.run(event)\n",
        "src/service.py": "from repository import save\n\n\ndef run(event):\n    return save(event)\n",
        "src/repository.py": "from db import save as write\n\n\ndef save(item):\n    return write(item)\n",
        "src/db.py": _READS_MISSING,
    }
    assert marks(lint(files, select=LINK_RULES)) == [("src/db.py", 5, "LL402")]


def test_client_created_per_invocation_in_a_helper(lint):
    helper = "import boto3\n\n\ndef table():\n    return boto3.resource('dynamodb').Table('t')\n"
    code = "import clients\n\n\ndef lambda_handler(event, context):\n    return clients.table().get_item(Key={})\n"
    found = lint({"src/app.py": code, "src/clients.py": helper}, select=["LL101"])
    assert marks(found) == [("src/clients.py", 5, "LL101")]
    assert "which handler `lambda_handler` (src/app.py) calls" in found[0].message


_QUEUE_AND_API = (
    "Transform: AWS::Serverless-2016-10-31\nResources:\n  Queue:\n    Type: AWS::SQS::Queue\n"
    "  Worker:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
    "      Handler: worker.handle\n      Runtime: python3.12\n"
    "      Events:\n        Jobs:\n          Type: SQS\n          Properties:\n            Queue: !GetAtt Queue.Arn\n"
    "  Api:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
    "      Handler: api.handle\n      Runtime: python3.12\n"
    "      Events:\n        Post:\n          Type: Api\n          Properties:\n            Path: /orders\n            Method: post\n"
)
_NOTIFY = (
    "import boto3\n\nsns = boto3.client('sns')\n\n\n"
    "def announce(order):\n    sns.publish(TopicArn='arn', Message=order['id'])\n"
)


def test_helper_shared_by_a_queue_function_and_an_api_function(lint):
    """LL303 fires once, for the SQS function, at the helper's line, naming the queue."""
    files = {
        "template.yaml": _QUEUE_AND_API,
        "src/worker.py": "import json\nfrom notify import announce\n\n\ndef handle(event, context):\n"
        "    for record in event['Records']:\n        announce(json.loads(record['body']))\n",
        "src/api.py": "import json\nfrom notify import announce\n\n\ndef handle(event, context):\n"
        "    announce(json.loads(event['body']))\n    return {'statusCode': 202}\n",
        "src/notify.py": _NOTIFY,
    }
    found = lint(files, select=["LL303"])
    assert marks(found) == [("src/notify.py", 7, "LL303")]
    assert "SQS queue" in found[0].message and "template.yaml:12" in found[0].message
    assert "handler `handle` (src/worker.py)" in found[0].message
    assert [(r.path, r.span.line) for r in found[0].related] == [("template.yaml", 12)]


def test_helper_called_only_by_the_api_function_is_not_at_least_once(lint):
    files = {
        "template.yaml": _QUEUE_AND_API,
        "src/worker.py": "def handle(event, context):\n    return len(event['Records'])\n",
        "src/api.py": "import json\nfrom notify import announce\n\n\ndef handle(event, context):\n"
        "    announce(json.loads(event['body']))\n    return {'statusCode': 202}\n",
        "src/notify.py": _NOTIFY,
    }
    assert lint(files, select=["LL303"]) == []


def test_code_guessed_queue_handler_without_a_template(lint):
    handler = (
        "from store import keep\n\n\ndef lambda_handler(event, context):\n"
        "    for record in event['Records']:\n        keep(record['body'])\n"
    )
    store = (
        "import boto3\n\nqueue = boto3.client('sqs')\nSEEN = []\n\n\n"
        "def keep(body):\n    SEEN.append(body)\n    queue.send_message(QueueUrl='q', MessageBody=body)\n"
    )
    found = lint({"src/app.py": handler, "src/store.py": store}, select=CODE_RULES)
    assert marks(found) == [("src/store.py", 8, "LL102"), ("src/store.py", 9, "LL303")]
    assert "in src/app.py" in found[1].message  # the evidence is the handler's read


def test_request_taint_reaches_only_the_tainted_parameter(lint):
    store = (
        "SEEN = []\nNAMES = []\n\n\ndef keep(body, label):\n    SEEN.append(body)\n    NAMES.append(label)\n"
    )
    handler = "from store import keep\n\n\ndef lambda_handler(event, context):\n    keep(label='static', body=event['id'])\n"
    assert marks(lint({"src/app.py": handler, "src/store.py": store}, select=["LL102"])) == [
        ("src/store.py", 6, "LL102")
    ]


# -- must not: the wrong function, or not per invocation ----------------------------------------


def test_same_named_function_in_another_package_is_not_the_one(lint):
    files = {
        "template.yaml": sam("app.handler", "src/orders/"),
        "src/orders/app.py": "from db import save\n\n\ndef handler(event, context):\n    return save(event)\n",
        "src/orders/db.py": "def save(item):\n    return item\n",
        "src/users/db.py": _READS_MISSING,
        "src/users/other.py": "from orders.db import save\n",
    }
    assert lint(files, select=LINK_RULES) == []


def test_helper_called_only_at_import_time(lint):
    clients = "import boto3\n\n\ndef make():\n    return boto3.client('s3')\n"
    code = "from clients import make\n\nS3 = make()\n\n\ndef lambda_handler(event, context):\n    return S3.list_buckets()\n"
    assert lint({"src/app.py": code, "src/clients.py": clients}, select=["LL101"]) == []


def test_helper_called_from_a_function_no_handler_reaches(lint):
    clients = "import boto3\n\n\ndef make():\n    return boto3.client('s3')\n"
    code = (
        "from clients import make\n\n\ndef lambda_handler(event, context):\n    return 1\n\n\n"
        "def maintenance():\n    return make().list_buckets()\n"
    )
    assert lint({"src/app.py": code, "src/clients.py": clients}, select=["LL101"]) == []


def test_module_named_like_the_standard_library(lint):
    """A project's own ``json.py`` or ``logging.py`` is not what ``import json`` loads in Lambda:
    the runtime imported the real one first."""
    shadow = "import boto3\n\n\ndef dumps(value):\n    return boto3.client('s3')\n\n\ndef info(*args):\n    return boto3.client('s3')\n"
    code = (
        "import json\nimport logging\n\n\ndef lambda_handler(event, context):\n"
        "    logging.info('x')\n    return json.dumps(event)\n"
    )
    files = {"src/app.py": code, "src/json.py": shadow, "src/logging.py": shadow}
    assert lint(files, select=["LL101"]) == []


def test_type_checking_and_star_imports_are_not_followed(lint):
    clients = "import boto3\n\n\ndef make():\n    return boto3.client('s3')\n"
    typing_only = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from clients import make\n\n\n"
        "def lambda_handler(event, context):\n    return make()\n"
    )
    star = "from clients import *\n\n\ndef lambda_handler(event, context):\n    return make()\n"
    assert lint({"src/app.py": typing_only, "src/clients.py": clients}, select=["LL101"]) == []
    assert lint({"src/app.py": star, "src/clients.py": clients}, select=["LL101"]) == []


def test_a_local_name_shadows_the_import(lint):
    clients = "import boto3\n\n\ndef make():\n    return boto3.client('s3')\n"
    code = (
        "from clients import make\n\n\ndef lambda_handler(event, context, make=None):\n"
        "    return make() if make else None\n"
    )
    assert lint({"src/app.py": code, "src/clients.py": clients}, select=["LL101"]) == []


def test_memoised_helper_is_not_per_invocation(lint):
    clients = (
        "import functools\nimport boto3\n\n\n@functools.lru_cache(maxsize=None)\n"
        "def make():\n    return boto3.client('s3')\n"
    )
    code = "from clients import make\n\n\ndef lambda_handler(event, context):\n    return make().list_buckets()\n"
    assert lint({"src/app.py": code, "src/clients.py": clients}, select=["LL101"]) == []


def test_helper_signature_is_not_a_handler_signature(lint):
    """An entry is not a handler: LL401 does not check it, and the helper's own handler-like
    functions are not turned into handlers."""
    code = "from db import save\n\n\ndef handler(event, context):\n    return save()\n"
    helper = "def save():\n    return 1\n"
    assert lint({"template.yaml": sam("app.handler"), "src/app.py": code, "src/db.py": helper}, select=LINK_RULES) == []


def test_absolute_import_is_looked_up_in_the_code_folder_not_beside_the_module(lint):
    """``CodeUri: src/`` + ``Handler: pkg/handler.main``: ``import db`` is ``src/db.py``, not
    ``src/pkg/db.py`` (Lambda puts the code folder on sys.path, not the package)."""
    files = {
        "template.yaml": sam("pkg/handler.main"),
        "src/pkg/__init__.py": "",
        "src/pkg/handler.py": "from db import save\n\n\ndef main(event, context):\n    return save(event)\n",
        "src/pkg/db.py": _READS_MISSING,
        "src/db.py": "def save(item):\n    return item\n",
    }
    assert lint(files, select=LINK_RULES) == []


# -- engine: pool, cache ----------------------------------------------------------------------


def test_process_pool_equals_serial_run(tmp_path):
    files = {"template.yaml": sam("app.handler")}
    body = "from db import save\n\n\ndef handler(event, context):\n    return save(event)\n"
    files["src/app.py"] = body
    files["src/db.py"] = _READS_MISSING
    for index in range(20):
        files[f"src/extra{index}.py"] = "import boto3\n\n\ndef helper():\n    return boto3.client('s3')\n"
    serial = lint_tree(tmp_path / "a", files, select=LINK_RULES + ["LL101"], jobs=1)
    pooled = lint_tree(tmp_path / "b", files, select=LINK_RULES + ["LL101"], jobs=2)
    assert marks(serial) == marks(pooled) == [("src/db.py", 5, "LL402")]


def _check(capsys):
    main(["check", "--format", "json", "--select", "LL101,LL402"])
    return [(f["path"], f["line"], f["rule"]) for f in json.loads(capsys.readouterr().out)["findings"]]


def test_a_change_in_the_handler_module_rechecks_the_helper(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "template.yaml").write_text(sam("app.handler"))
    (tmp_path / "src" / "db.py").write_text(_READS_MISSING)
    app = tmp_path / "src" / "app.py"
    app.write_text("from db import save\n\n\ndef handler(event, context):\n    return save(event)\n")
    assert _check(capsys) == [("src/db.py", 5, "LL402")]
    assert _check(capsys) == [("src/db.py", 5, "LL402")]  # warm: the export comes from the cache
    # template, app, db: the helper waits for its importer and is linted once, with its entry
    assert len(list((tmp_path / CACHE_FOLDER).rglob("*.json"))) == 3
    app.write_text("from db import save\n\n\ndef handler(event, context):\n    return 1\n\n\nsave(None)\n")
    assert _check(capsys) == []
    app.write_text("import db\n\n\ndef handler(event, context):\n    return db.save(event)\n")
    assert _check(capsys) == [("src/db.py", 5, "LL402")]


def test_a_helper_lands_in_the_shard_of_its_handler(tmp_path, monkeypatch, capsys):
    """The template is in stacks/a/, its code in code/a/: the handler goes with the template's
    group, and the helper beside it (a folder group of its own) must follow it there."""
    from lambdalint.engine import Shard

    monkeypatch.chdir(tmp_path)
    (tmp_path / "stacks" / "a").mkdir(parents=True)
    (tmp_path / "code" / "a").mkdir(parents=True)
    (tmp_path / "stacks" / "a" / "template.yaml").write_text(sam("app.handler", "../../code/a/"))
    (tmp_path / "code" / "a" / "app.py").write_text("from db import save\n\n\ndef handler(event, context):\n    return save(event)\n")
    (tmp_path / "code" / "a" / "db.py").write_text(_READS_MISSING)
    count = next(n for n in range(2, 40) if Shard(1, n).owns("stacks/a/template.yaml") != Shard(1, n).owns("code/a"))

    def run(*args):
        main(["check", "--format", "json", "--no-cache", "--select", "LL402", *args])
        return [(f["path"], f["line"], f["rule"]) for f in json.loads(capsys.readouterr().out)["findings"]]

    whole = run()
    assert whole == [("code/a/db.py", 5, "LL402")]
    assert sorted(f for index in range(1, count + 1) for f in run("--shard", f"{index}/{count}")) == whole


def test_idempotent_handler_guards_its_helpers(lint):
    worker = (
        "import json\nfrom aws_lambda_powertools.utilities.idempotency import idempotent\n"
        "from notify import announce\n\n\n@idempotent(persistence_store=None)\n"
        "def handle(event, context):\n    for record in event['Records']:\n        announce(json.loads(record['body']))\n"
    )
    files = {"template.yaml": _QUEUE_AND_API, "src/worker.py": worker, "src/notify.py": _NOTIFY,
             "src/api.py": "def handle(event, context):\n    return 1\n"}
    assert lint(files, select=["LL303"]) == []
    files["src/worker.py"] = worker.replace("@idempotent(persistence_store=None)\n", "")
    assert marks(lint(files, select=["LL303"])) == [("src/notify.py", 7, "LL303")]


_S3_TEMPLATE = (
    "Transform: AWS::Serverless-2016-10-31\nResources:\n  Thumbs:\n"
    "    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
    "      Handler: app.handler\n      Runtime: python3.12\n      Timeout: 30\n"
    "      Environment:\n        Variables:\n          OUTPUT_BUCKET: !Ref Uploads\n"
    "      Policies:\n        - S3CrudPolicy:\n            BucketName: !Ref Uploads\n"
    "      Events:\n        Upload:\n          Type: S3\n          Properties:\n"
    "            Bucket: !Ref Uploads\n            Events: s3:ObjectCreated:*\n"
    "  Uploads:\n    Type: AWS::S3::Bucket\n"
)
_S3_HANDLER = (
    "from thumbs import store\n\n\ndef handler(event, context):\n    for record in event['Records']:\n"
    "        store(record['s3']['bucket']['name'], record['s3']['object']['key'])\n"
)


def test_recursive_write_in_a_helper_to_the_bucket_the_template_points_at_the_trigger(lint):
    thumbs = (
        "import os\nimport boto3\n\ns3 = boto3.client('s3')\n\n\ndef store(bucket, key):\n"
        "    s3.put_object(Bucket=os.environ['OUTPUT_BUCKET'], Key=f'thumb/{key}', Body=b'')\n"
    )
    found = lint({"template.yaml": _S3_TEMPLATE, "src/app.py": _S3_HANDLER, "src/thumbs.py": thumbs},
                 select=["LL304", "LL402", "LL403", "LL604"])
    assert marks(found) == [("src/thumbs.py", 8, "LL304")]
    assert [(r.path, r.span.line) for r in found[0].related][:1] == [("template.yaml", 17)]


def test_bucket_name_passed_in_from_the_event_is_not_judged_in_the_helper(lint):
    """The handler may skip its own outputs (``if key.startswith("thumb/"): continue``) where the
    helper cannot see it: LL304 stays quiet in the helper (a documented blind spot)."""
    thumbs = (
        "import boto3\n\ns3 = boto3.client('s3')\n\n\ndef store(bucket, key):\n"
        "    s3.put_object(Bucket=bucket, Key=f'thumb/{key}', Body=b'')\n"
    )
    template = _S3_TEMPLATE.replace("      Environment:\n        Variables:\n          OUTPUT_BUCKET: !Ref Uploads\n", "")
    found = lint({"template.yaml": template, "src/app.py": _S3_HANDLER, "src/thumbs.py": thumbs}, select=["LL304"])
    assert found == []


def test_sdk_timeout_of_a_helper_compared_with_its_callers_function(lint):
    helper = "import boto3\n\ns3 = boto3.client('s3')\n\n\ndef save(item):\n    return s3, item\n"
    code = "from db import save\n\n\ndef handler(event, context):\n    return save(event)\n"
    found = lint({"template.yaml": sam("app.handler"), "src/app.py": code, "src/db.py": helper}, select=["LL302"])
    assert marks(found) == [("src/db.py", 3, "LL302")]
    helper_alone = {"template.yaml": sam("app.handler"), "src/app.py": "def handler(event, context):\n    return 1\n", "src/db.py": helper}
    assert lint(helper_alone, select=["LL302"]) == []


def test_fix_hoists_a_client_made_per_invocation_in_a_helper(tmp_path, monkeypatch, capsys):
    """--fix lints file by file: the helper's entries are found first, so it fixes what
    ``check`` reports in the helper."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        "from clients import table\n\n\ndef lambda_handler(event, context):\n    return table()\n"
    )
    helper = tmp_path / "src" / "clients.py"
    helper.write_text("import boto3\n\n\ndef table():\n    return boto3.client('dynamodb')\n")
    assert _check_only(capsys, "LL101") == [("src/clients.py", 5, "LL101")]
    main(["check", "--no-cache", "--select", "LL101", "--fix"])
    capsys.readouterr()
    assert "dynamodb" in helper.read_text() and "def table():\n    return boto3.client" not in helper.read_text()
    assert _check_only(capsys, "LL101") == []


def _check_only(capsys, rules):
    main(["check", "--no-cache", "--format", "json", "--select", rules])
    return [(f["path"], f["line"], f["rule"]) for f in json.loads(capsys.readouterr().out)["findings"]]


def test_a_module_level_rebinding_of_the_imported_name_is_not_followed(lint):
    clients = "import boto3\n\n\ndef make():\n    return boto3.client('s3')\n"
    redefined = (
        "from clients import make\n\n\ndef make():\n    return None\n\n\n"
        "def lambda_handler(event, context):\n    return make()\n"
    )
    assert lint({"src/app.py": redefined, "src/clients.py": clients}, select=["LL101"]) == []
    reassigned = "from clients import make\n\nmake = None\n\n\ndef lambda_handler(event, context):\n    return make()\n"
    assert lint({"src/app.py": reassigned, "src/clients.py": clients}, select=["LL101"]) == []


def test_hardcoded_name_in_a_helper_names_the_callers_variable(lint):
    """LL201 in a helper suggests the variable that the calling function's template sets to
    that value, and its unsafe fix reads that variable (not one the template lacks)."""
    helper = "import boto3\n\ntable = boto3.resource('dynamodb').Table('orders-prod')\n\n\ndef save(item):\n    return table, item\n"
    code = "from db import save\n\n\ndef handler(event, context):\n    return save(event)\n"
    template = sam("app.handler").replace("          TABLE: !Ref Table\n", "          TABLE: orders-prod\n")
    found = lint({"template.yaml": template, "src/app.py": code, "src/db.py": helper}, select=["LL201"])
    assert marks(found) == [("src/db.py", 3, "LL201")]
    assert "`TABLE`" in found[0].hint
    assert found[0].fix is not None and 'os.environ["TABLE"]' in found[0].fix.edits[-1].content


def test_modules_that_import_each_other_terminate(lint):
    """app.handler -> service.run -> app.audit (back into the handler's module): the cycle ends,
    and what app.audit reaches counts as per invocation there too."""
    app = (
        "import boto3\nimport service\n\n\ndef handler(event, context):\n    return service.run(event)\n\n\n"
        "def audit(item):\n    return boto3.client('s3'), item\n"
    )
    service = "import app\n\n\ndef run(event):\n    return app.audit(event)\n"
    found = lint({"template.yaml": sam("app.handler"), "src/app.py": app, "src/service.py": service}, select=["LL101"])
    assert marks(found) == [("src/app.py", 10, "LL101")]


def test_async_and_class_based_handlers(lint):
    helper = "import boto3\n\n\nasync def fetch(key):\n    return boto3.client('s3'), key\n"
    async_handler = "from store import fetch\n\n\nasync def lambda_handler(event, context):\n    return await fetch(event['key'])\n"
    assert marks(lint({"src/app.py": async_handler, "src/store.py": helper}, select=["LL101"])) == [
        ("src/store.py", 5, "LL101")
    ]
    class_based = (
        "import store\n\n\nclass Handler:\n    def handle(self, event, context):\n        return self._work(event)\n\n"
        "    def _work(self, event):\n        return store.fetch(event['key'])\n\n\nhandler = Handler().handle\n"
    )
    files = {"template.yaml": sam("app.handler"), "src/app.py": class_based, "src/store.py": helper}
    assert marks(lint(files, select=["LL101"])) == [("src/store.py", 5, "LL101")]


def test_serverless_handler_imports_from_the_service_root(lint):
    """Serverless puts the service folder on sys.path: ``handler: src/handlers/orders.create``
    imports ``src.lib.db`` from there."""
    serverless = (
        "service: orders\nprovider:\n  name: aws\n  runtime: python3.12\n  environment:\n    TABLE: orders\n"
        "functions:\n  create:\n    handler: src/handlers/orders.create\n"
    )
    files = {
        "serverless.yml": serverless,
        "src/handlers/orders.py": "from src.lib.db import save\n\n\ndef create(event, context):\n    return save(event)\n",
        "src/lib/db.py": _READS_MISSING,
    }
    found = lint(files, select=LINK_RULES)
    assert marks(found) == [("src/lib/db.py", 5, "LL402")]
    assert "`create` (serverless.yml:8)" in found[0].message


def test_helper_shared_by_two_queue_functions_is_reported_once(lint):
    template = _QUEUE_AND_API.replace("Handler: api.handle", "Handler: other.handle").replace(
        "          Type: Api\n          Properties:\n            Path: /orders\n            Method: post\n",
        "          Type: SQS\n          Properties:\n            Queue: !GetAtt Queue.Arn\n",
    )
    worker = (
        "import json\nfrom notify import announce\n\n\ndef handle(event, context):\n"
        "    for record in event['Records']:\n        announce(json.loads(record['body']))\n"
    )
    files = {"template.yaml": template, "src/worker.py": worker, "src/other.py": worker, "src/notify.py": _NOTIFY}
    assert marks(lint(files, select=["LL303"])) == [("src/notify.py", 7, "LL303")]


def test_caller_wrapped_with_idempotent_function_guards_its_helpers(lint):
    """As in one module, LL303 counts a function wrapped with ``idempotent_function(...)(fn)``
    as guarded wherever it is called; its helpers in other modules are guarded with it."""
    worker = (
        "import json\nfrom aws_lambda_powertools.utilities.idempotency import idempotent_function\n"
        "from notify import announce\n\n\ndef process(record):\n    announce(json.loads(record['body']))\n\n\n"
        "guarded = idempotent_function(data_keyword_argument='record', persistence_store=None)(process)\n\n\n"
        "def handle(event, context):\n    for record in event['Records']:\n        guarded(record=record)\n        process(record)\n"
    )
    files = {"template.yaml": _QUEUE_AND_API, "src/worker.py": worker, "src/notify.py": _NOTIFY,
             "src/api.py": "def handle(event, context):\n    return 1\n"}
    assert lint(files, select=["LL303"]) == []
