"""LL602 timeout-exceeds-api-limit."""

from __future__ import annotations

import logging
from typing import Dict, List, Optional, Tuple

from lambdalint.iac.function_facts import seconds, timeout_choices
from lambdalint.iac.model import EventSource, Function
from lambdalint.model import Related, Span
from lambdalint.rule import Example, TemplateRule

log = logging.getLogger("lambdalint.rules")

#: API Gateway's integration timeouts when the template sets none, in seconds: 29 s for REST
#: APIs (the default, raisable per API since 2024 through TimeoutInMillis), 30 s for HTTP APIs
#: (their fixed maximum), 29 s for WebSocket APIs (default and maximum)
DEFAULT_LIMITS = {"api": 29, "http-api": 30, "websocket": 29}

API_KINDS = frozenset(DEFAULT_LIMITS)


#: a function behind an API Gateway v2 integration ({protocol}: WEBSOCKET or HTTP), 30 s timeout
_V2_INTEGRATION = (
    "Resources:\n"
    "  Chat:\n"
    "    Type: AWS::ApiGatewayV2::Api\n"
    "    Properties:\n"
    "      Name: chat\n"
    "      ProtocolType: {protocol}\n"
    "  Send:\n"
    "    Type: AWS::ApiGatewayV2::Integration\n"
    "    Properties:\n"
    "      ApiId: !Ref Chat\n"
    "      IntegrationType: AWS_PROXY\n"
    "      IntegrationUri: !Sub arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{Handler.Arn}}/invocations\n"
    "  Handler:\n"
    "    Type: AWS::Lambda::Function\n"
    "    Properties:\n"
    "      Handler: app.handler\n"
    "      Runtime: python3.12\n"
    "      Role: arn:aws:iam::123456789012:role/chat\n"
    "      Code: {{S3Bucket: code, S3Key: chat.zip}}\n"
    "      Timeout: 30\n"
)


class TimeoutExceedsApiLimit(TemplateRule):
    """A function behind API Gateway whose timeout is longer than the API waits for it.

    ## What it does
    Flags the timeout of a function that serves an API Gateway REST, HTTP or WebSocket API (SAM
    `Api` / `HttpApi` events, Serverless `http` / `httpApi` / `websocket` events, API Gateway
    integrations in CloudFormation or Terraform) when it is longer than the time API Gateway
    waits for the integration: the integration's own timeout when the template sets one
    (`TimeoutInMillis`, `timeout_milliseconds`), else 29 seconds for a REST API (the default),
    30 seconds for an HTTP API and 29 seconds for a WebSocket API (their maximums). A timeout of exactly 29 s is fine. Unknown timeouts (a
    parameter without a default) are not reported.

    ## Why is this bad in Lambda
    API Gateway stops waiting after its integration timeout and answers the client with
    `504 Gateway Timeout`, but the function keeps running (and billing) until it finishes or
    hits its own timeout. The client may retry while the first attempt is still writing, so the
    work is done twice, and the extra seconds of timeout buy nothing: no caller ever sees their
    result. Long work belongs behind a queue or a Step Functions execution, with the API
    answering `202 Accepted`.

    ## Example
    ```yaml
    Resources:
      Report:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Timeout: 120
          Events:
            Get:
              Type: Api
              Properties: {Path: /report, Method: get}
    ```

    ## Use instead
    ```yaml
    Resources:
      Report:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Timeout: 25
          Events:
            Get:
              Type: Api
              Properties: {Path: /report, Method: get}
    ```

    ## Fix safety
    No automatic fix: lowering the timeout may cut real work short; moving the work off the
    request path is a design change.
    """

    id = "LL602"
    name = "timeout-exceeds-api-limit"

    INVALID = (
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Report:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 120\n"
            "      Events:\n"
            "        Get:\n"
            "          Type: Api\n"
            "          Properties: {Path: /report, Method: get}\n",
            lines=(9,),
            path="template.yaml",
        ),
        # the timeout comes from Globals: reported where it is written
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Globals:\n"
            "  Function:\n"
            "    Timeout: 60\n"
            "Resources:\n"
            "  Report:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Events:\n"
            "        Get:\n"
            "          Type: HttpApi\n",
            lines=(4,),
            path="template.yaml",
        ),
        Example(
            "service: reports\n"
            "provider:\n"
            "  name: aws\n"
            "  runtime: python3.12\n"
            "functions:\n"
            "  report:\n"
            "    handler: handler.report\n"
            "    timeout: 30\n"
            "    events:\n"
            "      - http:\n"
            "          path: report\n"
            "          method: get\n",
            lines=(8,),
            path="serverless.yml",
        ),
        # Terraform: the integration's own timeout is shorter than the function's
        Example(
            'resource "aws_lambda_function" "search" {\n'
            '  function_name = "search"\n'
            '  role          = "arn:aws:iam::123456789012:role/search"\n'
            '  handler       = "app.handler"\n'
            '  runtime       = "python3.12"\n'
            '  filename      = "build/search.zip"\n'
            "  timeout       = 15\n"
            "}\n"
            "\n"
            'resource "aws_apigatewayv2_integration" "search" {\n'
            '  api_id                 = "a1b2c3"\n'
            '  integration_type       = "AWS_PROXY"\n'
            "  integration_uri        = aws_lambda_function.search.invoke_arn\n"
            '  payload_format_version = "2.0"\n'
            "  timeout_milliseconds   = 10000\n"
            "}\n",
            lines=(7,),
            path="main.tf",
        ),
        # a WebSocket API waits 29 s at most: a 30 s function is over it (an HTTP API is not)
        Example(_V2_INTEGRATION.format(protocol="WEBSOCKET"), lines=(20,), path="template.yaml"),
        Example(
            "service: chat\n"
            "provider:\n"
            "  name: aws\n"
            "  runtime: python3.12\n"
            "functions:\n"
            "  message:\n"
            "    handler: handler.main\n"
            "    timeout: 60\n"
            "    events:\n"
            "      - websocket:\n"
            "          route: $default\n",
            lines=(8,),
            path="serverless.yml",
        ),
    )
    VALID = (
        # the same integration on an HTTP API: 30 s is its maximum, so 30 s is fine
        Example(_V2_INTEGRATION.format(protocol="HTTP"), path="template.yaml"),
        # exactly the limit
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Report:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 29\n"
            "      Events:\n"
            "        Get:\n"
            "          Type: Api\n"
            "          Properties: {Path: /report, Method: get}\n",
            path="template.yaml",
        ),
        # a long timeout is fine for a queue consumer
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Jobs:\n"
            "    Type: AWS::SQS::Queue\n"
            "    Properties:\n"
            "      VisibilityTimeout: 1800\n"
            "  Worker:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 300\n"
            "      Events:\n"
            "        Work:\n"
            "          Type: SQS\n"
            "          Properties:\n"
            "            Queue: !GetAtt Jobs.Arn\n",
            path="template.yaml",
        ),
        # unknown: a parameter without a default
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Parameters:\n"
            "  ApiTimeout:\n"
            "    Type: Number\n"
            "Resources:\n"
            "  Report:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: !Ref ApiTimeout\n"
            "      Events:\n"
            "        Get:\n"
            "          Type: Api\n"
            "          Properties: {Path: /report, Method: get}\n",
            path="template.yaml",
        ),
    )

    def _limit(self, event: EventSource) -> Optional[int]:
        if event.integration_timeout is None:
            return DEFAULT_LIMITS[event.kind]
        limit = seconds(event.integration_timeout)
        if limit is None:
            log.debug("%s: %s: integration timeout of %s unknown", self.id, event.path, event.name)
        return limit

    def check(self) -> None:
        # where the timeout is written -> (seconds, when, [(function, event, limit)]): a timeout
        # in SAM Globals or Serverless provider.timeout is one finding for all its API functions
        found: Dict[Tuple[str, Span], Tuple[int, str, List[Tuple[Function, EventSource, int]]]] = {}
        for function in self.template.functions:
            events = [event for event in function.events if event.kind in API_KINDS]
            if not events:
                continue
            for choice in timeout_choices(function, self.id):
                if choice.located is None:
                    continue  # the 3 s / 6 s default never exceeds the limit
                path = choice.located.path or function.path or self.template.path
                key = (path, choice.located.span)
                for event in events:
                    limit = self._limit(event)
                    if limit is None or choice.seconds <= limit:
                        continue
                    entry = found.setdefault(key, (choice.seconds, choice.when, []))
                    if all(other is not function for other, _, _ in entry[2]):
                        entry[2].append((function, event, limit))
                    break
        for (path, span), (longest, when, offenders) in found.items():
            self._report(path, span, longest, when, offenders)

    def _report(self, path, span, seconds, when, offenders) -> None:
        function, event, limit = offenders[0]
        kind = _kind_name(event)
        if len(offenders) == 1:
            message = (
                f"Function `{function.logical_id}` may run {seconds} s{when}, but its {kind} "
                f"event `{event.name}` gives up after {limit} s"
            )
        else:
            names = ", ".join(f"`{other.logical_id}`" for other, _, _ in offenders)
            shortest = min(other_limit for _, _, other_limit in offenders)
            message = (
                f"Functions {names} may run {seconds} s{when}, but their API events give up "
                f"after {shortest} s"
            )
            limit = shortest
        self.report(
            span,
            message,
            path=path,
            hint=f"Keep the timeout at or below {limit} s, or move long work behind a queue and "
            "answer 202.",
            related=[
                Related(
                    other_event.path or other.path or self.template.path,
                    other_event.span,
                    f"{_kind_name(other_event)} event `{other_event.name}` of `{other.logical_id}`",
                )
                for other, other_event, _ in offenders
            ],
        )


def _kind_name(event: EventSource) -> str:
    return {"http-api": "HTTP API", "websocket": "WebSocket API"}.get(event.kind, "API Gateway")
