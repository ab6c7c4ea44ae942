"""/dasbor: the dashboard for leadership, admins and officials — a "📊 Dasbor" Mini App button when the dashboard
has a public https address (``SAMBANG_WEB_URL``), a plain link otherwise, and a word to the admin when it has none.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update, WebAppInfo
from telegram.ext import CommandHandler, filters

from bot.aspirations import audience as audiences
from bot.core.domain import NotAllowed, Role
from bot.messaging.templates import render
from bot.telegram.context import SambangApp, SambangContext, person_or_refuse, refuse

ROLES = (Role.PIMPINAN, Role.ADMIN, Role.PEJABAT)


def mini_app(url: str) -> InlineKeyboardMarkup | None:
    """The Mini App button (Telegram opens https addresses only)."""
    if not url.startswith("https://"):
        return None
    label = render("village_map/dasbor_button")
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, web_app=WebAppInfo(url=url + "/"))]])


async def dasbor(update: Update, context: SambangContext) -> None:
    person = await person_or_refuse(update, context, ROLES)
    if person is None:
        return
    try:
        audiences.for_person(person)  # an official without a department is refused here
    except NotAllowed as exc:
        await refuse(update, exc.message)
        return
    url = context.services.config.web_url
    chat = update.effective_chat
    assert chat is not None
    text = render("village_map/dasbor", url=url, mini_app=url.startswith("https://"),
                  is_admin=person.role is Role.ADMIN)
    await chat.send_message(text, reply_markup=mini_app(url),
                            link_preview_options=LinkPreviewOptions(is_disabled=True))


def register(app: SambangApp) -> None:
    app.add_handler(CommandHandler("dasbor", dasbor, filters=filters.ChatType.PRIVATE))
