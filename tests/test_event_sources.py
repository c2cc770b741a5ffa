"""Guessing a handler's event source from its code (lambdalint.python.event_sources)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import pytest

from lambdalint.model import Span
from lambdalint.python.event_sources import EventSourceInfo, event_source
from tests.test_taint import analyse


def guess(code: str, handler: str = "handler") -> EventSourceInfo:
    flow = analyse(code)
    return event_source(flow, flow.facts.functions[handler])


@pytest.mark.parametrize(
    "body,source,evidence",
    [
        ("for r in event['Records']:\n        r['s3']['object']['key']", "s3", 'event["Records"][*]["s3"]'),
        ("for r in event['Records']:\n        r['body']", "sqs", 'event["Records"][*]["body"]'),
        ("for r in event['Records']:\n        r['Sns']['Message']", "sns", 'event["Records"][*]["Sns"]'),
        ("for r in event['Records']:\n        r['kinesis']['data']", "kinesis", 'event["Records"][*]["kinesis"]'),
        ("for r in event['Records']:\n        r['dynamodb']['NewImage']", "dynamodb",
         'event["Records"][*]["dynamodb"]'),
        ("event['Records'][0]['body']", "sqs", 'event["Records"][*]["body"]'),
        ("event['detail']['orderId']", "eventbridge", 'event["detail"]'),
        ("event.get('detail-type')", "eventbridge", 'event["detail-type"]'),
        ("event['httpMethod']", "api", 'event["httpMethod"]'),
        ("event['requestContext']['http']['method']", "api", 'event["requestContext"]'),
        ("event.get('queryStringParameters') or {}", "api", 'event["queryStringParameters"]'),
        ("event['pathParameters']['id']", "api", 'event["pathParameters"]'),
        # a membership test reads the key too
        ("if 'Records' in event and 's3' in event['Records'][0]:\n        pass", "s3",
         'event["Records"][*]["s3"]'),
    ],
)
def test_reads_of_the_event_name_the_source(body, source, evidence):
    info = guess(f"def handler(event, context):\n    {body}\n")
    assert info.sources[0] == source
    assert info.evidence == evidence
    assert info.origin == "code-guess"
    assert info.at_least_once == (source != "api")
    assert info.synchronous_api == (source == "api")


def test_reads_in_a_helper_count_for_the_handler_that_passes_the_record():
    info = guess(
        "import json\n\ndef process(record):\n    return json.loads(record['body'])\n\n"
        "def handler(event, context):\n    for r in event['Records']:\n        process(r)\n"
    )
    assert info.sources == ("sqs",)
    assert info.describe() == (
        'this handler reads SQS records (event["Records"][*]["body"]), which are delivered at least once'
    )


def test_an_s3_notification_inside_an_sqs_message_is_an_sqs_source():
    info = guess(
        "import json\n\ndef handler(event, context):\n    for r in event['Records']:\n"
        "        note = json.loads(r['body'])\n        b = note['Records'][0]['s3']['bucket']['name']\n"
    )
    assert info.sources == ("sqs",)


def test_each_handler_has_its_own_guess_even_with_a_shared_helper():
    flow = analyse(
        "def read(evt):\n    return evt.get('id')\n\n"
        "def api(event, context):\n    return read(event['pathParameters'])\n\n"
        "def worker(event, context):\n    for r in event['Records']:\n        read(r['body'])\n"
    )
    assert event_source(flow, flow.facts.functions["api"]).sources == ("api",)
    assert event_source(flow, flow.facts.functions["worker"]).sources == ("sqs",)


def test_match_statements_are_read():
    info = guess(
        "def handler(event, context):\n    match event:\n"
        "        case {'detail-type': 'Order Placed', 'detail': detail}:\n            return detail\n"
    )
    assert info.sources == ("eventbridge",)


@pytest.mark.parametrize(
    "code,source,evidence",
    [
        (
            "from aws_lambda_powertools.utilities.data_classes import event_source, SQSEvent\n\n"
            "@event_source(data_class=SQSEvent)\ndef handler(event, context):\n    return 1\n",
            "sqs", "event_source(data_class=SQSEvent)",
        ),
        (
            "from aws_lambda_powertools.utilities.data_classes import S3Event\n\n"
            "def handler(event: S3Event, context):\n    return 1\n",
            "s3", "an event typed S3Event",
        ),
        (
            "from aws_lambda_powertools.utilities import data_classes as dc\n\n"
            "def handler(event, context):\n    e = dc.EventBridgeEvent(event)\n    return e.detail\n",
            "eventbridge", None,
        ),
        (
            "from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, "
            "process_partial_response\nprocessor = BatchProcessor(event_type=EventType.KinesisDataStreams)\n\n"
            "def record_handler(record):\n    pass\n\n"
            "def handler(event, context):\n    return process_partial_response(event=event, "
            "record_handler=record_handler, processor=processor, context=context)\n",
            "kinesis", "Powertools batch processing",
        ),
        (
            "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
            "app = APIGatewayRestResolver()\n\n"
            "def handler(event, context):\n    return app.resolve(event, context)\n",
            "api", "a Powertools event handler resolver",
        ),
        (
            "from aws_lambda_powertools.utilities.data_classes import event_source\n"
            "from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent as Stream\n\n"
            "@event_source(data_class=Stream)\ndef handler(event, context):\n"
            "    for record in event.records:\n        pass\n",
            "dynamodb", "event_source(data_class=DynamoDBStreamEvent)",
        ),
    ],
)
def test_powertools_classes_name_the_source(code, source, evidence):
    info = guess(code)
    assert info.sources[0] == source
    if evidence is not None:
        assert info.evidence == evidence


def test_powertools_sqs_records_read_as_attributes():
    info = guess(
        "from aws_lambda_powertools.utilities.data_classes import SQSEvent\n\n"
        "def handler(event, context):\n    for record in SQSEvent(event).records:\n"
        "        print(record.body)\n"
    )
    assert info.sources == ("sqs",)


def test_unknown_when_nothing_tells():
    info = guess("def handler(event, context):\n    return event['payload']\n")
    assert info.sources == ()
    assert not info.at_least_once and not info.synchronous_api


def test_a_handler_that_serves_both_is_at_least_once():
    info = guess(
        "def handler(event, context):\n    if 'Records' in event:\n"
        "        return [r['body'] for r in event['Records']]\n    return event['httpMethod']\n"
    )
    assert info.sources == ("sqs", "api")
    assert info.at_least_once and not info.synchronous_api


def test_a_template_fact_overrides_the_guess():
    flow = analyse("def handler(event, context):\n    return event['httpMethod']\n")
    handler = flow.facts.functions["handler"]
    fact = EventSourceInfo("handler", ("sqs",), origin="template",
                           evidence="SQS queue `OrdersQueue` (template.yaml:42)")
    flow.facts.event_source_overrides["handler"] = fact
    assert event_source(flow, handler) is fact
    assert fact.describe() == (
        "this handler is invoked by SQS queue `OrdersQueue` (template.yaml:42), which delivers "
        "events at least once"
    )


@dataclass(frozen=True)
class FakeTrigger:
    """The shape of lambdalint.project.Trigger."""

    kind: str
    name: str
    path: str
    span: Span
    source: str = ""


@dataclass(frozen=True)
class FakeLink:
    """The shape of lambdalint.project.LinkedFunction, as far as event sources go."""

    triggers: Tuple[FakeTrigger, ...] = ()


def _linked(code, *links):
    flow = analyse(code)
    flow.facts.links_of = lambda handler: links  # what the project model provides
    return flow, flow.facts.functions["handler"]


def test_linked_template_triggers_decide_over_the_code():
    # the code reads like an API handler; the template says SQS (and an API)
    flow, handler = _linked(
        "def handler(event, context):\n    return event['httpMethod']\n",
        FakeLink((FakeTrigger("api", "Get", "template.yaml", Span(30, 9, 30, 12)),
                  FakeTrigger("sqs", "Queue", "template.yaml", Span(42, 9, 42, 14), "`OrdersQueue`"))),
    )
    info = event_source(flow, handler)
    assert info.origin == "template" and info.sources == ("sqs", "api")
    assert info.evidence == "SQS queue `OrdersQueue` (template.yaml:42)"
    assert info.template_location == ("template.yaml", Span(42, 9, 42, 14))


def test_a_linked_api_only_function_is_not_at_least_once_whatever_the_code_reads():
    flow, handler = _linked(
        "def handler(event, context):\n    return [r['body'] for r in event['Records']]\n",
        FakeLink((FakeTrigger("http-api", "Api", "template.yaml", Span(5, 1, 5, 2)),)),
    )
    info = event_source(flow, handler)
    assert info.sources == ("api",) and not info.at_least_once


def test_a_linked_function_without_triggers_has_no_source():
    flow, handler = _linked(
        "def handler(event, context):\n    return [r['body'] for r in event['Records']]\n", FakeLink()
    )
    assert event_source(flow, handler).sources == ()


def test_unlinked_modules_keep_the_guess():
    flow, handler = _linked("def handler(event, context):\n    return event['detail']\n")
    info = event_source(flow, handler)
    assert info.origin == "code-guess" and info.sources == ("eventbridge",)


def test_a_class_based_handler_that_stores_the_event_on_self():
    info = guess(
        "class Consumer:\n    def __call__(self, event, context):\n        self.event = event\n"
        "        return self.run()\n\n    def run(self):\n"
        "        return [r['body'] for r in self.event['Records']]\n\nhandler = Consumer()\n",
        handler="Consumer.__call__",
    )
    assert info.sources == ("sqs",)


def test_powertools_routes_read_the_event_through_current_event():
    flow = analyse(
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
        "app = APIGatewayHttpResolver()\n\n@app.get('/orders/<order_id>')\n"
        "def get_order(order_id):\n    return app.current_event.path_parameters\n\n"
        "def handler(event, context):\n    return app.resolve(event, context)\n"
    )
    info = event_source(flow, flow.facts.functions["handler"])
    assert info.sources == ("api",)
    assert ('handler', 'event', 'path_parameters') in {o for o, _ in flow.reads(flow.facts.functions["handler"])}
    assert flow.is_reached_per_invocation(flow.facts.functions["get_order"])
