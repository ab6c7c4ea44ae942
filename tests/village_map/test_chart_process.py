"""Charts are drawn in a worker process: matplotlib and openpyxl stay out of the bot's own process, the worker
draws exactly what ``bot.village_map.charts`` draws, stops when idle and is replaced when it dies."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.aspirations import audience as audiences
from bot.aspirations.service import AspirationService
from bot.core.clock import FakeClock
from bot.storage.database import Database
from bot.village_map import charts
from bot.village_map.chart_process import ChartProcess
from bot.village_map.service import VillageMap
from tests.map_seed import seed

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Jakarta")


def test_the_bot_process_does_not_load_matplotlib_or_openpyxl() -> None:
    """~80 MB of libraries only the chart worker and spreadsheet exports need."""
    code = ("import sys, bot.app, bot.cli, handlers, schedules\n"
            "heavy = [m for m in ('matplotlib', 'openpyxl', 'numpy', 'PIL') if m in sys.modules]\n"
            "print(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def _worker_pids(process: ChartProcess) -> list[int]:
    pool = process._pool
    assert pool is not None
    return list(pool._processes or {})


async def test_charts_come_from_a_worker_that_stops_when_idle_and_is_replaced_when_it_dies(
        db: Database, clock: FakeClock) -> None:
    await seed(db, 300, start=clock.now())
    vm = VillageMap(db, clock, TZ, AspirationService(db, clock, TZ))
    vm.chart_process = process = ChartProcess(idle_seconds=0.5)
    recap, drawn = await vm.charts(audiences.for_export("pimpinan"))
    try:
        expected = charts.recap_charts(recap)  # drawn here, in the test's process, for comparison
        assert [(c.name, c.rows, c.columns, c.values) for c in drawn] == \
            [(c.name, c.rows, c.columns, c.values) for c in expected]
        assert all(c.png.startswith(b"\x89PNG") for c in drawn)
        pids = _worker_pids(process)
        assert len(pids) == 1 and pids[0] != os.getpid()

        os.kill(pids[0], signal.SIGKILL)  # e.g. the kernel's OOM killer
        await asyncio.sleep(0.2)
        again = await process.render(recap)
        assert [c.values for c in again] == [c.values for c in expected]
        assert _worker_pids(process) != pids

        for _ in range(40):  # idle for longer than idle_seconds: the worker goes away
            if not process.running:
                break
            await asyncio.sleep(0.05)
        assert not process.running
        assert [c.values for c in await process.render(recap)] == [c.values for c in expected]  # and comes back
        process.close()
        process.prepare()  # started ahead of a chart that never comes: it stops when idle as well
        assert process.running
        for _ in range(40):
            if not process.running:
                break
            await asyncio.sleep(0.05)
        assert not process.running
    finally:
        process.close()
