"""POST /orders: validate an order and store it."""

import json
import os

import boto3
import requests

TABLE_NAME = os.environ["TABLE_NAME"]
_recent_customers = []


def lambda_handler(event, context):
    body = json.loads(event["body"])
    # A new client per request: the service model is loaded and TLS renegotiated every call.
    table = boto3.resource("dynamodb").Table(TABLE_NAME)
    # Request data kept in module state leaks into the next invocation of this container.
    _recent_customers.append(body["customer_id"])
    rates = requests.get("https://rates.example.com/v1/eur")  # no timeout: can hang until the function dies
    table.put_item(Item={"id": body["id"], "total": body["total"], "rate": rates.json()["rate"]})
    return {"statusCode": 201, "body": json.dumps({"id": body["id"]})}
