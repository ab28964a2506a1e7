from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from pathways.content_io import export_document
from pathways.fhir import export as fhir_export

from ._versions import VersionCommand, find_version


class Command(VersionCommand):
    help = "Write a pathway version (the published one, else the latest) as one JSON document."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--format",
            choices=("json", "fhir"),
            default="json",
            help="json: the import/export document (default); fhir: a FHIR R4B collection Bundle.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        version = find_version(options["pathway"], options["number"])
        document = export_document(version)
        if options["format"] == "fhir":
            document = fhir_export.validated(fhir_export.bundle(document))
        self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
