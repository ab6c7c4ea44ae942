"""Guided flows of admins and leadership (/kunjungan, /janji, /siaran, a department's answer to a commitment).

Their ConversationHandlers run in handler group ``FLOW_GROUP`` (before the foundation's group 0) and every callback
is wrapped with ``exclusive``: an update the flow handled stops there, so /batal ends the flow the user is in
instead of reaching the aspiration module's "nothing to cancel", and a typed answer never also reaches the
fallback. An update the flow does not handle goes on to group 0 as before. A callback may return ``PASS_ON`` to end
its flow and still let group 0 handle the update.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import wraps
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, ConversationHandler

from bot.domain import Role
from bot.roster import Person

from .common import SambangContext, person_or_refuse, reply

FLOW_GROUP = -1
PASS_ON = "__pass_on__"

Callback = Callable[[Update, SambangContext], Awaitable[Any]]


def exclusive(func: Callback) -> Callback:
    @wraps(func)
    async def wrapper(update: Update, context: SambangContext) -> Any:
        state = await func(update, context)
        await answer(update, context)
        if state == PASS_ON:
            return ConversationHandler.END
        raise ApplicationHandlerStop(state)

    return wrapper


def button(func: Callback) -> Callback:
    """For a plain button handler: the press is acknowledged when the handler is done (unless it was already)."""

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
    context._press_answered = True  # type: ignore[attr-defined]
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
    await reply(update, "refusal", message=message)


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
