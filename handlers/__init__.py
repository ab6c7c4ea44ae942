"""Telegram handlers, one module per user task. ``register_all`` wires them in order; the fallback goes last."""

from __future__ import annotations

from telegram.ext import Application

from . import (
    aspiration,
    audit,
    briefing,
    broadcast,
    commitments,
    fallback,
    feedback,
    guards,
    invite,
    officials,
    start,
    status,
    visits,
)

#: Ngantor di Kecamatan (issue 4).
NGANTOR = (visits, briefing, feedback, commitments, broadcast)


def register_all(app: Application) -> None:  # type: ignore[type-arg]
    for module in (guards, start, invite, aspiration, status, officials, *NGANTOR, audit):
        module.register(app)
    fallback.register(app)
