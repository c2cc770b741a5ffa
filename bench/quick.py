"""Whole-process timings of the everyday calls: `lambdalint check examples/` and a one-file
check of a realistic 300-line handler (what pre-commit and editors do on every save).

    python bench/quick.py [--rounds 7]

Prints the median and spread of wall time per command. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def handler_of_300_lines() -> str:
    """A realistic handler module: imports, module-level clients, helpers, a dispatcher."""
    head = [
        '"""Orders service: API handler and helpers."""',
        "import json",
        "import logging",
        "import os",
        "from decimal import Decimal",
        "",
        "import boto3",
        "import requests",
        "",
        "logger = logging.getLogger(__name__)",
        'TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])',
        'SQS = boto3.client("sqs")',
        "",
    ]
    body = []
    index = 0
    while len(head) + len(body) < 280:
        body += [
            f"def validate_{index}(payload):",
            f'    """Check field group {index} of an order."""',
            f'    value = payload.get("field_{index}")',
            "    if value is None:",
            f'        raise ValueError("field_{index} is required")',
            "    if isinstance(value, str) and len(value) > 256:",
            f'        raise ValueError("field_{index} is too long")',
            "    return {'name': value, 'amount': Decimal(str(payload.get('amount', 0)))}",
            "",
            "",
        ]
        index += 1
    tail = [
        "def lambda_handler(event, context):",
        '    payload = json.loads(event.get("body") or "{}")',
        f"    checks = [globals()[f'validate_{{i}}'] for i in range({index})]",
        "    results = [check(payload) for check in checks]",
        '    TABLE.put_item(Item={"id": payload["id"], "results": results})',
        '    rate = requests.get("https://rates.example.com", timeout=3).json()',
        '    return {"statusCode": 200, "body": json.dumps({"rate": rate})}',
    ]
    return "\n".join(head + body + tail) + "\n"


def time_command(command, cwd, rounds):
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    lambdalint = [sys.executable, "-m", "lambdalint"]
    with tempfile.TemporaryDirectory() as folder:
        one_file = Path(folder) / "orders.py"
        one_file.write_text(handler_of_300_lines())
        lines = len(one_file.read_text().splitlines())
        cases = [
            ("lambdalint --version", lambdalint + ["--version"], PROJECT),
            ("python -c 'import libcst' (floor)", [sys.executable, "-c", "import libcst"], PROJECT),
            ("lambdalint check examples/ (cold, --no-cache)", lambdalint + ["check", "--no-cache", "examples/"], PROJECT),
            ("lambdalint check examples/ (warm cache)", lambdalint + ["check", "examples/"], PROJECT),
            (f"one {lines}-line file (cold, --no-cache)", lambdalint + ["check", "--no-cache", str(one_file)], PROJECT),
            (f"one {lines}-line file (warm cache)", lambdalint + ["check", str(one_file)], PROJECT),
        ]
        # What `pip install` does: byte-compile the package, so that no run pays for compiling
        # lambdalint's own modules (an editable install under PYTHONDONTWRITEBYTECODE never would).
        import lambdalint as installed

        package = Path(installed.__file__).resolve().parent
        folders = [str(package)] + [str(p) for p in (package.parent / "rules",) if p.is_dir()]
        subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], capture_output=True, check=True)
        print(f"byte-compiled {', '.join(folders)}")
        subprocess.run(lambdalint + ["check", "examples/"], cwd=PROJECT, capture_output=True)  # fill the caches
        subprocess.run(lambdalint + ["check", str(one_file)], cwd=PROJECT, capture_output=True)
        print(f"{'command':<50} {'median':>8} {'min':>8} {'max':>8}   ({args.rounds} rounds)")
        for label, command, cwd in cases:
            median, low, high = time_command(command, cwd, args.rounds)
            print(f"{label:<50} {median:>7.3f}s {low:>7.3f}s {high:>7.3f}s")


if __name__ == "__main__":
    main()
