"""/desa <name or code>: the profile of one village for leadership, admins and officials.

Officials see their department's part only (the aspirations routed to it, never "Kinerja Kecamatan", no
feedback). When several villages match, the bot asks with one button per village ("Desa (Kecamatan)"); the button
(``desa:show:<code>``) re-checks the caller's role when pressed.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.aspirations import audience as audiences
from bot.core.domain import NotAllowed, Role
from bot.messaging import callbacks
from bot.messaging.templates import split_message
from bot.telegram.context import SambangApp, SambangContext, notice, person_or_refuse, refuse, reply

ROLES = (Role.PIMPINAN, Role.ADMIN, Role.PEJABAT)
_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")



async def _send_profile(update: Update, context: SambangContext, desa_code: str, audience: audiences.Audience) -> None:
    vm = context.services.village_map
    assert vm is not None
    profile = await vm.profile(desa_code, audience)
    chat = update.effective_chat
    assert chat is not None
    for text in split_message(profile.parts()):
        await chat.send_message(text, link_preview_options=LinkPreviewOptions(is_disabled=True))


async def _audience(update: Update, context: SambangContext, show_alert: bool = False) -> audiences.Audience | None:
    """What the caller may see of a village, or None once they were refused."""
    person = await person_or_refuse(update, context, ROLES)
    if person is None:
        return None
    try:
        return audiences.for_person(person)
    except NotAllowed as exc:
        await refuse(update, exc.message, show_alert=show_alert)
        return None


async def desa(update: Update, context: SambangContext) -> None:
    audience = await _audience(update, context)
    if audience is None:
        return
    query = " ".join(context.args or []).strip()[:80]
    if not query:
        await reply(update, "village_map/desa_usage")
        return
    vm = context.services.village_map
    assert vm is not None
    matches = await vm.search(query)
    if not matches:
        await reply(update, "village_map/desa_not_found", query=query)
        return
    if len(matches) == 1:
        await _send_profile(update, context, matches[0].code, audience)
        return
    buttons = [[InlineKeyboardButton(f"{d.name} ({d.kecamatan_name})",
                                     callback_data=callbacks.build("desa", "show", d.code))]
               for d in matches]
    await reply(update, "village_map/desa_choose", query=query, count=len(matches),
                reply_markup=InlineKeyboardMarkup(buttons))


async def desa_button(update: Update, context: SambangContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    audience = await _audience(update, context, show_alert=True)
    if audience is None:
        return
    code = callbacks.field(query.data, 2)
    vm = context.services.village_map
    assert vm is not None
    if not _CODE.match(code) or not await vm.search(code):
        await refuse(update, notice("desa_unknown"), show_alert=True)
        return
    try:
        await query.answer()
    except BadRequest:
        pass
    await _send_profile(update, context, code, audience)


def register(app: SambangApp) -> None:
    app.add_handler(CommandHandler("desa", desa, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(desa_button, pattern=r"^desa:show:"))
