"""/rekap (leadership, admins): the recap as text plus two PNG charts; /ekspor (leadership, admins, officials):
the aspirations as a spreadsheet.

Officials may export their department's share (the aspirations routed to it, never "Kinerja Kecamatan", no
feedback) — it is the same data they already receive one by one — but get no /rekap, which is about the whole
regency. Admins' exports leave out "Kinerja Kecamatan" and feedback (leadership only), see bot/aspirations/audience.py.
Both commands answer in private chats only, so nothing lands in a group by accident.
"""

from __future__ import annotations

import re
from datetime import date

from telegram import InputFile, Update
from telegram.constants import ChatAction
from telegram.ext import CommandHandler, filters

from bot.aspirations import audience as audiences
from bot.core.domain import DomainError, NotAllowed, Role
from bot.messaging.templates import render
from bot.people.regions import get_kecamatan
from bot.telegram.context import SambangApp, SambangContext, person_or_refuse, refuse, reply
from bot.village_map.recap import Filters

RECAP_ROLES = (Role.PIMPINAN, Role.ADMIN)
EXPORT_ROLES = (Role.PIMPINAN, Role.ADMIN, Role.PEJABAT)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")



def _parse_date(token: str) -> date:
    try:
        return date.fromisoformat(token)
    except ValueError:
        raise DomainError("village_map/date_invalid", token=token) from None


async def rekap(update: Update, context: SambangContext) -> None:
    person = await person_or_refuse(update, context, RECAP_ROLES)
    if person is None:
        return
    args = context.args or []
    since = None
    if args:
        if len(args) > 1 or not _DATE.match(args[0]):
            await reply(update, "village_map/rekap_usage")
            return
        try:
            since = _parse_date(args[0])
        except DomainError as exc:
            await refuse(update, exc.message)
            return
    audience = audiences.for_person(person)
    vm = context.services.village_map
    assert vm is not None
    chat = update.effective_chat
    assert chat is not None
    # The text first: the charts take a second or two more, and nobody should wait for them to read the numbers.
    vm.prepare_charts()
    recap = await vm.recap(audience, Filters(since=since))
    for text in vm.recap_messages(recap):
        await chat.send_message(text)
    await chat.send_action(ChatAction.UPLOAD_PHOTO)
    for chart in await vm.draw_charts(recap):
        await chat.send_photo(InputFile(chart.png, filename=chart.filename),
                              caption=render("village_map/rekap_chart_caption", chart=chart))


async def ekspor(update: Update, context: SambangContext) -> None:
    person = await person_or_refuse(update, context, EXPORT_ROLES)
    if person is None:
        return
    try:
        audience = audiences.for_person(person, export=True)
    except NotAllowed as exc:
        await refuse(update, exc.message)
        return
    fmt, since, names, delimiter = "xlsx", None, [], ","
    for token in context.args or []:
        low = token.lower()
        if low in ("xlsx", "excel", "csv"):
            fmt = "csv" if low == "csv" else "xlsx"
        elif low in ("csv;", ";", "titikkoma", "titik-koma"):  # CSV for Excel set to Indonesian
            fmt, delimiter = "csv", ";"
        elif _DATE.match(token):
            try:
                since = _parse_date(token)
            except DomainError as exc:
                await refuse(update, exc.message)
                return
        elif low in ("bantuan", "help", "?"):
            await reply(update, "village_map/ekspor_usage")
            return
        else:
            names.append(token)
    vm = context.services.village_map
    assert vm is not None
    kecamatan = [n for n in " ".join(names).split(",") if n.strip()]
    try:
        codes = await vm.resolve_kecamatan(kecamatan)
    except DomainError as exc:
        await refuse(update, exc.message)
        await reply(update, "village_map/ekspor_usage")
        return
    chat = update.effective_chat
    assert chat is not None
    await chat.send_action(ChatAction.UPLOAD_DOCUMENT)
    result = await vm.export(fmt, audience, Filters(since=since, kecamatan_codes=codes), delimiter=delimiter)
    kec_names = [k.name for k in [await get_kecamatan(context.services.db, c) for c in codes] if k is not None]
    await chat.send_document(
        InputFile(result.content, filename=result.filename),
        caption=render("village_map/ekspor_caption", rows=result.rows, audience=result.audience, since=since,
                       kecamatan=kec_names, department=audience.department,
                       leadership_only=not audience.confidential),
    )
    user = update.effective_user
    await vm.audit_export(user.id if user else None, fmt, result)


def register(app: SambangApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("rekap", rekap, filters=private))
    app.add_handler(CommandHandler("ekspor", ekspor, filters=private))
