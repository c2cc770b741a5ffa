"""LL606 secret-in-environment."""

from __future__ import annotations

import logging
from typing import Dict, List, Tuple

from lambdalint.iac.function_facts import branches
from lambdalint.iac.model import Function, Located, Unknown
from lambdalint.iac.secrets import secret_kind, secret_name
from lambdalint.model import Severity, Span
from lambdalint.rule import Example, TemplateRule

log = logging.getLogger("lambdalint.rules")


class SecretInEnvironment(TemplateRule):
    """A plaintext secret in a function's environment variables.

    ## What it does
    Flags an environment variable of a function (`Environment.Variables`, SAM `Globals`,
    Serverless `environment` at function or provider level, Terraform `environment`) whose
    literal value is a secret:

    - by its value, whatever the name: AWS access key ids (`AKIA...`, `ASIA...`), PEM private
      keys, well-known token formats (GitHub `ghp_`, Slack `xox*-`, Stripe `sk_live_`, GitLab,
      Google, SendGrid, npm, JWTs), URLs with a password (`postgres://app:pw@db/prod`), and AWS
      secret access keys (40 characters of base64 under a key-like name);
    - by its name: `PASSWORD`, `SECRET`, `TOKEN`, `API_KEY`, `PRIVATE_KEY`, `CREDENTIALS`...
      unless a word after the secret word makes the variable a pointer to a secret or a setting
      about one (`DB_PASSWORD_SECRET_ARN`, `APP_PRIVATE_KEY_SECRET_NAME`, `API_KEY_PARAMETER`,
      `TOKEN_URL`, `TOKEN_TTL`, `PASSWORD_MIN_LENGTH`...); `SECRET_KEY_BASE` or
      `GITHUB_TOKEN_PROD` stay secrets. Numbers are not secrets unless the name says password.

    Dynamic references (`{{resolve:secretsmanager:...}}`, `{{resolve:ssm-secure:...}}`),
    Serverless `${ssm:...}` variables, `!Ref`/`!GetAtt` values, ARNs, parameter paths, empty
    values and placeholders (`changeme`, `<token>`) are not secrets.

    ## Why is this bad in Lambda
    Environment variables are part of the function's configuration: anyone with
    `lambda:GetFunctionConfiguration` reads them in clear text, they are printed by the console,
    `aws lambda get-function`, CloudFormation events and drift detection, and the value in the
    template is committed to version control and copied to every stack. Rotating it means a
    redeploy. Keep the secret in Secrets Manager or SSM Parameter Store and pass its name.

    ## Example
    ```yaml
    Resources:
      Api:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Environment:
            Variables:
              DB_PASSWORD: hunter2-prod
    ```

    ## Use instead
    ```yaml
    Resources:
      Api:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Environment:
            Variables:
              DB_PASSWORD_SECRET_ARN: !Ref DbSecret
    ```

    ## Fix safety
    No automatic fix: the secret has to be moved to a secret store (and rotated, since it was
    committed).
    """

    id = "LL606"
    name = "secret-in-environment"
    severity = Severity.ERROR

    INVALID = (
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Api:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 10\n"
            "      Environment:\n"
            "        Variables:\n"
            "          TABLE_NAME: orders\n"
            "          DB_PASSWORD: hunter2-prod\n"
            "          AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE\n"
            "          DATABASE_URL: postgres://app:s3cr3t@db.internal:5432/app\n",
            lines=(13, 14, 15),
            path="template.yaml",
        ),
        Example(
            "service: notify\n"
            "provider:\n"
            "  name: aws\n"
            "  runtime: python3.12\n"
            "  timeout: 10\n"
            "  environment:\n"
            "    SLACK_BOT_TOKEN: xoxb-2222222222-3333333333-AbCdEfGhIjKlMnOpQrStUvWx\n"
            "functions:\n"
            "  notify:\n"
            "    handler: handler.notify\n",
            lines=(7,),
            path="serverless.yml",
        ),
        Example(
            'resource "aws_lambda_function" "api" {\n'
            '  function_name = "api"\n'
            '  handler       = "app.handler"\n'
            '  runtime       = "python3.12"\n'
            '  role          = "arn:aws:iam::123456789012:role/api"\n'
            '  filename      = "build/api.zip"\n'
            "  timeout       = 10\n"
            "  environment {\n"
            "    variables = {\n"
            '      STRIPE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"\n'
            '      REGION     = "eu-west-1"\n'
            "    }\n"
            "  }\n"
            "}\n",
            lines=(10,),
            path="main.tf",
        ),
    )
    VALID = (
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  DbSecret:\n"
            "    Type: AWS::SecretsManager::Secret\n"
            "  Api:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 10\n"
            "      Environment:\n"
            "        Variables:\n"
            "          DB_PASSWORD: '{{resolve:secretsmanager:prod/db:SecretString:password}}'\n"
            "          API_TOKEN: '{{resolve:ssm-secure:/prod/api/token}}'\n"
            "          DB_PASSWORD_SECRET_ARN: !Ref DbSecret\n"
            "          APP_PRIVATE_KEY_SECRET_NAME: prod/app/private-key\n"
            "          API_KEY_PARAMETER: /prod/api/key\n"
            "          TOKEN_TTL: '3600'\n"
            "          SECRET: ''\n"
            "          PASSWORD_MIN_LENGTH: '12'\n"
            "          GIT_SHA: 55e7e7703f17c41f276caf8f1a1b744d674259f8\n",
            path="template.yaml",
        ),
        Example(
            "service: notify\n"
            "provider:\n"
            "  name: aws\n"
            "  runtime: python3.12\n"
            "  timeout: 10\n"
            "  environment:\n"
            "    SLACK_TOKEN: ${ssm:/notify/slack-token}\n"
            "functions:\n"
            "  notify:\n"
            "    handler: handler.notify\n",
            path="serverless.yml",
        ),
    )

    def check(self) -> None:
        # (file, span, variable) -> what it is, and every function that gets it: a variable of
        # SAM Globals or Serverless provider.environment is written once for all functions
        found: Dict[Tuple[str, Span, str], Tuple[Located, str, str, List[Function]]] = {}
        for function in self.template.functions:
            for variable, value in function.environment.items():
                for located, when in branches(value):
                    text = located.value
                    if isinstance(text, (int, float)) and not isinstance(text, bool):
                        text = str(text)  # DB_PASSWORD: 12345678, unquoted in YAML
                    if not isinstance(text, str):
                        if isinstance(text, Unknown) and secret_name(variable):
                            log.debug(
                                "%s: %s: %s of %s is not known statically (%s)",
                                self.id, function.path or self.template.path, variable,
                                function.logical_id, text.reason,
                            )
                        continue
                    kind = secret_kind(variable, text)
                    if kind is None:
                        continue
                    path = located.path or function.path or self.template.path
                    key = (path, located.span, variable)
                    if key not in found:
                        found[key] = (located, kind, when, [])
                    found[key][3].append(function)
        for (path, span, variable), (located, kind, when, functions) in found.items():
            first = functions[0]
            shared = len(functions) > 1 or (
                path == (first.path or self.template.path) and span.line < first.span.line
            )
            if shared:
                names = ", ".join(f"`{function.logical_id}`" for function in functions)
                whose = f"(shared by {names})"
            else:
                whose = f"of `{first.logical_id}`"
            self.report(
                span,
                f"Environment variable `{variable}` {whose} holds {kind} in plain text{when}",
                path=path,
                hint="Store it in Secrets Manager or SSM Parameter Store and pass its name "
                f"or {_REFERENCE_BY_FORMAT.get(self.template.format, _REFERENCE_BY_FORMAT['cloudformation'])}; "
                "rotate the exposed value.",
            )


#: how each format reads a secret without writing it down
_REFERENCE_BY_FORMAT = {
    "cloudformation": "a dynamic reference (`{{resolve:secretsmanager:...}}`)",
    "sam": "a dynamic reference (`{{resolve:secretsmanager:...}}`)",
    "serverless": "a `${ssm:...}` variable",
    "terraform": "read it at run time (pass the secret's ARN; `aws_secretsmanager_secret_version` would put the value in the state)",
}
