from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from pathways import api


class Command(BaseCommand):
    help = "Evaluate a case (a JSON object) against the published version of a pathway."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("pathway", help="Pathway slug, e.g. pnet.")
        parser.add_argument("case", help="Path of a JSON file holding the case, or - for standard input.")

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["case"]
        try:
            if source == "-":
                raw: bytes | str = sys.stdin.buffer.read(api.MAX_BODY_BYTES + 1)
            else:
                with open(source, "rb") as handle:
                    raw = handle.read(api.MAX_BODY_BYTES + 1)
        except OSError as error:
            status, body = 400, {"errors": {"case": f"Cannot read {source}: {error.strerror}."}}
        else:
            status, body = api.evaluate_case(options["pathway"], raw)
        self.stdout.write(json.dumps(body, ensure_ascii=False, indent=2))
        if status != 200:
            sys.exit(2)
