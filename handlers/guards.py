"""Guards that run before every feature (group -2; features may use -1): the per-user flood limit, edited messages
and channel posts.

Each guard answers clearly in Bahasa Indonesia and stops the update there (``ApplicationHandlerStop``), so nothing
downstream half-handles it. The duplicate-update guard runs even earlier (group -3, ``drop_duplicate_updates``).
"""

from __future__ import annotations

import logging
import math

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.operations import ops_settings
from bot.ratelimit import FloodGuard
from bot.templates import render

from .common import SambangContext, answer_button, notice, reply
from .people import refuse_inactive

log = logging.getLogger(__name__)


def _flood_guard(context: SambangContext) -> FloodGuard:
    extra = context.services.extra
    guard = extra.get("flood_guard")
    if guard is None:
        ops = extra.get("ops") or ops_settings(context.services.config)
        guard = extra["flood_guard"] = FloodGuard(ops.rate_burst, ops.rate_per_minute)
    return guard  # type: ignore[no-any-return]


async def flood_limit(update: Update, context: SambangContext) -> None:
    """Too many messages or presses from one user: one polite slow-down message, the rest dropped until they
    slow down. An album of photos (several updates at once) stays well inside the burst."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    guard = _flood_guard(context)
    if guard.allow(user.id):
        return
    chat = update.effective_chat
    if guard.should_warn(user.id):
        seconds = max(1, math.ceil(guard.wait_seconds(user.id)))
        log.warning("flood limit: user %s is sending too fast; dropping until they slow down", user.id)
        text = render("slow_down", seconds=seconds)
        try:
            if update.callback_query is not None:
                await answer_button(update, notice("slow_down_button", seconds=seconds), show_alert=True)
            elif chat is not None and chat.type == "private":
                await chat.send_message(text)
        except TelegramError:
            log.info("could not send the slow-down message to %s", user.id)
    elif update.callback_query is not None:
        await answer_button(update)
    raise ApplicationHandlerStop


async def edited_message(update: Update, context: SambangContext) -> None:
    """Edits are not taken as new input (an edited description or command would be a silent surprise)."""
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        await reply(update, "edit_ignored")
    raise ApplicationHandlerStop


async def channel_post(update: Update, context: SambangContext) -> None:
    """Sambang is not a channel bot: say so once and leave the channel."""
    chat = update.effective_chat
    if update.channel_post is not None and chat is not None:
        log.info("channel post in %s: leaving the channel", chat.id)
        try:
            await chat.send_message(render("channel_unsupported"))
        except TelegramError:
            pass
        try:
            await chat.leave()
        except TelegramError:
            log.info("could not leave channel %s", chat.id)
    raise ApplicationHandlerStop


async def guard(update: Update, context: SambangContext) -> None:
    """One handler for group -2 (PTB runs only the first matching handler of a group)."""
    if update.channel_post is not None or update.edited_channel_post is not None:
        await channel_post(update, context)
    await flood_limit(update, context)
    await refuse_inactive(update, context)
    if update.edited_message is not None or update.edited_business_message is not None:
        await edited_message(update, context)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, guard), group=-2)
