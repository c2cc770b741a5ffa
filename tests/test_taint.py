"""Request taint (lambdalint.python.taint), through the real shared traversal."""

from __future__ import annotations

import textwrap
from typing import Dict, List, Set

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper

from lambdalint.python.analysis import FactCollector, ModuleFacts
from lambdalint.python.source import load_python
from lambdalint.python.taint import FlowCollector, FlowFacts, flow_facts, format_origin
from lambdalint.rule import PythonContext


def analyse(code: str) -> FlowFacts:
    """Run the FactCollector traversal with the flow extension, as the engine does."""
    source = load_python(textwrap.dedent(code).encode())
    facts = ModuleFacts("app.py", source.text, source.module)
    collector = FactCollector(facts)
    context = PythonContext(facts, collector, {})
    flow = flow_facts(context)
    wrapper = MetadataWrapper(source.module, unsafe_skip_copy=True)
    collector.metadata = wrapper.resolve_many(collector.get_inherited_dependencies())
    cst.visit_batched(wrapper.module, [collector])
    facts.finish()
    return flow


def tainted(flow: FlowFacts, function: str) -> Dict[str, Set[str]]:
    """name -> formatted origins of every tainted local of ``function``."""
    flow._resolve()
    return {
        name: {format_origin(o) for o in origins}
        for name, origins in flow._env.get(function, {}).items()
        if origins
    }


def test_subscripts_loops_get_fstrings_walrus_and_comprehensions():
    flow = analyse(
        """
        import json

        def handler(event, context):
            for record in event["Records"]:
                body = json.loads(record["body"])
                order_id = body.get("orderId")
                label = f"order-{order_id}"
                first, second = record["a"], 3
                count = 0
                count += 1
                total = 0
                total += body["amount"]
                if (attrs := record.get("messageAttributes")):
                    pass
                ids = [r["messageId"] for r in event["Records"]]
                for index, item in enumerate(event["Records"]):
                    pass
        """
    )
    env = tainted(flow, "handler")
    assert env["record"] == {'event["Records"][*]'}
    assert env["body"] == {'data derived from event["Records"][*]["body"]'}
    assert env["order_id"] == {'data derived from event["Records"][*]["body"]'}
    assert env["label"] == {'data derived from event["Records"][*]["body"]'}
    assert env["first"] == {'event["Records"][*]["a"]'}
    assert env["attrs"] == {'event["Records"][*]["messageAttributes"]'}
    assert env["r"] == {'event["Records"][*]'}
    assert env["ids"] == {'data derived from event["Records"][*]["messageId"]'}
    assert "item" in env
    assert env["total"] == {'data derived from event["Records"][*]["body"]'}
    # constants are never request data, however they are combined
    for clean in ("second", "count", "index"):
        assert clean not in env


def test_helpers_parameters_and_return_values_transitively():
    flow = analyse(
        """
        def bucket_of(record):
            return record["s3"]["bucket"]["name"]

        def store(name, payload):
            write(payload)

        def write(data):
            return data

        def unrelated(x):
            return x

        def handler(event, context):
            for r in event["Records"]:
                b = bucket_of(r)
                store(b, payload=r["s3"]["object"])
            unrelated("constant")
        """
    )
    assert tainted(flow, "bucket_of") == {"record": {'event["Records"][*]'}}
    assert tainted(flow, "handler")["b"] == {'event["Records"][*]["s3"]["bucket"]["name"]'}
    assert tainted(flow, "store") == {
        "name": {'event["Records"][*]["s3"]["bucket"]["name"]'},
        "payload": {'event["Records"][*]["s3"]["object"]'},
    }
    assert tainted(flow, "write") == {"data": {'event["Records"][*]["s3"]["object"]'}}
    assert tainted(flow, "unrelated") == {}


def test_context_attributes_that_never_change_are_not_request_data():
    flow = analyse(
        """
        def handler(event, context):
            name = context.function_name
            arn = context.invoked_function_arn
            request_id = context.aws_request_id
            remaining = context.get_remaining_time_in_millis()
            size = len(event["Records"])
            kind = isinstance(event, dict)
        """
    )
    env = tainted(flow, "handler")
    assert "name" not in env and "arn" not in env
    assert env["request_id"] == {"context.aws_request_id"}
    assert "remaining" in env
    assert "size" not in env and "kind" not in env


def test_handler_parameters_are_the_first_two_whatever_their_names_and_after_self():
    flow = analyse(
        """
        class Handler:
            def handle(self, evt, ctx):
                self.process(evt["detail"])

            def process(self, detail):
                return detail

        handler = Handler().handle

        def lambda_handler(payload, lambda_context):
            x = payload["a"]
        """
    )
    assert tainted(flow, "Handler.handle") == {"evt": {"event"}, "ctx": {"context"}}
    assert tainted(flow, "Handler.process") == {"detail": {'event["detail"]'}}
    assert tainted(flow, "lambda_handler")["x"] == {'event["a"]'}


def test_match_statement_captures_are_tainted():
    flow = analyse(
        """
        def handler(event, context):
            match event:
                case {"Records": [{"s3": {"bucket": {"name": bucket}}}, *_]}:
                    return bucket
                case {"httpMethod": method, **rest}:
                    return method
        """
    )
    env = tainted(flow, "handler")
    assert env["bucket"] == {'event["Records"][*]["s3"]["bucket"]["name"]'}
    assert env["method"] == {'event["httpMethod"]'}
    assert "rest" in env


def test_closures_read_the_enclosing_function_and_shadowing_is_respected():
    flow = analyse(
        """
        user = "module-level"

        def handler(event, context):
            user = event["user"]
            def greet():
                message = "hello " + user
                return message
            return greet()

        def other(event, context):
            user = "constant"
            return user
        """
    )
    assert "message" in tainted(flow, "handler.<locals>.greet")
    assert "user" not in tainted(flow, "other")


def test_local_containers_filled_with_request_data_are_tainted():
    flow = analyse(
        """
        def handler(event, context):
            batch = []
            item = {}
            for r in event["Records"]:
                batch.append(r["body"])
            item["user"] = event["user"]
            empty = []
            empty.append(1)
        """
    )
    env = tainted(flow, "handler")
    assert "batch" in env and "item" in env and "empty" not in env


def test_no_handler_means_no_taint():
    flow = analyse(
        """
        def helper(event, ctx_like):
            return event["x"]
        """
    )
    # ``(event, ctx_like)`` is not the handler convention: nothing is request data
    assert tainted(flow, "helper") == {}


def test_record_handlers_of_powertools_batch_processing_get_records():
    flow = analyse(
        """
        from aws_lambda_powertools.utilities.batch import process_partial_response

        def record_handler(record):
            payload = record.json_body

        def lambda_handler(event, context):
            return process_partial_response(event=event, record_handler=record_handler,
                                            processor=None, context=context)
        """
    )
    assert tainted(flow, "record_handler")["payload"] == {'event["Records"][*]["json_body"]'}


def test_sdk_objects_are_resolved_from_their_factory_calls():
    flow = analyse(
        """
        import boto3 as b
        from boto3 import client as make

        ddb = b.resource("dynamodb")
        orders = ddb.Table("orders")
        session = b.Session()
        queue = session.client("sqs")
        mail = make(service_name="ses")

        def table_factory():
            return b.resource("dynamodb").Table("t")

        class Repo:
            def __init__(self):
                self.table = b.resource("dynamodb").Table("t")
                self.bucket = b.resource("s3").Bucket("b")

            def save(self, event):
                self.table.put_item(Item=event)
                self.bucket.put_object(Key="k")

        def helper(client, x):
            client.publish(TopicArn="t", Message=x)

        def handler(event, context):
            local = b.client("stepfunctions")
            t = table_factory()
            orders.put_item(Item={})
            queue.send_message(QueueUrl="q", MessageBody="")
            mail.send_email()
            local.start_execution()
            t.update_item()
            helper(b.client("sns"), event)
            Repo().save(event)
        """
    )
    found = {}
    for qualname, function_flow in flow.flows.items():
        for call in function_flow.calls:
            if isinstance(call.func, cst.Attribute) and isinstance(call.func.value, (cst.Name, cst.Attribute)):
                obj = flow.sdk_object(call.func.value, function_flow.info)
                if obj is not None:
                    found[flow.facts.module.code_for_node(call.func)] = (obj.kind, obj.service)
    assert found["orders.put_item"] == ("Table", "dynamodb")
    assert found["queue.send_message"] == ("client", "sqs")
    assert found["mail.send_email"] == ("client", "ses")
    assert found["local.start_execution"] == ("client", "stepfunctions")
    assert found["t.update_item"] == ("Table", "dynamodb")
    assert found["client.publish"] == ("client", "sns")
    assert found["self.table.put_item"] == ("Table", "dynamodb")
    assert found["self.bucket.put_object"] == ("Bucket", "s3")


def test_fresh_values_are_recognised_through_variables():
    flow = analyse(
        """
        import uuid, time
        from datetime import datetime

        def handler(event, context):
            token = str(uuid.uuid4())
            stamp = datetime.now().isoformat()
            a = f"out/{token}.json"
            b = f"out/{stamp}"
            c = f"out/{event['id']}"
            d = int(time.time())
        """
    )
    handler = flow.facts.functions["handler"]
    assigns = {
        target.value: value
        for target, value, _ in flow.flows["handler"].assigns
        if isinstance(target, cst.Name)
    }
    assert flow.is_fresh(assigns["a"], handler)
    assert flow.is_fresh(assigns["b"], handler)
    assert flow.is_fresh(assigns["d"], handler)
    assert not flow.is_fresh(assigns["c"], handler)


def test_flow_is_collected_once_per_module_for_every_rule(lint, monkeypatch):
    made: List[str] = []
    original = FlowCollector.__init__

    def counting(self, collector):
        made.append(collector.facts.path)
        original(self, collector)

    monkeypatch.setattr(FlowCollector, "__init__", counting)
    lint(
        {"a.py": "def handler(event, context):\n    return event\n", "b.py": "x = 1\n"},
        select=["LL102", "LL303", "LL304"],
    )
    assert sorted(p.rsplit("/", 1)[-1] for p in made) == ["a.py", "b.py"]


def test_flow_not_collected_when_no_rule_needs_it(lint, monkeypatch):
    made: List[str] = []
    monkeypatch.setattr(FlowCollector, "__init__", lambda self, c: made.append("x"))
    lint({"a.py": "def handler(event, context):\n    return event\n"}, select=["LL301"])
    assert made == []


def test_asking_for_an_extension_after_the_traversal_is_an_error():
    source = load_python(b"x = 1\n")
    facts = ModuleFacts("app.py", source.text, source.module)
    collector = FactCollector(facts)
    wrapper = MetadataWrapper(source.module, unsafe_skip_copy=True)
    collector.metadata = wrapper.resolve_many(collector.get_inherited_dependencies())
    cst.visit_batched(wrapper.module, [collector])
    with pytest.raises(AssertionError):
        collector.extension("late", FlowCollector)


def test_attributes_stored_on_self_are_read_by_the_other_methods():
    flow = analyse(
        """
        class Handler:
            def __init__(self):
                self.settings = {"stage": "prod"}

            def handle(self, event, context):
                self.event = event
                return self.process()

            def process(self):
                records = self.event["Records"]
                stage = self.settings["stage"]
                return records, stage

        handler = Handler().handle
        """
    )
    env = tainted(flow, "Handler.process")
    assert env == {"records": {'event["Records"]'}}


def test_generators_yield_to_the_loops_that_iterate_them_and_single_fstrings_keep_identity():
    flow = analyse(
        """
        def locations(event):
            for record in event["Records"]:
                yield record["s3"]["bucket"]["name"], record["s3"]["object"]["key"]

        def bodies(event):
            for record in event["Records"]:
                yield record["body"]

        def handler(event, context):
            for bucket, key in locations(event):
                same = f"{bucket}"
                other = f"{bucket}-out"
            for body in bodies(event):
                pass
            everything = list(bodies(event))
        """
    )
    env = tainted(flow, "handler")
    assert env["bucket"] == {'event["Records"][*]["s3"]["bucket"]["name"]'}
    assert env["key"] == {'event["Records"][*]["s3"]["object"]["key"]'}
    assert env["same"] == env["bucket"]
    assert env["other"] == {'data derived from event["Records"][*]["s3"]["bucket"]["name"]'}
    assert env["body"] == {'event["Records"][*]["body"]'}
    assert env["everything"] == {'data derived from event["Records"][*]["body"]'}
