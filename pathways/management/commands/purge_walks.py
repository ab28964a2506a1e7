"""Delete walks not changed for longer than the retention period, e.g. ``--older-than 90d``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from pathways.models import Walk

_UNITS = {"d": "days", "h": "hours", "w": "weeks"}
_AGE = re.compile(r"(\d{1,5})([dhw])")


def parse_age(text: str) -> timedelta:
    """Parse ``90d``, ``12h`` or ``4w`` (a whole number and one unit) into a duration."""
    match = _AGE.fullmatch(text.strip().lower())
    if not match:
        raise CommandError(
            f"--older-than must be a whole number and a unit (d, h or w), e.g. 90d; not {text!r}."
        )
    amount = int(match.group(1))
    if amount == 0:
        raise CommandError("--older-than must be more than zero.")
    return timedelta(**{_UNITS[match.group(2)]: amount})


class Command(BaseCommand):
    help = "Delete walks (answers only, no patient data) last changed before the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", required=True, help="Age, e.g. 90d, 12h or 4w.")
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - parse_age(options["older_than"])
        stale = Walk.objects.filter(updated_at__lt=cutoff)
        if options["dry_run"]:
            count = stale.count()
            self.stdout.write(
                f"{count} walk(s) last changed before {cutoff:%Y-%m-%d %H:%M} UTC would be deleted."
            )
            return
        with transaction.atomic():
            count, _ = stale.delete()
        self.stdout.write(f"Deleted {count} walk(s) last changed before {cutoff:%Y-%m-%d %H:%M} UTC.")
