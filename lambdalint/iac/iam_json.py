"""IAM policy documents in their JSON shape, as model :class:`Statement` objects.

Format-neutral: the input is a tree of :class:`Located` values (dicts of str -> Located, lists
of Located, scalars, :class:`Reference`/:class:`Unknown`...), whichever loader built it, e.g.
a CloudFormation ``PolicyDocument``, a Terraform ``jsonencode({...})`` or a heredoc JSON policy.
Keys are IAM's own (``Statement``, ``Effect``, ``Action``...), which are case-sensitive.
"""

from __future__ import annotations

from typing import List, Optional, Set, Tuple

from lambdalint.iac.model import Conditional, Interpolated, Located, Statement, Unknown

#: statement key -> Statement attribute holding its entries
_ENTRY_KEYS = (
    ("Action", "actions"),
    ("NotAction", "not_actions"),
    ("Resource", "resources"),
    ("NotResource", "not_resources"),
)


def entries(item: Located) -> Tuple[List[Located], bool]:
    """The entries of an ``Action``/``Resource``-like value, which IAM accepts as one string or
    a list of them; and whether they are all known.

    An entry that is a plain :class:`Unknown` makes the result incomplete; an
    :class:`Interpolated` one does not (its text still says which resource it names, e.g.
    ``${aws_s3_bucket.b.arn}/*``), nor does a :class:`Conditional` (rules walk its branches).
    """
    value = item.value
    if isinstance(value, list):
        found: List[Located] = []
        complete = True
        for entry in value:
            if isinstance(entry.value, (list, dict)):
                complete = False  # not a valid entry: the document is not what it seems
                continue
            if isinstance(entry.value, Unknown) and not isinstance(entry.value, Interpolated):
                complete = False
            found.append(entry)
        return found, complete
    if isinstance(value, dict) or value is None:
        return [], False
    if isinstance(value, Unknown) and not isinstance(value, Interpolated):
        return [], False  # the whole list is unknown: nothing to read
    return [item], True


def statement_from(item: Located, path: str = "") -> Tuple[Optional[Statement], bool]:
    """One statement (None when ``item`` is not a mapping) and whether it could be read whole."""
    body = item.value
    if not isinstance(body, dict):
        return None, False
    complete = True
    effect = body.get("Effect")
    if effect is None:
        # IAM rejects a statement without Effect; never guess Allow for it
        effect = Located(Unknown("statement without Effect"), item.span, item.path)
        complete = False
    elif not (isinstance(effect.value, Conditional) or effect.value in ("Allow", "Deny")):
        complete = False
    statement = Statement(span=item.span, effect=effect, path=item.path or path)
    for key, attribute in _ENTRY_KEYS:
        value = body.get(key)
        if value is None:
            continue
        found, known = entries(value)
        getattr(statement, attribute).extend(found)
        complete = complete and known
    condition = body.get("Condition")
    if condition is not None:
        statement.has_condition = not (isinstance(condition.value, dict) and not condition.value)
    statement.complete = complete
    return statement, complete


def statements_from_document(document: Located, path: str = "") -> Tuple[List[Statement], bool]:
    """The statements of a policy document and whether the whole document could be read.

    ``path`` is the file to record on statements whose values do not carry one.
    """
    body = document.value
    if not isinstance(body, dict):
        return [], False
    raw = body.get("Statement")
    if raw is None:
        return [], False
    items = raw.value if isinstance(raw.value, list) else [raw]
    statements: List[Statement] = []
    complete = True
    for item in items:
        statement, known = statement_from(item, document.path or path)
        if statement is not None:
            statements.append(statement)
        complete = complete and known
    return statements, complete


def trusted_services(document: Located) -> Set[str]:
    """The services an assume-role (trust) policy lets assume the role, from the ``Service``
    of each Allow statement's ``Principal``."""
    found: Set[str] = set()
    body = document.value
    if not isinstance(body, dict) or "Statement" not in body:
        return found
    raw = body["Statement"]
    items = raw.value if isinstance(raw.value, list) else [raw]
    for item in items:
        statement = item.value
        if not isinstance(statement, dict):
            continue
        effect = statement.get("Effect")
        if effect is not None and effect.value != "Allow":
            continue
        principal = statement.get("Principal")
        if principal is None or not isinstance(principal.value, dict):
            continue
        service = principal.value.get("Service")
        if service is None:
            continue
        values, _ = entries(service)
        found.update(entry.value for entry in values if isinstance(entry.value, str))
    return found
