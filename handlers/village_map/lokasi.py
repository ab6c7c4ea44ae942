"""/lokasi: a kepala desa shares where the village office is, once (the map of the dashboard places the village
there). The bot asks each kepala desa once by itself (``VillageLocations.prompt_due``, a scheduled task).

/lokasi answers with a keyboard button that sends the phone's location; the next location the kepala desa sends
within an hour, outside an aspiration or /potensi (whose conversations take their own locations first), is the
office's. The hour is kept in the persisted user data, so a restart in between loses nothing.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.core.clock import from_iso, to_iso
from bot.core.domain import DomainError, Role
from bot.telegram.context import SambangApp, SambangContext, current_person, person_or_refuse, refuse, reply
from handlers.fallback import attachment_outside

WAITING = "lokasi_kantor_until"
WAIT = timedelta(hours=1)


async def lokasi(update: Update, context: SambangContext) -> None:
    person = await person_or_refuse(update, context, (Role.KEPALA_DESA,))
    if person is None or person.desa_code is None:
        return
    assert context.user_data is not None
    context.user_data[WAITING] = to_iso(context.services.clock.now() + WAIT)
    office = await context.services.village_map.locations.office(person.desa_code)
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("📍 Kirim lokasi kantor desa", request_location=True)]],
                                   resize_keyboard=True, one_time_keyboard=True)
    await reply(update, "village_map/lokasi_ask", desa=person.desa_name, office=office, reply_markup=keyboard)


async def office_location(update: Update, context: SambangContext) -> None:
    """A location outside every flow: the office's when /lokasi asked for it within the hour."""
    message = update.effective_message
    assert message is not None and message.location is not None
    data = context.user_data if context.user_data is not None else {}
    until = data.get(WAITING)
    person = await current_person(update, context)
    if until is None or person is None or person.role is not Role.KEPALA_DESA \
            or from_iso(str(until)) < context.services.clock.now():
        data.pop(WAITING, None)
        await attachment_outside(update, context)
        return
    try:
        await context.services.village_map.locations.set_office(
            person, message.location.latitude, message.location.longitude)
    except DomainError as exc:
        await refuse(update, exc.message, reply_markup=ReplyKeyboardRemove())
        return
    data.pop(WAITING, None)
    await reply(update, "village_map/lokasi_saved", desa=person.desa_name, reply_markup=ReplyKeyboardRemove())


def register(app: SambangApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("lokasi", lokasi, filters=private))
    app.add_handler(MessageHandler(private & filters.LOCATION, office_location))
