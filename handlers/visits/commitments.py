"""/janji: admins and leadership record what was promised during a visit (text, department, villages, due date,
related aspirations), and list the open ones; a department answers the bot's question about a commitment's
outcome with a button and an optional note."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler

from bot.core.clock import from_iso, to_iso
from bot.core.domain import DomainError, Role
from bot.messaging import callbacks
from bot.messaging.templates import split_message
from bot.people.roster import Person
from bot.telegram import flow
from bot.telegram.context import SambangApp, SambangContext, button_number, notice, person_or_refuse, reply
from bot.telegram.flow import button, data_of, deny, drop_buttons, text_of
from bot.visits.commitments import OUTCOMES, STATUS_LABELS, CommitmentDraft
from bot.visits.service import Visit, known_departments
from handlers.fallback import unknown_text

# What the admin or leader is doing in /janji.
CHOOSING_VISIT = "memilih_kunjungan"
WRITING_PROMISE = "menulis_janji"
CHOOSING_DEPARTMENT = "memilih_opd"
WRITING_VILLAGES = "menulis_desa"
WRITING_DUE_DATE = "menulis_tenggat"
WRITING_TICKETS = "menulis_tiket"
REVIEWING_PROMISE = "memeriksa_janji"
# What a department official is doing after pressing an outcome button.
WRITING_OUTCOME_NOTE = "menulis_hasil"

KEY = "janji"
OUTCOME_KEY = "hasil_janji"
NOTE_WINDOW = timedelta(hours=1)
STAFF = (Role.ADMIN, Role.PIMPINAN)


def _kb(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in rows])


def _draft(context: SambangContext) -> CommitmentDraft:
    assert context.user_data is not None
    return CommitmentDraft.from_dict(context.user_data.get(KEY))


def _save(context: SambangContext, draft: CommitmentDraft) -> None:
    assert context.user_data is not None
    context.user_data[KEY] = draft.to_dict()


def _svc(context: SambangContext) -> Any:
    return context.services.ngantor.commitments


async def _staff(update: Update, context: SambangContext) -> Any:
    return await person_or_refuse(update, context, STAFF)


_staff_step = flow.guarded(_staff)


# -- /janji -----------------------------------------------------------------------------------------------------


@_staff_step
async def start(update: Update, context: SambangContext, person: Person) -> str | int:
    if context.args and context.args[0].lower() in ("daftar", "list"):
        await _list(update, context)
        return ConversationHandler.END
    _save(context, CommitmentDraft())
    recent = await context.services.ngantor.visits.recent()
    rows = [[(f"{v.date:%d-%m-%Y} · {v.kecamatan_name}", callbacks.build("jj", "v", v.id))] for v in recent[:8]]
    rows.append([("Tanpa kunjungan", "jj:v:0")])
    await reply(update, "visits/commitment_ask_visit", visits=recent, reply_markup=_kb(rows))
    return CHOOSING_VISIT


async def _list(update: Update, context: SambangContext) -> None:
    svc = _svc(context)
    items = await svc.list_open()
    today = svc.today()
    from bot.messaging.templates import render

    text = render("visits/commitment_list", items=items, today=today, labels=STATUS_LABELS)
    for part in split_message(text.split("\n\n"), 4000):
        await reply(update, "common/raw", text=part)


@_staff_step
async def visit_chosen(update: Update, context: SambangContext, person: Person) -> str | int:
    visit_id = button_number(data_of(update), 2)
    draft = _draft(context)
    if visit_id:
        visit = await context.services.ngantor.visits.find(visit_id)
        if visit is None or visit.cancelled:
            await deny(update, context, notice("visit_gone"))
            return CHOOSING_VISIT
        draft.visit_id = visit.id
    else:
        draft.visit_id = None
    _save(context, draft)
    await drop_buttons(update)
    await reply(update, "visits/commitment_ask_text")
    return WRITING_PROMISE


@_staff_step
async def promise_written(update: Update, context: SambangContext, person: Person) -> str | int:
    text = text_of(update)
    if len(text) < 5:
        await reply(update, "common/refusal", message=notice("commitment_too_short"))
        return WRITING_PROMISE
    draft = _draft(context)
    draft.description = text[:1000]
    _save(context, draft)
    codes = await known_departments(context.services.db)
    buttons = [(c, callbacks.build("jj", "d", c)) for c in codes if callbacks.fits("jj", "d", c)][:30]
    markup = _kb([buttons[i:i + 3] for i in range(0, len(buttons), 3)]) if buttons else None
    await reply(update, "visits/commitment_ask_department", reply_markup=markup)
    return CHOOSING_DEPARTMENT


async def _visit_of(context: SambangContext, draft: CommitmentDraft) -> Visit | None:
    """The visit the promise is recorded for, if any (it may have been deleted since)."""
    return await context.services.ngantor.visits.find(draft.visit_id) if draft.visit_id else None


@_staff_step
async def department_chosen(update: Update, context: SambangContext, person: Person) -> str | int:
    data = data_of(update)
    raw = callbacks.rest(data, 2) if data else text_of(update)
    try:
        code = await _svc(context).department(raw)
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return CHOOSING_DEPARTMENT
    draft = _draft(context)
    draft.department = code
    _save(context, draft)
    visit = await _visit_of(context, draft)
    await reply(update, "visits/commitment_ask_villages", kecamatan=visit.kecamatan_name if visit else None)
    return WRITING_VILLAGES


@_staff_step
async def villages_written(update: Update, context: SambangContext, person: Person) -> str | int:
    draft = _draft(context)
    visit = await _visit_of(context, draft)
    try:
        desa = await _svc(context).resolve_desa(text_of(update), visit.kecamatan_code if visit else None)
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return WRITING_VILLAGES
    draft.desa_codes = [d.code for d in desa]
    _save(context, draft)
    await reply(update, "visits/commitment_ask_due", desa=desa,
                reply_markup=_kb([[("2 minggu", "jj:due:14"), ("1 bulan", "jj:due:30")],
                                  [("2 bulan", "jj:due:60"), ("3 bulan", "jj:due:90")]]))
    return WRITING_DUE_DATE


@_staff_step
async def due_given(update: Update, context: SambangContext, person: Person) -> str | int:
    data = data_of(update)
    svc = _svc(context)
    try:
        if data:  # a button's days go through the same checks as typed ones; none of ours offers more than 999
            days = button_number(data, 2)
            if days > 999:
                raise DomainError("visits/unknown_button")
            due = svc.parse_due(f"{days} hari")
        else:
            due = svc.parse_due(text_of(update))
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return WRITING_DUE_DATE
    draft = _draft(context)
    draft.due_date = due.isoformat()
    _save(context, draft)
    await reply(update, "visits/commitment_ask_tickets", reply_markup=_kb([[("Lewati", "jj:skip")]]))
    return WRITING_TICKETS


@_staff_step
async def tickets_given(update: Update, context: SambangContext, person: Person) -> str | int:
    draft = _draft(context)
    if update.callback_query is None:
        try:
            draft.tickets = await _svc(context).resolve_tickets(text_of(update))
        except DomainError as exc:
            await reply(update, "common/refusal", message=notice("retry_or_skip", message=exc.message),
                        reply_markup=_kb([[("Lewati", "jj:skip")]]))
            return WRITING_TICKETS
    else:
        draft.tickets = []
    _save(context, draft)
    return await _review(update, context, draft)


async def _review(update: Update, context: SambangContext, draft: CommitmentDraft) -> str:
    n = context.services.ngantor
    visit = await n.visits.find(draft.visit_id) if draft.visit_id else None
    names = []
    for code in draft.desa_codes:
        name = await context.services.db.fetchval("SELECT name FROM desa WHERE code = ?", (code,))
        names.append(name or code)
    await reply(update, "visits/commitment_review", d=draft, visit=visit, desa=names,
                due=dt.date.fromisoformat(draft.due_date or "1970-01-01"),
                reply_markup=_kb([[("✅ Simpan janji", "jj:save")], [("❌ Batal", "jj:stop")]]))
    return REVIEWING_PROMISE


@_staff_step
async def save(update: Update, context: SambangContext, person: Person) -> str | int:
    draft = _draft(context)
    try:
        commitment, _created = await _svc(context).create(person, draft)
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return ConversationHandler.END
    return await flow.done(update, context, KEY, "visits/commitment_saved", c=commitment)


stop = flow.leave(KEY, "visits/commitment_stopped")


# -- a department's answer --------------------------------------------------------------------------------------


async def outcome_chosen(update: Update, context: SambangContext) -> str | int:
    person = await person_or_refuse(update, context, (Role.PEJABAT, Role.ADMIN, Role.PIMPINAN))
    if person is None:
        return ConversationHandler.END
    _, cid, outcome = callbacks.fields(data_of(update))
    svc = _svc(context)
    try:
        commitment = await svc.get(int(cid))
    except DomainError as exc:
        await deny(update, context, exc.message)
        return ConversationHandler.END
    if not svc.can_answer(person, commitment):
        await deny(update, context, notice("commitment_not_yours"))
        return ConversationHandler.END
    if not commitment.is_open:
        await deny(update, context, notice("commitment_closed", label=commitment.status_label))
        return ConversationHandler.END
    assert context.user_data is not None
    context.user_data[OUTCOME_KEY] = {"id": commitment.id, "outcome": outcome,
                                      "at": to_iso(context.services.clock.now())}
    await drop_buttons(update)
    await reply(update, "visits/commitment_ask_note", c=commitment, label=STATUS_LABELS[OUTCOMES[outcome]],
                reply_markup=_kb([[("Kirim tanpa catatan", callbacks.build("jnj", commitment.id, "send"))]]))
    return WRITING_OUTCOME_NOTE


async def _record(update: Update, context: SambangContext, note: str) -> str | int:
    assert context.user_data is not None
    pending = context.user_data.get(OUTCOME_KEY) or {}
    if not pending:
        await deny(update, context, notice("flow_button_stale", command=""))
        return ConversationHandler.END
    person = await person_or_refuse(update, context, (Role.PEJABAT, Role.ADMIN, Role.PIMPINAN))
    if person is None:
        return ConversationHandler.END
    try:
        commitment = await _svc(context).record_outcome(pending["id"], person, pending["outcome"], note)
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return ConversationHandler.END
    finally:
        context.user_data.pop(OUTCOME_KEY, None)
    await reply(update, "visits/commitment_outcome_saved", c=commitment)
    return ConversationHandler.END


async def note_written(update: Update, context: SambangContext) -> str | int:
    assert context.user_data is not None
    pending = context.user_data.get(OUTCOME_KEY) or {}
    if not pending or context.services.clock.now() - from_iso(pending["at"]) > NOTE_WINDOW:
        # long after the button: this text is not the note; answer it as any stray text
        context.user_data.pop(OUTCOME_KEY, None)
        await unknown_text(update, context)
        return ConversationHandler.END
    return await _record(update, context, text_of(update))


async def note_skipped(update: Update, context: SambangContext) -> str | int:
    await drop_buttons(update)
    return await _record(update, context, "")


async def note_stopped(update: Update, context: SambangContext) -> int:
    if context.user_data is not None:
        context.user_data.pop(OUTCOME_KEY, None)
    await reply(update, "common/refusal", message=notice("commitment_answer_cancelled"))
    return ConversationHandler.END


async def stale_button(update: Update, context: SambangContext) -> None:
    await flow.stale(update, context, "")


def build_conversations() -> list[ConversationHandler[SambangContext]]:
    record = flow.guided("janji", "jj", start, stop, {
        CHOOSING_VISIT: [flow.press(visit_chosen, r"^jj:v:\d+$")],
        WRITING_PROMISE: [flow.typed(promise_written)],
        CHOOSING_DEPARTMENT: [flow.press(department_chosen, r"^jj:d:"), flow.typed(department_chosen)],
        WRITING_VILLAGES: [flow.typed(villages_written)],
        WRITING_DUE_DATE: [flow.press(due_given, r"^jj:due:\d+$"), flow.typed(due_given)],
        WRITING_TICKETS: [flow.press(tickets_given, r"^jj:skip$"), flow.typed(tickets_given)],
        REVIEWING_PROMISE: [flow.press(save, r"^jj:save$")],
    })
    outcome = flow.conversation(
        "hasil_janji", [flow.press(outcome_chosen, r"^jnj:\d+:(ok|run|no)$")],
        {WRITING_OUTCOME_NOTE: [flow.typed(note_written), flow.press(note_skipped, r"^jnj:\d+:send$")]},
        [CommandHandler("batal", button(note_stopped), filters=flow.PRIVATE)],
    )
    return [record, outcome]


def register(app: SambangApp) -> None:
    for handler in build_conversations():
        app.add_handler(handler)
    app.add_handler(CallbackQueryHandler(stale_button, pattern=r"^(jj|jnj):"))
