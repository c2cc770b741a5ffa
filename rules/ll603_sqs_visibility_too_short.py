"""LL603 sqs-visibility-too-short."""

from __future__ import annotations

import dataclasses
import logging

from lambdalint.iac.function_facts import (
    branches,
    describe_unknown,
    find_queue,
    seconds,
    timeout_choices,
)
from lambdalint.iac.model import Queue, possibilities
from lambdalint.model import Related, Severity
from lambdalint.rule import Example, TemplateRule

log = logging.getLogger("lambdalint.rules")

#: AWS's guidance for queues that feed Lambda: visibility timeout >= 6 x the function timeout
FACTOR = 6


#: a Serverless consumer that names its queue by ARN string ({queue}: the ARN's last part)
_SERVERLESS_BY_ARN = (
    "service: jobs\n"
    "provider:\n"
    "  name: aws\n"
    "  runtime: python3.12\n"
    "functions:\n"
    "  worker:\n"
    "    handler: handler.main\n"
    "    timeout: 60\n"
    "    events:\n"
    "      - sqs:\n"
    "          arn: arn:aws:sqs:${{aws:region}}:${{aws:accountId}}:{queue}\n"
    "resources:\n"
    "  Resources:\n"
    "    Jobs:\n"
    "      Type: AWS::SQS::Queue\n"
    "      Properties:\n"
    "        QueueName: jobs-queue\n"
    "        VisibilityTimeout: 120\n"
)


class SqsVisibilityTooShort(TemplateRule):
    """An SQS queue that hides a message for less time than its consumer may need for it.

    ## What it does
    Follows each function's SQS event source (SAM `SQS` events, Serverless `sqs` events,
    `AWS::Lambda::EventSourceMapping`, `aws_lambda_event_source_mapping`) to the queue it
    polls (by reference, or by an ARN string whose last part is the name the template gives
    exactly one queue, even when its region and account are variables), and flags the queue's visibility timeout (30 s when not set) when it is shorter than
    6 times the function's timeout, as AWS recommends. When it is shorter than the function's
    timeout itself the finding is an error. Timeouts written as strings (`"600"`) count as
    numbers; queues outside the template and values the template cannot tell statically (a
    parameter without a default, `!Ref AWS::Region`) are not reported.

    ## Why is this bad in Lambda
    The Lambda poller receives a batch and the queue hides it for the visibility timeout. If
    the function is still working when that expires, the messages become visible again and
    another invocation processes them too: duplicate charges, duplicate emails, and batches
    that never finish because each retry is cut short. Six times the timeout leaves room for
    the poller's own retries on throttling and for the batch window.

    ## Example
    ```yaml
    Resources:
      Jobs:
        Type: AWS::SQS::Queue
        Properties:
          VisibilityTimeout: 60
      Worker:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Timeout: 30
          Events:
            Work:
              Type: SQS
              Properties:
                Queue: !GetAtt Jobs.Arn
    ```

    ## Use instead
    ```yaml
    Resources:
      Jobs:
        Type: AWS::SQS::Queue
        Properties:
          VisibilityTimeout: 180
      Worker:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Timeout: 30
          Events:
            Work:
              Type: SQS
              Properties:
                Queue: !GetAtt Jobs.Arn
    ```

    ## Fix safety
    No automatic fix: raising the visibility timeout also delays the retry of a failed
    message; the author may prefer a shorter function timeout.
    """

    id = "LL603"
    name = "sqs-visibility-too-short"

    INVALID = (
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Jobs:\n"
            "    Type: AWS::SQS::Queue\n"
            "    Properties:\n"
            "      VisibilityTimeout: 60\n"
            "  Worker:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 30\n"
            "      Events:\n"
            "        Work:\n"
            "          Type: SQS\n"
            "          Properties:\n"
            "            Queue: !GetAtt Jobs.Arn\n",
            lines=(6,),
            path="template.yaml",
        ),
        # no VisibilityTimeout: the 30 s default, shorter than the timeout itself (an error),
        # reported at the queue
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Jobs:\n"
            "    Type: AWS::SQS::Queue\n"
            "  Worker:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: '600'\n"
            "      Events:\n"
            "        Work:\n"
            "          Type: SQS\n"
            "          Properties:\n"
            "            Queue: !GetAtt Jobs.Arn\n",
            lines=(3,),
            path="template.yaml",
        ),
        Example(
            'resource "aws_sqs_queue" "jobs" {\n'
            '  name                       = "jobs"\n'
            "  visibility_timeout_seconds = 120\n"
            "}\n"
            "\n"
            'resource "aws_lambda_function" "worker" {\n'
            '  function_name = "worker"\n'
            '  handler       = "app.handler"\n'
            '  runtime       = "python3.12"\n'
            '  role          = "arn:aws:iam::123456789012:role/worker"\n'
            '  filename      = "build/worker.zip"\n'
            "  timeout       = 60\n"
            "}\n"
            "\n"
            'resource "aws_lambda_event_source_mapping" "jobs" {\n'
            "  event_source_arn = aws_sqs_queue.jobs.arn\n"
            "  function_name    = aws_lambda_function.worker.arn\n"
            "}\n",
            lines=(3,),
            path="main.tf",
        ),
        # Serverless naming the queue by ARN string (region and account only known at deploy
        # time): matched to the queue of `resources:` by its QueueName
        Example(_SERVERLESS_BY_ARN.format(queue="${self:service}-queue"), lines=(18,), path="serverless.yml"),
    )
    VALID = (
        # an ARN string naming another queue than the template's (same suffix, other name)
        Example(_SERVERLESS_BY_ARN.format(queue="legacy-jobs-queue"), path="serverless.yml"),
        # exactly 6 x
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Jobs:\n"
            "    Type: AWS::SQS::Queue\n"
            "    Properties:\n"
            "      VisibilityTimeout: 180\n"
            "  Worker:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 30\n"
            "      Events:\n"
            "        Work:\n"
            "          Type: SQS\n"
            "          Properties:\n"
            "            Queue: !GetAtt Jobs.Arn\n",
            path="template.yaml",
        ),
        # visibility from a parameter without a default: unknown
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Parameters:\n"
            "  Visibility:\n"
            "    Type: Number\n"
            "Resources:\n"
            "  Jobs:\n"
            "    Type: AWS::SQS::Queue\n"
            "    Properties:\n"
            "      VisibilityTimeout: !Ref Visibility\n"
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
        # a queue of another stack: its visibility timeout is unknown, not 30 s
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
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
            "            Queue: arn:aws:sqs:us-east-1:123456789012:jobs\n",
            path="template.yaml",
        ),
        # the 3 s default timeout: 30 s >= 18 s
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Jobs:\n"
            "    Type: AWS::SQS::Queue\n"
            "  Worker:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Events:\n"
            "        Work:\n"
            "          Type: SQS\n"
            "          Properties:\n"
            "            Queue: !GetAtt Jobs.Arn\n",
            path="template.yaml",
        ),
    )

    def _visibility(self, queue: Queue):
        """[(seconds, located or None, when)] for the queue's known visibility timeouts."""
        if queue.visibility_timeout is None:
            return [(Queue.DEFAULT_VISIBILITY_TIMEOUT, None, "")]
        found = []
        for located, when in branches(queue.visibility_timeout):
            value = seconds(located)
            if value is None:
                log.debug(
                    "%s: %s: visibility timeout of %s unknown (%s)",
                    self.id, queue.path, queue.logical_id, describe_unknown(located),
                )
                continue
            found.append((value, located, when))
        return found

    def check(self) -> None:
        # (queue, function) -> the worst (lowest visibility / timeout) combination found
        worst = {}
        for function in self.template.functions:
            for event in function.events:
                if event.kind != "sqs" or event.source is None:
                    continue
                for source, _ in possibilities(event.source):
                    queue = find_queue(self.template, source)
                    if queue is None:
                        log.debug(
                            "%s: %s: the queue of %s.%s is not in the template",
                            self.id, event.path, function.logical_id, event.name,
                        )
                        continue
                    for visibility, where, queue_when in self._visibility(queue):
                        for choice in timeout_choices(function, self.id):
                            if visibility >= FACTOR * choice.seconds:
                                continue
                            key = (queue.logical_id, function.logical_id)
                            ratio = visibility / max(choice.seconds, 1)
                            if key not in worst or ratio < worst[key][0]:
                                worst[key] = (
                                    ratio, (queue, function, visibility, where, queue_when, choice)
                                )
        for _, arguments in worst.values():
            self._report(*arguments)

    def _report(self, queue, function, visibility, where, queue_when, choice) -> None:
        # " when `A`" + " when `B`" -> " when `A` and `B`"
        timeout_when = choice.when.replace(" when ", " and ", 1) if queue_when else choice.when
        when = queue_when + timeout_when
        default = " (the default)" if where is None else ""
        timeout_default = " (the default)" if choice.is_default else ""
        if visibility < choice.seconds:
            consequence = (
                "messages reappear while it is still processing them, and are processed twice"
            )
        else:
            recommended = FACTOR * choice.seconds
            consequence = f"below the {FACTOR} x {choice.seconds} = {recommended} s AWS recommends"
        message = (
            f"Queue `{queue.logical_id}` hides messages for {visibility} s{default}, but its "
            f"consumer `{function.logical_id}` may run {choice.seconds} s{timeout_default}{when}: "
            f"{consequence}"
        )
        timeout_place = choice.located
        related = [
            Related(
                (timeout_place.path if timeout_place else "")
                or function.path
                or self.template.path,
                timeout_place.span if timeout_place else function.span,
                f"timeout of `{function.logical_id}`"
                + (" (not set: the default)" if timeout_place is None else ""),
            )
        ]
        self.report(
            where.span if where is not None else queue.span,
            message,
            path=(where.path if where is not None else "") or queue.path,
            hint=f"Set the queue's visibility timeout to at least {FACTOR * choice.seconds} s "
            f"({FACTOR} x the function timeout), or shorten the function timeout.",
            related=related,
        )
        if visibility < choice.seconds:
            self.findings[-1] = dataclasses.replace(self.findings[-1], severity=Severity.ERROR)
