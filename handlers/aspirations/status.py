"""/status: the newest aspirations a user may see, or one by ticket — both by the audience rule
(bot/aspirations/audience.py)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler, filters

from bot.aspirations import audience
from bot.aspirations.service import normalise_ticket
from bot.core.domain import NotFound, Role
from bot.messaging import callbacks
from bot.officials.service import WRITE_BUTTON
from bot.telegram.context import SambangApp, SambangContext, notice, person_or_refuse, refuse, reply

_TITLES = {
    Role.KEPALA_DESA: "Aspirasi desa Anda",
    Role.CAMAT: "Tembusan aspirasi di kecamatan Anda",
    Role.PEJABAT: "Aspirasi untuk OPD Anda",
    Role.PIMPINAN: "Aspirasi terbaru",
    Role.ADMIN: "Aspirasi terbaru",
}


async def status(update: Update, context: SambangContext) -> None:
    person = await person_or_refuse(update, context)
    if person is None:
        return
    svc = context.services.aspirations
    args = context.args or []
    if not args:
        items = await svc.list_for(person)
        await reply(update, "aspirations/status_list", person=person, aspirations=items, title=_TITLES[person.role],
                    show_desa=person.role is not Role.KEPALA_DESA)
        return
    year = context.services.clock.now().astimezone(context.services.config.tz).year
    ticket = normalise_ticket(args[0], year)
    if ticket is None:
        await refuse(update, notice("ticket_format", text=args[0][:40], year=year))
        return
    try:
        aspiration = await svc.viewable(person, ticket)
    except NotFound as exc:
        await reply(update, "common/refusal", message=exc.message)
        return
    thread = context.services.thread
    history = await thread.history(person, aspiration)
    department = await context.services.departments.label_for(aspiration)
    messages = await thread.visible(person, aspiration)
    markup = None
    if person.role is Role.KEPALA_DESA and messages is not None and not aspiration.is_closed:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            WRITE_BUTTON, callback_data=callbacks.build("asp", "msg", aspiration.id, "new"))]])
    sent = await reply(update, "aspirations/status_detail", a=aspiration, history=history, department=department,
                       show_actors=audience.of(person).actors, messages=messages or [],
                       waiting=await thread.waiting_on_village(aspiration.id), reply_markup=markup)
    if sent is not None and person.role is Role.KEPALA_DESA and update.effective_chat is not None:
        await thread.remember(update.effective_chat.id, sent.message_id, aspiration.id)  # a reply joins the thread


def register(app: SambangApp) -> None:
    app.add_handler(CommandHandler("status", status, filters=filters.ChatType.PRIVATE))
