"""Notifications the foundation sends when an aspiration is submitted (feature modules add their own hooks)."""

from __future__ import annotations

from datetime import datetime

from . import outbox
from .aspirations import Aspiration, AspirationService
from .storage import Transaction
from .templates import render


async def copy_to_camat(tx: Transaction, aspiration: Aspiration, now: datetime) -> None:
    """The camat gets a copy only when the kepala desa chose it, and never of a confidential aspiration."""
    if not aspiration.copy_to_camat or aspiration.confidential:
        return
    rows = await tx.fetchall(
        "SELECT telegram_id FROM people WHERE role = 'camat' AND active = 1 AND telegram_id IS NOT NULL"
        " AND kecamatan_code = ?",
        (aspiration.kecamatan_code,),
    )
    text = render("camat_copy", aspiration=aspiration)
    for row in rows:
        await outbox.enqueue_text(tx, row["telegram_id"], text, now=now, ref=f"asp:{aspiration.id}:camat",
                                  dedup_key=f"asp:{aspiration.id}:camat:{row['telegram_id']}")


def install(aspirations: AspirationService) -> None:
    aspirations.submit_hooks.append(copy_to_camat)
