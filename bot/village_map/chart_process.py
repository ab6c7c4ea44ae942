"""Charts are drawn in a separate process that lives while charts are asked for.

matplotlib costs the process that draws with it about 50 MB (the library, its fonts, the figure buffers), which a
long-running Python process never hands back, and a second of CPU per pair of charts, during which a thread in the
bot's own process would hold the GIL and keep people waiting for their answers. So
``bot.village_map.charts`` is only ever
imported in a worker process (started with ``spawn``: the bot has threads, which ``fork`` does not copy safely);
``Chart`` lives here, free of matplotlib, so the results unpickle in the bot. The worker exits after
``idle_seconds`` without work and is started again on the next request; a worker that died is replaced once.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.village_map.recap import Recap

log = logging.getLogger(__name__)

IDLE_SECONDS = 120.0


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    png: bytes
    width: int
    height: int
    row_level: str  # kecamatan | kabupaten
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    #: values[i][j] is the number drawn for rows[i] x columns[j].
    values: tuple[tuple[int, ...], ...]

    @property
    def filename(self) -> str:
        return f"{self.name}.png"

    @property
    def total(self) -> int:
        return sum(sum(r) for r in self.values)


def _draw(recap: Recap) -> list[Chart]:
    """Runs in the worker process."""
    from bot.village_map.charts import recap_charts

    return recap_charts(recap)


def _warm_up() -> None:
    """Runs in the worker process: import matplotlib while the bot still builds the recap."""
    from bot.village_map import charts  # noqa: F401


class ChartProcess:
    """One worker process for charts, started on demand and stopped when idle."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0
        self._idle_timer: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        return self._pool is not None

    def prepare(self) -> None:
        """Start the worker (if it is not running) and let it import matplotlib, without waiting: call this before
        building the recap, so the two overlap."""
        if self._pool is None:
            self._executor().submit(_warm_up)
            if self._idle_timer is None:  # stopped again if no chart follows (the recap failed, say)
                self._idle_timer = asyncio.get_running_loop().call_later(self.idle_seconds, self._close_if_idle)

    async def render(self, recap: Recap) -> list[Chart]:
        """Both charts of ``recap`` (see ``bot.village_map.charts.recap_charts``), drawn in the worker process."""
        loop = asyncio.get_running_loop()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        self._busy += 1
        try:
            try:
                return await loop.run_in_executor(self._executor(), _draw, recap)
            except BrokenProcessPool:  # the worker died (killed, out of memory): once more with a new one
                log.warning("the chart process died; starting a new one")
                self.close()
                return await loop.run_in_executor(self._executor(), _draw, recap)
        finally:
            self._busy -= 1
            if not self._busy and self._pool is not None:
                self._idle_timer = loop.call_later(self.idle_seconds, self._close_if_idle)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def _close_if_idle(self) -> None:
        self._idle_timer = None
        if not self._busy:
            self.close()

    def close(self) -> None:
        """Stop the worker (it finishes nothing pending); the next ``render`` starts a new one."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
