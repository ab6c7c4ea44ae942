"""Guards that run before every feature (group -2; features may use -1): the per-user flood limit (group -4, before
anything is written for an update), edited messages and channel posts.

Each guard answers clearly in Bahasa Indonesia and stops the update there (``ApplicationHandlerStop``), so nothing
downstream half-handles it. The duplicate-update guard runs between them (group -3, ``drop_duplicate_updates``).
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.core.clock import to_iso
from bot.messaging.templates import render
from bot.services import Services
from bot.telegram import inbound
from bot.telegram.context import (
    SambangApp,
    SambangContext,
    _audit_refusal,
    _plain,
    answer_button,
    button_numbers_valid,
    caller,
    notice,
    refuse,
    reply,
)
from bot.telegram.ratelimit import CHAT_PACE, DROPPED_FLUSH_DELAY, Verdict

log = logging.getLogger(__name__)


def _written_at(update: Update) -> tuple[float | None, bool, str | None]:
    """When the user wrote this (Telegram's date; None if the update carries none), whether it is paced as a
    message (button presses are not), and its album."""
    if update.callback_query is not None:
        return None, False, None
    message = update.effective_message
    if message is None:
        return None, False, None
    written = message.edit_date or message.date
    return (written.timestamp() if written is not None else None), True, message.media_group_id


class DroppedUpdates:
    """Updates the flood limit dropped unread: marked handled together a moment later, one write for a flood."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    async def add(self, update_id: int, context: SambangContext) -> None:
        self.ids.append(update_id)
        if not context.application.running:  # stopping: what is still queued is handled now, no task waits
            await self.flush(context.services, delay=0.0)
        elif len(self.ids) == 1:
            context.application.create_task(self.flush(context.services), name="flood-mark-dropped")

    async def flush(self, svc: Services, delay: float = DROPPED_FLUSH_DELAY) -> None:
        await asyncio.sleep(delay)
        ids, self.ids = self.ids, []
        try:
            await inbound.mark_dropped(svc.db, ids, to_iso(svc.clock.now()))
        except Exception:  # they stay stored and are judged again at the next start
            log.exception("could not mark %s dropped updates handled", len(ids))


async def _slow_down(context: SambangContext, chat_id: int, text: str, delay: float) -> None:
    """The slow-down answer, a second after the answer to their last message: Telegram's pace for one chat."""
    await asyncio.sleep(delay)
    try:
        await context.bot.send_message(chat_id, text)
    except TelegramError:
        log.info("could not send the slow-down message to %s", chat_id)


async def flood_limit(update: Update, context: SambangContext) -> None:
    """Too many messages or presses from one user, judged by when they were written: one polite slow-down
    answer per flood, everything else dropped before any other work (it is only marked handled, in bulk), until
    they slow down. An album counts as one message."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    guard = context.services.flood_guard
    at, paced, album = _written_at(update)
    verdict = guard.check(user.id, at, paced=paced, album=album)
    if verdict is Verdict.ALLOW:
        return
    await context.services.flood_dropped.add(update.update_id, context)
    chat = update.effective_chat
    if verdict is Verdict.WARN:
        seconds = guard.pause_seconds(user.id, paced=paced)
        log.warning("flood limit: user %s is sending too fast; dropping until they slow down", user.id)
        try:
            if update.callback_query is not None:
                await answer_button(update, notice("slow_down_button", seconds=seconds), show_alert=True)
            elif chat is not None and chat.type == "private":
                text = render("common/slow_down", seconds=seconds)
                if context.application.running:
                    context.application.create_task(_slow_down(context, chat.id, text, CHAT_PACE),
                                                    name="flood-slow-down")
                else:
                    await _slow_down(context, chat.id, text, 0.0)
        except TelegramError:
            log.info("could not send the slow-down message to %s", user.id)
    elif update.callback_query is not None:
        await answer_button(update)
    raise ApplicationHandlerStop


async def edited_message(update: Update, context: SambangContext) -> None:
    """Edits are not taken as new input (an edited description or command would be a silent surprise)."""
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        await reply(update, "common/edit_ignored")
    raise ApplicationHandlerStop


async def channel_post(update: Update, context: SambangContext) -> None:
    """Sambang is not a channel bot: say so once and leave the channel."""
    chat = update.effective_chat
    if update.channel_post is not None and chat is not None:
        log.info("channel post in %s: leaving the channel", chat.id)
        try:
            await chat.send_message(render("common/channel_unsupported"))
        except TelegramError:
            pass
        try:
            await chat.leave()
        except TelegramError:
            log.info("could not leave channel %s", chat.id)
    raise ApplicationHandlerStop


async def stale_numbers(update: Update, context: SambangContext) -> None:
    """A button whose callback data carries a number no button of ours has (negative, huge, other digits) is a
    stale or forged one: say so, and let no handler try to parse it."""
    query = update.callback_query
    if query is None or button_numbers_valid(query.data):
        return
    log.info("refused button with out-of-range numbers from user %s", query.from_user.id)
    await refuse(update, notice("unknown_button"), show_alert=True)
    raise ApplicationHandlerStop


# -- the guard: deactivated people and waiting successors ------------------------------------------------------


async def refuse_inactive(update: Update, context: SambangContext) -> None:
    """Run by the guards before every feature: a known but inactive person gets one clear refusal and nothing
    else is done with their update (commands, buttons, messages, contacts alike)."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    query = update.callback_query
    message = update.message
    if query is None and message is None:
        return  # membership changes and the like are not requests
    _person, entry = await caller(update, context)
    if entry is None:
        return
    text = render("people/people_inactive", waiting=entry.waiting)
    chat = update.effective_chat
    private = chat is not None and chat.type == ChatType.PRIVATE
    # in a group only what was meant for the bot is answered: a command, or a reply to one of its messages
    addressed = message is not None and ((message.text or "").startswith("/") or (
        message.reply_to_message is not None and message.reply_to_message.from_user is not None
        and message.reply_to_message.from_user.id == context.bot.id))
    if query is None and not private and not addressed:
        raise ApplicationHandlerStop
    try:
        if query is not None:
            await answer_button(update, _plain(text)[:190], show_alert=True)
        elif private and chat is not None:
            await chat.send_message(text)
        elif message is not None:
            await message.reply_text(text, do_quote=True)
    except TelegramError:
        log.info("could not tell inactive user %s that they were refused", user.id)
    await _audit_refusal(update, context, "menunggu konfirmasi" if entry.waiting else "nonaktif")
    raise ApplicationHandlerStop


async def guard(update: Update, context: SambangContext) -> None:
    """One handler for group -2 (PTB runs only the first matching handler of a group)."""
    if update.channel_post is not None or update.edited_channel_post is not None:
        await channel_post(update, context)
    await stale_numbers(update, context)
    await refuse_inactive(update, context)
    if update.edited_message is not None or update.edited_business_message is not None:
        await edited_message(update, context)


def register(app: SambangApp) -> None:
    app.add_handler(TypeHandler(Update, flood_limit), group=-4)  # before anything writes for the update
    app.add_handler(TypeHandler(Update, guard), group=-2)
