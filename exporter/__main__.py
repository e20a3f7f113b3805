"""``python -m exporter --week 2026-W47``: the Lambda's code path from a shell (settings: environment)."""

from __future__ import annotations

import argparse
import json
import sys

from exporter.export import run_export
from exporter.log import logger
from exporter.settings import settings_from_env
from exporter.weeks import week_from_event


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m exporter", description=__doc__)
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--week", help="ISO week to export, e.g. 2026-W47")
    when.add_argument("--scheduled-time", help="export the ISO week before this ISO-8601 time")
    args = parser.parse_args(argv)
    logger.registered_handler.setStream(sys.stderr)  # JSON logs on stderr, the summary on stdout
    event = {"week": args.week} if args.week else {"scheduled_time": args.scheduled_time}
    try:
        settings = settings_from_env()
        result = run_export(settings, week_from_event(event, settings.week_time_zone))
    except Exception as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"week": result.week, "rows": result.rows, "manifest": result.manifest_key}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
