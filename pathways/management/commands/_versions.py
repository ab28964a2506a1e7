"""Shared lookup for the pathway commands: a pathway's version by number, or its current one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pathways.models import PathwayVersion


def find_version(slug: str, number: int | None) -> PathwayVersion:
    versions = PathwayVersion.objects.filter(pathway__slug=slug).select_related("pathway")
    if number is not None:
        version = versions.filter(number=number).first()
        if version is None:
            raise CommandError(f"Pathway {slug!r} has no version {number}.")
        return version
    version = (
        versions.filter(status=PathwayVersion.Status.PUBLISHED).first()
        or versions.order_by("-number").first()
    )
    if version is None:
        raise CommandError(f"No pathway {slug!r}.")
    return version


class VersionCommand(BaseCommand):
    """A command taking ``PATHWAY [--version N]``; ``--version`` replaces Django's own flag."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pathway", help="Pathway slug, e.g. pnet.")
        parser.add_argument("--version", type=int, dest="number", metavar="N", help="Version number.")
