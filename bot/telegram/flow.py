"""Shared pieces of the guided flows of admins, leadership and officials (/kunjungan, /janji, /siaran, feedback,
a department's answer to a commitment).

Their ConversationHandlers live in handler group 0 like the aspiration conversation; /batal outside every
conversation is a fallback (handlers/fallback.py), so a flow's own /batal is reached first. ``button`` wraps a
flow's callbacks so that a button press is acknowledged once, after the work; ``deny`` refuses as a popup when the
press was not answered yet and as a chat message otherwise; ``member`` is ``person_or_refuse`` that remembers its
refusal answered the press.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from functools import wraps
from typing import Any

from telegram import Update
from telegram.error import BadRequest

from bot.core.domain import Role
from bot.people.roster import Person
from bot.telegram.context import SambangContext, person_or_refuse, reply

Callback = Callable[[Update, SambangContext], Coroutine[Any, Any, Any]]


def button(func: Callback) -> Callback:
    """Wrap a callback: its button press (if any) is acknowledged once it is done, unless it already was."""

    @wraps(func)
    async def wrapper(update: Update, context: SambangContext) -> Any:
        result = await func(update, context)
        await answer(update, context)
        return result

    return wrapper


def _mark(update: Update, context: SambangContext) -> bool:
    """Record on the update's context that its press is answered; False if it already was (or is not a press)."""
    if update.callback_query is None or getattr(context, "_press_answered", False):
        return False
    context._press_answered = True
    return True


async def answer(update: Update, context: SambangContext, text: str | None = None, *, alert: bool = False) -> bool:
    """Acknowledge a button press once (Telegram shows a spinner until then); True if this call answered it."""
    if not _mark(update, context):
        return False
    assert update.callback_query is not None
    try:
        await update.callback_query.answer(text[:190] if text else None, show_alert=alert)
    except BadRequest:
        pass
    return True


async def deny(update: Update, context: SambangContext, message: str) -> None:
    """A refusal: as a popup on the press when it was not answered yet, otherwise as a message in the chat."""
    if update.callback_query is not None and await answer(update, context, message, alert=True):
        return
    await reply(update, "common/refusal", message=message)


async def member(update: Update, context: SambangContext, roles: Iterable[Role] = ()) -> Person | None:
    """``person_or_refuse`` that remembers that its refusal answered the press."""
    person = await person_or_refuse(update, context, roles)
    if person is None:
        _mark(update, context)
    return person


async def drop_buttons(update: Update) -> None:
    """Remove the buttons of the message whose button was pressed, so it cannot be pressed again."""
    if update.callback_query is not None and update.callback_query.message is not None:
        try:
            await update.callback_query.edit_message_reply_markup(None)
        except BadRequest:
            pass


def text_of(update: Update) -> str:
    message = update.effective_message
    return (message.text or "").strip() if message is not None and update.callback_query is None else ""


def data_of(update: Update) -> str:
    return (update.callback_query.data or "") if update.callback_query is not None else ""
