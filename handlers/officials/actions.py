"""The officials' side in Telegram: the buttons on aspiration cards, the reasons and replies they type (in private
chats and in groups), the kepala desa's "Sudah tertangani?", group inboxes (/inbox), /tangani and /opd.

Every press and every typed answer is checked again by ``bot.officials.service`` against the database (role, department
responsibility, current status): callback data is only a hint of what was pressed. Refusals are answered and
written to the audit log.

Typed answers: after Tolak, Tidak dapat, Balas or Alihkan (and "Belum" for the kepala desa) the bot waits, in that
chat, for that person's next text (stored in SQLite, so it survives restarts). In groups the prompt asks for a
Telegram reply, which reaches the bot even with privacy mode on. An official's reply to an aspiration card in a
private chat is sent to the kepala desa as a Balas; in a group it is the colleagues' discussion and stays there
(the bot says so once), and only "/balas <teks>" as a reply to the card, or the Balas button, answers the village.
These run in handler group -1 and stop other handlers only when they used the message; any command cancels a
waiting prompt (/batal says so).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from markupsafe import Markup
from telegram import Chat, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core.domain import CATEGORY_BY_CODE, DomainError, NotAllowed, Role
from bot.core.wording import phrases
from bot.messaging import callbacks
from bot.officials.service import NEEDS_TEXT, OFFICIAL_ACTIONS, InvalidText, OfficialsService, PendingInput
from bot.people.roster import Person
from bot.telegram.context import SambangApp, SambangContext, current_person, person_or_refuse, refuse, reply
from bot.telegram.flow import drop_buttons

log = logging.getLogger(__name__)

CALLBACK_RE = re.compile(r"^asp:(act|rte|cfm):(\d{1,12}):([A-Za-z0-9_-]{1,24})$")
_STAFF = (Role.PEJABAT, Role.PIMPINAN, Role.ADMIN)


def _officials(context: SambangContext) -> OfficialsService:
    officials = context.services.officials
    assert officials is not None, "bot.officials.service.install did not run"
    return officials


async def _answer(update: Update, text: str | None = None) -> None:
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text[:190] if text else None)
    except BadRequest:
        pass


async def _refused(update: Update, context: SambangContext, what: str, why: str) -> None:
    user = update.effective_user
    await _officials(context).log_refusal(user.id if user else None, what, why)
    await refuse(update, why, show_alert=True)


async def _prompt(update: Update, kind: str, ticket: str, target: str | None = None) -> None:
    chat = update.effective_chat
    user = update.effective_user
    group = chat is not None and chat.type != ChatType.PRIVATE
    kinds = phrases("officials/text_kinds")
    placeholder = kinds.get(kind, kinds["reason"]) + "…"
    await reply(update, "officials/officials_prompt", kind=kind, ticket=ticket, target=target, group=group,
                mention_id=user.id if group and user else None, mention_name=user.first_name if user else None,
                reply_markup=ForceReply(selective=True, input_field_placeholder=placeholder))


# -- buttons ----------------------------------------------------------------------------------------------------


async def on_button(update: Update, context: SambangContext) -> None:
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    match = CALLBACK_RE.match(data)
    if match is None:
        await _refused(update, context, data, "Tombol tidak dikenal atau sudah tidak berlaku.")
        return
    kind, aspiration_id, arg = match.group(1), int(match.group(2)), match.group(3)
    person = await current_person(update, context)
    try:
        if kind == "act":
            await _action(update, context, person, aspiration_id, arg)
        elif kind == "rte":
            await _redirect_to(update, context, person, aspiration_id, arg)
        else:
            await _confirmation(update, context, person, aspiration_id, arg)
    except DomainError as exc:
        await _refused(update, context, data, exc.message)


async def _action(update: Update, context: SambangContext, person: Person | None, aspiration_id: int,
                  action: str) -> None:
    officials = _officials(context)
    chat = update.effective_chat
    assert chat is not None
    if action not in OFFICIAL_ACTIONS:
        raise DomainError("officials/tombol_tidak_dikenal")
    if action == "alihkan":
        aspiration = await officials.check(person, aspiration_id, "alihkan")
        options = await officials.redirect_options(aspiration)
        if not options:
            raise DomainError("officials/no_other_department")
        buttons = [InlineKeyboardButton(code, callback_data=callbacks.build("asp", "rte", aspiration_id, code))
                   for code, _ in options]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        rows.append([InlineKeyboardButton("Batal", callback_data=callbacks.build("asp", "rte", aspiration_id, "-"))])
        await _answer(update)
        await reply(update, "officials/officials_choose_department", ticket=aspiration.ticket,
                    reply_markup=InlineKeyboardMarkup(rows))
        return
    if action in NEEDS_TEXT:
        aspiration = await officials.begin_input(person, chat.id, action, aspiration_id)
        await _answer(update)
        await _prompt(update, action, aspiration.ticket)
        return
    outcome = await officials.act(person, aspiration_id, action)
    await _answer(update, outcome.message)


async def _redirect_to(update: Update, context: SambangContext, person: Person | None, aspiration_id: int,
                       code: str) -> None:
    officials = _officials(context)
    chat = update.effective_chat
    query = update.callback_query
    assert chat is not None and query is not None
    if code == "-":
        await _answer(update, "Dibatalkan.")
        try:
            await query.edit_message_text("Pengalihan dibatalkan.")
        except BadRequest:
            pass
        return
    aspiration = await officials.begin_input(person, chat.id, "alihkan", aspiration_id, target=code)
    department = await officials.departments.get(code)
    name = department.name if department else code
    await _answer(update)
    await drop_buttons(update)
    await _prompt(update, "alihkan", aspiration.ticket, target=name)


async def _confirmation(update: Update, context: SambangContext, person: Person | None, aspiration_id: int,
                        answer: str) -> None:
    officials = _officials(context)
    chat = update.effective_chat
    assert chat is not None and update.callback_query is not None
    if answer == "ya":
        outcome = await officials.confirm(person, aspiration_id)
        await _answer(update)
        await drop_buttons(update)
        await reply(update, "officials/officials_outcome", message=Markup(outcome.message))
    elif answer == "belum":
        aspiration = await officials.begin_input(person, chat.id, "buka_kembali", aspiration_id)
        await _answer(update)
        await _prompt(update, "buka_kembali", aspiration.ticket)
    else:
        raise DomainError("officials/tombol_tidak_dikenal")


# -- typed answers, replies to cards, and commands that cancel a prompt ----------------------------------------


@dataclass(frozen=True)
class Opened:
    """A person's message in a chat, with the prompt waiting there for their answer (None if none): what every
    handler of an official's typed answer, photo or command looks at first."""

    message: Message
    user: User
    chat: Chat
    pending: PendingInput | None


async def open_message(update: Update, context: SambangContext) -> Opened | None:
    """The message, its sender and chat, and the prompt waiting for them (one lookup); None for anything else."""
    message = update.effective_message
    user = update.effective_user
    chat = update.effective_chat
    if message is None or user is None or chat is None:
        return None
    return Opened(message, user, chat, await _officials(context).pending_input(user.id, chat.id))


async def on_text(update: Update, context: SambangContext, opened: Opened | None = None) -> None:
    """A typed answer to a waiting prompt, or a reply to an aspiration's card. ``opened`` when the caller
    (handlers.officials.thread) already looked."""
    opened = opened or await open_message(update, context)
    if opened is None:
        return
    message, user, chat, pending = opened.message, opened.user, opened.chat, opened.pending
    if message.text is None:
        return
    officials = _officials(context)
    if pending is not None:
        person = await current_person(update, context)
        try:
            outcome = await officials.complete_input(person, pending, message.text)
        except InvalidText as exc:
            await reply(update, "common/refusal", message=exc.message)
        except DomainError as exc:
            await officials.log_refusal(user.id, f"input {pending.kind} {pending.ticket}", exc.message)
            await reply(update, "common/refusal", message=exc.message)
        else:
            await reply(update, "officials/officials_outcome", message=Markup(outcome.message))
        raise ApplicationHandlerStop
    aspiration_id = await _replied_aspiration(update, context)
    if aspiration_id is None:
        return
    if chat.type != ChatType.PRIVATE:
        # colleagues talking about the card: it stays in the group; only /balas or the button reach the village
        await _internal_hint(update, context, aspiration_id)
        raise ApplicationHandlerStop
    person = await current_person(update, context)
    if person is None or person.role not in _STAFF:
        return  # e.g. a kepala desa answering a notification: the usual handlers reply
    await _send_reply(update, context, person, aspiration_id, message.text)
    raise ApplicationHandlerStop


async def on_result_photo(update: Update, context: SambangContext, opened: Opened | None = None) -> None:
    """A photo sent while "Selesai" waits for its result note: the photo goes to the kepala desa with its caption
    as the note (without a caption the prompt stays open and says so). Any other photo is left to other handlers."""
    opened = opened or await open_message(update, context)
    if opened is None or not opened.message.photo:
        return
    message, user, pending = opened.message, opened.user, opened.pending
    officials = _officials(context)
    if pending is None or pending.kind != "selesai":
        return
    person = await current_person(update, context)
    try:
        outcome = await officials.complete_input(person, pending, message.caption or "",
                                                 photo=message.photo[-1].file_id)
    except DomainError as exc:
        if not isinstance(exc, InvalidText):
            await officials.log_refusal(user.id, f"input {pending.kind} {pending.ticket}", exc.message)
        await reply(update, "common/refusal", message=exc.message)
    else:
        await reply(update, "officials/officials_outcome", message=Markup(outcome.message))
    raise ApplicationHandlerStop


async def _replied_aspiration(update: Update, context: SambangContext) -> int | None:
    """The aspiration whose card (or photos, or notice) this message replies to, if any."""
    message = update.effective_message
    chat = update.effective_chat
    target = message.reply_to_message if message is not None else None
    if chat is None or target is None or target.from_user is None or target.from_user.id != context.bot.id:
        return None
    return await _officials(context).aspiration_for_message(chat.id, target.message_id)


async def _send_reply(update: Update, context: SambangContext, person: Person | None, aspiration_id: int,
                      text: str) -> None:
    """Send ``text`` to the kepala desa as the official's Balas (every check is made again by the service)."""
    officials = _officials(context)
    user = update.effective_user
    try:
        outcome = await officials.act(person, aspiration_id, "balas", note=text)
    except DomainError as exc:
        if not isinstance(exc, InvalidText):
            await officials.log_refusal(user.id if user else None, f"reply to asp {aspiration_id}", exc.message)
        await reply(update, "common/refusal", message=exc.message)
    else:
        await reply(update, "officials/officials_outcome", message=Markup(outcome.message))


async def _internal_hint(update: Update, context: SambangContext, aspiration_id: int) -> None:
    """Say once per person and card that a plain reply in a group is not sent to the village, and how to send."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return
    # (chat, user, aspiration) already told, while the bot runs
    hinted = context.services.internal_hints
    key = (chat.id, user.id, aspiration_id)
    if key in hinted:
        return
    person = await current_person(update, context)
    if person is None or person.role not in _STAFF:
        return  # a group member who is not an official: their talk is none of the bot's business
    hinted[key] = None
    while len(hinted) > 10_000:
        hinted.popitem(last=False)
    aspiration = await _officials(context).aspirations.get(aspiration_id)
    await reply(update, "officials/officials_internal_reply", ticket=aspiration.ticket)


async def balas(update: Update, context: SambangContext) -> None:
    """/balas as a reply to an aspiration's card: the text after it goes to the kepala desa; without a text, the
    Balas prompt (as the button asks). The explicit way to answer the village from a group."""
    message = update.effective_message
    chat = update.effective_chat
    user = update.effective_user
    if message is None or chat is None or user is None:
        return
    aspiration_id = await _replied_aspiration(update, context)
    if aspiration_id is None:
        await reply(update, "common/refusal", message=(
            "Balas (reply) kartu aspirasinya dengan /balas diikuti teks balasan untuk kepala desa, atau tekan"
            " tombol 💬 Balas pada kartu."))
        return
    person = await current_person(update, context)
    parts = (message.text or "").split(maxsplit=1)
    text = parts[1].strip() if len(parts) > 1 else ""
    try:
        if not text:
            aspiration = await _officials(context).begin_input(person, chat.id, "balas", aspiration_id)
            await _prompt(update, "balas", aspiration.ticket)
            return
    except DomainError as exc:
        await _officials(context).log_refusal(user.id, f"/balas asp {aspiration_id}", exc.message)
        await reply(update, "common/refusal", message=exc.message)
        return
    await _send_reply(update, context, person, aspiration_id, text)


async def on_command(update: Update, context: SambangContext) -> None:
    """Any command cancels a waiting prompt in that chat; /batal only does that (and says so)."""
    opened = await open_message(update, context)
    if opened is None or opened.pending is None:
        return
    message, user, chat, pending = opened.message, opened.user, opened.chat, opened.pending
    if not message.text:
        return
    officials = _officials(context)
    await officials.cancel_input(user.id, chat.id)
    command = message.text.split()[0].split("@")[0].lower()
    if command == "/batal":
        await reply(update, "officials/officials_cancelled", ticket=pending.ticket)
        raise ApplicationHandlerStop


# -- commands ---------------------------------------------------------------------------------------------------


async def inbox(update: Update, context: SambangContext) -> None:
    """/inbox in a group: make it a department's inbox (officials: their own; admins: /inbox KODE)."""
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None
    if chat.type == ChatType.PRIVATE:
        await reply(update, "officials/inbox_private")
        return
    departments = _officials(context).departments
    person = await current_person(update, context)
    args = [a for a in (context.args or []) if a.strip()]
    if person is None or person.role not in (Role.PEJABAT, Role.ADMIN):
        why = "Hanya admin atau pejabat OPD yang terdaftar di Sambang yang dapat mengatur kotak masuk grup."
        await _officials(context).log_refusal(user.id if user else None, "/inbox", why)
        await reply(update, "common/refusal", message=why)
        return
    try:
        if args and args[0].lower() in ("lepas", "hapus", "stop"):
            codes = await departments.unregister_inbox(person, chat.id)
            await reply(update, "officials/inbox_unregistered", codes=codes)
        elif (args and args[0].lower() in ("status", "info")) or (person.role is Role.ADMIN and not args):
            await reply(update, "officials/inbox_status", departments=await departments.inbox_departments(chat.id))
        else:
            department = await departments.register_inbox(person, chat.id, chat.title, args[0] if args else None)
            await reply(update, "officials/inbox_registered", department=department)
    except DomainError as exc:
        await _officials(context).log_refusal(user.id if user else None, "/inbox", exc.message)
        await reply(update, "common/refusal", message=exc.message)


async def tangani(update: Update, context: SambangContext) -> None:
    """/tangani ASP-…: the action card of one aspiration, here."""
    person = await person_or_refuse(update, context, _STAFF)
    chat = update.effective_chat
    if person is None or chat is None:
        return
    args = context.args or []
    if not args:
        await reply(update, "common/refusal", message="Sebutkan nomor tiketnya, misalnya: /tangani ASP-2026-00042")
        return
    try:
        await _officials(context).send_card(person, chat.id, args[0])
    except DomainError as exc:
        if isinstance(exc, NotAllowed):
            await _officials(context).log_refusal(person.telegram_id, "/tangani", exc.message)
        await reply(update, "common/refusal", message=exc.message)


async def opd(update: Update, context: SambangContext) -> None:
    """/opd: departments, which categories go where, and the service levels."""
    person = await person_or_refuse(update, context, (Role.ADMIN, Role.PIMPINAN))
    if person is None:
        return
    departments = _officials(context).departments
    routes = await departments.routes()
    await reply(update, "officials/departments_overview", departments=await departments.list(),
                routes=list(routes.items()),
                secret=lambda code: CATEGORY_BY_CODE[code].confidential if code in CATEGORY_BY_CODE else False,
                level=departments.routing.default_level, confirm_days=departments.confirm_days)


async def on_migrate(update: Update, context: SambangContext) -> None:
    """A group became a supergroup and got a new id: it stays the same inbox."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or message.migrate_to_chat_id is None:
        return
    moved = await _officials(context).departments.migrate_chat(chat.id, message.migrate_to_chat_id)
    if moved:
        log.info("inbox group %s migrated to %s", chat.id, message.migrate_to_chat_id)


async def on_my_membership(update: Update, context: SambangContext) -> None:
    """The bot was removed from a group: it is no longer anyone's inbox."""
    member = update.my_chat_member
    if member is None or member.chat.type == ChatType.PRIVATE:
        return
    if member.new_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        if await _officials(context).departments.forget_chat(member.chat.id):
            log.info("removed from inbox group %s", member.chat.id)


def register(app: SambangApp) -> None:
    # Typed answers and replies first (group -1), so a waiting prompt gets the text before any conversation.
    # New messages only: an edited reply must not reach the kepala desa a second time.
    new = filters.UpdateType.MESSAGE
    app.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, on_text), group=-1)
    app.add_handler(MessageHandler(new & filters.COMMAND, on_command), group=-1)
    app.add_handler(MessageHandler(new & filters.PHOTO, on_result_photo), group=-1)
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^asp:(act|rte|cfm):"))
    app.add_handler(CommandHandler("inbox", inbox))
    app.add_handler(CommandHandler("tangani", tangani))
    app.add_handler(CommandHandler("balas", balas))
    app.add_handler(CommandHandler("opd", opd, filters=filters.ChatType.PRIVATE))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    app.add_handler(ChatMemberHandler(on_my_membership, ChatMemberHandler.MY_CHAT_MEMBER))
