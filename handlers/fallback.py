"""The last handlers: anything no feature took gets a polite answer instead of silence."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.telegram.context import SambangApp, SambangContext, answer_button, current_person, notice, refuse, reply
from handlers.aspirations.intake import cancel_outside, offer_aspiration


async def unknown_command(update: Update, context: SambangContext) -> None:
    await refuse(update, notice("unknown_command"))


async def unknown_text(update: Update, context: SambangContext) -> None:
    person = await current_person(update, context)
    if person is None:
        await reply(update, "common/not_registered")
        return
    if person.role.value == "kepala_desa" and await offer_aspiration(update, context):
        return  # it reads like an aspiration: offered with a "Jadikan aspirasi" button
    await reply(update, "common/unknown_text", person=person)


async def unsupported(update: Update, context: SambangContext) -> None:
    await reply(update, "common/unsupported")


async def attachment_outside(update: Update, context: SambangContext) -> None:
    """A photo, document or location with no aspiration being written."""
    person = await current_person(update, context)
    if person is None:
        await reply(update, "common/not_registered")
        return
    await reply(update, "aspirations/attachment_outside", kepala_desa=person.role.value == "kepala_desa")


async def unknown_button(update: Update, context: SambangContext) -> None:
    """A press no feature recognised: an old keyboard, or forged callback data. Never leave the spinner turning."""
    query = update.callback_query
    assert query is not None
    await answer_button(update, notice("unknown_button"), show_alert=True)


async def group_command(update: Update, context: SambangContext) -> None:
    """A command in a group that no group feature took: point to the private chat, without echoing anything."""
    await reply(update, "common/group_command", username=context.bot.username)


def register(app: SambangApp) -> None:
    private = filters.ChatType.PRIVATE
    # /batal when no guided flow took it: drop a leftover aspiration draft, or say there was nothing to cancel
    app.add_handler(CommandHandler("batal", cancel_outside, filters=private))
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(private & filters.TEXT, unknown_text))
    app.add_handler(MessageHandler(private & (filters.PHOTO | filters.Document.ALL | filters.LOCATION),
                                   attachment_outside))
    app.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, unsupported))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.COMMAND & filters.UpdateType.MESSAGE,
                                   group_command))
    app.add_handler(CallbackQueryHandler(unknown_button))
