"""Delete the publish gate's stored reports and parses that no check can use again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from pathways import authoring

from .purge_walks import parse_age


class Command(BaseCommand):
    help = (
        "Delete the publish gate's stored reports made by other gate code and the FHIRPath parses "
        "of another parser version; with --older-than, also everything stored before then. "
        "Only a cache: what is deleted is checked or parsed again when needed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", help="Also delete what was stored before this age, e.g. 30d.")
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        age = options["older_than"]
        before = timezone.now() - parse_age(age) if age is not None else None
        reports, expressions = authoring.purge_gate_cache(before=before, dry_run=options["dry_run"])
        what = f"{reports} gate report(s) and {expressions} parsed expression(s)"
        if before is not None:
            what += f" (unusable, or stored before {before:%Y-%m-%d %H:%M} UTC)"
        self.stdout.write(f"{what} would be deleted." if options["dry_run"] else f"Deleted {what}.")
