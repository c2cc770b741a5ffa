"""LL202 hardcoded-secret."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from lambdalint.model import Severity
from lambdalint.python import values
from lambdalint.rule import Example, Option, PythonRule

#: credential formats recognisable by their shape alone -> what they are
SECRET_PATTERNS: Tuple[Tuple[re.Pattern, str], ...] = (
    (re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"), "an AWS access key id"),
    (
        re.compile(
            r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"
            r"[\s\\n]*[A-Za-z0-9+/=\s\\n:,-]{40,}"
        ),
        "a PEM private key",
    ),
    (re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9])"), "a GitHub token"),
    (re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{40,}"), "a GitHub token"),
    (re.compile(r"(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9-]{20,}"), "a Slack token"),
    (re.compile(r"(?<![A-Za-z0-9])[sr]k_live_[A-Za-z0-9]{20,}"), "a Stripe live key"),
    (re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])"), "a Google API key"),
)
#: calls whose argument is a secret whatever it is called: qualified name -> (position, keyword)
SECRET_ARGUMENTS: Dict[str, Tuple[int, str]] = {
    "jwt.encode": (1, "key"),
    "jwt.decode": (1, "key"),
    "jwt.api_jwt.encode": (1, "key"),
    "jwt.api_jwt.decode": (1, "key"),
    "jose.jwt.encode": (1, "key"),
    "jose.jwt.decode": (1, "key"),
    "hmac.new": (0, "key"),
    "hmac.digest": (0, "key"),
}

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "host.docker.internal", "::1"}

#: ``scheme://user:password@host``
_URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://([^\s/:@]*):([^\s/@]+)@[^\s/@]")

#: last words of a name that holds a secret (after splitting on ``_``, ``-`` and camelCase)
SECRET_SUFFIXES: Tuple[Tuple[str, ...], ...] = (
    ("password",), ("passwd",), ("pwd",), ("passphrase",), ("secret",), ("token",),
    ("apikey",), ("api", "key"), ("private", "key"), ("privatekey",), ("secret", "key"),
    ("secretkey",), ("signing", "key"), ("encryption", "key"), ("master", "key"),
    ("auth", "key"), ("secret", "access", "key"), ("accesstoken",), ("authtoken",),
    ("apitoken",),
)
#: words before ``token`` that make it a cursor or an idempotency key, not a credential
NON_SECRET_TOKEN_PREFIXES = {
    "next", "page", "pagination", "continuation", "csrf", "xsrf", "idempotency", "client",
    "request", "sync", "cancel", "cancellation", "task", "start", "end", "max", "min",
    "num", "count", "stop", "eos", "bos", "pad", "unk", "sep", "cls", "mask",
}
#: words that make the whole name about a secret rather than the secret itself
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9]|\b|_|$)|[A-Z]?[a-z0-9]+|[A-Z]+")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_SLUG = re.compile(r"^[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)+$")
_PATH = re.compile(r"^/|^[a-z0-9_.-]+(?:/[a-z0-9_.*-]+)+/?$")
_REGEX = re.compile(r"\\[wdsWDSbBAZ]|\(\?|\[\^|\.\*|\.\+|\]\+|\]\*|\]\{")
_AUTH_SCHEME = re.compile(r"^(bearer|basic|token|digest)\s+\S", re.IGNORECASE)


_KIND_LABELS = {
    ("pwd",): "password",
    ("passwd",): "password",
    ("apikey",): "API key",
    ("api", "key"): "API key",
    ("apitoken",): "API token",
    ("privatekey",): "private key",
    ("secretkey",): "secret key",
    ("accesstoken",): "access token",
    ("authtoken",): "auth token",
    ("secret", "access", "key"): "secret access key",
}


def name_words(identifier: str) -> List[str]:
    """``dbPassword`` -> ``["db", "password"]``; ``X-API-Key`` -> ``["x", "api", "key"]``."""
    return [word.lower() for word in _WORDS.findall(identifier)]


def secret_kind(identifier: str) -> Optional[str]:
    """What secret a name holds (``password``, ``token``...), or ``None`` when the name is
    not a secret's (``token_url``, ``password_field``, ``secret_name``, ``next_token``)."""
    words = name_words(identifier)
    for suffix in sorted(SECRET_SUFFIXES, key=len, reverse=True):
        if tuple(words[-len(suffix):]) == suffix:
            if suffix == ("token",) and len(words) > 1 and words[-2] in NON_SECRET_TOKEN_PREFIXES:
                return None
            if len(words) == 1 and len(suffix) == 1 and words[0] == "pwd" and identifier == "pwd":
                return None  # the shell's working directory
            return _KIND_LABELS.get(suffix, " ".join(suffix))
    return None


def looks_like_secret_value(text: str, identifier: str, kind: str) -> bool:
    """False for values that are clearly not the secret itself: placeholders, names of
    environment variables, parameter paths, ARNs, URLs, header names, messages."""
    value = text.strip()
    if len(value) < 4 or values.is_placeholder(value):
        return False
    if "-----BEGIN" in value and "PRIVATE KEY" not in value:
        return False  # a public key or certificate (a private one is found by its shape)
    if _AUTH_SCHEME.match(value):
        return not values.is_placeholder(value.split(None, 1)[1])
    if any(ch.isspace() for ch in value):
        return False  # a message or a label
    if _ENV_NAME.match(value) or value.startswith(("arn:", "http://", "https://", "$", "%")):
        return False
    if "{" in value and "}" in value:
        return False  # a template to be formatted
    if _REGEX.search(value):
        return False  # a pattern: a lexer's or validator's token, not a credential
    if _PATH.match(value):
        return False  # an SSM parameter or Secrets Manager secret name
    squashed = re.sub(r"[^a-z0-9]", "", value.lower())
    name_squashed = re.sub(r"[^a-z0-9]", "", identifier.lower())
    if squashed == name_squashed or squashed.endswith(kind.replace(" ", "").lower()):
        return False  # a header or field name such as "X-Api-Key"
    if kind == "secret" and _SLUG.match(value) and not any(ch.isdigit() for ch in value):
        return False  # ``secret = "orders-db-credentials"``: a secret's name
    if kind not in ("password", "passphrase") and re.fullmatch(r"[A-Za-z]{1,15}", value):
        return False  # generated tokens and keys are not short plain words: token = "start"
    return True


def mask(text: str, keep: int = 0) -> str:
    """Never show a secret: at most its first ``keep`` characters (a key id's type prefix such
    as ``AKIA``), then its length."""
    if keep:
        return f"`{text[:keep]}{'*' * min(len(text) - keep, 16)}`"
    return f"{len(text)} characters"


@dataclass
class _Hit:
    node: cst.CSTNode
    message: str
    strong: bool


class HardcodedSecret(PythonRule):
    """A credential written into the code.

    ## What it does
    Flags secrets in string literals:

    - credentials recognisable by their shape, anywhere: AWS access key ids
      (`AKIA`/`ASIA` + 16 characters), PEM private key blocks, GitHub, Slack, Stripe live and
      Google API keys, and passwords inside URLs (`postgresql://app:s3cret@db/orders`);
    - literals given to a name that holds a secret — `password`, `passwd`, `pwd`,
      `passphrase`, `secret`, `token`, `api_key`, `private_key`, `secret_key`,
      `aws_secret_access_key`, `aws_session_token`... (any case, camelCase too) — by
      assignment (`x = ...`, `self.x = ...`, `cfg["x"] = ...`, `(x := ...)`), keyword argument,
      dict key, or parameter default; the key given to `jwt.encode`/`jwt.decode` (PyJWT,
      python-jose) and `hmac.new`; a constant bound once and passed on
      (`connect(password=DEFAULT_PW)`, `jwt.encode(claims, SIGNING)`) is reported at its
      definition.

    Not flagged: empty strings and obvious placeholders (`"changeme"`, `"<token>"`,
    `"${TOKEN}"`, `"xxx"`, `"your-api-key-here"`, AWS's `...EXAMPLE` keys), values read from
    the environment, SSM or Secrets Manager (a fallback in `os.environ.get("X") or "..."`
    too), names that are about a secret rather than the secret (`token_url`,
    `password_field`, `secret_name`, `secret_arn`, `token_type`, `next_token`,
    `ClientToken`), and values that name one (`"DB_PASSWORD"`, `"/prod/db/password"`,
    `"X-Api-Key"`), and URL passwords of local development databases
    (`postgres:postgres@localhost`). In test files (`test-file-patterns`) only credentials
    issued by a provider are flagged (AWS, GitHub, Slack, Stripe, Google keys), not fixture
    passwords, test private keys or test database URLs. Messages never show the secret.

    ## Why is this bad in Lambda
    Code is copied into deployment packages, layers, container images, CI logs and every
    developer's clone; a secret in it cannot be rotated without a redeploy and is readable
    by anyone with `lambda:GetFunction`. Lambda functions should read secrets at run time
    from Secrets Manager or SSM Parameter Store (cached across warm invocations) with an
    execution role that is allowed to, so that access is audited and rotation is free.

    ## Example
    ```python
    import pymysql

    conn = pymysql.connect(host="db", user="app", password="hunter2-prod")
    ```

    ## Use instead
    ```python
    import json, os
    import boto3, pymysql

    secret = json.loads(
        boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["DB_SECRET_ARN"])[
            "SecretString"
        ]
    )
    conn = pymysql.connect(host="db", user="app", password=secret["password"])
    ```

    ## Fix safety
    No automatic fix: the secret must be moved to a secret store and rotated, since it is
    already in the repository's history.
    """

    id = "LL202"
    name = "hardcoded-secret"
    severity = Severity.ERROR
    options = {
        "test-file-patterns": Option(
            list,
            list(values.DEFAULT_TEST_PATTERNS),
            "files where only shape-recognised credentials (access keys, private keys...) are "
            "flagged, not fixture passwords: base-name globs, folder names ending in `/`, or "
            "globs on the whole path",
        ),
    }

    INVALID = (
        Example(
            "import pymysql\n\nconn = pymysql.connect(host='db', user='app', password='hunter2-prod')\n",
            lines=(3,),
        ),
        Example(
            "import boto3\n\ns3 = boto3.client(\n    's3',\n    aws_access_key_id='AKIAZ7XQ3PLM4RTV2WNE',\n"
            "    aws_secret_access_key='q8Vw3+Zr1T0pLk9sYh2XbN5mCj7QeRa4Fd6GuIo0',\n)\n",
            lines=(5, 6),
        ),
        # names in any case and style; attributes, dict keys, subscripts, defaults
        Example(
            "API_KEY = 'sk-4f9a8b7c6d5e4f3a2b1c'\nclass Client:\n    def __init__(self):\n"
            "        self.authToken = 'c2VjcmV0LXRva2VuLXZhbHVl'\n"
            "HEADERS = {'X-Api-Key': 'a8f5f167f44f4964e6c998dee827110c'}\n"
            "cfg = {}\ncfg['db_password'] = 'Tr0ub4dor&3'\n"
            "def connect(host, passwd='pa55w0rd!'):\n    pass\n",
            lines=(1, 4, 5, 7, 8),
        ),
        # a constant passed on is reported at its definition; a walrus
        Example(
            "import redis\n\nDEFAULT = 'r3d1s-s3cr3t-v4lue'\n\ndef handler(event, context):\n"
            "    r = redis.Redis(host='cache', password=DEFAULT)\n"
            "    if (token := 'ghx-1234-abcd-5678'):\n        return r\n",
            lines=(3, 7),
        ),
        Example(
            "KEY = '''-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2T6dR4v\n"
            "-----END RSA PRIVATE KEY-----'''\n"
            "DSN = 'postgresql://app:Xk29fPq7@db.internal:5432/orders'\n",
            lines=(1, 4),
        ),
    )
    VALID = (
        # placeholders and empty values
        Example(
            "password = ''\nPASSWORD = 'changeme'\napi_key = '<api-key>'\ntoken = '${TOKEN}'\n"
            "secret = 'xxx'\nAPI_KEY = 'your-api-key-here'\n"
            "aws_access_key_id = 'AKIAIOSFODNN7EXAMPLE'\n"
            "DSN = 'postgresql://user:password@localhost/db'\n"
        ),
        # read from the environment, SSM or Secrets Manager, possibly with a fallback
        Example(
            "import json, os\nimport boto3\n\nsm = boto3.client('secretsmanager')\n"
            "password = os.environ['DB_PASSWORD']\napi_key = os.environ.get('API_KEY', '')\n"
            "token = os.getenv('TOKEN') or 'dev-token'\n"
            "secret = json.loads(sm.get_secret_value(SecretId=os.environ['SECRET_ARN'])['SecretString'])\n"
            "private_key = boto3.client('ssm').get_parameter(Name='k', WithDecryption=True)"
            "['Parameter']['Value']\n"
        ),
        # names about a secret, not the secret; values that name one
        Example(
            "token_url = 'https://auth.example.com/oauth/token'\npassword_field = 'pwd'\n"
            "secret_name = 'prod/orders/db'\nsecret_arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:x'\n"
            "token_type = 'Bearer'\nPASSWORD_ENV = 'DB_PASSWORD'\nsecret = 'orders-db-credentials'\n"
            "DB_PASSWORD = '/prod/orders/db-password'\nAPI_KEY_HEADER = 'X-Api-Key'\n"
            "api_key = 'X-Api-Key'\ntoken = 'API_TOKEN'\n"
            "def page(client, next_token='first-page'):\n"
            "    return client.list(NextToken=next_token, ClientToken='order-42-create')\n"
        ),
        # messages and templates
        Example(
            "import logging\nlog = logging.getLogger()\n"
            "password = 'Please enter your password'\ntoken = '{token}'\n"
            "log.info('token refreshed', extra={'token': 'redacted'})\n"
        ),
        # fixtures in test files (a real access key would still be flagged there)
        Example(
            "def test_login(client):\n    client.login(username='alice', password='s3cret-test-pw')\n",
            path="tests/test_login.py",
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        patterns = self.option("test-file-patterns")
        self._in_tests = values.is_test_file(self.facts.relative_path, patterns)
        self._hits: Dict[cst.CSTNode, _Hit] = {}

    def _names_of(self, node: cst.CSTNode) -> Set[str]:
        return self.qualified_names(node)

    def _add(self, hit: _Hit) -> None:
        if hit.node not in self._hits or (hit.strong and not self._hits[hit.node].strong):
            self._hits[hit.node] = hit

    # -- credentials by their shape --------------------------------------------------------------

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self._scan(node)

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        self._scan(node)

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self._scan(node)

    def _scan(self, node: cst.BaseExpression) -> None:
        if not values.is_outermost_string(node, self.get_metadata):
            return
        value = values.string_value(node)
        if value is None:
            return
        text = value.with_holes()
        for pattern, what in SECRET_PATTERNS:
            for match in pattern.finditer(text):
                found = match.group(0)
                if values.HOLE in found or values.is_placeholder(found):
                    continue
                if self._in_tests and what == "a PEM private key":
                    continue  # throwaway keys generated for tests
                keep = 4 if what == "an AWS access key id" else 0
                self._add(
                    _Hit(node, f"Hardcoded secret: {what} {mask(found, keep)}".rstrip()
                         if keep else f"Hardcoded secret: {what} ({mask(found)})", strong=True)
                )
                return
        if self._in_tests:
            return  # test databases have test passwords
        for match in _URL_CREDENTIALS.finditer(text):
            user, password = match.group(1), match.group(2)
            host = text[match.end() - 1 :].split("/", 1)[0].split(":", 1)[0]
            if password == user or host in _LOCAL_HOSTS:
                continue  # local development defaults: postgres:postgres@localhost
            if values.HOLE in password or values.is_placeholder(password) or password.lower() in (
                "pass", "pwd", "user", "username", "passw0rd", "secret",
            ) or password.startswith(("$", "%", "{")):
                continue
            if values.is_docstring_or_bare(node, self.get_metadata):
                return
            self._add(
                _Hit(
                    node,
                    f"Hardcoded secret: a password inside a URL ({mask(password)})",
                    strong=True,
                )
            )
            return

    # -- literals bound to secret names -----------------------------------------------------------

    def _check_named(
        self,
        identifier: Optional[str],
        expression: Optional[cst.BaseExpression],
        kind: Optional[str] = None,
        where: Optional[str] = None,
    ) -> None:
        if self._in_tests or identifier is None or expression is None:
            return
        kind = kind or secret_kind(identifier)
        if kind is None:
            return
        resolved = values.resolve(expression, self.get_metadata)
        leaves = list(values.literal_leaves(resolved.value))
        if any(values.is_external_read(leaf, self._names_of) for leaf in leaves):
            return
        for leaf in leaves:
            literal = values.string_value(leaf)
            if literal is None or literal.text is None:
                continue
            if not looks_like_secret_value(literal.text, identifier, kind):
                continue
            if values.in_main_guard(leaf, self.get_metadata):
                continue
            via = (
                f", passed on through `{resolved.constant.value}`"
                if resolved.constant is not None and resolved.constant.value != identifier
                else ""
            )
            self._add(
                _Hit(
                    leaf,
                    f"Hardcoded {kind} in {where or f'`{identifier}`'} ({mask(literal.text)}){via}",
                    strong=False,
                )
            )

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._check_named(values.identifier_of(target.target), node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check_named(values.identifier_of(node.target), node.value)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._check_named(values.identifier_of(node.target), node.value)

    def visit_Call(self, node: cst.Call) -> None:
        for arg in node.args:
            if arg.keyword is not None:
                self._check_named(arg.keyword.value, arg.value)
        names = self.qualified_names(node.func)
        target = next((n for n in sorted(names) if n in SECRET_ARGUMENTS), None)
        if target is None:
            return
        index, keyword_name = SECRET_ARGUMENTS[target]
        positional = [a for a in node.args if a.keyword is None]
        if len(positional) > index and not any(a.star for a in positional[: index + 1]):
            value: Optional[cst.BaseExpression] = positional[index].value
        else:
            arg = values.keyword(node, keyword_name)
            value = arg.value if arg is not None else None
        self._check_named(
            keyword_name, value, kind="signing key", where=f"the `{keyword_name}` of `{target}`"
        )

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = values.string_value(node.key)
        if key is not None and key.text is not None:
            self._check_named(key.text, node.value)

    def visit_Param(self, node: cst.Param) -> None:
        if node.default is not None:
            self._check_named(node.name.value, node.default)

    def finish(self) -> None:
        for hit in self._hits.values():
            self.report(
                hit.node,
                hit.message,
                hint=(
                    "read it at run time from Secrets Manager or SSM Parameter Store (cache it "
                    "across warm invocations), and rotate it: it is in the repository history"
                ),
            )
