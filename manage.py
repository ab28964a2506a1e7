#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pnetsite.settings")
    if "DJANGO_DEBUG" not in os.environ and "DJANGO_SECRET_KEY" not in os.environ:
        # A fresh checkout with nothing configured is a developer's: commands such as
        # `evaluate_pathway` or `createsuperuser` just work. A deployment sets its secret key
        # (or DJANGO_DEBUG=0) and gets production settings; the WSGI entry point never does this.
        os.environ["DJANGO_DEBUG"] = "1"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
