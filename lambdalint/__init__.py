"""lambdalint: a static analyzer for AWS Lambda handlers and the templates that deploy them."""

__version__ = "0.1.0"
