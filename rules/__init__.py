"""lambdalint's built-in rules, one module per rule (installed as ``lambdalint.rules``)."""
