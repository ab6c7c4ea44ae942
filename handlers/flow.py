"""Guided flows of admins and leadership (/kunjungan, /janji, /siaran, a department's answer to a commitment).

Their ConversationHandlers run in handler group ``FLOW_GROUP`` (before the foundation's group 0) and every callback
is wrapped with ``exclusive``: an update the flow handled stops there, so /batal ends the flow the user is in
instead of reaching the aspiration module's "nothing to cancel", and a typed answer never also reaches the
fallback. An update the flow does not handle goes on to group 0 as before. A callback may return ``PASS_ON`` to end
its flow and still let group 0 handle the update.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, ConversationHandler

from .common import SambangContext

FLOW_GROUP = -1
PASS_ON = "__pass_on__"

Callback = Callable[[Update, SambangContext], Awaitable[Any]]


def exclusive(func: Callback) -> Callback:
    @wraps(func)
    async def wrapper(update: Update, context: SambangContext) -> Any:
        state = await func(update, context)
        if state == PASS_ON:
            return ConversationHandler.END
        raise ApplicationHandlerStop(state)

    return wrapper


async def answer(update: Update) -> None:
    """Acknowledge a button press (Telegram shows a spinner until then)."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except BadRequest:
            pass


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
