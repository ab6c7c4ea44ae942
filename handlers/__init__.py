"""Telegram handlers, one module per user task. ``register_all`` wires them in order; the fallback goes last."""

from __future__ import annotations

from telegram.ext import Application

from . import aspiration, desa, fallback, invite, officials, potensi, rekap, start, status


def register_all(app: Application) -> None:  # type: ignore[type-arg]
    for module in (start, invite, aspiration, status, officials, potensi, desa, rekap):
        module.register(app)
    fallback.register(app)
