"""LL302 sdk-client-without-timeout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Tuple

import libcst as cst

from lambdalint.model import Edit, Fix, FixSafety, Related, Span
from lambdalint.python import values
from lambdalint.python.sdk import BOTO3_FACTORIES
from lambdalint.python.edits import insertion_edit, module_insertion_line
from lambdalint.project import LinkedFunction
from lambdalint.rule import Example, Option, PythonRule

#: qualified names of the calls that make a boto3/botocore client or resource, with the
#: 0-based position of their ``config`` parameter
CLIENT_FACTORIES = {
    **{name: 9 for name in BOTO3_FACTORIES},
    "aiobotocore.session.AioSession.create_client": 9,
    "aiobotocore.session.get_session.create_client": 9,
}
CONFIG_CLASSES = frozenset(
    {"botocore.config.Config", "botocore.client.Config", "aiobotocore.config.AioConfig"}
)

#: botocore's documented defaults (botocore.config.Config and the boto3 retries guide):
#: 60 s to connect, 60 s per socket read, and 5 attempts in the default ``legacy`` retry mode
#: (3 in ``standard``/``adaptive``)
DEFAULT_CONNECT_TIMEOUT = 60
DEFAULT_READ_TIMEOUT = 60
DEFAULT_ATTEMPTS = {"legacy": 5, "standard": 3, "adaptive": 3}

#: the share of the function's timeout that one SDK call's worst case may take in a suggested
#: Config: the rest is left for the handler's own work and error handling
SUGGESTION_SHARE = 2 / 3


def suggested_config(limit: float) -> Optional[Tuple[int, int, int]]:
    """(connect_timeout, read_timeout, total_max_attempts) whose worst case,
    ``(connect + read) * attempts``, fits in two thirds of a ``limit`` s function timeout,
    preferring more attempts while each read may still take 2 s or more; ``None`` when not
    even one attempt of 1 s + 1 s fits."""
    budget = limit * SUGGESTION_SHARE
    for attempts in (3, 2, 1):
        per_attempt = budget / attempts
        connect = 1 if per_attempt < 6 else 2
        read = min(int(per_attempt - connect), DEFAULT_READ_TIMEOUT)
        if read >= 2:
            return connect, read, attempts
    if budget >= 2:
        return 1, 1, 1
    return None


def _seconds(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class _Timeouts:
    """What a client's Config says, as far as the code shows it. ``None`` for a setting that
    is present but not a literal (it is assumed to be chosen with care)."""

    connect_set: bool
    read_set: bool
    connect: Optional[float]
    read: Optional[float]
    attempts: int

    @property
    def worst_case(self) -> Optional[float]:
        connect = DEFAULT_CONNECT_TIMEOUT if not self.connect_set else self.connect
        read = DEFAULT_READ_TIMEOUT if not self.read_set else self.read
        if connect is None or read is None:
            return None
        return self.attempts * (connect + read)

    @property
    def missing(self) -> Tuple[str, ...]:
        return tuple(
            name
            for name, present in (("connect_timeout", self.connect_set), ("read_timeout", self.read_set))
            if not present
        )


def _number(expression: cst.BaseExpression) -> Optional[float]:
    if isinstance(expression, cst.Integer):
        return float(expression.evaluated_value)
    if isinstance(expression, cst.Float):
        return float(expression.evaluated_value)
    return None


class SdkClientWithoutTimeout(PythonRule):
    """A boto3 client whose default timeouts outlast the function.

    ## What it does
    Flags boto3/botocore clients and resources (`boto3.client`, `boto3.resource`,
    `Session().client`, botocore's and aiobotocore's `create_client`) made without a
    `config=botocore.config.Config(connect_timeout=..., read_timeout=...)` — inline or through
    a `Config` object bound once (`CONFIG = Config(...)`) — *when the function's timeout is
    known to be shorter than the SDK's worst case*. That timeout comes from the template that
    names the module's handlers (the shortest of the functions it serves, also those whose
    handlers in other modules call into it), else from the
    `function-timeout` option; with neither (the option's default `0`) the rule reports
    nothing. It is off by default: enable it with `select`/`extend-select`.

    The worst case is botocore's documented defaults: 60 s to connect plus 60 s per read, for
    each of 5 attempts in the default legacy retry mode (3 in standard/adaptive mode, or the
    literal `retries={"total_max_attempts": n}` / `{"max_attempts": n}` of the Config), so
    about 600 s. A Config that sets only one of the two timeouts is flagged for the other when
    the worst case still exceeds the function's timeout, and so is a Config that sets both
    when `(connect_timeout + read_timeout) x attempts` does (the message shows the numbers;
    attempts are the Config's `retries`, else the legacy mode's 5). A Config that cannot be
    read statically (built by a function, merged, passed with `**kwargs`, a timeout that is
    not a literal number) is not flagged.

    The suggested Config spends at most two thirds of the function's timeout on one call's
    worst case: 3 attempts while each may still read for 2 s or more, else 2, else 1. For a
    function timeout too short for even 1 s + 1 s (under 3 s) the hint says so instead.

    ## Why is this bad in Lambda
    When an AWS endpoint stalls (a network blip, a throttled or overloaded service), the SDK
    keeps waiting and retrying long after Lambda has killed the invocation at its own timeout.
    The function then fails with a bare "Task timed out" instead of a handled, retryable
    error: no log line says which call hung, cleanup and partial-batch responses never run,
    and you pay for the whole wait.

    ## Example
    ```python
    import boto3

    sqs = boto3.client("sqs")  # with `function-timeout = 30`
    ```

    ## Use instead
    ```python
    import boto3
    from botocore.config import Config

    sqs = boto3.client(
        "sqs",
        config=Config(connect_timeout=2, read_timeout=4, retries={"total_max_attempts": 3}),
    )
    ```

    ## Fix safety
    A Config changes how long calls may take before they fail; slow but healthy calls (large
    S3 downloads, long polls such as SQS `WaitTimeSeconds`) need a read timeout above their
    expected duration. The fix is therefore unsafe: it passes the suggested
    `config=Config(connect_timeout=..., read_timeout=..., retries={"total_max_attempts": ...})`
    to a client made without a config (importing `botocore.config.Config` once); review the
    values per client. No fix is offered when no useful split fits the function's timeout.
    """

    id = "LL302"
    name = "sdk-client-without-timeout"
    fix_safety = FixSafety.UNSAFE
    # Off by default even with templates: nearly every client is made without a Config, so it
    # would fire on most projects; teams that want the discipline select it.
    enabled_by_default = False
    options = {
        "function-timeout": Option(
            int,
            0,
            "the Lambda function's timeout in seconds (0: unknown, the rule stays quiet); "
            "later read from the template",
        ),
    }

    _CONFIG = {"options": {"LL302": {"function-timeout": 30}}}

    INVALID = (
        Example(
            "import boto3\n\nsqs = boto3.client('sqs')\n\ndef handler(event, context):\n"
            "    return sqs.send_message(QueueUrl=event['q'], MessageBody='x')\n",
            lines=(3,),
            config=_CONFIG,
        ),
        # aliases, resources, sessions, and a Config without timeouts
        Example(
            "import boto3 as b\nfrom boto3 import resource as res\nfrom botocore.config import Config\n\n"
            "ddb = res('dynamodb')\ns3 = b.Session().client('s3', config=Config(retries={'mode': 'standard'}))\n",
            lines=(5, 6),
            config=_CONFIG,
        ),
        # a module-level Config with only a connect timeout: reads may still wait 60 s
        Example(
            "import boto3\nimport botocore.config\n\n"
            "CONFIG = botocore.config.Config(connect_timeout=2, retries={'total_max_attempts': 2})\n"
            "s3 = boto3.client('s3', config=CONFIG)\n",
            lines=(5,),
            config=_CONFIG,
        ),
    )
    INVALID = INVALID + (
        # the timeout comes from the template that names this handler
        Example(
            "import boto3\n\nsqs = boto3.client('sqs')\n\n\ndef handler(event, context):\n"
            "    return sqs.send_message(QueueUrl='q', MessageBody='m')\n",
            lines=(3,),
            path="src/app.py",
            files={"template.yaml": (
                "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
                "    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
                "      Handler: app.handler\n      Runtime: python3.12\n      Timeout: 10\n"
            )},
        ),
    )
    INVALID = INVALID + (
        # both timeouts set, but (5 + 5) x 5 legacy attempts = 50 s > 30 s
        Example(
            "import boto3\nfrom botocore.config import Config\n\n"
            "s3 = boto3.client('s3', config=Config(connect_timeout=5, read_timeout=5))\n",
            lines=(4,),
            config=_CONFIG,
        ),
    )
    VALID = (
        # the function's timeout is unknown: nothing to compare with
        Example("import boto3\n\nsqs = boto3.client('sqs')\n"),
        Example(
            "import boto3\nfrom botocore.config import Config as C\n\n"
            "CFG = C(connect_timeout=2, read_timeout=3)\n"
            "sqs = boto3.client('sqs', config=CFG)\n"
            "s3 = boto3.resource('s3', config=C(connect_timeout=1, read_timeout=8,"
            " retries={'mode': 'standard'}))\n",
            config=_CONFIG,
        ),
        # a long-running function outlives the SDK's worst case (5 x 120 s)
        Example(
            "import boto3\n\nsqs = boto3.client('sqs')\n",
            config={"options": {"LL302": {"function-timeout": 900}}},
        ),
        # configs the rule cannot read: built elsewhere, merged, spread
        Example(
            "import boto3\nfrom botocore.config import Config\nfrom myapp.aws import sdk_config\n\n"
            "BASE = Config(connect_timeout=2, read_timeout=5)\n"
            "a = boto3.client('s3', config=sdk_config())\n"
            "b = boto3.client('s3', config=BASE.merge(Config(retries={'mode': 'standard'})))\n"
            "c = boto3.client('s3', **{'config': BASE})\n",
            config=_CONFIG,
        ),
        # timeouts from the environment are still timeouts
        Example(
            "import os, boto3\nfrom botocore.config import Config\n\n"
            "T = int(os.environ.get('SDK_TIMEOUT', '5'))\n"
            "s3 = boto3.client('s3', config=Config(connect_timeout=T, read_timeout=T))\n",
            config=_CONFIG,
        ),
    )

    def _known_timeout(self) -> Tuple[int, Optional[LinkedFunction]]:
        """The shortest timeout of the template functions this module serves, else the option."""
        served = (*self.facts.links, *(link for entry in self.facts.entries for link in entry.links))
        linked = [link for link in served if link.timeout]
        if linked:
            shortest = min(linked, key=lambda link: link.timeout)
            return shortest.timeout, shortest
        return self.option("function-timeout"), None

    def visit_Call(self, node: cst.Call) -> None:
        function_timeout, link = self._known_timeout()
        if not function_timeout or function_timeout <= 0:
            return
        names = values.call_names(node, self.qualified_names, self.get_metadata)
        factory = next((n for n in sorted(names) if n in CLIENT_FACTORIES), None)
        if factory is None or values.in_main_guard(node, self.get_metadata):
            return
        position = CLIENT_FACTORIES[factory]
        timeouts = self._timeouts(node, position)
        if timeouts is None:
            return
        worst = timeouts.worst_case
        if worst is None or worst <= function_timeout:
            return
        related = []
        if link is not None:
            related.append(Related(link.template_path, link.span, f"`{link.logical_id}` has a {link.timeout} s timeout"))
        self.report(
            node,
            self._message(node, factory, timeouts, worst, function_timeout),
            hint=self._hint(function_timeout),
            related=related,
            fix=self._config_fix(node, function_timeout),
        )

    def _config_fix(self, node: cst.Call, function_timeout: int) -> Optional[Fix]:
        """Pass the :func:`suggested_config` to a client made without a config, importing
        botocore's Config if needed."""
        if values.keyword(node, "config") is not None:
            return None
        suggestion = suggested_config(function_timeout)
        if suggestion is None:
            return None
        connect, read, attempts = suggestion
        name, import_edit = self._config_class()
        text = (
            f"config={name}(connect_timeout={connect}, read_timeout={read}, "
            f"retries={{'total_max_attempts': {attempts}}})"
        )
        if node.args:
            end = self.span_of(node.args[-1].value)
            edit = Edit(Span(end.end_line, end.end_column, end.end_line, end.end_column), f", {text}")
        else:
            call = self.span_of(node)
            edit = Edit(Span(call.end_line, call.end_column - 1, call.end_line, call.end_column - 1), text)
        edits = (import_edit, edit) if import_edit is not None else (edit,)
        return Fix("Pass a botocore Config with timeouts", FixSafety.UNSAFE, edits)

    def _config_class(self) -> Tuple[str, Optional[Edit]]:
        """The module's name for botocore's Config, and the import to add when it has none."""
        for statement in self.facts.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if (
                    isinstance(small, cst.ImportFrom)
                    and small.module is not None
                    and self.facts.module.code_for_node(small.module) == "botocore.config"
                    and not isinstance(small.names, cst.ImportStar)
                ):
                    for alias in small.names:
                        if isinstance(alias.name, cst.Name) and alias.name.value == "Config":
                            return (alias.asname.name.value if alias.asname else "Config"), None  # type: ignore[union-attr]
        name = "Config" if not re.search(r"\bConfig\b", self.facts.source) else "BotocoreConfig"
        statement = "from botocore.config import Config" + ("" if name == "Config" else " as BotocoreConfig")
        line = module_insertion_line(self.facts.module, set(), lambda st: self.context.position_of(st).end.line)
        return name, insertion_edit(line, statement, after_blank=False)

    def _timeouts(self, call: cst.Call, config_position: int) -> Optional[_Timeouts]:
        """The client's timeouts, or ``None`` when its config cannot be read."""
        if values.has_star_kwargs(call) or values.has_star_args(call):
            return None
        if values.positional_count(call) > config_position:
            return None
        arg = values.keyword(call, "config")
        if arg is None:
            return _Timeouts(False, False, None, None, DEFAULT_ATTEMPTS["legacy"])
        config = values.resolve(arg.value, self.get_metadata).value
        if values.is_none(config):
            return _Timeouts(False, False, None, None, DEFAULT_ATTEMPTS["legacy"])
        if not isinstance(config, cst.Call) or not (
            self.qualified_names(config.func) & CONFIG_CLASSES
        ):
            return None
        if any(a.keyword is None for a in config.args):  # positional or spread: unreadable
            return None
        settings = {a.keyword.value: a.value for a in config.args if a.keyword is not None}
        connect = settings.get("connect_timeout")
        read = settings.get("read_timeout")
        return _Timeouts(
            connect_set=connect is not None and not values.is_none(connect),
            read_set=read is not None and not values.is_none(read),
            connect=_number(connect) if connect is not None else None,
            read=_number(read) if read is not None else None,
            attempts=self._attempts(settings.get("retries")),
        )

    def _attempts(self, retries: Optional[cst.BaseExpression]) -> int:
        attempts = DEFAULT_ATTEMPTS["legacy"]
        if retries is None:
            return attempts
        retries = values.resolve(retries, self.get_metadata).value
        if not isinstance(retries, cst.Dict):
            return attempts
        entries = {}
        for element in retries.elements:
            if isinstance(element, cst.DictElement):
                key = values.string_value(element.key)
                if key is not None and key.text is not None:
                    entries[key.text] = element.value
        mode = values.string_value(entries["mode"]) if "mode" in entries else None
        if mode is not None and mode.text in DEFAULT_ATTEMPTS:
            attempts = DEFAULT_ATTEMPTS[mode.text]
        total = entries.get("total_max_attempts")
        retry_count = entries.get("max_attempts")
        if total is not None and _number(total) is not None:
            attempts = int(_number(total) or 1)
        elif retry_count is not None and _number(retry_count) is not None:
            attempts = int(_number(retry_count) or 0) + 1
        return max(attempts, 1)

    def _message(
        self, call: cst.Call, factory: str, timeouts: _Timeouts, worst: float, limit: int
    ) -> str:
        service = ""
        first = call.args[0].value if call.args and call.args[0].keyword is None else None
        named = values.keyword(call, "service_name")
        literal = values.string_value(first if first is not None else named.value) if (
            first is not None or named is not None
        ) else None
        if literal is not None and literal.text:
            service = f" for `{literal.text}`"
        kind = "resource" if factory.endswith(".resource") else "client"
        connect = DEFAULT_CONNECT_TIMEOUT if not timeouts.connect_set else timeouts.connect
        read = DEFAULT_READ_TIMEOUT if not timeouts.read_set else timeouts.read
        arithmetic = (
            f"({_seconds(connect or 0)} s + {_seconds(read or 0)} s) x {timeouts.attempts} "
            f"attempts = {_seconds(worst)} s"
        )
        if timeouts.missing:
            missing = " or ".join(f"`{name}`" for name in timeouts.missing)
            return (
                f"The boto3 {kind}{service} has no {missing}: with botocore's defaults one call can "
                f"wait up to {arithmetic}, longer than the function's {limit} s timeout"
            )
        return (
            f"The boto3 {kind}{service} sets both timeouts, but with its retries one call can still "
            f"wait up to {arithmetic} (connect + read, per attempt), longer than the function's "
            f"{limit} s timeout"
        )

    @staticmethod
    def _hint(limit: int) -> str:
        suggestion = suggested_config(limit)
        if suggestion is None:
            return (
                f"the function's {limit} s timeout leaves no room for a useful connect/read "
                "timeout split with retries: raise the function's timeout, or set small "
                "timeouts with `retries={'total_max_attempts': 1}` and handle the failure"
            )
        connect, read, attempts = suggestion
        worst = (connect + read) * attempts
        return (
            f"pass `config=botocore.config.Config(connect_timeout={connect}, "
            f"read_timeout={read}, retries={{'total_max_attempts': {attempts}}})` (worst case "
            f"({connect} + {read}) x {attempts} = {worst} s, within the {limit} s timeout) so a "
            "stalled call fails, with a useful error, before the function times out"
        )
