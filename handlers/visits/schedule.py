"""Visits in the bot: /jadwal for everyone registered (text and an .ics calendar file), and /kunjungan, the admins'
guided flow to add, list, move and cancel visits, with warnings for weekends, holidays and double bookings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, filters

from bot.core.domain import DomainError, Role
from bot.messaging import callbacks
from bot.messaging.templates import render, split_message
from bot.people.regions import list_kecamatan
from bot.people.roster import Person
from bot.telegram import flow
from bot.telegram.context import SambangApp, SambangContext, button_number, notice, person_or_refuse, reply
from bot.telegram.flow import button, deny
from bot.visits import ics
from bot.visits.service import (
    DEFAULT_START,
    Visit,
    VisitService,
    default_place,
    known_departments,
    parse_date,
    parse_time,
    split_codes,
)

# What the admin is doing in /kunjungan.
CHOOSING_ACTION = "memilih_menu"
CHOOSING_KECAMATAN = "memilih_kecamatan"
WRITING_DATE = "menulis_tanggal"
CONFIRMING_DATE = "memastikan_tanggal"
WRITING_TIME = "menulis_jam"
WRITING_PLACE = "menulis_tempat"
WRITING_AGENDA = "menulis_agenda"
CHOOSING_DEPARTMENTS = "memilih_opd"
REVIEWING_VISIT = "memeriksa_kunjungan"
VIEWING_VISIT = "melihat_kunjungan"
WRITING_NEW_DATE = "menulis_tanggal_baru"
CONFIRMING_NEW_DATE = "memastikan_tanggal_baru"
WRITING_NEW_TIME = "menulis_jam_baru"
WRITING_NEW_PLACE = "menulis_tempat_baru"
REVIEWING_MOVE = "memeriksa_pindah"
WRITING_CANCEL_REASON = "menulis_alasan_batal"
REVIEWING_CANCEL = "memeriksa_pembatalan"

KEY = "kunjungan"


def _kb(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in rows])


MENU = _kb([[("➕ Tambah kunjungan", "kj:add")], [("📋 Daftar, pindah, batalkan", "kj:list")]])
SKIP = _kb([[("Lewati", "kj:skip")]])


def _draft(context: SambangContext) -> dict[str, Any]:
    assert context.user_data is not None
    draft: dict[str, Any] = context.user_data.setdefault(KEY, {})
    return draft


def _text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "").strip() if message is not None else ""


def _data(update: Update) -> str:
    return update.callback_query.data or "" if update.callback_query is not None else ""


async def _admin(update: Update, context: SambangContext) -> Any:
    return await person_or_refuse(update, context, (Role.ADMIN,))


_admin_step = flow.guarded(_admin)


def _svc(context: SambangContext) -> VisitService:
    return context.services.ngantor.visits


# -- /jadwal ----------------------------------------------------------------------------------------------------


async def jadwal(update: Update, context: SambangContext) -> None:
    """/jadwal: upcoming visits and an .ics file. A kepala desa or camat gets their own kecamatan's visits (the
    rest after "/jadwal semua" or the "Lihat semua jadwal" button); everyone else gets them all."""
    person = await person_or_refuse(update, context)
    if person is None:
        return
    args = [a.lower() for a in context.args or []]
    await _schedule(update, context, person, everything=bool(args) and args[0] in ("semua", "all"))


async def jadwal_all(update: Update, context: SambangContext) -> None:
    """The "Lihat semua jadwal" button under a kepala desa's or camat's /jadwal."""
    person = await person_or_refuse(update, context)
    if person is None:
        return
    await _schedule(update, context, person, everything=True)


async def _schedule(update: Update, context: SambangContext, person: Any, *, everything: bool) -> None:
    visits = _svc(context)
    upcoming: list[Visit] = await visits.upcoming()
    own_code = None
    if person.role in (Role.KEPALA_DESA, Role.CAMAT):
        own_code = person.kecamatan_code
        if person.role is Role.KEPALA_DESA and person.desa_code:
            own_code = await context.services.db.fetchval("SELECT kecamatan_code FROM desa WHERE code = ?",
                                                          (person.desa_code,))
    own = [v for v in upcoming if v.kecamatan_code == own_code]
    rest = [v for v in upcoming if v.kecamatan_code != own_code]
    scoped = own_code is not None and not everything
    shown = own + ([] if scoped else rest)
    parts = [render("visits/jadwal", own=own, rest=[] if scoped else rest, hidden=len(rest) if scoped else 0,
                    own_name=person.kecamatan_name, has_own=own_code is not None, has_file=bool(shown))]
    more = _kb([[("📋 Lihat semua jadwal", "jd:semua")]]) if scoped and rest else None
    texts = split_message(parts, 4000)
    for i, text in enumerate(texts):
        await reply(update, "common/raw", text=text, reply_markup=more if i == len(texts) - 1 else None)
    if not shown:
        return
    now = context.services.clock.now()
    # the phone reminds of the visits to one's own kecamatan only
    alarm = (lambda v: v.kecamatan_code == own_code) if own_code is not None else None
    data = ics.calendar(shown, now=now, domain=f"sambang-{context.services.config.wilayah}", alarm=alarm)
    message = update.effective_message
    assert message is not None
    await message.reply_document(document=data.encode("utf-8"), filename="jadwal-ngantor-di-kecamatan.ics",
                                 caption=render("visits/jadwal_ics_caption"), do_quote=False)


# -- /kunjungan: menu -------------------------------------------------------------------------------------------


@_admin_step
async def start(update: Update, context: SambangContext, person: Person) -> str | int:
    assert context.user_data is not None
    context.user_data[KEY] = {}
    await reply(update, "visits/kunjungan_menu", reply_markup=MENU)
    return CHOOSING_ACTION


@_admin_step
async def menu_choice(update: Update, context: SambangContext, person: Person) -> str | int:
    if _data(update) == "kj:add":
        return await _ask_kecamatan(update, context)
    return await _show_list(update, context)


# -- adding -----------------------------------------------------------------------------------------------------


async def _ask_kecamatan(update: Update, context: SambangContext) -> str:
    kecamatan = await list_kecamatan(context.services.db)
    markup = None
    if len(kecamatan) <= 40:
        buttons = [(k.name, callbacks.build("kj", "kec", k.code)) for k in kecamatan]
        markup = _kb([buttons[i:i + 3] for i in range(0, len(buttons), 3)])
    await reply(update, "visits/kunjungan_ask_kecamatan", reply_markup=markup)
    return CHOOSING_KECAMATAN


@_admin_step
async def kecamatan_chosen(update: Update, context: SambangContext, person: Person) -> str | int:
    query = _data(update)
    text = callbacks.rest(query, 2) if query else _text(update)
    try:
        code, name = await _svc(context).resolve_kecamatan(text)
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return CHOOSING_KECAMATAN
    draft = _draft(context)
    draft.update(kecamatan_code=code, kecamatan_name=name)
    await reply(update, "visits/kunjungan_ask_date", kecamatan_name=name)
    return WRITING_DATE


async def _date_written(update: Update, context: SambangContext, *, moving: bool) -> str | int:
    if await _admin(update, context) is None:
        return ConversationHandler.END
    draft = _draft(context)
    retry = WRITING_NEW_DATE if moving else WRITING_DATE
    try:
        day = parse_date(_text(update))
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return retry
    if day < _svc(context).today():
        await reply(update, "common/refusal", message=notice("visit_date_past"))
        return retry
    draft["date"] = day.isoformat()
    warnings = await _svc(context).warnings_for(draft["kecamatan_code"], day, exclude_id=draft.get("visit_id"))
    draft["warnings"] = warnings
    if warnings:
        await reply(update, "visits/kunjungan_date_warnings", day=day, warnings=warnings,
                    reply_markup=_kb([[("Tetap pakai tanggal ini", "kj:date:ok")]]))
        return CONFIRMING_NEW_DATE if moving else CONFIRMING_DATE
    return await _ask_time(update, context, moving=moving)


async def date_written(update: Update, context: SambangContext) -> str | int:
    return await _date_written(update, context, moving=False)


@_admin_step
async def date_confirmed(update: Update, context: SambangContext, person: Person) -> str | int:
    return await _ask_time(update, context, moving=False)


async def _ask_time(update: Update, context: SambangContext, *, moving: bool) -> str:
    draft = _draft(context)
    current = draft.get("old_time") if moving else None
    default = current or f"{DEFAULT_START:%H:%M}"
    label = f"Tetap {default.replace(':', '.')}" if moving else f"{default.replace(':', '.')} WIB"
    await reply(update, "visits/kunjungan_ask_time", day=dt.date.fromisoformat(draft["date"]),
                reply_markup=_kb([[(label, callbacks.build("kj", "time", default.replace(":", "")))]]))
    return WRITING_NEW_TIME if moving else WRITING_TIME


async def _time_given(update: Update, context: SambangContext, *, moving: bool) -> str | int:
    if await _admin(update, context) is None:
        return ConversationHandler.END
    data = _data(update)
    raw = callbacks.rest(data, 2) if data else _text(update)
    try:
        time = parse_time(raw)
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return WRITING_NEW_TIME if moving else WRITING_TIME
    draft = _draft(context)
    draft["time"] = f"{time:%H:%M}"
    if moving:
        place = draft.get("old_place") or default_place(draft["kecamatan_name"])
        await reply(update, "visits/kunjungan_ask_place", place=place, moving=True,
                    reply_markup=_kb([[(f"Tetap: {place}"[:60], "kj:place:keep")]]))
        return WRITING_NEW_PLACE
    place = default_place(draft["kecamatan_name"])
    await reply(update, "visits/kunjungan_ask_place", place=place, moving=False,
                reply_markup=_kb([[(place, "kj:place:default")]]))
    return WRITING_PLACE


async def time_given(update: Update, context: SambangContext) -> str | int:
    return await _time_given(update, context, moving=False)


@_admin_step
async def place_given(update: Update, context: SambangContext, person: Person) -> str | int:
    draft = _draft(context)
    text = _text(update) if update.callback_query is None else ""
    if update.callback_query is None and len(text) < 3:
        await reply(update, "common/refusal", message=notice("visit_place_too_short", moving=False))
        return WRITING_PLACE
    draft["place"] = text[:200] or default_place(draft["kecamatan_name"])
    await reply(update, "visits/kunjungan_ask_agenda", reply_markup=SKIP)
    return WRITING_AGENDA


@_admin_step
async def agenda_given(update: Update, context: SambangContext, person: Person) -> str | int:
    draft = _draft(context)
    draft["agenda"] = "" if update.callback_query is not None else _text(update)[:1000]
    codes = await known_departments(context.services.db)
    await reply(update, "visits/kunjungan_ask_departments", known=codes, reply_markup=SKIP)
    return CHOOSING_DEPARTMENTS


@_admin_step
async def departments_given(update: Update, context: SambangContext, person: Person) -> str | int:
    draft = _draft(context)
    if update.callback_query is not None:
        draft["departments"] = []
    else:
        from bot.visits.service import validate_departments

        try:
            draft["departments"] = list(await validate_departments(context.services.db, split_codes(_text(update))))
        except DomainError as exc:
            await reply(update, "common/refusal", message=notice("retry_or_skip", message=exc.message),
                        reply_markup=SKIP)
            return CHOOSING_DEPARTMENTS
    day = dt.date.fromisoformat(draft["date"])
    warnings = await _svc(context).warnings_for(draft["kecamatan_code"], day,
                                                start_time=dt.time.fromisoformat(draft["time"]))
    await reply(update, "visits/kunjungan_review", d=draft, day=day, warnings=warnings,
                reply_markup=_kb([[("✅ Simpan", "kj:save")], [("❌ Batal", "kj:stop")]]))
    return REVIEWING_VISIT


@_admin_step
async def save_visit(update: Update, context: SambangContext, person: Person) -> str | int:
    draft = _draft(context)
    if "date" not in draft or "kecamatan_code" not in draft:
        await deny(update, context, notice("flow_incomplete", what="kunjungan", command="kunjungan"))
        return ConversationHandler.END
    try:
        visit, warnings = await _svc(context).create(
            draft["kecamatan_code"], dt.date.fromisoformat(draft["date"]), dt.time.fromisoformat(draft["time"]),
            place=draft.get("place"), agenda=draft.get("agenda", ""), departments=draft.get("departments", []),
            created_by=person.telegram_id)
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return REVIEWING_VISIT
    return await flow.done(update, context, KEY, "visits/kunjungan_saved", visit=visit, warnings=warnings)


# -- list, move, cancel -----------------------------------------------------------------------------------------


async def _show_list(update: Update, context: SambangContext) -> str | int:
    upcoming: list[Visit] = await _svc(context).upcoming(limit=60)
    buttons = [[(f"{v.date:%d-%m-%Y} · {v.kecamatan_name}", callbacks.build("kj", "v", v.id))] for v in upcoming]
    await reply(update, "visits/kunjungan_list", visits=upcoming,
                reply_markup=_kb(buttons) if buttons else None)
    return VIEWING_VISIT if upcoming else ConversationHandler.END


@_admin_step
async def visit_chosen(update: Update, context: SambangContext, person: Person) -> str | int:
    visit_id = button_number(_data(update), 2)
    visit = await _svc(context).find(visit_id)
    if visit is None or visit.cancelled:
        await deny(update, context, notice("visit_gone"))
        return VIEWING_VISIT
    _draft(context).clear()
    _draft(context).update(visit_id=visit.id, kecamatan_code=visit.kecamatan_code,
                           kecamatan_name=visit.kecamatan_name, old_time=f"{visit.start_time:%H:%M}",
                           old_place=visit.place)
    await reply(update, "visits/kunjungan_detail", visit=visit,
                reply_markup=_kb([[("📅 Pindah jadwal", callbacks.build("kj", "mv", visit.id)),
                                   ("❌ Batalkan", callbacks.build("kj", "cx", visit.id))],
                                  [("⬅️ Kembali ke daftar", "kj:list")]]))
    return VIEWING_VISIT


@_admin_step
async def move_chosen(update: Update, context: SambangContext, person: Person) -> str | int:
    visit = await _current_visit(update, context)
    if visit is None:
        return VIEWING_VISIT
    await reply(update, "visits/kunjungan_ask_new_date", visit=visit)
    return WRITING_NEW_DATE


async def new_date_written(update: Update, context: SambangContext) -> str | int:
    return await _date_written(update, context, moving=True)


@_admin_step
async def new_date_confirmed(update: Update, context: SambangContext, person: Person) -> str | int:
    return await _ask_time(update, context, moving=True)


async def new_time_given(update: Update, context: SambangContext) -> str | int:
    return await _time_given(update, context, moving=True)


@_admin_step
async def new_place_given(update: Update, context: SambangContext, person: Person) -> str | int:
    draft = _draft(context)
    if update.callback_query is None:
        text = _text(update)
        if len(text) < 3:
            await reply(update, "common/refusal", message=notice("visit_place_too_short", moving=True))
            return WRITING_NEW_PLACE
        draft["place"] = text[:200]
    else:
        draft["place"] = draft.get("old_place")
    return await _review_move(update, context)


async def _review_move(update: Update, context: SambangContext) -> str:
    draft = _draft(context)
    visit = await _svc(context).find(draft["visit_id"])
    assert visit is not None  # loaded when the move began; visits are cancelled, never deleted
    day = dt.date.fromisoformat(draft["date"])
    warnings = await _svc(context).warnings_for(draft["kecamatan_code"], day, exclude_id=draft["visit_id"],
                                                start_time=dt.time.fromisoformat(draft["time"]))
    await reply(update, "visits/kunjungan_review_move", visit=visit, day=day, time=draft["time"].replace(":", "."),
                place=draft.get("place") or visit.place, warnings=warnings,
                reply_markup=_kb([[("✅ Pindahkan", "kj:mvsave")], [("❌ Batal", "kj:stop")]]))
    return REVIEWING_MOVE


@_admin_step
async def save_move(update: Update, context: SambangContext, person: Person) -> str | int:
    draft = _draft(context)
    if not draft.get("visit_id") or not draft.get("date"):
        await deny(update, context, notice("flow_incomplete", what="pemindahan", command="kunjungan"))
        return ConversationHandler.END
    try:
        visit, warnings = await _svc(context).move(
            draft["visit_id"], dt.date.fromisoformat(draft["date"]), dt.time.fromisoformat(draft["time"]),
            place=draft.get("place"), actor=person.telegram_id)
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return ConversationHandler.END
    return await flow.done(update, context, KEY, "visits/kunjungan_moved", visit=visit, warnings=warnings)


@_admin_step
async def cancel_chosen(update: Update, context: SambangContext, person: Person) -> str | int:
    visit = await _current_visit(update, context)
    if visit is None:
        return VIEWING_VISIT
    await reply(update, "visits/kunjungan_ask_cancel_reason", visit=visit, reply_markup=SKIP)
    return WRITING_CANCEL_REASON


@_admin_step
async def cancel_reason_given(update: Update, context: SambangContext, person: Person) -> str | int:
    draft = _draft(context)
    draft["reason"] = "" if update.callback_query is not None else _text(update)[:300]
    visit = await _svc(context).find(draft["visit_id"])
    await reply(update, "visits/kunjungan_review_cancel", visit=visit, reason=draft["reason"],
                reply_markup=_kb([[("✅ Ya, batalkan kunjungan", "kj:cxsave")], [("⬅️ Jangan", "kj:stop")]]))
    return REVIEWING_CANCEL


@_admin_step
async def save_cancel(update: Update, context: SambangContext, person: Person) -> str | int:
    draft = _draft(context)
    if not draft.get("visit_id"):
        await deny(update, context, notice("flow_incomplete", what="pembatalan", command="kunjungan"))
        return ConversationHandler.END
    try:
        visit = await _svc(context).cancel(draft["visit_id"], draft.get("reason", ""), actor=person.telegram_id)
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return ConversationHandler.END
    return await flow.done(update, context, KEY, "visits/kunjungan_cancelled", visit=visit)


async def _current_visit(update: Update, context: SambangContext) -> Visit | None:
    visit_id = button_number(_data(update), 2)
    draft = _draft(context)
    visit = await _svc(context).find(visit_id)
    if visit is None or visit.cancelled:
        await deny(update, context, notice("visit_gone"))
        return None
    draft.clear()
    draft.update(visit_id=visit.id, kecamatan_code=visit.kecamatan_code, kecamatan_name=visit.kecamatan_name,
                 old_time=f"{visit.start_time:%H:%M}", old_place=visit.place)
    return visit


# -- leaving ----------------------------------------------------------------------------------------------------


stop = flow.leave(KEY, "visits/kunjungan_stopped")


async def stale_button(update: Update, context: SambangContext) -> None:
    await flow.stale(update, context, "kunjungan")


def build_conversation() -> ConversationHandler[SambangContext]:
    return flow.guided("kunjungan", "kj", start, stop, {
        CHOOSING_ACTION: [flow.press(menu_choice, r"^kj:(add|list)$")],
        CHOOSING_KECAMATAN: [flow.press(kecamatan_chosen, r"^kj:kec:"), flow.typed(kecamatan_chosen)],
        WRITING_DATE: [flow.typed(date_written)],
        CONFIRMING_DATE: [flow.press(date_confirmed, r"^kj:date:ok$"), flow.typed(date_written)],
        WRITING_TIME: [flow.press(time_given, r"^kj:time:\d{4}$"), flow.typed(time_given)],
        WRITING_PLACE: [flow.press(place_given, r"^kj:place:default$"), flow.typed(place_given)],
        WRITING_AGENDA: [flow.press(agenda_given, r"^kj:skip$"), flow.typed(agenda_given)],
        CHOOSING_DEPARTMENTS: [flow.press(departments_given, r"^kj:skip$"), flow.typed(departments_given)],
        REVIEWING_VISIT: [flow.press(save_visit, r"^kj:save$")],
        VIEWING_VISIT: [flow.press(visit_chosen, r"^kj:v:\d+$"), flow.press(move_chosen, r"^kj:mv:\d+$"),
                        flow.press(cancel_chosen, r"^kj:cx:\d+$"), flow.press(menu_choice, r"^kj:list$")],
        WRITING_NEW_DATE: [flow.typed(new_date_written)],
        CONFIRMING_NEW_DATE: [flow.press(new_date_confirmed, r"^kj:date:ok$"), flow.typed(new_date_written)],
        WRITING_NEW_TIME: [flow.press(new_time_given, r"^kj:time:\d{4}$"), flow.typed(new_time_given)],
        WRITING_NEW_PLACE: [flow.press(new_place_given, r"^kj:place:keep$"), flow.typed(new_place_given)],
        REVIEWING_MOVE: [flow.press(save_move, r"^kj:mvsave$")],
        WRITING_CANCEL_REASON: [flow.press(cancel_reason_given, r"^kj:skip$"), flow.typed(cancel_reason_given)],
        REVIEWING_CANCEL: [flow.press(save_cancel, r"^kj:cxsave$")],
    })


def register(app: SambangApp) -> None:
    app.add_handler(CommandHandler("jadwal", jadwal, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(button(jadwal_all), pattern=r"^jd:semua$"))
    app.add_handler(build_conversation())
    app.add_handler(CallbackQueryHandler(stale_button, pattern=r"^kj:"))
