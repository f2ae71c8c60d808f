"""Validates an EPCIS 2.0 JSON-LD document against the vendored GS1 EPCIS 2.0 JSON schema.

Usage: python3 validate.py DOCUMENT.json  (exit 0 when valid; else the errors, exit 1).
Needs the `jsonschema` package (installed with openapi-spec-validator by tests/run).
"""
import json
import pathlib
import sys

import jsonschema

SCHEMA = pathlib.Path(__file__).with_name("EPCIS-JSON-Schema.json")


def main() -> int:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    doc = json.loads(pathlib.Path(sys.argv[1]).read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        print(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
