from __future__ import annotations

import sys
from typing import Any

from pathways.authoring import check_version

from ._versions import VersionCommand, find_version


class Command(VersionCommand):
    help = (
        "Run the publish gate on a pathway version (the published one, else the latest): print OK, "
        "or each problem and exit 1."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        version = find_version(options["pathway"], options["number"])
        report = check_version(version)
        if report.ok:
            self.stdout.write("OK")
        for problem in report.problems:
            self.stdout.write(str(problem))
        if options["verbosity"] > 1:
            self.stderr.write(
                f"{version}: {report.classes} case classes enumerated in {report.seconds:.2f} s."
            )
        if not report.ok:
            sys.exit(1)
