"""Feedback on a visit from the kepala desa (1–5 buttons, then an optional comment), and /umpanbalik, the
per-kecamatan summary for leadership only — a camat never sees it."""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, filters

from bot.core.clock import from_iso, to_iso
from bot.core.domain import DomainError, Role
from bot.messaging import callbacks
from bot.messaging.templates import render, split_message
from bot.telegram import flow
from bot.telegram.context import SambangApp, SambangContext, button_number, person_or_refuse, reply
from bot.telegram.flow import button, data_of, deny, drop_buttons, text_of
from bot.visits.feedback import FeedbackState
from handlers.fallback import unknown_text

WRITING_COMMENT = "menulis_komentar"
COMMENT_WINDOW = timedelta(hours=1)


def _ratings(visit_id: int, aspect: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(str(n), callback_data=callbacks.build("fb", visit_id, aspect, n))
                                  for n in range(1, 6)]])


async def _edit(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest:
        await reply(update, "common/raw", text=text, reply_markup=markup)


async def _rate(update: Update, context: SambangContext) -> FeedbackState | None:
    person = await person_or_refuse(update, context, (Role.KEPALA_DESA,))
    if person is None:
        return None
    data = data_of(update)
    aspect = callbacks.field(data, 2)
    try:
        return await context.services.ngantor.feedback.rate(button_number(data, 1), person, aspect,
                                                                button_number(data, 3))
    except DomainError as exc:
        await deny(update, context, exc.message)
        return None


async def visit_rated(update: Update, context: SambangContext) -> None:
    state = await _rate(update, context)
    if state is None:
        return
    await _edit(update, render("visits/feedback_rated", s=state, asking="k"), _ratings(state.visit.id, "k"))


async def service_rated(update: Update, context: SambangContext) -> str | int:
    state = await _rate(update, context)
    if state is None:
        return ConversationHandler.END
    skip = InlineKeyboardMarkup([[InlineKeyboardButton("Lewati",
                                                        callback_data=callbacks.build("fb", state.visit.id, "skip"))]])
    await _edit(update, render("visits/feedback_rated", s=state, asking="comment"), skip)
    assert context.user_data is not None
    context.user_data["umpan_balik"] = {"visit_id": state.visit.id, "at": to_iso(context.services.clock.now())}
    return WRITING_COMMENT


async def comment_written(update: Update, context: SambangContext) -> str | int:
    assert context.user_data is not None
    pending = context.user_data.get("umpan_balik") or {}
    svc = context.services
    if not pending or svc.clock.now() - from_iso(pending["at"]) > COMMENT_WINDOW:
        # long after the rating: this text is not a comment; answer it as any stray text
        context.user_data.pop("umpan_balik", None)
        await unknown_text(update, context)
        return ConversationHandler.END
    person = await person_or_refuse(update, context, (Role.KEPALA_DESA,))
    if person is None:
        return ConversationHandler.END
    try:
        state = await svc.ngantor.feedback.comment(pending["visit_id"], person, text_of(update))
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return ConversationHandler.END
    context.user_data.pop("umpan_balik", None)
    await reply(update, "visits/feedback_thanks", s=state)
    return ConversationHandler.END


async def comment_skipped(update: Update, context: SambangContext) -> int:
    if context.user_data is not None:
        context.user_data.pop("umpan_balik", None)
    await drop_buttons(update)
    await reply(update, "visits/feedback_thanks", s=None)
    return ConversationHandler.END


async def comment_stopped(update: Update, context: SambangContext) -> int:
    if context.user_data is not None:
        context.user_data.pop("umpan_balik", None)
    await reply(update, "visits/feedback_thanks", s=None)
    return ConversationHandler.END


async def stale_skip(update: Update, context: SambangContext) -> None:
    await drop_buttons(update)


async def umpanbalik(update: Update, context: SambangContext) -> None:
    """/umpanbalik [kecamatan]: the latest feedback summaries, for leadership only."""
    person = await person_or_refuse(update, context, (Role.PIMPINAN,))
    if person is None:
        return
    n = context.services.ngantor
    query = " ".join(context.args or []).strip()
    code = None
    if query:
        try:
            code, _ = await n.visits.resolve_kecamatan(query)
        except DomainError as exc:
            await reply(update, "common/refusal", message=exc.message)
            return
    summaries = await n.feedback.summaries(code)
    text = render("visits/feedback_summary", summaries=summaries)
    for part in split_message([text], 4000):
        await reply(update, "common/raw", text=part)


def build_conversation() -> ConversationHandler[SambangContext]:
    return flow.conversation(
        "umpan_balik", [flow.press(service_rated, r"^fb:\d+:k:[1-5]$")],
        {WRITING_COMMENT: [flow.typed(comment_written), flow.press(comment_skipped, r"^fb:\d+:skip$")]},
        [CommandHandler("batal", button(comment_stopped), filters=flow.PRIVATE)],
    )


def register(app: SambangApp) -> None:
    app.add_handler(build_conversation())
    app.add_handler(CallbackQueryHandler(button(visit_rated), pattern=r"^fb:\d+:v:[1-5]$"))
    app.add_handler(CallbackQueryHandler(button(stale_skip), pattern=r"^fb:\d+:skip$"))
    app.add_handler(CommandHandler("umpanbalik", umpanbalik, filters=filters.ChatType.PRIVATE))
