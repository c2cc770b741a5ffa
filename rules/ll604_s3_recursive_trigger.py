"""LL604 s3-recursive-trigger."""

from __future__ import annotations

import logging

from lambdalint.iac.function_facts import branches, find_bucket, write_grants
from lambdalint.model import Related
from lambdalint.rule import Example, TemplateRule

log = logging.getLogger("lambdalint.rules")


class S3RecursiveTrigger(TemplateRule):
    """A function triggered by a bucket that it may also write into, with no filter.

    ## What it does
    Flags an S3 trigger (SAM `S3` events, Serverless `s3` events, a bucket's
    `NotificationConfiguration`, Terraform `aws_s3_bucket_notification`) when the function it
    invokes is allowed to put objects into that same bucket and the trigger has neither a
    prefix nor a suffix filter. "Allowed to write" means an `Allow` statement on the function
    or its role whose action covers `s3:PutObject` (`s3:PutObject`, `s3:Put*`, `s3:*`, `*`,
    or a `NotAction` that leaves it in) on objects of the bucket (`!Sub arn:aws:s3:::${B}/*`,
    `!Join ["", [!GetAtt B.Arn, "/out/*"]]`, `${aws_s3_bucket.b.arn}/*`, its literal ARN
    with a key part, `arn:aws:s3:::*`, `*`; the bucket's own ARN alone grants no object
    write), a SAM `S3WritePolicy`/`S3CrudPolicy`/`S3FullAccessPolicy` naming it, or
    an AWS managed policy that writes to every bucket (`AmazonS3FullAccess`, `AWSLambdaExecute`,
    `PowerUserAccess`, `AdministratorAccess`).

    When the template does not say which bucket triggers the function (a parameter, an
    import), only grants on every bucket (`*`, `arn:aws:s3:::*`, `AmazonS3FullAccess`...)
    count. With a prefix or suffix filter the rule stays quiet: from the template alone it cannot
    tell whether the function writes under the filtered keys (lambdalint's code rule LL304
    looks at where the handler writes). Statements with a `Condition`, and writes cancelled by
    a matching `Deny`, are not reported either.

    ## Why is this bad in Lambda
    Every object the function writes fires the trigger again, which writes another object:
    a loop that runs, at full concurrency, until someone notices the bill. Lambda's own
    recursive-loop detection, where it applies and is left on, only stops a loop after it has
    gone round many times; do not rely on it. Separate input and output by bucket, or at least
    by a prefix or suffix filter the output can never match.

    ## Example
    ```yaml
    Resources:
      Uploads:
        Type: AWS::S3::Bucket
      Thumbnail:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Policies:
            - S3CrudPolicy: {BucketName: !Ref Uploads}
          Events:
            Upload:
              Type: S3
              Properties:
                Bucket: !Ref Uploads
                Events: s3:ObjectCreated:*
    ```

    ## Use instead
    ```yaml
    Resources:
      Uploads:
        Type: AWS::S3::Bucket
      Thumbnails:
        Type: AWS::S3::Bucket
      Thumbnail:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Policies:
            - S3ReadPolicy: {BucketName: !Ref Uploads}
            - S3WritePolicy: {BucketName: !Ref Thumbnails}
          Events:
            Upload:
              Type: S3
              Properties:
                Bucket: !Ref Uploads
                Events: s3:ObjectCreated:*
    ```

    ## Fix safety
    No automatic fix: the output has to go somewhere else, which is a design decision.
    """

    id = "LL604"
    name = "s3-recursive-trigger"

    INVALID = (
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Uploads:\n"
            "    Type: AWS::S3::Bucket\n"
            "  Thumbnail:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 30\n"
            "      Policies:\n"
            "        - S3CrudPolicy:\n"
            "            BucketName: !Ref Uploads\n"
            "      Events:\n"
            "        Upload:\n"
            "          Type: S3\n"
            "          Properties:\n"
            "            Bucket: !Ref Uploads\n"
            "            Events: s3:ObjectCreated:*\n",
            lines=(16,),
            path="template.yaml",
        ),
        # an inline statement with !Sub on the objects of the trigger bucket
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Uploads:\n"
            "    Type: AWS::S3::Bucket\n"
            "  Thumbnail:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 30\n"
            "      Policies:\n"
            "        - Statement:\n"
            "            - Effect: Allow\n"
            "              Action: [s3:GetObject, s3:PutObject]\n"
            "              Resource: !Sub arn:${AWS::Partition}:s3:::${Uploads}/*\n"
            "      Events:\n"
            "        Upload:\n"
            "          Type: S3\n"
            "          Properties:\n"
            "            Bucket: !Ref Uploads\n"
            "            Events: s3:ObjectCreated:*\n",
            lines=(18,),
            path="template.yaml",
        ),
        Example(
            'resource "aws_s3_bucket" "images" {\n'
            '  bucket = "acme-images"\n'
            "}\n"
            "\n"
            'resource "aws_iam_role_policy" "thumbnailer" {\n'
            '  role = "thumbnailer"\n'
            "  policy = jsonencode({\n"
            '    Version = "2012-10-17"\n'
            "    Statement = [{\n"
            '      Effect   = "Allow"\n'
            '      Action   = ["s3:GetObject", "s3:PutObject"]\n'
            '      Resource = "${aws_s3_bucket.images.arn}/*"\n'
            "    }]\n"
            "  })\n"
            "}\n"
            "\n"
            'resource "aws_iam_role" "thumbnailer" {\n'
            '  name               = "thumbnailer"\n'
            '  assume_role_policy = "{}"\n'
            "}\n"
            "\n"
            'resource "aws_lambda_function" "thumbnailer" {\n'
            '  function_name = "thumbnailer"\n'
            '  role          = aws_iam_role.thumbnailer.arn\n'
            '  handler       = "app.handler"\n'
            '  runtime       = "python3.12"\n'
            '  filename      = "build/thumbnailer.zip"\n'
            "  timeout       = 30\n"
            "}\n"
            "\n"
            'resource "aws_s3_bucket_notification" "images" {\n'
            "  bucket = aws_s3_bucket.images.id\n"
            "  lambda_function {\n"
            "    lambda_function_arn = aws_lambda_function.thumbnailer.arn\n"
            '    events              = ["s3:ObjectCreated:*"]\n'
            "  }\n"
            "}\n",
            lines=(33,),
            path="main.tf",
        ),
    )
    VALID = (
        # the trigger fires on deletions only: writing new objects cannot fire it
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Uploads:\n"
            "    Type: AWS::S3::Bucket\n"
            "  Cleanup:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 30\n"
            "      Policies:\n"
            "        - S3CrudPolicy:\n"
            "            BucketName: !Ref Uploads\n"
            "      Events:\n"
            "        Removed:\n"
            "          Type: S3\n"
            "          Properties:\n"
            "            Bucket: !Ref Uploads\n"
            "            Events: [s3:ObjectRemoved:*, s3:ObjectRestore:Completed]\n",
            path="template.yaml",
        ),
        Example(
            'resource "aws_s3_bucket" "uploads" {\n  bucket = "uploads"\n}\n\n'
            'resource "aws_iam_role" "fn" {\n  name = "fn"\n  assume_role_policy = jsonencode({Statement = [{Effect = "Allow", '
            'Action = "sts:AssumeRole", Principal = {Service = "lambda.amazonaws.com"}}]})\n'
            '  inline_policy {\n    name = "w"\n    policy = jsonencode({Statement = [{Effect = "Allow", '
            'Action = "s3:PutObject", Resource = "${aws_s3_bucket.uploads.arn}/*"}]})\n  }\n}\n\n'
            'resource "aws_lambda_function" "fn" {\n  function_name = "fn"\n  role = aws_iam_role.fn.arn\n'
            '  handler = "app.handler"\n  runtime = "python3.12"\n  timeout = 10\n  filename = "fn.zip"\n}\n\n'
            'resource "aws_s3_bucket_notification" "n" {\n  bucket = aws_s3_bucket.uploads.id\n'
            '  lambda_function {\n    lambda_function_arn = aws_lambda_function.fn.arn\n'
            '    events = ["s3:ObjectRemoved:*"]\n  }\n}\n',
            path="main.tf",
        ),
        # reads the trigger bucket, writes another one
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Uploads:\n"
            "    Type: AWS::S3::Bucket\n"
            "  UploadsLogs:\n"
            "    Type: AWS::S3::Bucket\n"
            "  Thumbnail:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 30\n"
            "      Policies:\n"
            "        - S3ReadPolicy:\n"
            "            BucketName: !Ref Uploads\n"
            "        - Statement:\n"
            "            - Effect: Allow\n"
            "              Action: s3:PutObject\n"
            "              Resource: !Sub arn:aws:s3:::${Uploads}-logs/*\n"
            "        - S3WritePolicy:\n"
            "            BucketName: !Ref UploadsLogs\n"
            "      Events:\n"
            "        Upload:\n"
            "          Type: S3\n"
            "          Properties:\n"
            "            Bucket: !Ref Uploads\n"
            "            Events: s3:ObjectCreated:*\n",
            path="template.yaml",
        ),
        # writes back into the bucket, but the trigger only sees incoming/
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Media:\n"
            "    Type: AWS::S3::Bucket\n"
            "  Thumbnail:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      CodeUri: src/\n"
            "      Timeout: 30\n"
            "      Policies:\n"
            "        - S3CrudPolicy:\n"
            "            BucketName: !Ref Media\n"
            "      Events:\n"
            "        Upload:\n"
            "          Type: S3\n"
            "          Properties:\n"
            "            Bucket: !Ref Media\n"
            "            Events: s3:ObjectCreated:*\n"
            "            Filter:\n"
            "              S3Key:\n"
            "                Rules:\n"
            "                  - Name: prefix\n"
            "                    Value: incoming/\n",
            path="template.yaml",
        ),
    )

    def check(self) -> None:
        # Serverless names its generated buckets S3Bucket<Name>: the bucket name says more
        prefer_name = self.template.format == "serverless"
        for function in self.template.functions:
            for event in function.events:
                if event.kind != "s3" or event.source is None or not event.fires_on_new_objects:
                    continue
                if event.prefix is not None or event.suffix is not None:
                    log.debug(
                        "%s: %s: %s.%s has a key filter; the code decides whether it separates",
                        self.id, event.path, function.logical_id, event.name,
                    )
                    continue
                for source, when in branches(event.source):
                    bucket = find_bucket(self.template, source)
                    if bucket is None:
                        continue
                    grants = write_grants(self.template, function, bucket)
                    if not grants:
                        if not bucket.known:
                            log.debug(
                                "%s: %s: the bucket of %s.%s is not known statically (%s)",
                                self.id, event.path or function.path, function.logical_id,
                                event.name, getattr(source.value, "reason", source.value),
                            )
                        continue
                    grant = grants[0]
                    self.report(
                        event.span,
                        f"Function `{function.logical_id}` is triggered by every new object in "
                        f"{bucket.describe(prefer_name)}{when} and may write into it "
                        f"({grant.what}, line {grant.span.line}): each write triggers it again",
                        path=event.path or function.path,
                        hint="Write the output to another bucket, or filter the trigger by a "
                        "prefix or suffix that the output never has.",
                        related=[
                            Related(
                                grant.path or function.path or self.template.path,
                                grant.span,
                                f"`{function.logical_id}` may write into "
                                f"{bucket.describe(prefer_name)} here",
                            )
                            for grant in grants
                        ],
                    )
                    break
