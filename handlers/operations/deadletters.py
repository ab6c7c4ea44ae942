"""/gagal: an admin sees the messages the bot could not process (dead letters) and replays them.

``/gagal`` lists them with a "🔁 Ulang" button each; ``/gagal ulang <nomor>`` or the button replays one. The role
is checked on the server for the command and for every press (callback data can be forged).
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.clock import from_iso
from bot.core.domain import DomainError, Role
from bot.messaging import callbacks
from bot.operations import deadletters
from bot.telegram.context import SambangApp, SambangContext, answer_button, notice, refuse, reply, requires

#: Buttons shown under the list (the rest by /gagal ulang NOMOR).
MAX_BUTTONS = 10
_ID = re.compile(r"^\d{1,15}$")


async def _show(update: Update, context: SambangContext) -> None:
    db = context.services.db
    letters = await deadletters.open_letters(db, limit=20)
    total = await deadletters.count_open(db)
    buttons = [[InlineKeyboardButton(f"🔁 Ulang #{d.update_id}",
                                     callback_data=callbacks.build("dl", "ulang", d.update_id))]
               for d in letters[:MAX_BUTTONS] if d.status == "open"]
    tz = context.services.config.tz
    when = {d.update_id: f"{from_iso(d.failed_at).astimezone(tz):%d-%m-%Y %H:%M}" for d in letters}
    await reply(update, "operations/dead_letter_list", letters=letters, total=total, when=when,
                reply_markup=InlineKeyboardMarkup(buttons) if buttons else None)


async def _replay(update: Update, context: SambangContext, update_id: int) -> None:
    svc = context.services
    user = update.effective_user
    try:
        await deadletters.request_replay(svc.db, update_id, by=user.id if user else None, now=svc.clock.now())
    except DomainError as exc:
        await refuse(update, exc.message)
        return
    await answer_button(update)
    await reply(update, "operations/dead_letter_replayed", update_id=update_id)
    await svc.failed_updates.replay_requested()


@requires(Role.ADMIN)
async def gagal(update: Update, context: SambangContext) -> None:
    args = context.args or []
    if not args:
        await _show(update, context)
        return
    if len(args) == 2 and args[0].lower() in ("ulang", "replay") and _ID.match(args[1]):
        await _replay(update, context, int(args[1]))
        return
    await refuse(update, notice("dead_letter_usage"))


@requires(Role.ADMIN)
async def gagal_button(update: Update, context: SambangContext) -> None:
    query = update.callback_query
    assert query is not None
    parts = callbacks.fields(query.data)
    if len(parts) != 3 or not _ID.match(parts[2]):
        await refuse(update, notice("dead_letter_usage"), show_alert=True)
        return
    await _replay(update, context, int(parts[2]))


def register(app: SambangApp) -> None:
    app.add_handler(CommandHandler("gagal", gagal, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(gagal_button, pattern=r"^dl:"))
