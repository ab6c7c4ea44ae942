"""The last handlers: anything no feature took gets a polite answer instead of silence."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from .aspiration import cancel_outside
from .common import SambangContext, current_person, notice, refuse, reply


async def unknown_command(update: Update, context: SambangContext) -> None:
    await refuse(update, notice("unknown_command"))


async def unknown_text(update: Update, context: SambangContext) -> None:
    person = await current_person(update, context)
    if person is None:
        await reply(update, "not_registered")
        return
    await reply(update, "unknown_text", person=person)


async def unsupported(update: Update, context: SambangContext) -> None:
    await reply(update, "unsupported")


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    # /batal when no guided flow took it: drop a leftover aspiration draft, or say there was nothing to cancel
    app.add_handler(CommandHandler("batal", cancel_outside, filters=private))
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(private & filters.TEXT, unknown_text))
    app.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, unsupported))
