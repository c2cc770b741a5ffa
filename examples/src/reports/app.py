"""Nightly report: a clean handler, for contrast."""

import os

import boto3

_s3 = None


def _client():
    global _s3
    if _s3 is None:
        _s3 = boto3.client("s3")
    return _s3


def handler(event, context):
    bucket = os.environ.get("REPORTS_BUCKET", "")
    listing = _client().list_objects_v2(Bucket=bucket, MaxKeys=10)
    return {"count": listing.get("KeyCount", 0)}
