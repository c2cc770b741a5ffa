"""Property tests: whatever the module around a handler looks like, fixes never produce a file
that fails to parse or compile, and a second fix pass changes nothing."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from lambdalint.config import Config  # noqa: E402
from lambdalint.discovery import SourceFile  # noqa: E402
from lambdalint.engine import Session  # noqa: E402
from lambdalint.fix import fix_source  # noqa: E402

SESSION = Session.create(Config())
FILE = SourceFile("app.py", Path("app.py"), "python")

HANDLER = """
import boto3 as _boto3_for_test


def lambda_handler(event, context):
    first = _boto3_for_test.client("s3")
    second = _boto3_for_test.resource("dynamodb", region_name="eu-west-1")
    return first, second
"""


def check_fix(source: str) -> None:
    warnings.simplefilter("ignore", SyntaxWarning)  # generated code may say odd but valid things
    data = source.encode("utf-8")
    for unsafe in (False, True):
        once = fix_source(SESSION, FILE, data, unsafe=unsafe)
        text = once.fixed.decode("utf-8")
        compile(text, "app.py", "exec", dont_inherit=True)
        twice = fix_source(SESSION, FILE, once.fixed, unsafe=unsafe)
        assert twice.fixed == once.fixed, "a second --fix must change nothing"


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_generated_modules_around_a_handler(data):
    hypothesmith = pytest.importorskip("hypothesmith")
    module = data.draw(hypothesmith.from_grammar(start="file_input"))
    warnings.simplefilter("ignore", SyntaxWarning)
    try:
        compile(module, "generated", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        hypothesis.assume(False)
    check_fix(module.rstrip("\n") + "\n" + HANDLER)
    check_fix(HANDLER + "\n" + module)


ARGUMENT = st.sampled_from(['"s3"', "'sqs'", '"dynamodb"', "SERVICE", 'service_name="sns"'])
EXTRA = st.sampled_from(["", ', region_name="eu-west-1"', ", region_name=REGION",
                         ', region_name=os.environ["AWS_REGION"]', ", config=CONFIG",
                         ", region_name=event['region']", ",\n        # why\n        region_name=REGION,\n    "])
FACTORY = st.sampled_from(["boto3.client", "boto3.resource", "b3.client", "mk"])
PLACE = st.sampled_from(["direct", "nested", "helper", "if", "comprehension", "method"])


@st.composite
def handler_modules(draw):
    calls = draw(st.lists(st.tuples(FACTORY, ARGUMENT, EXTRA, PLACE), min_size=1, max_size=4))
    header = draw(st.sampled_from(['"""Docstring."""\n', "#!/usr/bin/env python\n# comment\n", ""]))
    lines = [header + "import os\nimport boto3\nimport boto3 as b3\nfrom boto3 import client as mk\n"
             "from botocore.config import Config\n\nSERVICE = 's3'\nREGION = 'eu-west-1'\n"
             "CONFIG = Config(connect_timeout=1)\n"]
    body = ["def lambda_handler(event, context):\n    results = []\n"]
    helpers = []
    for index, (factory, argument, extra, place) in enumerate(calls):
        if factory == "mk" and argument.startswith("service_name"):
            argument = '"s3"'
        call = f"{factory}({argument}{extra})"
        if place == "direct":
            body.append(f"    results.append({call})\n")
        elif place == "nested":
            body.append(f"    def inner_{index}():\n        return {call}\n    results.append(inner_{index}())\n")
        elif place == "helper":
            helpers.append(f"def helper_{index}(x):\n    return {call}\n\n\n")
            body.append(f"    results.append(helper_{index}(event))\n")
        elif place == "if":
            body.append(f"    if event.get('flag'):  # branch\n        results.append({call})\n")
        elif place == "comprehension":
            body.append(f"    results.extend([{call} for _ in range(1)])\n")
        else:
            helpers.append(f"class Worker{index}:\n    def run(self, event):\n        return {call}\n\n\n")
            body.append(f"    results.append(Worker{index}().run(event))\n")
    body.append("    return results\n")
    return "\n".join(lines) + "\n\n" + "".join(helpers) + "".join(body)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(handler_modules(), st.booleans())
def test_generated_handlers(source, crlf):
    if crlf:
        source = source.replace("\n", "\r\n")
    check_fix(source)
