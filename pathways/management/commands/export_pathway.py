from __future__ import annotations

import json
from typing import Any

from pathways.content_io import export_document

from ._versions import VersionCommand, find_version


class Command(VersionCommand):
    help = "Write a pathway version (the published one, else the latest) as one JSON document."

    def handle(self, *args: Any, **options: Any) -> None:
        version = find_version(options["pathway"], options["number"])
        self.stdout.write(json.dumps(export_document(version), ensure_ascii=False, indent=2))
