"""The calls that make AWS SDK clients, named once for every rule and analysis."""

from __future__ import annotations

from typing import Dict

BOTO3_SESSIONS = frozenset({"boto3.Session", "boto3.session.Session"})

#: qualified name of a boto3/botocore factory -> what it makes ("client" or "resource")
BOTO3_FACTORIES: Dict[str, str] = {
    **{
        f"{session}.{kind}": kind
        for session in ("boto3", *sorted(BOTO3_SESSIONS))
        for kind in ("client", "resource")
    },
    "botocore.session.Session.create_client": "client",
    "botocore.session.get_session.create_client": "client",
}
