"""Telegram handlers, one module per user task. ``register_all`` wires them in order; the fallback goes last."""

from __future__ import annotations

from telegram.ext import Application

from . import (
    aspiration,
    audit,
    briefing,
    broadcast,
    commitments,
    deadletters,
    desa,
    fallback,
    feedback,
    guards,
    invite,
    officials,
    people,
    potensi,
    rekap,
    start,
    status,
    visits,
)

#: Ngantor di Kecamatan (issue 4).
NGANTOR = (visits, briefing, feedback, commitments, broadcast)
#: The map of problems and potential (issue 5).
MAP = (potensi, desa, rekap)


def register_all(app: Application) -> None:  # type: ignore[type-arg]
    for module in (guards, start, invite, aspiration, status, officials, *NGANTOR, *MAP, audit, deadletters, people):
        module.register(app)
    fallback.register(app)
