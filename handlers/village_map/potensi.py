"""/potensi: a kepala desa records the village's potential — kind, description, photos, location — and later lists,
changes or deletes it. Part of the village profile, not a ticket.

Every step is saved as a draft in SQLite before the bot answers, and the conversation ("potensi") is persisted, so
a half-written entry survives a restart. Buttons of existing entries (``pot:open/del/delok``) work outside the
conversation and re-check from the database that the entry belongs to the caller's village.

Living next to /aspirasi: the aspiration conversation is registered first, so while it runs it receives the
kepala desa's messages; /potensi refuses to start in the middle of an aspiration, and starting /aspirasi in the
middle of /potensi pauses it (a handler in group 1 notes it; the draft stays and the next stray message says how
to continue). /batal reaches a /potensi in progress through the cancel hooks the composition root lists, because
the foundation's global /batal handler comes before this conversation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.core.domain import DomainError, Role
from bot.messaging import callbacks
from bot.people.roster import Person
from bot.telegram import flow
from bot.telegram.context import SambangApp, SambangContext, answer_button, notice, person_or_refuse, refuse, reply
from bot.telegram.flow import StateCallback, choice_of, drop_buttons, step
from bot.village_map.potential import (
    KIND_BY_CODE,
    KINDS,
    MAX_DESCRIPTION,
    MAX_PHOTOS,
    MIN_DESCRIPTION,
    EntryGone,
    Potential,
    PotentialDraft,
    PotentialPhoto,
    PotentialService,
    kind_label,
    validate_description,
    validate_location,
)

log = logging.getLogger(__name__)

# What the kepala desa is doing right now.
RESUMING_DRAFT = "melanjutkan_draf_potensi"
CHOOSING_KIND = "memilih_jenis_potensi"
WRITING_DESCRIPTION = "menulis_uraian_potensi"
ADDING_MEDIA = "melampirkan_foto_potensi"
REVIEWING_SUMMARY = "memeriksa_ringkasan_potensi"

PAUSED = "potensi_paused"
DONE_WORDS = {"lanjut", "selesai", "sudah", "tidak ada", "skip", "lewati", "ringkasan"}



# -- keyboards ---------------------------------------------------------------------------------------------------


def kinds_keyboard(current: str | None = None) -> InlineKeyboardMarkup:
    rows = []
    for kind in KINDS:
        mark = " ✓" if kind.code == current else ""
        data = callbacks.build("pot", "kind", kind.code)
        rows.append([InlineKeyboardButton(f"{kind.emoji} {kind.label}{mark}", callback_data=data)])
    return InlineKeyboardMarkup(rows)


MEDIA_DONE = InlineKeyboardMarkup([[InlineKeyboardButton("➡️ Lanjut ke ringkasan", callback_data="pot:media:done")]])


def media_keyboard(draft: PotentialDraft) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton("➡️ Lanjut ke ringkasan", callback_data="pot:media:done")]]
    if draft.photos or draft.has_location:
        rows.append([InlineKeyboardButton("🗑 Hapus semua foto & lokasi", callback_data="pot:media:clear")])
    return InlineKeyboardMarkup(rows)


SUMMARY = InlineKeyboardMarkup([
    [InlineKeyboardButton("✅ Simpan", callback_data="pot:sum:save")],
    [InlineKeyboardButton("🏷 Ubah jenis", callback_data="pot:sum:kind"),
     InlineKeyboardButton("✏️ Ubah uraian", callback_data="pot:sum:desc")],
    [InlineKeyboardButton("📷 Foto & lokasi", callback_data="pot:sum:media")],
    [InlineKeyboardButton("❌ Batal", callback_data="pot:sum:cancel")],
])

#: Under "the entry you were changing was deleted": keep what was written as a new entry, start afresh, or drop it.
ENTRY_GONE = InlineKeyboardMarkup([
    [InlineKeyboardButton("💾 Simpan sebagai data baru", callback_data="pot:sum:asnew")],
    [InlineKeyboardButton("🆕 Mulai dari awal", callback_data="pot:new")],
    [InlineKeyboardButton("❌ Batal", callback_data="pot:sum:cancel")],
])

RESUME = InlineKeyboardMarkup([
    [InlineKeyboardButton("▶️ Lanjutkan", callback_data="pot:resume:yes")],
    [InlineKeyboardButton("🆕 Mulai baru", callback_data="pot:resume:new")],
])


def list_keyboard(entries: list[Potential]) -> InlineKeyboardMarkup:
    rows = []
    for i, e in enumerate(entries, start=1):
        text = f"{i}. {e.kind_label}: {e.description}"
        label = text[:48] + ("…" if len(text) > 48 else "")
        rows.append([InlineKeyboardButton(label, callback_data=callbacks.build("pot", "open", e.id))])
    rows.append([InlineKeyboardButton("➕ Tambah potensi", callback_data="pot:new")])
    return InlineKeyboardMarkup(rows)


def entry_keyboard(entry: Potential) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton("✏️ Ubah", callback_data=callbacks.build("pot", "edit", entry.id)),
         InlineKeyboardButton("🗑 Hapus", callback_data=callbacks.build("pot", "del", entry.id))],
        [InlineKeyboardButton("⬅️ Daftar potensi", callback_data="pot:list")],
    ])


def delete_keyboard(entry: Potential) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton("Ya, hapus", callback_data=callbacks.build("pot", "delok", entry.id))],
        [InlineKeyboardButton("Tidak", callback_data="pot:list")],
    ])


# -- helpers -----------------------------------------------------------------------------------------------------


def _service(context: SambangContext) -> PotentialService:
    vm = context.services.village_map
    assert vm is not None
    return vm.potential


async def _answer(update: Update) -> None:
    # recorded as answered, so that a refusal after it goes to the chat (Telegram takes one answer per press)
    await answer_button(update)


async def _kepala_desa(update: Update, context: SambangContext) -> Person | None:
    return await person_or_refuse(update, context, (Role.KEPALA_DESA,))


def _user_id(update: Update) -> int:
    user = update.effective_user
    assert user is not None
    return user.id


async def _draft(update: Update, context: SambangContext) -> PotentialDraft | None:
    return await _service(context).load_draft(_user_id(update))


async def _save(update: Update, context: SambangContext, draft: PotentialDraft) -> None:
    await _service(context).save_draft(_user_id(update), draft)


def _paused(context: SambangContext) -> bool:
    return bool(context.user_data and context.user_data.get(PAUSED))


async def _gone(update: Update, context: SambangContext) -> int:
    """A step of a conversation whose draft is gone (saved, cancelled) or paused by /aspirasi: leave quietly."""
    if update.callback_query is not None:
        await refuse(update, notice("potensi_stale_button"), show_alert=True)
    elif _paused(context) and await _draft(update, context) is not None:
        await reply(update, "village_map/potensi_paused")
    else:
        person = await person_or_refuse(update, context)
        if person is not None:
            await reply(update, "common/unknown_text", person=person)
    return ConversationHandler.END


async def _step_draft(update: Update, context: SambangContext) -> PotentialDraft | None:
    """The draft of a step in progress, or None when this conversation should end (see ``_gone``)."""
    if _paused(context):
        return None
    return await _draft(update, context)


async def _free_kepala_desa(update: Update, context: SambangContext) -> Person | None:
    """The kepala desa starting a /potensi entry, unless refused or in the middle of an aspiration."""
    person = await _kepala_desa(update, context)
    if person is not None and await context.services.aspirations.load_draft(person.telegram_id or 0) is not None:
        await reply(update, "village_map/potensi_busy")
        return None
    return person


async def _entering(update: Update, context: SambangContext) -> Person | None:
    await _answer(update)
    return await _free_kepala_desa(update, context)


async def _pressing(update: Update, context: SambangContext) -> Person | None:
    await _answer(update)
    return await _kepala_desa(update, context)


def _unpause(context: SambangContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(PAUSED, None)


def _nudge(notice_name: str, state: str) -> StateCallback:
    """A step's answer to input it does not take: say what it expects and stay (or leave when the draft is gone)."""

    async def nudge(update: Update, context: SambangContext) -> str | int:
        if await _step_draft(update, context) is None:
            return await _gone(update, context)
        await refuse(update, notice(notice_name))
        return state

    return nudge


# -- entry -------------------------------------------------------------------------------------------------------


@flow.guarded(_entering)
async def start(update: Update, context: SambangContext, person: Person) -> str | int:
    """/potensi: continue a draft, list the village's entries, or start the first one."""
    _unpause(context)
    draft = await _draft(update, context)
    if draft is not None and (draft.kind or draft.description):
        await reply(update, "village_map/potensi_resume", draft=draft,
                    kind=kind_label(draft.kind) if draft.kind else None,
                    reply_markup=RESUME)
        return RESUMING_DRAFT
    entries = await _service(context).list_for_desa(person.desa_code or "")
    if entries:
        await reply(update, "village_map/potensi_list", desa_name=person.desa_name, entries=entries,
                    reply_markup=list_keyboard(entries))
        return ConversationHandler.END
    return await _new(update, context, person)


@flow.guarded(_entering)
async def new_entry(update: Update, context: SambangContext, person: Person) -> str | int:
    """The "Tambah potensi" button."""
    _unpause(context)
    return await _new(update, context, person)


async def _new(update: Update, context: SambangContext, person: Person) -> str:
    await _save(update, context, PotentialDraft())
    await reply(update, "village_map/potensi_start", desa_name=person.desa_name, reply_markup=kinds_keyboard())
    return CHOOSING_KIND


@flow.guarded(_entering)
async def edit_entry(update: Update, context: SambangContext, person: Person) -> str | int:
    """The "Ubah" button of an entry: its current values become the draft, shown as a summary."""
    entry_id = _id_from(update)
    try:
        entry = await _service(context).owned_entry(person, entry_id)
    except DomainError as exc:
        await refuse(update, exc.message, show_alert=True)
        return ConversationHandler.END
    _unpause(context)
    draft = _service(context).draft_of(entry)
    await _save(update, context, draft)
    return await _summary(update, context, draft, person)


@flow.guarded(_pressing)
async def resume_choice(update: Update, context: SambangContext, person: Person) -> str | int:
    query = update.callback_query
    assert query is not None
    draft = await _draft(update, context)
    if query.data == "pot:resume:new" or draft is None:
        return await _new(update, context, person)
    return await _continue(update, context, draft, person)


async def _continue(update: Update, context: SambangContext, draft: PotentialDraft, person: Person) -> str:
    if draft.kind is None:
        await reply(update, "village_map/potensi_start", desa_name=person.desa_name, reply_markup=kinds_keyboard())
        return CHOOSING_KIND
    if draft.description is None:
        return await _ask_description(update, draft)
    return await _summary(update, context, draft, person)


# -- kind and description ----------------------------------------------------------------------------------------


async def _ask_description(update: Update, draft: PotentialDraft) -> str:
    await reply(update, "village_map/potensi_describe", kind=kind_label(draft.kind or ""), min_length=MIN_DESCRIPTION,
                max_length=MAX_DESCRIPTION)
    return WRITING_DESCRIPTION


@step(_kepala_desa, _step_draft, _gone, press=True)
async def kind_chosen(update: Update, context: SambangContext, person: Person, draft: PotentialDraft) -> str | int:
    code = choice_of(update)
    if code not in KIND_BY_CODE:
        await refuse(update, notice("potensi_kind_unknown"), show_alert=True)
        return CHOOSING_KIND
    draft.kind = code
    await _save(update, context, draft)
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_reply_markup(kinds_keyboard(code))
    except BadRequest:
        pass
    if draft.description is None:
        return await _ask_description(update, draft)
    return await _summary(update, context, draft, person)


kind_not_chosen = _nudge("potensi_choose_kind", CHOOSING_KIND)


@step(_kepala_desa, _step_draft, _gone)
async def description_written(update: Update, context: SambangContext, person: Person,
                              draft: PotentialDraft) -> str | int:
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        text = validate_description(message.text)
    except DomainError as exc:
        await refuse(update, exc.message)
        return WRITING_DESCRIPTION
    editing = draft.description is not None
    draft.description = text
    await _save(update, context, draft)
    if editing:
        return await _summary(update, context, draft, person)
    return await _ask_media(update, draft)


description_not_text = _nudge("potensi_describe_in_text", WRITING_DESCRIPTION)


# -- photos and location -----------------------------------------------------------------------------------------


async def _ask_media(update: Update, draft: PotentialDraft) -> str:
    await reply(update, "village_map/potensi_media", max_photos=MAX_PHOTOS, photos=len(draft.photos),
                location=draft.has_location, reply_markup=media_keyboard(draft))
    return ADDING_MEDIA


async def _ack(update: Update, draft: PotentialDraft, what: str) -> str:
    await reply(update, "village_map/potensi_media_added", what=what, photos=len(draft.photos), max_photos=MAX_PHOTOS,
                location=draft.has_location, reply_markup=media_keyboard(draft))
    return ADDING_MEDIA


@step(_kepala_desa, _step_draft, _gone)
async def photo_added(update: Update, context: SambangContext, person: Person, draft: PotentialDraft) -> str | int:
    message = update.effective_message
    assert message is not None and message.photo
    largest = message.photo[-1]
    if any(p.file_unique_id == largest.file_unique_id for p in draft.photos):
        return ADDING_MEDIA
    if len(draft.photos) >= MAX_PHOTOS:
        await refuse(update, notice("photos_full", max_photos=MAX_PHOTOS), reply_markup=media_keyboard(draft))
        return ADDING_MEDIA
    draft.photos.append(PotentialPhoto(largest.file_id, largest.file_unique_id, largest.file_size))
    await _save(update, context, draft)
    return await _ack(update, draft, f"Foto {len(draft.photos)} diterima")


@step(_kepala_desa, _step_draft, _gone)
async def location_added(update: Update, context: SambangContext, person: Person, draft: PotentialDraft) -> str | int:
    message = update.effective_message
    assert message is not None and message.location is not None
    try:
        validate_location(message.location.latitude, message.location.longitude)
    except DomainError as exc:
        await refuse(update, exc.message, reply_markup=media_keyboard(draft))
        return ADDING_MEDIA
    draft.latitude, draft.longitude = message.location.latitude, message.location.longitude
    await _save(update, context, draft)
    return await _ack(update, draft, "Lokasi diterima")


@step(_kepala_desa, _step_draft, _gone, press=True)
async def media_button(update: Update, context: SambangContext, person: Person, draft: PotentialDraft) -> str | int:
    query = update.callback_query
    assert query is not None
    if query.data == "pot:media:clear":
        draft.photos = []
        draft.latitude = draft.longitude = None
        await _save(update, context, draft)
        return await _ack(update, draft, "Foto dan lokasi dihapus")
    return await _summary(update, context, draft, person)


@step(_kepala_desa, _step_draft, _gone)
async def media_text(update: Update, context: SambangContext, person: Person, draft: PotentialDraft) -> str | int:
    message = update.effective_message
    assert message is not None and message.text is not None
    if message.text.strip().lower() in DONE_WORDS:
        return await _summary(update, context, draft, person)
    await refuse(update, notice("potensi_media_expected"), reply_markup=media_keyboard(draft))
    return ADDING_MEDIA


async def media_other(update: Update, context: SambangContext) -> str | int:
    draft = await _step_draft(update, context)
    if draft is None:
        return await _gone(update, context)
    await refuse(update, notice("potensi_photo_not_file"), reply_markup=media_keyboard(draft))
    return ADDING_MEDIA


# -- summary, saving, cancelling ---------------------------------------------------------------------------------


async def _summary(update: Update, context: SambangContext, draft: PotentialDraft, person: Person) -> str:
    await reply(update, "village_map/potensi_summary", draft=draft, kind=kind_label(draft.kind or ""),
                desa_name=person.desa_name, reply_markup=SUMMARY)
    return REVIEWING_SUMMARY


@step(_kepala_desa, _step_draft, _gone, press=True)
async def summary_action(update: Update, context: SambangContext, person: Person, draft: PotentialDraft) -> str | int:
    action = choice_of(update)
    if action == "kind":
        await reply(update, "village_map/potensi_start", desa_name=person.desa_name,
                    reply_markup=kinds_keyboard(draft.kind))
        return CHOOSING_KIND
    if action == "desc":
        return await _ask_description(update, draft)
    if action == "media":
        return await _ask_media(update, draft)
    if action == "cancel":
        return await cancel(update, context)
    if action == "asnew":  # the entry being changed was deleted: what was written becomes a new entry
        draft.entry_id, draft.entry_deleted, action = None, False, "save"
    if action != "save":
        return REVIEWING_SUMMARY
    try:
        entry, created = await _service(context).save(person, draft)
    except EntryGone:
        draft.entry_deleted = True
        await _save(update, context, draft)
        await drop_buttons(update)
        await reply(update, "village_map/potensi_entry_gone", reply_markup=ENTRY_GONE)
        return REVIEWING_SUMMARY
    except DomainError as exc:
        await refuse(update, exc.message, show_alert=True)
        return ConversationHandler.END if draft.entry_id else REVIEWING_SUMMARY
    await drop_buttons(update)
    await reply(update, "village_map/potensi_saved", entry=entry, updated=draft.entry_id is not None)
    return ConversationHandler.END


summary_text = _nudge("potensi_press_save", REVIEWING_SUMMARY)


async def cancel(update: Update, context: SambangContext) -> int:
    await _answer(update)
    await _service(context).discard_draft(_user_id(update))
    await drop_buttons(update)
    await reply(update, "village_map/potensi_cancelled")
    return ConversationHandler.END


# -- outside the conversation: existing entries, /batal, pausing ----------------------------------------------------


def _id_from(update: Update) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    match = re.fullmatch(r"pot:[a-z]+:(\d{1,12})", query.data)
    return int(match.group(1)) if match else 0


async def _pressed_entry(update: Update, context: SambangContext) -> Potential | None:
    """The entry a button names, once the press is answered, the presser is a kepala desa and the entry is of
    their village (callback data can be forged); refused otherwise."""
    person = await _pressing(update, context)
    if person is None:
        return None
    try:
        return await _service(context).owned_entry(person, _id_from(update))
    except DomainError as exc:
        await refuse(update, exc.message, show_alert=True)
        return None


async def _show_entry(update: Update, context: SambangContext, template: str,
                      keyboard: Callable[[Potential], InlineKeyboardMarkup]) -> None:
    """A button on one entry: show it with ``template`` and ``keyboard`` once ``_pressed_entry`` lets it through."""
    entry = await _pressed_entry(update, context)
    if entry is not None:
        await reply(update, template, entry=entry, reply_markup=keyboard(entry))


async def open_entry(update: Update, context: SambangContext) -> None:
    await _show_entry(update, context, "village_map/potensi_entry", entry_keyboard)


async def ask_delete(update: Update, context: SambangContext) -> None:
    await _show_entry(update, context, "village_map/potensi_delete_confirm", delete_keyboard)


async def list_entries(update: Update, context: SambangContext) -> None:
    person = await _pressing(update, context)
    if person is None:
        return
    entries = await _service(context).list_for_desa(person.desa_code or "")
    if not entries:
        await refuse(update, notice("potensi_none"))
        return
    await reply(update, "village_map/potensi_list", desa_name=person.desa_name, entries=entries,
                reply_markup=list_keyboard(entries))


async def confirm_delete(update: Update, context: SambangContext) -> None:
    person = await _pressing(update, context)
    if person is None:
        return
    try:
        entry = await _service(context).delete(person, _id_from(update))
    except DomainError as exc:
        await refuse(update, exc.message, show_alert=True)
        return
    await drop_buttons(update)
    await reply(update, "village_map/potensi_deleted", entry=entry)


async def stale_button(update: Update, context: SambangContext) -> None:
    await refuse(update, notice("potensi_stale_button"), show_alert=True)


async def cancel_hook(update: Update, context: SambangContext) -> bool:
    """/batal outside the aspiration flow: cancel a /potensi in progress (its conversation then ends quietly)."""
    user = update.effective_user
    if user is None or context.services.village_map is None:
        return False
    if not await _service(context).discard_draft(user.id):
        return False
    _unpause(context)
    await reply(update, "village_map/potensi_cancelled")
    return True


async def pause_for_aspiration(update: Update, context: SambangContext) -> None:
    """Group 1, after the aspiration conversation took /aspirasi: a /potensi in progress pauses; its draft stays."""
    user = update.effective_user
    if user is None or context.services.village_map is None or context.user_data is None:
        return
    if await _service(context).load_draft(user.id) is not None:
        context.user_data[PAUSED] = True


def build_conversation() -> ConversationHandler[SambangContext]:
    private, text, other = flow.PRIVATE, flow.TEXT, flow.OTHER
    # /batal never gets here: the global /batal comes first and reaches this flow through the root's cancel hooks
    return flow.drafting("potensi", start, [(r"^pot:new$", new_entry), (r"^pot:edit:\d{1,12}$", edit_entry)], {
        RESUMING_DRAFT: [(r"^pot:resume:(yes|new)$", resume_choice)],
        CHOOSING_KIND: [(r"^pot:kind:[a-z]{1,20}$", kind_chosen), (other, kind_not_chosen)],
        WRITING_DESCRIPTION: [(text, description_written), (other, description_not_text)],
        ADDING_MEDIA: [(private & filters.PHOTO, photo_added), (private & filters.LOCATION, location_added),
                       (r"^pot:media:(done|clear)$", media_button), (text, media_text), (other, media_other)],
        REVIEWING_SUMMARY: [(r"^pot:sum:[a-z]{1,10}$", summary_action), (text, summary_text)],
    }, [(r"^pot:sum:cancel$", summary_action)])


def register(app: SambangApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("aspirasi", pause_for_aspiration, filters=private), group=1)
    app.add_handler(CallbackQueryHandler(pause_for_aspiration, pattern=r"^asp:new"), group=1)
    app.add_handler(build_conversation())
    app.add_handler(CallbackQueryHandler(open_entry, pattern=r"^pot:open:\d{1,12}$"))
    app.add_handler(CallbackQueryHandler(list_entries, pattern=r"^pot:list$"))
    app.add_handler(CallbackQueryHandler(ask_delete, pattern=r"^pot:del:\d{1,12}$"))
    app.add_handler(CallbackQueryHandler(confirm_delete, pattern=r"^pot:delok:\d{1,12}$"))
    app.add_handler(CallbackQueryHandler(stale_button, pattern=r"^pot:"))
