"""LL301 http-call-without-timeout and LL302 sdk-client-without-timeout: a corpus of realistic
handlers with exact expected findings (see tests/test_config_rules.py for the ``# expect:``
convention), and the rules' options, messages and edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdalint.config import ConfigError, parse_config
from lambdalint.engine import Session
from lambdalint.model import FixSafety, Severity
from lambdalint.registry import all_rules
from tests.conftest import lint_tree
from tests.test_config_rules import check_corpus, corpus, lint_one

FUNCTION_TIMEOUT_30 = {"options": {"LL302": {"function-timeout": 30}}}


def test_timeouts_corpus_has_enough_realistic_handlers():
    files = corpus("timeouts")
    handlers = [t for t in files.values() if "def handler" in t or "def lambda_handler" in t
                or "handler = " in t or "inject_lambda_context" in t]
    assert len(handlers) >= 15
    joined = "\n".join(files.values())
    for needle in ("async def handler", "class OrderProcessor", "match event", ":= ",
                   "from __future__ import annotations", "import requests as rq",
                   "with requests.Session() as session"):
        assert needle in joined, needle


def test_timeouts_corpus_findings_are_exact(tmp_path):
    check_corpus(tmp_path, "timeouts", ["LL301", "LL302"], config=FUNCTION_TIMEOUT_30)


def test_ll302_corpus_is_silent_without_a_known_function_timeout(tmp_path):
    files = corpus("timeouts")
    found = lint_tree(tmp_path, files, select=["LL302"])
    assert found == []


# -- LL301 ---------------------------------------------------------------------------------------


def test_ll301_metadata_and_hint_use_default_timeout_option(tmp_path):
    code = "import requests\n\ndef handler(event, context):\n    return requests.get(event['u'])\n"
    (finding,) = lint_one(tmp_path / "a", code, "LL301")
    assert finding.severity is Severity.WARNING
    assert finding.fix.safety is FixSafety.UNSAFE
    assert [edit.content for edit in finding.fix.edits] == [", timeout=10"]
    assert all_rules()["LL301"].fix_safety is FixSafety.UNSAFE
    assert "timeout=10" in finding.hint
    (finding,) = lint_one(
        tmp_path / "b", code, "LL301", config={"options": {"LL301": {"default-timeout": 4}}}
    )
    assert "timeout=4" in finding.hint and "timeout=10" not in finding.hint
    assert [edit.content for edit in finding.fix.edits] == [", timeout=4"]
    assert (finding.span.line, finding.span.column) == (4, 12)


def test_ll301_option_type_is_checked():
    with pytest.raises(ConfigError, match="default-timeout"):
        parse_config({"options": {"LL301": {"default-timeout": "10"}}}, root=Path("."))


@pytest.mark.parametrize(
    "code,lines",
    [
        # every requests verb, through `import requests as r`
        (
            "import requests as r\n"
            + "".join(f"r.{m}('u')\n" for m in ("get", "post", "put", "patch", "delete", "head", "options")),
            [2, 3, 4, 5, 6, 7, 8],
        ),
        # a (connect, read) tuple whose read part is None waits forever for the response
        ("import requests\nREAD = None\nrequests.get('u', timeout=(3.05, None))\n"
         "requests.get('u', timeout=(3.05, READ))\nrequests.get('u', timeout=(3.05, 27))\n", [3, 4]),
        # the copy of requests that old runtimes vendored in botocore
        ("from botocore.vendored import requests\nrequests.post('u')\n", [2]),
        # requests.api functions and session factories spelled differently
        ("import requests.api\nimport requests.sessions\nrequests.api.get('u')\n"
         "requests.sessions.Session().post('u')\n", [3, 4]),
        # a session kept on self (class-based handlers), also as a class attribute
        ("import requests\nclass C:\n    http = requests.Session()\n    def __init__(self):\n"
         "        self.s = requests.Session()\n    def run(self, event, context):\n"
         "        self.http.get('u')\n        return self.s.post('u')\n", [7, 8]),
        # a session bound at module level and used in a nested helper
        ("import requests\nS = requests.Session()\n\ndef handler(event, context):\n"
         "    def inner():\n        return S.get('u')\n    return inner()\n", [6]),
        # an explicit `timeout=None` through a chain of constants
        ("import requests\nA = None\nB = A\nrequests.get('u', timeout=B)\n", [4]),
        # the urllib3 pool made in the same function, inline, or as an HTTPSConnectionPool
        ("import urllib3\n\ndef handler(event, context):\n    pool = urllib3.HTTPSConnectionPool('h')\n"
         "    pool.urlopen('GET', '/')\n    urllib3.PoolManager().request('GET', 'u')\n", [5, 6]),
        # aiohttp: timeout=None falls back to the 5-minute default; ClientTimeout() has no limit
        ("import aiohttp\nasync def f():\n    aiohttp.ClientSession(timeout=None)\n"
         "    aiohttp.ClientSession(timeout=aiohttp.ClientTimeout())\n", [3, 4]),
    ],
)
def test_ll301_more_shapes(tmp_path, code, lines):
    assert [f.span.line for f in lint_one(tmp_path, code, "LL301")] == lines


@pytest.mark.parametrize(
    "code",
    [
        # the pool comes from elsewhere: its timeout is unknown
        "def handler(event, context, pool=None):\n    return pool.request('GET', 'u')\n",
        "from app.http import pool\n\ndef handler(event, context):\n    return pool.request('GET', 'u')\n",
        # a session passed in, a parameter named like a module-level session, a loop variable
        "import requests\ns = requests.Session()\n\ndef f(s):\n    return s.get('u')\n",
        "import requests\ndef f(sessions):\n    for s in sessions:\n        s.get('u')\n",
        # an attribute of self bound twice, or given an adapter
        "import requests\nclass C:\n    def __init__(self, s=None):\n        self.s = requests.Session()\n"
        "        if s:\n            self.s = s\n    def run(self):\n        return self.s.get('u')\n",
        "import requests\nclass C:\n    def __init__(self):\n        self.s = requests.Session()\n"
        "        self.s.mount('https://', object())\n    def run(self):\n        return self.s.get('u')\n",
        # *args to urlopen may carry the timeout; **kwargs to requests may too
        "from urllib.request import urlopen\ndef f(*args):\n    return urlopen(*args)\n",
        "import requests\ndef f(url, *a, **kw):\n    return requests.post(url, **kw)\n",
        # httpx with its default, or a Timeout that sets values
        "import httpx\nhttpx.post('u')\nhttpx.Client(timeout=httpx.Timeout(5.0))\n",
        # a session rebound: which one is used is unknown
        "import requests\nfrom app import make\ns = requests.Session()\ns = make()\ns.get('u')\n",
        # the name `requests` that is a local object
        "def handler(event, context):\n    requests = event['requests']\n    return requests.get('u')\n",
        # socket default timeout covers urllib3 too
        "import socket, urllib3\nsocket.setdefaulttimeout(3.0)\nurllib3.request('GET', 'u')\n",
    ],
)
def test_ll301_quiet(tmp_path, code):
    assert lint_one(tmp_path, code, "LL301") == []


def test_ll301_messages_name_what_the_code_says(tmp_path):
    code = (
        "from requests import post as send\nimport aiohttp\n\nasync def handler(event, context):\n"
        "    send('u')\n    async with aiohttp.ClientSession() as s:\n        pass\n"
    )
    first, second = lint_one(tmp_path, code, "LL301")
    assert first.message.startswith("`send` (requests.post) is called without a timeout")
    assert "5 minutes" in second.message and "aiohttp.ClientTimeout(total=10)" in second.hint


def test_ll301_no_read_timeout_message(tmp_path):
    (finding,) = lint_one(tmp_path, "import requests\nrequests.get('u', timeout=(2, None))\n", "LL301")
    assert finding.message.startswith(
        "`requests.get` is called with no read timeout (`(connect, None)`)"
    )


def test_ll301_unlimited_timeout_objects(tmp_path):
    code = (
        "import aiohttp, httpx\nasync def f():\n"
        "    aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))\n"
        "    httpx.get('u', timeout=httpx.Timeout(timeout=None))\n"
        "    httpx.get('u', timeout=None)\n"
    )
    messages = [f.message for f in lint_one(tmp_path, code, "LL301")]
    assert messages == [
        "`aiohttp.ClientSession` is used with a timeout object that sets no limit: its requests can wait forever",
        "`httpx.get` is used with a timeout object that sets no limit: its requests can wait forever",
        "`httpx.get` is used with `timeout=None`: its requests can wait forever",
    ]


# -- LL302 ---------------------------------------------------------------------------------------


def test_ll302_is_off_by_default():
    rule = all_rules()["LL302"]
    assert rule.enabled_by_default is False
    session = Session.create(parse_config({}, root=Path(".")))
    assert "LL302" not in session.enabled
    session = Session.create(parse_config({"extend-select": ["LL302"]}, root=Path(".")))
    assert "LL302" in session.enabled


def test_ll302_not_selected_means_no_finding_even_with_the_option(tmp_path):
    code = "import boto3\nsqs = boto3.client('sqs')\n"
    found = lint_tree(tmp_path, {"app.py": code}, config=FUNCTION_TIMEOUT_30)
    assert [f for f in found if f.rule_id == "LL302"] == []


@pytest.mark.parametrize(
    "config_expression,function_timeout,flagged",
    [
        # no config: 5 legacy attempts x (60 + 60) = 600 s
        ("", 599, True),
        ("", 600, False),
        # standard mode: 3 attempts -> 360 s
        (", config=Config(retries={'mode': 'standard'})", 359, True),
        (", config=Config(retries={'mode': 'standard'})", 360, False),
        # max_attempts counts retries: 1 + 1 attempts x (2 + 60)
        (", config=Config(connect_timeout=2, retries={'max_attempts': 1})", 123, True),
        (", config=Config(connect_timeout=2, retries={'max_attempts': 1})", 124, False),
        # total_max_attempts counts every attempt: 1 x (60 + 5)
        (", config=Config(read_timeout=5, retries={'total_max_attempts': 1})", 64, True),
        (", config=Config(read_timeout=5, retries={'total_max_attempts': 1})", 65, False),
        # both timeouts set: (50 + 50) x 5 legacy attempts = 500 s still counts
        (", config=Config(connect_timeout=50, read_timeout=50)", 499, True),
        (", config=Config(connect_timeout=50, read_timeout=50)", 500, False),
        (", config=Config(connect_timeout=1, read_timeout=2, retries={'total_max_attempts': 3})", 8, True),
        (", config=Config(connect_timeout=1, read_timeout=2, retries={'total_max_attempts': 3})", 9, False),
        # a non-literal timeout: the worst case is unknown
        (", config=Config(connect_timeout=T, read_timeout=60)", 3, False),
        # config=None is the default config
        (", config=None", 30, True),
        # a non-literal timeout for the missing part's partner: the sum is unknown
        (", config=Config(connect_timeout=T)", 30, False),
    ],
)
def test_ll302_worst_case(tmp_path, config_expression, function_timeout, flagged):
    code = (
        "import os\nimport boto3\nfrom botocore.config import Config\nT = int(os.environ['T'])\n"
        f"c = boto3.client('s3'{config_expression})\n"
    )
    found = lint_one(
        tmp_path, code, "LL302",
        config={"options": {"LL302": {"function-timeout": function_timeout}}},
    )
    assert [f.span.line for f in found] == ([5] if flagged else [])


def test_ll302_botocore_and_aiobotocore_sessions(tmp_path):
    code = (
        "import botocore.session\nfrom aiobotocore.session import get_session\n"
        "from aiobotocore.config import AioConfig\n\n"
        "core = botocore.session.get_session().create_client('sqs')\n\n"
        "async def handler(event, context):\n"
        "    async with get_session().create_client('s3') as s3:\n        pass\n"
        "    async with get_session().create_client(\n"
        "        's3', config=AioConfig(connect_timeout=1, read_timeout=5)\n    ) as ok:\n"
        "        pass\n"
    )
    found = lint_one(tmp_path, code, "LL302", config=FUNCTION_TIMEOUT_30)
    assert [f.span.line for f in found] == [5, 8]


def test_ll302_message_and_hint(tmp_path):
    code = "import boto3\nddb = boto3.resource('dynamodb')\n"
    (finding,) = lint_one(tmp_path, code, "LL302", config=FUNCTION_TIMEOUT_30)
    assert finding.message == (
        "The boto3 resource for `dynamodb` has no `connect_timeout` or `read_timeout`: with "
        "botocore's defaults one call can wait up to (60 s + 60 s) x 5 attempts = 600 s, longer "
        "than the function's 30 s timeout"
    )
    assert "connect_timeout=2, read_timeout=4, retries={'total_max_attempts': 3}" in finding.hint
    assert "(2 + 4) x 3 = 18 s" in finding.hint
    assert finding.fix is not None and finding.fix.safety is FixSafety.UNSAFE


def test_ll302_option_type_is_checked():
    with pytest.raises(ConfigError, match="function-timeout"):
        parse_config({"options": {"LL302": {"function-timeout": 2.5}}}, root=Path("."))
