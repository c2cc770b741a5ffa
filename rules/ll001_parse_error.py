"""LL001 parse-error."""

from lambdalint.model import Severity
from lambdalint.rule import Example, Rule


class ParseError(Rule):
    """A file that lambdalint cannot parse, so no other rule could check it.

    ## What it does
    Reports a Python file that libcst cannot parse (a syntax error, bytes that are not valid in
    the file's encoding, a binary file) or that cannot be read, at the position the parser
    gives. The run goes on with every other file.

    ## Why is this bad in Lambda
    Lambda imports the handler module on the first invocation of every new execution
    environment: a file that does not parse fails every cold start with
    `Runtime.UserCodeSyntaxError`, and none of lambdalint's rules can protect it meanwhile.

    ## Example
    ```python
    def lambda_handler(event, context)
        return {"statusCode": 200}
    ```

    ## Use instead
    ```python
    def lambda_handler(event, context):
        return {"statusCode": 200}
    ```

    ## Fix safety
    No automatic fix: only the author knows what the code should say.
    """

    id = "LL001"
    name = "parse-error"
    severity = Severity.ERROR

    INVALID = (
        Example("def lambda_handler(event, context)\n    return 1\n", lines=(1,)),
        Example("import json\n\n\ndef handler(event, context):\n    return json.dumps(event\n", lines=(5,)),
    )
    VALID = (
        Example("def lambda_handler(event, context):\n    return 1\n"),
        Example("# -*- coding: latin-1 -*-\nNAME = 'x'\n"),
        Example("match = 1\nmatch match:\n    case 1:\n        pass\n"),
    )
