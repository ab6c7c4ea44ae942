"""Dead letters: updates whose handling failed again and again, set aside instead of retried forever.

The sender is told (in their private chat) that the message could not be processed, every admin is told there is a
dead letter, and an admin lists and replays them (``/gagal`` in the bot, ``sambang deadletters`` on the command
line). A replay is a request in the database: the running bot picks it up on its next tick (or at once when the
request came from the bot), a stopped bot on its next start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core.clock import to_iso
from bot.core.domain import DomainError
from bot.core.wording import phrases, plain
from bot.messaging import callbacks, outbox
from bot.messaging.templates import render
from bot.storage import audit
from bot.storage.database import Database

#: Longest reason kept (the error's type and first words; never the user's text on purpose).
MAX_REASON = 300


@dataclass(frozen=True)
class DeadLetter:
    update_id: int
    user_id: int | None
    chat_id: int | None
    summary: str
    reason: str
    attempts: int
    status: str
    failed_at: str
    sender: str  # the registered name, or "" when unknown


def describe(data: dict[str, Any]) -> tuple[int | None, int | None, str]:
    """(sender id, chat id, what it was) of an update in Bot API JSON, without what the person wrote."""
    message = next((data[k] for k in ("message", "edited_message", "channel_post") if isinstance(data.get(k), dict)),
                   None)
    if isinstance(data.get("callback_query"), dict):
        query = data["callback_query"]
        user = (query.get("from") or {}).get("id")
        chat = ((query.get("message") or {}).get("chat") or {}).get("id")
        button = callbacks.head(str(query.get("data") or ""), 3)[:40]
        return user, chat, f"tombol {button}".strip()
    if message is not None:
        user = (message.get("from") or {}).get("id")
        chat = (message.get("chat") or {}).get("id")
        text = str(message.get("text") or "")
        if text.startswith("/"):
            what = text.split()[0].split("@")[0][:40]
        elif text:
            what = "pesan teks"
        else:
            kinds = ("photo", "document", "location", "contact", "voice", "video", "sticker")
            what = next((k for k in kinds if k in message), "pesan")
        return user, chat, what
    kind = next((k for k in data if k != "update_id"), "update")
    return None, None, str(kind)[:40]


def reason_of(error: BaseException | str) -> str:
    if isinstance(error, BaseException):
        error = f"{type(error).__name__}: {error}"
    return " ".join(str(error).split())[:MAX_REASON]


async def set_aside(db: Database, *, update_id: int, data: str, reason: BaseException | str, attempts: int,
                    now: datetime) -> None:
    """Move an update into the dead letters (out of the inbound queue) and tell its sender and the admins, in one
    transaction. ``data`` is the update's JSON, or whatever could be kept of an update that could not be read."""
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    user_id, chat_id, summary = describe(parsed) if isinstance(parsed, dict) else (None, None, "tidak terbaca")
    stamp = to_iso(now)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO dead_letters(update_id, data, user_id, chat_id, summary, reason, attempts, status, failed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?) ON CONFLICT(update_id) DO UPDATE SET data = excluded.data,"
            " reason = excluded.reason, attempts = dead_letters.attempts + excluded.attempts, status = 'open',"
            " failed_at = excluded.failed_at",
            (update_id, data, user_id, chat_id, summary, reason_of(reason), attempts, stamp),
        )
        await tx.execute("DELETE FROM inbound_updates WHERE update_id = ?", (update_id,))
        sender = await tx.fetchone("SELECT name, role FROM people WHERE telegram_id = ?", (user_id,)) \
            if user_id is not None else None
        if user_id is not None:
            await outbox.enqueue_text(tx, user_id, render("operations/dead_letter_sender"), now=now,
                                      dedup_key=f"dead-letter:{update_id}:{stamp}:sender")
        admins = await tx.fetchall("SELECT telegram_id FROM people WHERE role = 'admin' AND active = 1"
                                   " AND telegram_id IS NOT NULL")
        text = render("operations/dead_letter_admin", update_id=update_id, summary=summary, attempts=attempts,
                      reason=reason_of(reason), sender=sender["name"] if sender else "", user_id=user_id)
        for admin in admins:
            await outbox.enqueue_text(tx, admin["telegram_id"], text, now=now,
                                      dedup_key=f"dead-letter:{update_id}:{stamp}:admin:{admin['telegram_id']}")


async def open_letters(db: Database, *, limit: int = 50) -> list[DeadLetter]:
    """Dead letters not replayed yet, oldest first."""
    rows = await db.fetchall(
        "SELECT d.*, COALESCE(p.name, '') AS sender FROM dead_letters d LEFT JOIN people p ON p.telegram_id ="
        " d.user_id WHERE d.status IN ('open', 'replay') ORDER BY d.failed_at, d.update_id LIMIT ?", (limit,))
    return [DeadLetter(r["update_id"], r["user_id"], r["chat_id"], r["summary"], r["reason"], r["attempts"],
                       r["status"], r["failed_at"], r["sender"]) for r in rows]


async def count_open(db: Database) -> int:
    return int(await db.fetchval("SELECT COUNT(*) FROM dead_letters WHERE status IN ('open', 'replay')") or 0)


async def request_replay(db: Database, update_id: int, *, by: int | None, now: datetime) -> None:
    """Ask for a dead letter to be handled again (it goes back to the inbound queue, its attempts counted afresh).
    Raises DomainError when there is no such open dead letter."""
    async with db.transaction() as tx:
        row = await tx.fetchone("SELECT status, data FROM dead_letters WHERE update_id = ?", (update_id,))
        if row is None or row["status"] == "replayed":
            raise DomainError("operations/dead_letter_unknown", update_id=update_id)
        try:
            json.loads(row["data"])
        except ValueError:
            raise DomainError("operations/dead_letter_unreadable", update_id=update_id) from None
        await tx.execute("UPDATE dead_letters SET status = 'replay', replayed_by = ? WHERE update_id = ?",
                         (by, update_id))
        await audit.record(tx, by, "ulang_pesan_gagal", f"update {update_id}", now=now)


async def take_replays(db: Database, *, now: datetime) -> list[tuple[int, str]]:
    """The requested replays, moved back into the inbound queue (and out of the handled ones, so they are not
    taken for a duplicate): (update id, JSON) for the bot to queue."""
    if not await db.fetchval("SELECT 1 FROM dead_letters WHERE status = 'replay' LIMIT 1"):
        return []  # the usual case, on every tick: no write
    stamp = to_iso(now)
    async with db.transaction() as tx:
        rows = await tx.fetchall("SELECT update_id, data FROM dead_letters WHERE status = 'replay' ORDER BY update_id")
        for row in rows:
            await tx.execute(
                "INSERT INTO inbound_updates(update_id, data, received_at, attempts, stored_at) VALUES (?, ?, ?, 0, ?)"
                " ON CONFLICT(update_id) DO UPDATE SET attempts = 0", (row["update_id"], row["data"], stamp,
                                                                       to_iso(datetime.now(UTC))))
            await tx.execute("DELETE FROM processed_updates WHERE update_id = ?", (row["update_id"],))
            await tx.execute("UPDATE dead_letters SET status = 'replayed', replayed_at = ? WHERE update_id = ?",
                             (stamp, row["update_id"]))
    return [(row["update_id"], row["data"]) for row in rows]


# -- `sambang deadletters` ----------------------------------------------------------------------------------------


def _configure_cli(p: Any) -> None:
    help_texts = phrases("operations/cli_help")
    sub = p.add_subparsers(dest="deadletters_command", required=True)
    sub.add_parser("list", help=help_texts["deadletters_list"]).set_defaults(func=cmd_list)
    rep = sub.add_parser("replay", help=help_texts["deadletters_replay"])
    rep.add_argument("update_id", type=int, help=help_texts["deadletters_update_id"])
    rep.set_defaults(func=cmd_replay)


async def cmd_list(config: Any, args: Any) -> int:
    db = await Database.open(config.db_path)
    try:
        letters = await open_letters(db, limit=1000)
    finally:
        await db.close()
    print(plain("operations/cli_dead_letters", letters=letters))
    return 0


async def cmd_replay(config: Any, args: Any) -> int:
    from bot.core.clock import SystemClock

    db = await Database.open(config.db_path)
    try:
        await request_replay(db, args.update_id, by=None, now=SystemClock().now())
    finally:
        await db.close()
    print(plain("operations/cli_dead_letter_replay", update_id=args.update_id))
    return 0


DEADLETTERS_COMMAND = ("deadletters", "operations/cli_help", _configure_cli, cmd_list)
