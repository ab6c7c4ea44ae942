"""Access in Telegram: the refusal every deactivated person (or waiting successor) gets, and the admins' commands
to look people up and take access away, give it back, move people, and confirm a new kepala desa.

/orang [filter], /nonaktifkan ID, /aktifkan ID, /pindah ID peran=… opd=… desa=… kecamatan=…; the buttons under a
"Pergantian kepala desa" message (``ppl:ok:<person>`` / ``ppl:no:<person>``). Every command and every press checks
the caller's role in the database again (callback data can be forged).
"""

from __future__ import annotations

import logging
import re
from typing import TypedDict

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.domain import Role, parse_role
from bot.people import service as people
from bot.people.regions import normalise_code
from bot.people.service import PeopleError
from bot.telegram.context import (
    SambangApp,
    SambangContext,
    answer_button,
    person_or_refuse,
    refuse,
    reply,
    requires,
)
from bot.telegram.flow import drop_buttons

log = logging.getLogger(__name__)


MAX_LISTED = 30


class PeopleFilters(TypedDict, total=False):
    """The keyword filters of ``list_people`` that /orang understood."""

    role: Role
    desa: str
    kecamatan: str
    text: str
_BUTTON = re.compile(r"^ppl:(ok|no):(\d{1,12})$")
_KEYS = {"peran": "role", "role": "role", "opd": "department", "dinas": "department", "department": "department",
         "desa": "desa", "kecamatan": "kecamatan", "kec": "kecamatan"}


# -- commands -----------------------------------------------------------------------------------------------------


def _filters(args: list[str]) -> tuple[PeopleFilters, str]:
    """What /orang was asked for: a role, a desa or kecamatan code, or text (name, Telegram id, OPD)."""
    found: PeopleFilters = {}
    words = []
    for arg in args:
        role = parse_role(arg)
        code = normalise_code(arg)
        if role is not None and "role" not in found:
            found["role"] = role
        elif re.fullmatch(r"\d{2}\.\d{2}\.\d{2}\.\d{4}", code):
            found["desa"] = code
        elif re.fullmatch(r"\d{2}\.\d{2}\.\d{2}", code):
            found["kecamatan"] = code
        else:
            words.append(arg)
    if words:
        found["text"] = " ".join(words)[:60]
    title = " ".join(args)[:80]
    return found, title


@requires(Role.ADMIN)
async def orang(update: Update, context: SambangContext) -> None:
    found, title = _filters(context.args or [])
    entries = await people.list_people(context.services.db, **found)
    await reply(update, "people/people_list", entries=entries[:MAX_LISTED], total=len(entries), title=title,
                more=max(0, len(entries) - MAX_LISTED))


async def _target(update: Update, context: SambangContext, usage: str) -> int | None:
    args = context.args or []
    if not args:
        await reply(update, "people/people_usage", command=usage)
        return None
    try:
        return people.parse_telegram_id(args[0])
    except PeopleError as exc:
        await refuse(update, exc.message)
        return None


async def _switch(update: Update, context: SambangContext, usage: str, activate: bool) -> None:
    """/nonaktifkan and /aktifkan: one person's roster entry switched off or on, and what came with it."""
    svc = context.services
    target = await _target(update, context, usage)
    user = update.effective_user
    if target is None or user is None:
        return
    try:
        if activate:
            entry, predecessor = await people.activate(svc.db, svc.clock, target, actor=user.id, menu=svc.menu)
            changes = [f"pendahulu dinonaktifkan: {predecessor.label}"] if predecessor else []
        else:
            entry, withdrawn = await people.deactivate(svc.db, svc.clock, target, actor=user.id)
            changes = [f"{withdrawn} pesan antre untuknya ditarik"] if withdrawn else []
    except PeopleError as exc:
        await refuse(update, exc.message)
        return
    await reply(update, "people/people_changed", what="Diaktifkan" if activate else "Dinonaktifkan", entry=entry,
                changes=changes)


@requires(Role.ADMIN)
async def nonaktifkan(update: Update, context: SambangContext) -> None:
    await _switch(update, context, "nonaktifkan", activate=False)


@requires(Role.ADMIN)
async def aktifkan(update: Update, context: SambangContext) -> None:
    await _switch(update, context, "aktifkan", activate=True)


@requires(Role.ADMIN)
async def pindah(update: Update, context: SambangContext) -> None:
    svc = context.services
    target = await _target(update, context, "pindah")
    user = update.effective_user
    if target is None or user is None:
        return
    values: dict[str, str] = {}
    for arg in (context.args or [])[1:]:
        key, sep, value = arg.partition("=")
        name = _KEYS.get(key.strip().lower())
        if not sep or name is None or not value.strip():
            await refuse(update, f"Bagian {arg[:40]!r} tidak dikenal. Gunakan peran=…, opd=…, desa=… atau"
                                 " kecamatan=…")
            return
        values[name] = value.strip()
    try:
        entry, changes = await people.move(svc.db, svc.clock, target, actor=user.id, menu=svc.menu, **values)
    except PeopleError as exc:
        await refuse(update, exc.message)
        return
    if target in svc.config.admins and entry.role is not Role.ADMIN:
        changes.append("catatan: ID ini masih ada di SAMBANG_ADMINS dan menjadi admin lagi saat bot mulai")
    await reply(update, "people/people_changed", what="Diubah", entry=entry, changes=changes)


async def succession_button(update: Update, context: SambangContext) -> None:
    """An admin's answer to "Pergantian kepala desa": confirm (the predecessor loses access) or refuse."""
    svc = context.services
    query = update.callback_query
    assert query is not None
    match = _BUTTON.match(query.data or "")
    if match is None:
        await refuse(update, "Tombol tidak dikenal atau sudah tidak berlaku.", show_alert=True)
        return
    admin = await person_or_refuse(update, context, (Role.ADMIN,))
    if admin is None:
        return
    person_id = int(match.group(2))
    try:
        if match.group(1) == "ok":
            entry, predecessor = await people.confirm_successor(svc.db, svc.clock, person_id, actor=admin.telegram_id,
                                                                   menu=svc.menu)
            changes = [f"pendahulu dinonaktifkan: {predecessor.label}"] if predecessor else []
            what = "Pergantian dikonfirmasi"
        else:
            entry = await people.reject_successor(svc.db, svc.clock, person_id, actor=admin.telegram_id)
            changes, what = [], "Pergantian ditolak"
    except PeopleError as exc:
        await refuse(update, exc.message, show_alert=True)
        return
    await answer_button(update)
    await drop_buttons(update)
    await reply(update, "people/people_changed", what=what, entry=entry, changes=changes)


def register(app: SambangApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("orang", orang, filters=private))
    app.add_handler(CommandHandler("nonaktifkan", nonaktifkan, filters=private))
    app.add_handler(CommandHandler("aktifkan", aktifkan, filters=private))
    app.add_handler(CommandHandler("pindah", pindah, filters=private))
    app.add_handler(CallbackQueryHandler(succession_button, pattern=r"^ppl:"))
