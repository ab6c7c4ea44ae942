"""``python -m bench [--quick] [--only intake,broadcast,reports,dashboard,memory]``: every benchmark.

Progress goes to stderr; stdout carries only ``name value [unit]`` lines, and ``bench/out/results.json`` keeps them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from .common import OUT, Figures, log, machine

SECTIONS = ("intake", "broadcast", "reports", "dashboard", "memory")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="smaller loads: fewer users, broadcast to 330 chats only, fewer report runs")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--runs", type=int, default=0, help="timed runs per report (default 7, quick 3)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the 100,000-aspiration database")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy flame graph of the bot under the intake load (bench/out/profile-*.svg)")
    args = parser.parse_args(argv)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    figures = Figures()
    for key, value in machine().items():
        log(f"machine {key}: {value}")
    started = time.monotonic()
    asyncio.run(_run(wanted, args, figures))
    figures.add("bench.total_seconds", time.monotonic() - started, "s")
    figures.dump(OUT / ("results-quick.json" if args.quick else "results.json"))
    return 0


def _load(figures: Figures, section: str) -> None:
    """The machine's 1-minute load average as a section starts: other work on the two cores skews the figures."""
    figures.add(f"{section}.loadavg_at_start", os.getloadavg()[0])


async def _run(wanted: list[str], args: argparse.Namespace, figures: Figures) -> None:
    if "intake" in wanted:
        _load(figures, "intake")
        from .run_intake import run_intake

        await run_intake(figures, quick=args.quick, profile=args.profile)
    if "broadcast" in wanted:
        _load(figures, "broadcast")
        from .broadcast import run_broadcast

        await run_broadcast(figures, quick=args.quick)
    if "reports" in wanted or "memory" in wanted or "dashboard" in wanted:
        from .generate import ensure_volume_db

        db_path = await ensure_volume_db(figures, regenerate=args.regenerate)
        if "reports" in wanted:
            _load(figures, "reports")
            from .reports import run_reports

            await run_reports(figures, db_path, runs=args.runs or (3 if args.quick else 7))
        if "dashboard" in wanted:
            _load(figures, "dashboard")
            from .dashboard import run_dashboard

            await run_dashboard(figures, db_path, runs=args.runs or (3 if args.quick else 7))
        if "memory" in wanted:
            _load(figures, "memory")
            from .run_intake import run_memory

            await run_memory(figures, db_path, quick=args.quick)


if __name__ == "__main__":
    sys.exit(main())
