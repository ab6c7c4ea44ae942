"""Speed of the map with 100,000 aspirations (charts < 2 s, XLSX export < 10 s).

Seeding 100,000 rows takes a few seconds, so this runs only with SAMBANG_BENCH=1:
``SAMBANG_BENCH=1 python -m pytest tests/village_map/test_map_speed.py -q -s``.
"""

from __future__ import annotations

import os
import time
from zoneinfo import ZoneInfo

import pytest

from bot.aspirations import audience as audiences
from bot.aspirations.service import AspirationService
from bot.core.clock import FakeClock
from bot.storage.database import Database
from bot.village_map.service import VillageMap
from tests.map_seed import seed

pytestmark = pytest.mark.skipif(not os.environ.get("SAMBANG_BENCH"), reason="set SAMBANG_BENCH=1 to run")
TZ = ZoneInfo("Asia/Jakarta")


async def test_charts_and_exports_of_100000_aspirations(db: Database, clock: FakeClock) -> None:
    await seed(db, 100_000, start=clock.now())
    vm = VillageMap(db, clock, TZ, AspirationService(db, clock, TZ))
    leadership = audiences.for_export("pimpinan")
    await vm.charts(leadership)  # matplotlib's first import and font cache are not what is measured
    timings = {}
    started = time.perf_counter()
    recap, drawn = await vm.charts(leadership)
    timings["charts"] = time.perf_counter() - started
    assert recap.total.total == 100_000 and len(drawn) == 2
    for fmt in ("xlsx", "csv", "open311"):
        started = time.perf_counter()
        result = await vm.export(fmt, leadership)
        timings[fmt] = time.perf_counter() - started
        assert result.rows >= 97_000
    print({k: round(v, 2) for k, v in timings.items()})
    assert timings["charts"] < 2
    assert timings["xlsx"] < 10
