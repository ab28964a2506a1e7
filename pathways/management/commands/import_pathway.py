from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pathways import validation
from pathways.content_io import import_document
from pathways.document_checks import DocumentError, document_problems
from pathways.fhir import export as fhir_export


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


class Command(BaseCommand):
    help = (
        "Create a new draft version from a pathway JSON document (or a FHIR Bundle as exported) "
        "and print its version number."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="Path of the JSON document, or - for standard input.")

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["file"]
        try:
            if source == "-":
                text = sys.stdin.read()
            else:
                with open(source, encoding="utf-8") as handle:
                    text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {source}: {error}") from None
        try:
            document = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise CommandError(f"{source} is not JSON: it is nested too deeply.") from None
        except ValueError as error:  # also numbers with too many digits, NaN and Infinity
            raise CommandError(f"{source} is not JSON: {error}") from None
        if isinstance(document, dict) and document.get("resourceType") == "Bundle":
            try:
                document = fhir_export.document_from_bundle(document)
            except ValueError as error:
                raise CommandError(f"{source} is not a pathway Bundle: {error}") from None
        errors = document_problems(document) or validation.document_errors(document)
        if errors:
            raise CommandError(f"{source} is not a pathway document:\n  " + "\n  ".join(errors))
        try:
            version = import_document(document, status="draft")
        except DocumentError as error:
            raise CommandError(
                f"{source} is not a pathway document:\n  " + "\n  ".join(error.problems)
            ) from None
        self.stdout.write(str(version.number))
