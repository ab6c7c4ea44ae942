"""/briefing <kecamatan>: the pre-visit briefing on demand, for leadership and admins (and a department official
whose department attends that kecamatan's coming visit). Never for a camat or kepala desa."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.core.domain import DomainError, Role
from bot.telegram.context import SambangApp, SambangContext, notice, person_or_refuse, reply


async def briefing(update: Update, context: SambangContext) -> None:
    person = await person_or_refuse(update, context, (Role.PIMPINAN, Role.ADMIN, Role.PEJABAT))
    if person is None:
        return
    n = context.services.ngantor
    query = " ".join(context.args or []).strip()
    if not query:
        upcoming = await n.visits.upcoming(limit=5)
        await reply(update, "visits/briefing_usage", visits=upcoming)
        return
    try:
        code, _name = await n.visits.resolve_kecamatan(query)
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return
    if not await n.briefings.allowed(person, code):
        await reply(update, "common/refusal", message=notice("briefing_not_allowed"))
        return
    for text in await n.briefings.for_person(person, code):
        await reply(update, "common/raw", text=text)


def register(app: SambangApp) -> None:
    app.add_handler(CommandHandler("briefing", briefing, filters=filters.ChatType.PRIVATE))
