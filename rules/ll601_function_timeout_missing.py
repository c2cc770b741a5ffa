"""LL601 function-timeout-missing."""

from __future__ import annotations

import re
from typing import Optional

from lambdalint.iac.function_facts import branches
from lambdalint.model import Edit, Fix, FixSafety, Span
from lambdalint.rule import Example, Option, TemplateRule


class FunctionTimeoutMissing(TemplateRule):
    """A function that relies on the platform's default timeout.

    ## What it does
    Flags a Lambda function whose template sets no timeout anywhere, so that it runs with the
    default: 3 seconds for CloudFormation, SAM (`AWS::Serverless::Function`,
    `AWS::Lambda::Function`) and Terraform (`aws_lambda_function`), 6 seconds for the
    Serverless Framework. A timeout in SAM's `Globals.Function` or in Serverless's
    `provider.timeout` counts as set, and so does one given by a parameter or variable (even
    one whose value is unknown): the author chose it.

    ## Why is this bad in Lambda
    The default was picked for toy functions. Real handlers call other services; the first
    cold start that loads a heavy dependency, or one slow downstream call, passes 3 seconds and
    the invocation is killed mid-way (`Task timed out after 3.00 seconds`), possibly after
    half of its side effects. Queues and async retries then run it again. Choosing the timeout
    on purpose forces the question: what is the slowest legitimate invocation, and how does it
    fit under the API Gateway limit or the queue's visibility timeout?

    ## Example
    ```yaml
    Resources:
      Resize:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
    ```

    ## Use instead
    ```yaml
    Resources:
      Resize:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Timeout: 15
    ```

    ## Fix safety
    Unsafe: the right timeout depends on what the function does. The fix adds the configured
    `default-timeout` (10 s unless set; at most 29 s for functions behind API Gateway) on the
    line after the function's handler, in the template's own style (`Timeout:` for
    SAM/CloudFormation YAML, `timeout:` for Serverless, `timeout =` for Terraform). JSON
    templates and handlers written in flow style get no automatic fix.
    """

    id = "LL601"
    name = "function-timeout-missing"
    fix_safety = FixSafety.UNSAFE
    options = {
        "default-timeout": Option(int, 10, "seconds that the unsafe fix writes as the timeout"),
    }

    INVALID = (
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Resize:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n",
            lines=(3,),
            path="template.yaml",
        ),
        Example(
            "service: thumbnails\n"
            "provider:\n"
            "  name: aws\n"
            "  runtime: python3.12\n"
            "functions:\n"
            "  resize:\n"
            "    handler: handler.resize\n"
            "  fast:\n"
            "    handler: handler.fast\n"
            "    timeout: 2\n",
            lines=(6,),
            path="serverless.yml",
        ),
        Example(
            'resource "aws_lambda_function" "resize" {\n'
            '  function_name = "resize"\n'
            '  handler       = "app.handler"\n'
            '  runtime       = "python3.12"\n'
            '  role          = "arn:aws:iam::123456789012:role/resize"\n'
            '  filename      = "build/resize.zip"\n'
            "}\n",
            lines=(1,),
            path="main.tf",
        ),
    )
    VALID = (
        # set once for every function in Globals
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Globals:\n"
            "  Function:\n"
            "    Timeout: 20\n"
            "Resources:\n"
            "  Resize:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n",
            path="template.yaml",
        ),
        # a parameter without a default: unknown, but chosen on purpose
        Example(
            "Parameters:\n"
            "  FunctionTimeout:\n"
            "    Type: Number\n"
            "Resources:\n"
            "  Resize:\n"
            "    Type: AWS::Lambda::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      Role: arn:aws:iam::123456789012:role/resize\n"
            "      Code: {ZipFile: 'def handler(e, c): pass'}\n"
            "      Timeout: !Ref FunctionTimeout\n",
            path="template.yaml",
        ),
        Example(
            "service: thumbnails\n"
            "provider:\n"
            "  name: aws\n"
            "  runtime: python3.12\n"
            "  timeout: 10\n"
            "functions:\n"
            "  resize:\n"
            "    handler: handler.resize\n",
            path="serverless.yml",
        ),
    )

    def check(self) -> None:
        for function in self.template.functions:
            if function.timeout is None:
                when = ""
            else:
                # ``!If [Cond, 30, !Ref AWS::NoValue]``: one branch leaves the default
                unset = [
                    when for located, when in branches(function.timeout) if located.value is None
                ]
                if not unset:
                    continue
                when = unset[0]
            self.report(
                function.span,
                f"Function `{function.logical_id}` sets no timeout{when}, so it is killed after "
                f"the default {function.default_timeout} s",
                path=function.path,
                hint="Set a timeout that covers the slowest legitimate invocation "
                f"({_WHERE_BY_FORMAT.get(self.template.format, 'on the function')}).",
                fix=self._add_timeout(function) if function.timeout is None else None,
            )

    def _add_timeout(self, function) -> Optional[Fix]:
        """Insert the timeout on the line after the handler, indented like it."""
        text = self.template.texts.get(function.path or self.template.path)
        handler = function.handler
        if text is None or handler is None or (function.path or self.template.path) != self.template.path:
            return None
        lines = text.splitlines()
        if not 0 < handler.span.line <= len(lines):
            return None
        match = _HANDLER_KEY.match(lines[handler.span.line - 1])
        if match is None:
            return None
        seconds = self.option("default-timeout")
        if any(event.kind in ("api", "http-api", "websocket") for event in function.events):
            seconds = min(seconds, 29)
        key = {"terraform": "timeout = ", "serverless": "timeout: "}.get(self.template.format, "Timeout: ")
        line = handler.span.end_line + 1
        return Fix(
            f"Set the timeout to {seconds} s",
            FixSafety.UNSAFE,
            (Edit(Span(line, 1, line, 1), f"{match.group(1)}{key}{seconds}\n"),),
        )


_HANDLER_KEY = re.compile(r"^(\s*)(?:Handler\s*:|handler\s*:|handler\s*=)")


#: where each format sets a timeout, for the hint
_WHERE_BY_FORMAT = {
    "sam": "`Timeout` per function, or once in `Globals.Function`",
    "cloudformation": "`Timeout` in the function's Properties",
    "serverless": "`timeout` per function, or once in `provider.timeout`",
    "terraform": "`timeout` in the `aws_lambda_function`",
}
