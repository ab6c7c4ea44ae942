"""/siaran: an admin's message to everyone, one kecamatan (its kepala desa and camat) or one role — confirmed
before it goes out, then followed with a report (sent, failed, pending, blocked) that a button refreshes."""

from __future__ import annotations

import uuid
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, ConversationHandler

from bot.core.domain import DomainError, Role
from bot.messaging import callbacks
from bot.messaging.templates import render
from bot.people.roster import Person
from bot.telegram import flow
from bot.telegram.context import SambangApp, SambangContext, button_number, notice, person_or_refuse, reply
from bot.telegram.flow import button, data_of, deny, text_of
from bot.visits import broadcast

CHOOSING_AUDIENCE = "memilih_sasaran"
WRITING_KECAMATAN = "menulis_kecamatan"
CHOOSING_ROLE = "memilih_peran"
WRITING_MESSAGE = "menulis_pesan"
REVIEWING_BROADCAST = "memeriksa_siaran"

KEY = "siaran"
ROLES = (Role.KEPALA_DESA, Role.CAMAT, Role.PEJABAT, Role.PIMPINAN, Role.ADMIN)


def _kb(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in rows])


def refresh_button(broadcast_id: int) -> InlineKeyboardMarkup:
    return _kb([[("🔄 Perbarui laporan", callbacks.build("bc", "rep", broadcast_id))]])


async def _admin(update: Update, context: SambangContext) -> Any:
    return await person_or_refuse(update, context, (Role.ADMIN,))


_admin_step = flow.guarded(_admin)


def _draft(context: SambangContext) -> dict[str, Any]:
    assert context.user_data is not None
    draft: dict[str, Any] = context.user_data.setdefault(KEY, {})
    return draft


@_admin_step
async def start(update: Update, context: SambangContext, person: Person) -> str | int:
    if context.args and context.args[0].lower() in ("laporan", "status"):
        await _reports(update, context, context.args[1] if len(context.args) > 1 else None)
        return ConversationHandler.END
    assert context.user_data is not None
    context.user_data[KEY] = {"token": uuid.uuid4().hex}
    await reply(update, "visits/siaran_menu", reply_markup=_kb([
        [("👥 Semua pengguna", "bc:a:semua")],
        [("🏛 Satu kecamatan", "bc:a:kecamatan")],
        [("🎭 Satu peran", "bc:a:peran")],
    ]))
    return CHOOSING_AUDIENCE


async def _reports(update: Update, context: SambangContext, which: str | None) -> None:
    db = context.services.db
    if which and which.isdigit():
        found = await broadcast.report(db, int(which))
        if found is None:
            await reply(update, "common/refusal", message=notice("broadcast_not_found", id=which))
            return
        await reply(update, "visits/siaran_report", r=found, reply_markup=refresh_button(found.id))
        return
    reports = await broadcast.recent_reports(db, limit=10)
    await reply(update, "visits/siaran_reports", reports=reports,
                reply_markup=refresh_button(reports[0].id) if reports else None)


@_admin_step
async def audience_chosen(update: Update, context: SambangContext, person: Person) -> str | int:
    kind = callbacks.field(data_of(update), 2)
    if kind == "kecamatan":
        await reply(update, "visits/siaran_ask_kecamatan")
        return WRITING_KECAMATAN
    if kind == "peran":
        roles = [[(r.label, callbacks.build("bc", "r", r.value))] for r in ROLES]
        await reply(update, "visits/siaran_ask_role", reply_markup=_kb(roles))
        return CHOOSING_ROLE
    return await _set_audience(update, context, "semua", "")


@_admin_step
async def kecamatan_written(update: Update, context: SambangContext, person: Person) -> str | int:
    return await _set_audience(update, context, "kecamatan", text_of(update))


@_admin_step
async def role_chosen(update: Update, context: SambangContext, person: Person) -> str | int:
    return await _set_audience(update, context, "peran", callbacks.field(data_of(update), 2))


async def _set_audience(update: Update, context: SambangContext, kind: str, value: str) -> str:
    try:
        audience = await broadcast.resolve_audience(context.services.db, kind, value)
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return WRITING_KECAMATAN if kind == "kecamatan" else CHOOSING_AUDIENCE
    _draft(context).update(kind=audience.kind, value=audience.value, label=audience.label)
    await reply(update, "visits/siaran_ask_text", label=audience.label, limit=broadcast.MAX_SIARAN_LENGTH)
    return WRITING_MESSAGE


@_admin_step
async def message_written(update: Update, context: SambangContext, person: Person) -> str | int:
    text = text_of(update)
    if len(text) > broadcast.MAX_SIARAN_LENGTH:
        await reply(update, "common/refusal", message=notice("broadcast_too_long", length=len(text),
                                                                limit=broadcast.MAX_SIARAN_LENGTH))
        return WRITING_MESSAGE
    draft = _draft(context)
    draft["text"] = text
    audience = broadcast.Audience(draft["kind"], draft.get("value", ""), draft["label"])
    reachable, blocked = await broadcast.count_audience(context.services.db, audience)
    person = await _admin(update, context)
    preview = render("visits/siaran_message", text=text, sender=person.name if person else "")
    if reachable == 0:
        await reply(update, "visits/siaran_preview", label=audience.label, reachable=0, blocked=blocked,
                    preview=preview)
        return WRITING_MESSAGE
    await reply(update, "visits/siaran_preview", label=audience.label, reachable=reachable, blocked=blocked,
                preview=preview,
                reply_markup=_kb([[(f"✅ Kirim ke {reachable} penerima", "bc:send")], [("❌ Batal", "bc:stop")]]))
    return REVIEWING_BROADCAST


@_admin_step
async def send(update: Update, context: SambangContext, person: Person) -> str | int:
    draft = _draft(context)
    if not draft.get("text") or not draft.get("kind"):
        await deny(update, context, notice("broadcast_already_sent"))
        return ConversationHandler.END
    audience = broadcast.Audience(draft["kind"], draft.get("value", ""), draft["label"])
    try:
        broadcast_id, _ = await broadcast.send_siaran(
            context.services.db, audience=audience, text=draft["text"], sender_telegram_id=person.telegram_id,
            sender_name=person.name, now=context.services.clock.now(), request_key=draft["token"])
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return ConversationHandler.END
    found = await broadcast.report(context.services.db, broadcast_id)
    return await flow.done(update, context, KEY, "visits/siaran_report", r=found, started=True,
                           reply_markup=refresh_button(broadcast_id))


stop = flow.leave(KEY, "visits/siaran_stopped")


async def refresh(update: Update, context: SambangContext) -> None:
    """🔄 under a report: show the broadcast's current counts (admins only, checked again here)."""
    if await _admin(update, context) is None:
        return
    broadcast_id = button_number(data_of(update), 2)
    found = await broadcast.report(context.services.db, broadcast_id)
    if found is None:
        await deny(update, context, notice("broadcast_not_found", id=broadcast_id))
        return
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(render("visits/siaran_report", r=found), parse_mode=ParseMode.HTML,
                                      reply_markup=refresh_button(broadcast_id))
    except BadRequest:  # "message is not modified": nothing changed since the last look
        pass


async def stale_button(update: Update, context: SambangContext) -> None:
    await flow.stale(update, context, "siaran")


def build_conversation() -> ConversationHandler[SambangContext]:
    return flow.guided("siaran", "bc", start, stop, {
        CHOOSING_AUDIENCE: [flow.press(audience_chosen, r"^bc:a:(semua|kecamatan|peran)$")],
        WRITING_KECAMATAN: [flow.typed(kecamatan_written)],
        CHOOSING_ROLE: [flow.press(role_chosen, r"^bc:r:[a-z_]+$")],
        WRITING_MESSAGE: [flow.typed(message_written)],
        REVIEWING_BROADCAST: [flow.press(send, r"^bc:send$")],
    })


def register(app: SambangApp) -> None:
    app.add_handler(build_conversation())
    app.add_handler(CallbackQueryHandler(button(refresh), pattern=r"^bc:rep:\d+$"))
    app.add_handler(CallbackQueryHandler(stale_button, pattern=r"^bc:"))
