"""LL605 async-without-failure-destination."""

from __future__ import annotations

from lambdalint.model import Related
from lambdalint.rule import Example, TemplateRule

#: readable names of the async event kinds, for messages
KIND_NAMES = {
    "s3": "S3",
    "sns": "SNS",
    "eventbridge": "EventBridge",
    "schedule": "schedule",
    "cloudwatch-logs": "CloudWatch Logs",
    "iot": "IoT",
}


class AsyncWithoutFailureDestination(TemplateRule):
    """A function invoked asynchronously with nowhere for failed events to go.

    ## What it does
    Flags a function with an asynchronous event source (S3, SNS, EventBridge rules, schedules,
    CloudWatch Logs subscriptions, IoT rules) that has neither a dead-letter queue
    (`DeadLetterQueue`, `DeadLetterConfig`, `dead_letter_config`, Serverless `onError`) nor an
    on-failure destination (`EventInvokeConfig`, `AWS::Lambda::EventInvokeConfig`,
    `aws_lambda_function_event_invoke_config`, Serverless `destinations.onFailure`). Both count
    when set in SAM `Globals`; `OnFailure: {Type: SQS}` without a `Destination` counts too,
    since SAM then creates the queue. Functions invoked only synchronously (APIs) or through
    event source mappings (SQS, streams: their failures are handled on the mapping) are not
    concerned, and neither are functions with no trigger in the template.

    ## Why is this bad in Lambda
    For an asynchronous invocation nobody waits for the answer: Lambda retries a failing event
    twice, then drops it. Without a DLQ or an on-failure destination the event is gone: the
    upload is never processed, the notification never handled, and nothing but a metric says
    so. A destination keeps the event (and, for destinations, the error) for inspection and
    replay.

    ## Example
    ```yaml
    Resources:
      OnUpload:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Events:
            Topic:
              Type: SNS
              Properties:
                Topic: !Ref Uploads
    ```

    ## Use instead
    ```yaml
    Resources:
      OnUpload:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          EventInvokeConfig:
            DestinationConfig:
              OnFailure:
                Type: SQS
          Events:
            Topic:
              Type: SNS
              Properties:
                Topic: !Ref Uploads
    ```

    ## Fix safety
    No automatic fix: where failed events go (and who watches it) is an operational choice.
    """

    id = "LL605"
    name = "async-without-failure-destination"

    INVALID = (
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Uploads:\n"
            "    Type: AWS::SNS::Topic\n"
            "  OnUpload:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 10\n"
            "      Events:\n"
            "        Topic:\n"
            "          Type: SNS\n"
            "          Properties:\n"
            "            Topic: !Ref Uploads\n"
            "        Nightly:\n"
            "          Type: Schedule\n"
            "          Properties:\n"
            "            Schedule: rate(1 day)\n",
            lines=(5,),
            path="template.yaml",
        ),
        Example(
            "service: reports\n"
            "provider:\n"
            "  name: aws\n"
            "  runtime: python3.12\n"
            "functions:\n"
            "  nightly:\n"
            "    handler: handler.nightly\n"
            "    timeout: 60\n"
            "    events:\n"
            "      - schedule: rate(1 day)\n",
            lines=(6,),
            path="serverless.yml",
        ),
        Example(
            'resource "aws_lambda_function" "on_signup" {\n'
            '  function_name = "on-signup"\n'
            '  role          = "arn:aws:iam::123456789012:role/on-signup"\n'
            '  handler       = "app.handler"\n'
            '  runtime       = "python3.12"\n'
            '  filename      = "build/on_signup.zip"\n'
            "  timeout       = 10\n"
            "}\n"
            "\n"
            'resource "aws_sns_topic" "signups" {\n'
            '  name = "signups"\n'
            "}\n"
            "\n"
            'resource "aws_sns_topic_subscription" "on_signup" {\n'
            "  topic_arn = aws_sns_topic.signups.arn\n"
            '  protocol  = "lambda"\n'
            "  endpoint  = aws_lambda_function.on_signup.arn\n"
            "}\n",
            lines=(1,),
            path="main.tf",
        ),
    )
    VALID = (
        # the on-failure destination is set once for all functions, SAM creates the queue
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Globals:\n"
            "  Function:\n"
            "    EventInvokeConfig:\n"
            "      DestinationConfig:\n"
            "        OnFailure:\n"
            "          Type: SQS\n"
            "Resources:\n"
            "  OnUpload:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 10\n"
            "      Events:\n"
            "        Nightly:\n"
            "          Type: Schedule\n"
            "          Properties:\n"
            "            Schedule: rate(1 day)\n",
            path="template.yaml",
        ),
        # a DLQ from Globals
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Globals:\n"
            "  Function:\n"
            "    DeadLetterQueue:\n"
            "      Type: SQS\n"
            "      TargetArn: !GetAtt Failed.Arn\n"
            "Resources:\n"
            "  Failed:\n"
            "    Type: AWS::SQS::Queue\n"
            "  OnUpload:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 10\n"
            "      Events:\n"
            "        Nightly:\n"
            "          Type: Schedule\n"
            "          Properties:\n"
            "            Schedule: rate(1 day)\n",
            path="template.yaml",
        ),
        # synchronous and polled sources only
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Jobs:\n"
            "    Type: AWS::SQS::Queue\n"
            "    Properties:\n"
            "      VisibilityTimeout: 60\n"
            "  Api:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 10\n"
            "      Events:\n"
            "        Get:\n"
            "          Type: Api\n"
            "          Properties: {Path: /, Method: get}\n"
            "        Work:\n"
            "          Type: SQS\n"
            "          Properties:\n"
            "            Queue: !GetAtt Jobs.Arn\n",
            path="template.yaml",
        ),
        # Terraform: an SNS-triggered function with an on-failure destination
        Example(
            'resource "aws_lambda_function" "on_signup" {\n'
            '  function_name = "on-signup"\n'
            '  role          = "arn:aws:iam::123456789012:role/on-signup"\n'
            '  handler       = "app.handler"\n'
            '  runtime       = "python3.12"\n'
            '  filename      = "build/on_signup.zip"\n'
            "  timeout       = 10\n"
            "}\n"
            "\n"
            'resource "aws_sns_topic" "signups" {\n'
            '  name = "signups"\n'
            "}\n"
            "\n"
            'resource "aws_sns_topic_subscription" "on_signup" {\n'
            "  topic_arn = aws_sns_topic.signups.arn\n"
            '  protocol  = "lambda"\n'
            "  endpoint  = aws_lambda_function.on_signup.arn\n"
            "}\n"
            "\n"
            'resource "aws_lambda_function_event_invoke_config" "on_signup" {\n'
            "  function_name = aws_lambda_function.on_signup.function_name\n"
            "  destination_config {\n"
            "    on_failure {\n"
            '      destination = "arn:aws:sqs:eu-west-1:123456789012:signup-failures"\n'
            "    }\n"
            "  }\n"
            "}\n",
            path="main.tf",
        ),
    )

    def check(self) -> None:
        for function in self.template.functions:
            triggers = [event for event in function.events if event.is_async]
            if not triggers or function.dead_letter is not None or function.on_failure is not None:
                continue
            kinds = []
            for event in triggers:
                name = KIND_NAMES.get(event.kind, event.kind)
                if name not in kinds:
                    kinds.append(name)
            self.report(
                function.span,
                f"Function `{function.logical_id}` is invoked asynchronously "
                f"({', '.join(kinds)}) but has no on-failure destination or dead-letter "
                "queue: events that still fail after Lambda's retries are dropped",
                path=function.path,
                hint="Add an on-failure destination (EventInvokeConfig / destinations) or a "
                "dead-letter queue.",
                related=[
                    Related(
                        event.path or function.path or self.template.path,
                        event.span,
                        f"{KIND_NAMES.get(event.kind, event.kind)} event `{event.name}`",
                    )
                    for event in triggers
                ],
            )
