"""/audit: an admin downloads the audit trail (who did which privileged thing, when) as a CSV document."""

from __future__ import annotations

from datetime import timedelta

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import CommandHandler, filters

from bot.core.domain import Role
from bot.messaging.templates import render
from bot.storage import audit
from bot.telegram.context import SambangApp, SambangContext, reply, requires

MAX_DAYS = 3660



@requires(Role.ADMIN)
async def audit_export(update: Update, context: SambangContext) -> None:
    svc = context.services
    args = context.args or []
    days = None
    if args:
        if not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_DAYS:
            await reply(update, "common/refusal", message="Format: /audit atau /audit JUMLAH_HARI (mis. /audit 30).")
            return
        days = int(args[0])
    now = svc.clock.now()
    since = now - timedelta(days=days) if days else None
    items = await audit.entries(svc.db, since=since)
    user = update.effective_user
    async with svc.db.transaction() as tx:
        await audit.record(tx, user.id if user else None, "ekspor_audit",
                           f"{len(items)} baris" + (f", {days} hari" if days else ""), now=now)
    data = audit.to_csv(items, svc.config.tz)
    stamp = now.astimezone(svc.config.tz).strftime("%Y%m%d-%H%M")
    message = update.effective_message
    assert message is not None
    await message.reply_document(
        InputFile(data, filename=f"audit-sambang-{stamp}.csv"),
        caption=render("operations/audit_export", rows=len(items),
                       days=days), parse_mode=ParseMode.HTML, do_quote=False,
    )


def register(app: SambangApp) -> None:
    app.add_handler(CommandHandler("audit", audit_export, filters=filters.ChatType.PRIVATE))
