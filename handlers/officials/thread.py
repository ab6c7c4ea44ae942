"""The kepala desa's side of an aspiration's thread, in Telegram.

A kepala desa's Telegram reply (text, photo, voice note or document) to a message about one of their aspirations —
a Balas, a "Minta info" question, a status change, the receipt, a /status detail — and what they send after
pressing "✉️ Kirim pesan", go to the departments handling it (``bot.officials.thread``). Runs in handler group -1
for private chats, before the officials' typed answers (``actions.on_text``), which it hands every other text.
"""

from __future__ import annotations

import re
from datetime import timedelta

from markupsafe import Markup
from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, MessageHandler, filters

from bot.aspirations.service import document_accepted
from bot.core.domain import DomainError, Role
from bot.officials.service import InvalidText
from bot.officials.thread import Incoming
from bot.telegram.context import SambangApp, SambangContext, current_person, reply
from handlers.officials import actions

CALLBACK_RE = re.compile(r"^asp:msg:(\d{1,12}):new$")
_STAFF = (Role.PEJABAT, Role.PIMPINAN, Role.ADMIN)


def incoming(message: Message) -> Incoming | None:
    """What the kepala desa sent, as the thread keeps it; None for anything else (a sticker, a video, …)."""
    if message.photo:
        photo = message.photo[-1]
        return Incoming("photo", message.caption, photo.file_id, photo.file_unique_id, file_size=photo.file_size)
    if message.voice is not None:
        voice = message.voice
        seconds = voice.duration.total_seconds() if isinstance(voice.duration, timedelta) else voice.duration
        return Incoming("voice", message.caption, voice.file_id, voice.file_unique_id, mime_type=voice.mime_type,
                        file_size=voice.file_size, duration=int(seconds))
    if message.document is not None:
        doc = message.document
        return Incoming("document", message.caption, doc.file_id, doc.file_unique_id, doc.file_name,
                        doc.mime_type, doc.file_size)
    if message.text is not None:
        return Incoming("text", message.text)
    return None


async def on_message(update: Update, context: SambangContext) -> None:
    opened = await actions.open_message(update, context)
    if opened is None:
        return
    message, user, chat, pending = opened.message, opened.user, opened.chat, opened.pending
    officials = context.services.officials
    if pending is not None and pending.kind == "pesan":
        await _post(update, context, pending.aspiration_id, pending_of=(user.id, chat.id))
        raise ApplicationHandlerStop
    target = message.reply_to_message
    if pending is None and target is not None and target.from_user is not None \
            and target.from_user.id == context.bot.id:
        aspiration_id = await context.services.thread.aspiration_for_reply(chat.id, target.message_id)
        if aspiration_id is not None:
            person = await current_person(update, context)
            if person is not None and person.role is Role.KEPALA_DESA:
                await _post(update, context, aspiration_id)
                raise ApplicationHandlerStop
        if message.text is None:  # an official's photo, voice note or document in reply to a card: a Balas
            aspiration_id = await officials.aspiration_for_message(chat.id, target.message_id)
            person = await current_person(update, context)
            if aspiration_id is not None and person is not None and person.role in _STAFF:
                await _post(update, context, aspiration_id, side="opd")
                raise ApplicationHandlerStop
    if message.text is not None:
        await actions.on_text(update, context, opened)  # an official's typed answer or reply to a card
    elif message.photo:
        await actions.on_result_photo(update, context, opened)  # a photo of the result, asked for by Selesai


async def _post(update: Update, context: SambangContext, aspiration_id: int, *, side: str = "desa",
                pending_of: tuple[int, int] | None = None) -> None:
    """Put what was sent into the thread: the kepala desa's message (``side`` "desa") or an official's Balas with a
    file ("opd"); the sender gets the outcome or the refusal (a refusal other than a bad text is audited and ends a
    waiting prompt)."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    officials = context.services.officials
    thread = context.services.thread
    sent = incoming(message)
    try:
        if sent is None or (sent.kind == "document" and not document_accepted(sent.file_name, sent.mime_type)):
            raise InvalidText("officials/pesan_jenis_tidak_didukung")
        person = await current_person(update, context)
        if side == "opd":
            outcome = await thread.post_from_department(person, aspiration_id, sent)
        else:
            outcome = await thread.post_from_village(person, aspiration_id, sent, pending_of=pending_of)
    except InvalidText as exc:
        await reply(update, "common/refusal", message=exc.message)
    except DomainError as exc:
        if pending_of is not None:
            await officials.cancel_input(*pending_of)
        await officials.log_refusal(user.id, f"{side} message asp {aspiration_id}", exc.message)
        await reply(update, "common/refusal", message=exc.message)
    else:
        await reply(update, "officials/officials_outcome", message=Markup(outcome.message))


async def on_write(update: Update, context: SambangContext) -> None:
    """"✉️ Kirim pesan": the next message in this chat goes to the departments."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    match = CALLBACK_RE.match(query.data or "")
    person = await current_person(update, context)
    try:
        if match is None:
            raise DomainError("officials/tombol_tidak_dikenal")
        aspiration = await context.services.officials.begin_input(person, chat.id, "pesan", int(match.group(1)))
    except DomainError as exc:
        await actions._refused(update, context, query.data or "", exc.message)
        return
    await actions._answer(update)
    await actions._prompt(update, "pesan", aspiration.ticket)


def register(app: SambangApp) -> None:
    # private messages that may be a kepala desa's reply first (group -1, like the officials' typed answers)
    kinds = (filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.VOICE | filters.Document.ALL
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & kinds, on_message),
                    group=-1)
    app.add_handler(CallbackQueryHandler(on_write, pattern=r"^asp:msg:"))
