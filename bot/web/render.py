"""The dashboard's pages: Jinja2 templates in ``messages/dashboard/`` (HTML, autoescaped, Bahasa Indonesia), with
the bot's date and label filters."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.core.domain import category_label, status_label
from bot.messaging.templates import tanggal, tanggal_pendek, waktu
from bot.village_map.recap import short_label


def ribuan(value: int | float) -> str:
    """12345 -> '12.345' (Indonesian thousands separator)."""
    return f"{int(value):,}".replace(",", ".")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("messages", "dashboard"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(tanggal=tanggal, tanggal_pendek=tanggal_pendek, waktu=waktu, kategori=category_label,
                       status=status_label, singkat=short_label, ribuan=ribuan)
    return env


def page(name: str, **values: Any) -> str:
    return environment().get_template(f"{name}.html.j2").render(**values)
