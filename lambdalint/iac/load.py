"""Turn a YAML/JSON file into a Template, decide that it is not one, or report why it cannot
be read.

Which files are templates
    A CloudFormation/SAM template has ``AWSTemplateFormatVersion``, or ``Resources`` whose
    entries have ``Type: AWS::...``; a Serverless Framework file has ``service`` and an ``aws``
    ``provider`` (or ``functions``). Every other YAML/JSON document (CI workflows, Kubernetes
    manifests, docker-compose, package.json) is ignored silently: ``None``.

When an unreadable file is reported (LL001)
    Only when it is *plausibly* a template, since a linter must not complain about YAML it was
    never asked to understand (Helm charts with ``{{ }}``, multi-document manifests...).
    Plausible means either its name says so (``template.yaml``, ``*.template.json``,
    ``serverless.yml``, YAML/JSON names with ``cloudformation``/``cfn``/``sam``/``stack``), or
    its text does (``AWSTemplateFormatVersion``, ``AWS::Serverless``, ``Type: AWS::`` beside
    ``Resources``, or ``service:`` beside ``provider:``).

Files whose text mentions none of the top-level keys of either format are not parsed at all,
which keeps large data files and lock files cheap.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from lambdalint.iac.model import Template
from lambdalint.iac.yaml_source import TemplateSyntaxError, load_document
from lambdalint.model import Span

log = logging.getLogger("lambdalint.iac")


#: CloudFormation accepts templates up to 1 MB (Serverless and SAM deploy through it); a larger
#: YAML/JSON file is data, not a template, and is not parsed at all.
MAX_TEMPLATE_BYTES = 5_000_000


@dataclass(frozen=True)
class TemplateLoadError:
    """A plausible template that cannot be read: reported as LL001 at ``span``."""

    span: Span
    message: str


_TEMPLATE_NAME = re.compile(
    r"(^|[._-])(template|templates|cloudformation|cfn|sam|stack|serverless)([._-]|$)", re.IGNORECASE
)
_CFN_TEXT = re.compile(
    r"AWSTemplateFormatVersion|AWS::Serverless|[\"']?Type[\"']?\s*:\s*[\"']?AWS::[A-Za-z0-9]+::"
)
_SLS_TEXT = re.compile(r"^service\s*:", re.MULTILINE)
_SLS_PROVIDER = re.compile(r"^provider\s*:", re.MULTILINE)


def _mentions_a_format(text: str) -> bool:
    return (
        "AWSTemplateFormatVersion" in text
        or "Resources" in text
        or ("service" in text and ("provider" in text or "functions" in text))
    )


def _named_like_a_template(display_path: str) -> bool:
    """``template.yaml``, ``cfn-stack.json``, ``serverless.yml``... (a ``.template`` file may
    just as well be an HTML or Jinja template: only its text can say)."""
    name = display_path.rsplit("/", 1)[-1]
    return name.lower().endswith((".yaml", ".yml", ".json")) and bool(_TEMPLATE_NAME.search(name))


def plausibly_template(display_path: str, text: str) -> bool:
    if _named_like_a_template(display_path):
        return True
    if _CFN_TEXT.search(text):
        return True
    return bool(_SLS_TEXT.search(text) and _SLS_PROVIDER.search(text))


def load_template_file(
    display_path: str, data: bytes, base_dir: Optional[Path] = None
) -> Union[Template, TemplateLoadError, None]:
    """The Template in ``data``; None when the file is not a template; a TemplateLoadError
    when it plausibly is one but cannot be read. ``base_dir`` is the file's folder (Serverless
    ``${file(...)}`` reads YAML/JSON files there); without it such variables stay unknown."""
    if len(data) > MAX_TEMPLATE_BYTES:
        log.debug("%s: %d bytes, larger than any deployable template: skipped", display_path, len(data))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        text = data.decode("utf-8", "replace")
        if plausibly_template(display_path, text):
            line = data[: error.start].count(b"\n") + 1
            # the column of the bad byte, counted in characters of what precedes it on its line
            before = data[data.rfind(b"\n", 0, error.start) + 1 : error.start].decode("utf-8", "replace")
            column = len(before) + 1
            return TemplateLoadError(
                Span(line, column, line, column + 1),
                f"not UTF-8 text: cannot decode byte 0x{data[error.start]:02x} ({error.reason})",
            )
        return None
    if not _mentions_a_format(text) and not _named_like_a_template(display_path):
        return None
    try:
        root = load_document(text, display_path)
    except TemplateSyntaxError as error:
        if plausibly_template(display_path, text):
            return TemplateLoadError(error.span, error.message)
        log.debug("%s: not a template (%s)", display_path, error.message)
        return None
    return build_template(display_path, root, base_dir)


def build_template(
    display_path: str, root, base_dir: Optional[Path] = None
) -> Union[Template, TemplateLoadError, None]:
    from lambdalint.iac.cloudformation import build_cloudformation, is_template
    from lambdalint.iac.serverless import build_serverless, is_serverless

    try:
        if is_template(root):
            return build_cloudformation(display_path, root)
        if is_serverless(root):
            return build_serverless(display_path, root, base_dir)
    except RecursionError:
        return TemplateLoadError(root.span, "the template nests too deeply to be read")
    return None
