"""Registration and greeting: /start (with or without an invitation code), sharing a contact, /bantuan."""

from __future__ import annotations

import re

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.people import roster
from bot.people.roster import Person, RegistrationError
from bot.telegram.context import REMOVE_KEYBOARD, SambangApp, SambangContext, current_person, notice, refuse, reply
from handlers.aspirations.intake import contact_during_aspiration

_CODE = re.compile(r"^[A-Za-z0-9_-]{4,64}$")

CONTACT_KEYBOARD = ReplyKeyboardMarkup(
    [[KeyboardButton("📱 Bagikan nomor saya", request_contact=True)]],
    resize_keyboard=True,
    one_time_keyboard=True,
    input_field_placeholder="Atau ketik /start KODE",
)


def _display_name(update: Update) -> str:
    user = update.effective_user
    return (user.full_name if user else "").strip()[:128]


async def _welcome(update: Update, context: SambangContext, person: Person) -> None:
    """Just registered: show the menu, or say that an admin confirms a new head of a desa first."""
    if not person.active:  # a new head of a desa whose kepala desa is registered: an admin confirms first
        await reply(update, "people/people_successor_waiting", person=person, reply_markup=REMOVE_KEYBOARD)
        return
    svc, user = context.services, update.effective_user
    assert user is not None
    async with svc.db.transaction() as tx:
        await svc.menu.queue_for(tx, user.id, person.role, svc.clock.now())
    await reply(update, "people/registered", person=person, reply_markup=REMOVE_KEYBOARD)


async def start(update: Update, context: SambangContext) -> None:
    """/start: redeem an invitation code, or greet a registered user, or explain how to register."""
    svc = context.services
    user = update.effective_user
    assert user is not None
    code = context.args[0] if context.args else None
    person = await current_person(update, context)
    if code is not None and person is None:
        if not _CODE.match(code):
            await refuse(update, notice("invite_code_unknown"))
            return
        try:
            person = await roster.redeem_invitation(svc.db, svc.clock, code, user.id, _display_name(update))
        except RegistrationError as exc:
            await reply(update, "common/refusal", message=exc.message)
            return
        await _welcome(update, context, person)
        return
    if person is not None:
        if not person.name and user.full_name:
            await roster.update_name(svc.db, svc.clock, user.id, _display_name(update))
            person = await current_person(update, context)
        await reply(update, "people/start_registered", person=person)
        return
    await reply(update, "people/start_unregistered", user_id=user.id, reply_markup=CONTACT_KEYBOARD)


async def contact_shared(update: Update, context: SambangContext) -> None:
    """A kepala desa shared their phone number: match it against the imported roster."""
    svc = context.services
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None and user is not None
    if await contact_during_aspiration(update, context):
        return  # a contact card sent as an attachment is no registration
    contact = message.contact
    try:
        person = await roster.register_by_contact(
            svc.db, svc.clock, telegram_id=user.id, contact_user_id=contact.user_id, phone=contact.phone_number,
            name=_display_name(update) or f"{contact.first_name} {contact.last_name or ''}".strip(),
        )
    except RegistrationError as exc:
        await reply(update, "common/refusal", message=exc.message, reply_markup=REMOVE_KEYBOARD)
        return
    await _welcome(update, context, person)


async def help_command(update: Update, context: SambangContext) -> None:
    person = await current_person(update, context)
    await reply(
        update, "common/help", person=person, commands=context.services.menu.for_role(person.role if person else None),
        reply_markup=None if person else CONTACT_KEYBOARD,
    )


def register(app: SambangApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", start, filters=private))
    app.add_handler(CommandHandler(["bantuan", "help"], help_command, filters=private))
    app.add_handler(MessageHandler(private & filters.CONTACT, contact_shared))
