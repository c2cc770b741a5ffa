"""Is this environment variable a plaintext secret? By its name and by the shape of its value.

Shared by the template rule LL606 (function environments) and usable by code rules (LL202).
Precision first: a name that merely *refers* to a secret (``DB_PASSWORD_SECRET_ARN``,
``API_KEY_PARAMETER``), a dynamic reference (``{{resolve:secretsmanager:...}}``,
``${ssm:...}``), a placeholder or an empty value is not a secret.
"""

from __future__ import annotations

import re
from typing import List, Optional

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

#: a word of the name that says the value is a secret
SECRET_WORDS = frozenset({
    "PASSWORD", "PASSWD", "PASSPHRASE", "PWD", "SECRET", "SECRETS", "TOKEN", "CREDENTIAL",
    "CREDENTIALS", "APIKEY", "PRIVATEKEY", "SECRETKEY", "ACCESSKEY", "AUTHTOKEN",
})
#: two consecutive words that say the same (``API_KEY``, ``privateKey``)
SECRET_PAIRS = frozenset({
    ("API", "KEY"), ("PRIVATE", "KEY"), ("ACCESS", "KEY"), ("SIGNING", "KEY"),
    ("ENCRYPTION", "KEY"), ("MASTER", "KEY"), ("AUTH", "KEY"), ("CLIENT", "KEY"),
    ("SESSION", "KEY"), ("APP", "KEY"), ("LICENSE", "KEY"), ("SHARED", "KEY"),
})
#: words that may follow the secret word and leave the name a secret (``SECRET_KEY_BASE``,
#: ``GITHUB_TOKEN_PROD``, ``API_KEY_V2``). Any other word after it makes the variable a pointer
#: to a secret or a setting about one: ``DB_PASSWORD_SECRET_ARN``, ``API_KEY_PARAMETER``,
#: ``TOKEN_TTL``, ``PASSWORD_MIN_LENGTH``, ``SECRETS_MANAGER_ENDPOINT``, ``PASSWORD_HASH``.
TRAILING_WORDS = frozenset({
    "KEY", "VALUE", "BASE", "STRING", "RAW", "PLAIN", "PLAINTEXT", "B64", "BASE64", "HEX", "PEM",
    "PROD", "PRODUCTION", "DEV", "DEVELOPMENT", "STAGING", "STAGE", "TEST", "QA", "UAT", "LIVE",
    "SANDBOX", "PRIMARY", "SECONDARY", "OLD", "NEW", "CURRENT", "PREVIOUS", "NEXT", "V",
})
_VERSION_WORD = re.compile(r"\A(?:V?[0-9]+)\Z")

#: values that are placeholders rather than secrets
_PLACEHOLDER = re.compile(
    r"\A(?:<[^>]*>|\[[^\]]*\]|x{3,}|\*{3,}|\.{3,}|-+|_+|changeme|change[-_ ]me|replace[-_ ]?me|"
    r"todo|tbd|placeholder|none|null|nil|undefined|unset|dummy|n/?a|true|false|yes|no|on|off|"
    r"enabled?|disabled?|required|optional)\Z",
    re.IGNORECASE,
)
#: a dynamic reference or an unresolved variable: resolved at deploy time, not stored here
_REFERENCE = re.compile(r"\{\{resolve:|\$\{|#\{|\A(?:arn|ssm|secretsmanager):", re.IGNORECASE)
_PATH_LIKE = re.compile(r"\A/?[a-z0-9_.-]+(?:/[a-z0-9_.-]+)+/?\Z")
_NUMBER = re.compile(r"\A[0-9]+(?:\.[0-9]+)?\Z")
_URL = re.compile(r"\A[a-z][a-z0-9+.-]*://", re.IGNORECASE)

#: (pattern, what it is). Searched in every value, whatever the variable's name.
VALUE_PATTERNS = (
    (re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
     "an AWS access key id"),
    (re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"), "a private key"),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}"), "a GitHub token"),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}"), "a GitHub token"),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), "a GitLab token"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+"),
     "a Slack webhook URL"),
    (re.compile(r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}"), "a Stripe secret key"),
    (re.compile(
        r"\bsk-(?:proj-|ant-)?(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{32,}"
    ),
     "an API secret key"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    (re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), "a SendGrid API key"),
    (re.compile(r"\bnpm_[A-Za-z0-9]{36}"), "an npm token"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
     "a JSON web token"),
)
#: ``scheme://user:password@host`` (or ``redis://:password@host``) with a literal password
_URL_CREDENTIALS = re.compile(
    r"\A[a-z][a-z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@([^/\s:?#]*)", re.IGNORECASE
)
#: hosts of a developer's machine: credentials there are local defaults, not secrets
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "host.docker.internal", "[::1]"})
#: an AWS secret access key: 40 characters of base64, mixed case and a digit or / +
_AWS_SECRET_KEY = re.compile(r"\A[A-Za-z0-9/+=]{40}\Z")


def name_words(name: str) -> List[str]:
    """``DB_PASSWORD_SECRET_ARN`` -> [DB, PASSWORD, SECRET, ARN]; ``apiKey`` -> [API, KEY]."""
    return [word.upper() for word in _WORD.findall(name)]


def secret_name(name: str) -> bool:
    """Whether the variable's name says it holds a secret itself (not a pointer to one, nor a
    setting about one): the last secret word of the name is followed only by words like
    ``KEY``, ``BASE``, ``PROD`` or a version."""
    words = name_words(name)
    last = None
    for index, word in enumerate(words):
        if word in SECRET_WORDS:
            last = index
        elif index and (words[index - 1], word) in SECRET_PAIRS:
            last = index
    if last is None:
        return False
    return all(word in TRAILING_WORDS or _VERSION_WORD.match(word) for word in words[last + 1:])


def _key_ish(name: str) -> bool:
    words = name_words(name)
    return any(word in ("KEY", "SECRET", "AWS", "CREDENTIAL", "CREDENTIALS") for word in words)


def secret_kind(name: str, value: str) -> Optional[str]:
    """What kind of plaintext secret ``name=value`` is ("an AWS access key id", "a password"
    ...), or None when it is not one."""
    text = value.strip()
    if not text or _REFERENCE.search(text):
        return None
    for pattern, what in VALUE_PATTERNS:
        if pattern.search(text):
            return what
    match = _URL_CREDENTIALS.match(text)
    if match and not _PLACEHOLDER.match(match.group(1)):
        if match.group(2).lower() not in _LOCAL_HOSTS:
            return "a URL with a password"
    if _AWS_SECRET_KEY.match(text) and _key_ish(name) and _mixed(text):
        return "an AWS secret access key"
    if not secret_name(name):
        return None
    if len(text) < 4 or _PLACEHOLDER.match(text) or _PATH_LIKE.match(text) or _URL.match(text):
        return None
    words = name_words(name)
    password = any(word in ("PASSWORD", "PASSWD", "PASSPHRASE", "PWD") for word in words)
    if _NUMBER.match(text) and not password:
        return None  # TOKEN_LIMIT-like counts; a numeric password is still a password
    if password:
        return "a password"
    if any(word in ("TOKEN", "AUTHTOKEN") for word in words):
        return "a token"
    if any(word in ("APIKEY",) for word in words) or ("API", "KEY") in zip(words, words[1:]):
        return "an API key"
    if any(word.endswith("KEY") for word in words):
        return "a key"
    if any(word.startswith("CREDENTIAL") for word in words):
        return "credentials"
    return "a secret"


def _mixed(text: str) -> bool:
    return (
        any(c.isupper() for c in text)
        and any(c.islower() for c in text)
        and any(c.isdigit() or c in "/+" for c in text)
    )
