"""Notifications the foundation sends when an aspiration is submitted (feature modules add their own hooks)."""

from __future__ import annotations

from datetime import datetime

from bot.aspirations import audience as audiences
from bot.aspirations.service import Aspiration
from bot.messaging import outbox
from bot.messaging.templates import render
from bot.people.roster import person_from_row
from bot.storage.database import Transaction


async def copy_to_camat(tx: Transaction, aspiration: Aspiration, now: datetime) -> None:
    """The camat gets a copy only when the kepala desa chose it, and never of a confidential aspiration: the camat's
    share by the audience rule (bot/aspirations/audience.py)."""
    if not aspiration.copy_to_camat:
        return
    rows = await tx.fetchall(
        "SELECT p.*, NULL AS desa_name, NULL AS kecamatan_name FROM people p WHERE p.role = 'camat'"
        " AND p.active = 1 AND p.telegram_id IS NOT NULL AND p.kecamatan_code = ?",
        (aspiration.kecamatan_code,),
    )
    camats = [c for c in map(person_from_row, rows) if audiences.of(c).sees(aspiration)]
    if not camats:
        return
    text = render("aspirations/camat_copy", aspiration=aspiration)
    for camat in camats:
        if camat.telegram_id is None:  # the query keeps only people with an account
            continue
        await outbox.enqueue_text(tx, camat.telegram_id, text, now=now, ref=f"asp:{aspiration.id}:camat",
                                  dedup_key=f"asp:{aspiration.id}:camat:{camat.telegram_id}")
