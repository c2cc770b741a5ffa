"""Walking the IAM parts of a :class:`~lambdalint.iac.model.Template` for the IAM rules.

Every policy is reached once, wherever the loader attached it (a function's permissions, a
role, a standalone policy, or several of those at once); values behind ``!If`` are walked
branch by branch with the condition that selects them; ``Unknown`` values are skipped with a
debug log, never reported.
"""

from __future__ import annotations

import logging
import re
from typing import Iterable, Iterator, List, Optional, Tuple, Union

from lambdalint.iac.model import (
    Function,
    Interpolated,
    Located,
    Permissions,
    Policy,
    Reference,
    Role,
    Statement,
    Template,
    Unknown,
    possibilities,
)

log = logging.getLogger("lambdalint.iac")

#: the service principal that marks a role as a Lambda execution role
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"


def iter_policies(template: Template) -> Iterator[Policy]:
    """Every policy document of the template, each once."""
    seen = set()
    sources: List[Iterable[Policy]] = [template.policies]
    sources += [role.permissions.policies for role in template.roles.values()]
    sources += [function.permissions.policies for function in template.functions]
    for policies in sources:
        for policy in policies:
            if id(policy) not in seen:
                seen.add(id(policy))
                yield policy


def iter_allow_statements(template: Template) -> Iterator[Tuple[Policy, Statement, Optional[str]]]:
    """Every statement that is (or, behind ``!If``, may be) an ``Allow``, once per place in
    the source, with the condition that makes it one (or None)."""
    seen = set()
    for policy in iter_policies(template):
        for statement in policy.statements:
            # the same source statement can be read once per function (SAM Globals policies
            # are merged into every function): one source span, one statement
            key = (statement.path or policy.path, statement.span)
            if key in seen:
                continue
            seen.add(key)
            for effect, condition in possibilities(statement.effect):
                if effect.value == "Allow":
                    yield policy, statement, condition
                    break
                if isinstance(effect.value, Unknown):
                    log.debug("%s: statement effect unknown (%s)", template.path, effect.value.reason)


def concrete_strings(
    items: Iterable[Located], *, what: str = "value", interpolated: bool = False
) -> Iterator[Tuple[Located, Optional[str]]]:
    """Each string that ``items`` (an Action/Resource list) may hold, with the condition that
    selects it. Lists inside ``!If`` branches are flattened; unknowns are skipped, except
    that ``interpolated=True`` also yields partly known strings (:class:`Interpolated`, read
    with :func:`text_of`) for callers that only look at their literal parts."""
    for item in items:
        for concrete, condition in possibilities(item):
            value = concrete.value
            if isinstance(value, str) or (interpolated and isinstance(value, Interpolated)):
                yield concrete, condition
            elif isinstance(value, list):
                for inner, inner_condition in concrete_strings(value, what=what, interpolated=interpolated):
                    yield inner, inner_condition or condition
            elif isinstance(value, Unknown):
                log.debug("%s unknown at line %d (%s): not judged", what, concrete.span.line, value.reason)


def text_of(located: Located) -> str:
    """A string value, or an Interpolated one's text (unknown parts written ``${...}``)."""
    value = located.value
    return value.text if isinstance(value, Interpolated) else value


def condition_note(*conditions: Optional[str]) -> str:
    """`` (when condition "X" selects it)`` for a finding behind ``!If``, else ``""``."""
    names = sorted({c for c in conditions if c})
    if not names:
        return ""
    quoted = " and ".join(f'"{name}"' for name in names)
    plural = "s" if len(names) > 1 else ""
    return f" (in one branch of condition{plural} {quoted})"


def function_roles(template: Template) -> Iterator[Tuple[Union[Function, Role], Permissions, str]]:
    """The permissions of every function and of every Lambda execution role, with a label
    for messages: each function's own permissions, the role a function names with
    ``Role: !GetAtt R.Arn`` / ``role = aws_iam_role.r.arn`` (when the loader did not already
    make its permissions the function's), and roles whose trust policy lets
    ``lambda.amazonaws.com`` assume them. Functions sharing one role each get a tuple with
    the same :class:`Permissions`; callers deduplicate findings by value location."""
    yielded = set()
    for function in template.functions:
        yielded.add(id(function.permissions))
        yield function, function.permissions, f"function {function.logical_id}"
        role = _named_role(template, function)
        if role is not None and role.permissions is not function.permissions:
            yielded.add(id(role.permissions))
            yield role, role.permissions, f"role {role.logical_id} of function {function.logical_id}"
    for role in template.roles.values():
        if LAMBDA_PRINCIPAL in role.trusted_services and id(role.permissions) not in yielded:
            yielded.add(id(role.permissions))
            yield role, role.permissions, f"Lambda execution role {role.logical_id}"


def _named_role(template: Template, function: Function) -> Optional[Role]:
    if function.role is None:
        return None
    for concrete, _ in possibilities(function.role):
        if isinstance(concrete.value, Reference) and concrete.value.target in template.roles:
            return template.roles[concrete.value.target]
    return None


#: an AWS managed policy ARN: the account is literally "aws"; the partition may be unresolved
#: (``${AWS::Partition}``, ``${data.aws_partition.current.partition}``)
_MANAGED_ARN = re.compile(
    r"^arn:(?:aws[\w-]*|\$\{[^}]+\}):iam::aws:policy/(?:[\w+=,.@-]+/)*(?P<name>[\w+=,.@-]+)$"
)


def aws_managed_policy_name(value: str) -> Optional[str]:
    """``arn:aws:iam::aws:policy/service-role/X`` (any partition, resolved or not) or a
    bare SAM name ``X`` -> ``X``; None for customer managed ARNs and anything else (a name
    with an unresolved ``${...}`` part included)."""
    text = value.strip()
    match = _MANAGED_ARN.match(text)
    if match:
        return match.group("name")
    if re.fullmatch(r"[A-Za-z][\w+=,.@-]*", text):
        return text
    return None
