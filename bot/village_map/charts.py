"""PNG charts of a recap, drawn with matplotlib's Agg backend (no display, no Telegram).

Each chart comes back as PNG bytes together with the numbers it shows, so tests (and captions) can check the data
rather than pixels. Figures are drawn with matplotlib's object API (no pyplot state) under a lock. The bot never
imports this module itself: ``bot.village_map.chart_process.ChartProcess`` draws in a separate process.
Sizes are fixed, in
pixels.

When a whole province is served (hundreds of kecamatan), rows are grouped by kabupaten/kota so the charts stay
readable; ``Chart.row_level`` says which.
"""

from __future__ import annotations

import io
import threading

import matplotlib

matplotlib.use("Agg")  # before anything else of matplotlib: a server has no display

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bot.core.wording import phrases, plain  # noqa: E402
from bot.messaging.templates import tanggal_pendek  # noqa: E402
from bot.village_map.chart_process import Chart  # noqa: E402
from bot.village_map.recap import Recap, short_label  # noqa: E402

HEATMAP_SIZE = (1600, 1200)
BAR_SIZE = (1600, 1000)
DPI = 100
#: More rows than this and a chart groups kecamatan by kabupaten/kota.
MAX_ROWS = 40

_LOCK = threading.Lock()


def _grouped(recap: Recap, values: list[list[int]]) -> tuple[str, list[str], list[list[int]]]:
    """Rows per kecamatan, or per kabupaten when there are too many kecamatan."""
    if len(recap.rows) <= MAX_ROWS:
        return "kecamatan", [r.name for r in recap.rows], values
    order: dict[str, int] = {}
    labels: list[str] = []
    grouped: list[list[int]] = []
    for row, vals in zip(recap.rows, values, strict=True):
        i = order.get(row.kabupaten_code)
        if i is None:
            i = order[row.kabupaten_code] = len(labels)
            labels.append(row.kabupaten_name)
            grouped.append([0] * len(vals))
        grouped[i] = [a + b for a, b in zip(grouped[i], vals, strict=True)]
    return "kabupaten", labels, grouped


def _period(recap: Recap) -> str:
    since = recap.filters.since
    return plain("village_map/chart_period", audience=recap.audience_label,
                 since=tanggal_pendek(since) if since else None, generated=tanggal_pendek(recap.generated_at))


def _place(recap: Recap) -> str:
    if len(recap.kabupaten) == 1:
        return recap.kabupaten[0][1].title() if recap.kabupaten[0][1].isupper() else recap.kabupaten[0][1]
    return plain("village_map/chart_place_many", count=len(recap.kabupaten))


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def heatmap(recap: Recap) -> Chart:
    """The problem map: aspirations per kecamatan (rows) x category (columns), all statuses."""
    level, labels, matrix = _grouped(recap, recap.matrix())
    columns = [short_label(c) for c in recap.categories]
    width, height = HEATMAP_SIZE
    with _LOCK:
        fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        peak = max((v for row in matrix for v in row), default=0)
        image = ax.imshow(matrix if matrix else [[0] * len(columns)], cmap="YlOrRd", aspect="auto", vmin=0,
                          vmax=max(peak, 1), interpolation="nearest")
        ax.set_xticks(range(len(columns)), labels=columns, rotation=30, ha="right", fontsize=11)
        ax.set_yticks(range(len(labels)), labels=labels, fontsize=10 if len(labels) <= 30 else 8)
        ax.tick_params(length=0)
        ax.set_xticks([x - 0.5 for x in range(1, len(columns))], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, len(labels))], minor=True)
        ax.grid(which="minor", color="white", linewidth=1)
        if len(labels) * len(columns) <= 600:
            for i, row in enumerate(matrix):
                for j, value in enumerate(row):
                    if value:
                        ax.text(j, i, str(value), ha="center", va="center", fontsize=9,
                                color="white" if value > 0.6 * peak else "black")
        title = plain("village_map/chart_heatmap_title", place=_place(recap), level=level)
        ax.set_title(f"{title}\n{_period(recap)}", fontsize=14)
        fig.colorbar(image, ax=ax, label=phrases("village_map/chart_labels")["heatmap_scale"], shrink=0.8)
        png = _png(fig)
    return Chart("peta_masalah", title, png, width, height, level, tuple(labels), tuple(recap.categories),
                 tuple(tuple(r) for r in matrix))


def open_bars(recap: Recap) -> Chart:
    """Open aspirations per kecamatan, largest first."""
    level, labels, values = _grouped(recap, [[r.tally.open] for r in recap.rows])
    pairs = sorted(zip(labels, (v[0] for v in values), strict=True), key=lambda p: (-p[1], p[0]))
    width, height = BAR_SIZE
    with _LOCK:
        fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        names = [p[0] for p in pairs][::-1]  # barh draws from the bottom: largest at the top
        counts = [p[1] for p in pairs][::-1]
        bars = ax.barh(range(len(names)), counts, color="#d9534f")
        ax.set_yticks(range(len(names)), labels=names, fontsize=10 if len(names) <= 30 else 8)
        ax.bar_label(bars, padding=3, fontsize=9)
        words = phrases("village_map/chart_labels")
        ax.set_xlabel(words["open_axis"])
        ax.margins(x=0.08)
        ax.spines[["top", "right"]].set_visible(False)
        title = plain("village_map/chart_open_title", level=level, place=_place(recap))
        note = "" if any(counts) else "\n" + words["open_none"]
        ax.set_title(f"{title}\n{_period(recap)}{note}", fontsize=14)
        png = _png(fig)
    return Chart("aspirasi_terbuka", title, png, width, height, level, tuple(p[0] for p in pairs), ("terbuka",),
                 tuple((p[1],) for p in pairs))


def recap_charts(recap: Recap) -> list[Chart]:
    """Both charts of a recap; in the bot this runs in the chart process (``bot.village_map.chart_process``)."""
    return [heatmap(recap), open_bars(recap)]


