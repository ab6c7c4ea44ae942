"""The dashboard's pages: Jinja2 templates in ``messages/dashboard/`` (HTML, autoescaped, Bahasa Indonesia), with
the bot's date and label filters."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.core.domain import category_label, status_label
from bot.messaging.templates import tanggal, tanggal_pendek, waktu
from bot.village_map.recap import short_label


def ribuan(value: int | float) -> str:
    """12345 -> '12.345' (Indonesian thousands separator)."""
    return f"{int(value):,}".replace(",", ".")


#: HTML pages: autoescaped whatever their name, a missing value is an error, templates never change while running.
OPTIONS: dict[str, Any] = {"autoescape": True, "undefined": StrictUndefined, "trim_blocks": True,
                           "lstrip_blocks": True, "auto_reload": False}
FILTERS = {"tanggal": tanggal, "tanggal_pendek": tanggal_pendek, "waktu": waktu, "kategori": category_label,
           "status": status_label, "singkat": short_label, "ribuan": ribuan}


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The dashboard's own Jinja2 environment (``messages/dashboard/``), apart from the bot's Telegram HTML."""
    env = Environment(loader=PackageLoader("messages", "dashboard"), **OPTIONS)
    env.filters.update(FILTERS)
    return env


def page(name: str, **values: Any) -> str:
    return environment().get_template(f"{name}.html.j2").render(**values)
