"""/aspirasi: a kepala desa writes an aspiration step by step — category, description, attachments, summary.

Every step is saved as a draft in SQLite before the bot answers, and the conversation state is persisted, so a
half-written aspiration survives a restart. /batal cancels at any step.
"""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta
from typing import Any, cast

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    CallbackQueryHandler,
    ConversationHandler,
    JobQueue,
    filters,
)

from bot.aspirations.classifier import suggest_category
from bot.aspirations.service import (
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENTS,
    MAX_PHOTOS,
    MAX_VIDEO_BYTES,
    MAX_VIDEOS,
    MAX_VOICES,
    Attachment,
    Draft,
    document_accepted,
    match_category,
    validate_description,
)
from bot.core.clock import from_iso
from bot.core.domain import CATEGORY_BY_CODE, DomainError, Role
from bot.core.text import clean_caption, clean_text
from bot.messaging import callbacks
from bot.messaging.templates import render
from bot.people.roster import Person
from bot.telegram import flow, keyboards
from bot.telegram.context import (
    SambangApp,
    SambangContext,
    answer_button,
    current_person,
    notice,
    person_or_refuse,
    refuse,
    reply,
)
from bot.telegram.flow import drop_buttons
from bot.visits.service import VisitOver

log = logging.getLogger(__name__)

# What the kepala desa is doing right now.
CHOOSING_CATEGORY = "memilih_kategori"
WRITING_DESCRIPTION = "menulis_uraian"
ADDING_ATTACHMENTS = "melampirkan"
REVIEWING_SUMMARY = "memeriksa_ringkasan"
RESUMING_DRAFT = "melanjutkan_draf"
CHANGING_CATEGORY = "mengubah_kategori"

#: An album (photos sharing a media_group_id) arrives as one update per photo; it is answered once, this many seconds
#: after its last photo.
ALBUM_QUIET_SECONDS = 1.5

DONE_WORDS = {"lanjut", "selesai", "sudah", "tidak ada", "skip", "lewati", "ringkasan"}


async def _kepala_desa(update: Update, context: SambangContext) -> Any:
    return await person_or_refuse(update, context, (Role.KEPALA_DESA,))


async def _draft(update: Update, context: SambangContext) -> Draft | None:
    user = update.effective_user
    assert user is not None
    return await context.services.aspirations.load_draft(user.id)


async def _save(update: Update, context: SambangContext, draft: Draft) -> None:
    user = update.effective_user
    assert user is not None
    await context.services.aspirations.save_draft(user.id, draft)


async def _answer(update: Update) -> None:
    await answer_button(update)


async def _pressing(update: Update, context: SambangContext) -> Person | None:
    await _answer(update)
    person: Person | None = await _kepala_desa(update, context)
    return person


async def _quietly(update: Update, context: SambangContext) -> int:
    return ConversationHandler.END


async def _draft_missing(update: Update, context: SambangContext) -> int:
    await refuse(update, notice("draft_missing"), show_alert=True)
    return ConversationHandler.END


_typed_step = flow.guarded(_kepala_desa)
_pressed_step = flow.guarded(_pressing)
_draft_step = flow.step(_kepala_desa, _draft, _quietly)
_pressed_draft_step = flow.step(_pressing, _draft, _draft_missing)


async def _clear_pressed(update: Update) -> None:
    """Take the buttons off the message whose button was pressed (a step that is over)."""
    query = update.callback_query
    if query is None or query.message is None or not getattr(query.message, "reply_markup", None):
        return
    await drop_buttons(update)


async def _retire_summary(update: Update, context: SambangContext, draft: Draft) -> None:
    """Leaving the summary (to edit, attach, ...): its buttons come off, so an old "Kirim" cannot be pressed.

    A new summary is shown when the kepala desa comes back. The caller saves the draft.
    """
    chat = update.effective_chat
    query = update.callback_query
    if draft.summary_message is None and query is not None and (query.data or "").startswith("asp:sum:"):
        # a draft from before summaries were remembered: the summary is the message pressed
        await _clear_pressed(update)
        return
    if draft.summary_message is None or chat is None:
        return
    message_id, draft.summary_message = draft.summary_message, None
    try:
        await context.bot.edit_message_reply_markup(chat.id, message_id, reply_markup=None)
    except BadRequest:
        pass  # already without buttons, or deleted


async def _visit_for(context: SambangContext, visit_id: int | None) -> Any:
    visits = context.services.ngantor.visits
    if visit_id is None:
        return None
    try:
        return await visits.get(visit_id)
    except DomainError:
        return None


async def _visit_refusal(context: SambangContext, person: Any, visit_id: int, *, sending: bool = False) -> str | None:
    """Why an aspiration cannot be tagged to this visit (another kecamatan's, cancelled, over); None if it can."""
    visits = context.services.ngantor.visits
    try:
        await visits.for_aspiration(visit_id, person.desa_code)
    except VisitOver as exc:
        return notice("visit_over", visit=exc.visit, sending=sending)
    except DomainError:
        return notice("visit_not_found")
    return None


# -- entry ------------------------------------------------------------------------------------------------------


@_pressed_step
async def start_aspiration(update: Update, context: SambangContext, person: Person) -> str | int:
    """/aspirasi, or the button under a visit announcement (asp:new:<visit_id>)."""
    visit_id = None
    if update.callback_query is not None and update.callback_query.data:
        parts = callbacks.fields(update.callback_query.data)
        if len(parts) == 3 and parts[2].isdigit():
            refusal = await _visit_refusal(context, person, int(parts[2]))
            if refusal is not None:
                # the press was already answered above, so say it in the chat: a second answer would be refused
                await reply(update, "common/refusal", message=refusal)
                return ConversationHandler.END
            visit_id = int(parts[2])
    existing = await _draft(update, context)
    if existing is not None and (existing.description or existing.category):
        if visit_id is not None:
            existing.visit_id = visit_id
            await _save(update, context, existing)
        await reply(update, "aspirations/aspiration_resume", draft=existing, reply_markup=keyboards.RESUME)
        return RESUMING_DRAFT
    return await _new_draft(update, context, visit_id)


async def _new_draft(update: Update, context: SambangContext, visit_id: int | None = None) -> str:
    draft = Draft(visit_id=visit_id)
    await _save(update, context, draft)
    await reply(update, "aspirations/aspiration_start", visit=await _visit_for(context, visit_id),
                reply_markup=keyboards.categories())
    return CHOOSING_CATEGORY


async def resume_choice(update: Update, context: SambangContext) -> str | int:
    await _answer(update)
    query = update.callback_query
    assert query is not None
    draft = await _draft(update, context)
    if query.data == "asp:resume:new" or draft is None:
        visit_id = draft.visit_id if draft else None
        user = update.effective_user
        assert user is not None
        await context.services.aspirations.discard_draft(user.id)
        return await _new_draft(update, context, visit_id)
    return await _continue(update, context, draft)


async def _continue(update: Update, context: SambangContext, draft: Draft) -> str:
    """Pick up a draft where it was left."""
    if draft.category is None:
        await reply(update, "aspirations/aspiration_start", visit=await _visit_for(context, draft.visit_id),
                    reply_markup=keyboards.categories(draft.suggested))
        return CHOOSING_CATEGORY
    if draft.description is None:
        return await _ask_description(update, context, draft)
    return await _show_summary(update, context, draft)


# -- category and description -----------------------------------------------------------------------------------


async def _ask_description(update: Update, context: SambangContext, draft: Draft, *, back: bool = False) -> str:
    assert draft.category is not None
    await reply(update, "aspirations/aspiration_describe", category=draft.category,
                confidential=CATEGORY_BY_CODE[draft.category].confidential,
                max_length=context.services.config.max_description,
                reply_markup=keyboards.BACK_TO_SUMMARY if back else None)
    return WRITING_DESCRIPTION


@_pressed_draft_step
async def category_chosen(update: Update, context: SambangContext, person: Person, draft: Draft) -> str | int:
    code = callbacks.rest(flow.data_of(update), 2)
    if code == "?":
        await reply(update, "aspirations/aspiration_start", visit=None,
                    reply_markup=keyboards.categories(draft.suggested, draft.category))
        return CHOOSING_CATEGORY
    if code not in CATEGORY_BY_CODE:
        await refuse(update, notice("category_unknown"), show_alert=True)
        return CHOOSING_CATEGORY
    return await _apply_category(update, context, draft, code)


async def _apply_category(update: Update, context: SambangContext, draft: Draft, code: str) -> str:
    """The kepala desa chose ``code`` (a button, or its name typed): save it and go on to the next step."""
    draft.category = code
    if CATEGORY_BY_CODE[code].confidential:
        draft.copy_to_camat = False
    await _save(update, context, draft)
    if draft.description is None:
        return await _ask_description(update, context, draft)
    if context.user_data is not None and context.user_data.pop("reviewing", False):
        await _clear_pressed(update)
        return await _show_summary(update, context, draft)
    return await _ask_attachments(update, context, draft)


@_typed_step
async def category_typed(update: Update, context: SambangContext, person: Person) -> str | int:
    """Text on the "Ubah kategori" screen: a category's name is the choice; anything else leaves the draft as is."""
    message = update.effective_message
    assert message is not None and message.text is not None
    draft = await _draft(update, context)
    if draft is None:
        await refuse(update, notice("draft_missing"))
        return ConversationHandler.END
    code = match_category(message.text)
    if code is None:
        await refuse(update, notice("category_by_button"), reply_markup=keyboards.change_category(draft.category))
        return CHANGING_CATEGORY
    return await _apply_category(update, context, draft, code)


@_typed_step
async def description_first(update: Update, context: SambangContext, person: Person) -> str | int:
    """Text typed instead of choosing a category: take it as the description and suggest a category."""
    draft = await _draft(update, context) or Draft()
    message = update.effective_message
    assert message is not None and message.text is not None
    code = match_category(message.text)
    if code is not None:  # "lingkungan & bencana" typed instead of pressed
        return await _apply_category(update, context, draft, code)
    if not await _take_description(update, context, draft, message.text):
        return CHOOSING_CATEGORY
    assert draft.description is not None
    await reply(update, "aspirations/aspiration_suggest", length=len(draft.description), suggested=draft.suggested,
                reply_markup=keyboards.categories(draft.suggested))
    return CHOOSING_CATEGORY


async def _categorised_draft(update: Update, context: SambangContext) -> Draft | None:
    """The draft, once its category is chosen; otherwise None, after telling the person it is missing."""
    draft = await _draft(update, context)
    if draft is None or draft.category is None:
        await refuse(update, notice("draft_missing"))
        return None
    return draft


#: A step that needs the draft with its category chosen (the description's steps).
_categorised_step = flow.step(_kepala_desa, _categorised_draft, _quietly)


@_categorised_step
async def description_written(update: Update, context: SambangContext, person: Person, draft: Draft) -> str | int:
    message = update.effective_message
    assert message is not None and message.text is not None
    if not await _take_description(update, context, draft, message.text):
        return WRITING_DESCRIPTION
    return await _after_description(update, context, draft)


def _needs_category_check(draft: Draft) -> bool:
    """Whether the description reads like another category than the one chosen (then the kepala desa is asked)."""
    assert draft.category is not None
    return draft.suggested not in (draft.category, "lainnya") and not CATEGORY_BY_CODE[draft.category].confidential


async def _after_description(update: Update, context: SambangContext, draft: Draft) -> str:
    """The description is saved: check the category, then on to the attachments (or back to the summary)."""
    assert draft.description is not None and draft.category is not None
    reviewing = bool(context.user_data and context.user_data.get("reviewing"))
    if _needs_category_check(draft):
        await reply(update, "aspirations/aspiration_category_check", length=len(draft.description),
                    chosen=draft.category,
                    suggested=draft.suggested,
                    reply_markup=keyboards.confirm_category(draft.suggested or "lainnya", draft.category))
        return CHOOSING_CATEGORY
    if reviewing and context.user_data is not None:
        context.user_data.pop("reviewing", None)
        return await _show_summary(update, context, draft)
    return await _ask_attachments(update, context, draft)


def _describe(context: SambangContext, draft: Draft, text: str) -> None:
    """The text becomes the draft's description and suggests a category; DomainError if it cannot be one."""
    draft.description = validate_description(text, context.services.config.max_description)
    draft.suggested = suggest_category(draft.description)


async def _take_description(update: Update, context: SambangContext, draft: Draft, text: str) -> bool:
    """Text typed as the description: refuse it with the reason, or describe the draft and save it; True if taken."""
    try:
        _describe(context, draft, text)
    except DomainError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return False
    await _save(update, context, draft)
    return True


def _describe_by_caption(context: SambangContext, draft: Draft, caption: str) -> bool:
    """A photo's caption long enough becomes the draft's description (and suggests a category); True if it did."""
    try:
        _describe(context, draft, caption)
    except DomainError:
        return False  # too short (or long) for a description: it stays the photo's caption
    return True


@_categorised_step
async def photo_while_describing(update: Update, context: SambangContext, person: Person, draft: Draft) -> str | int:
    """A photo while the bot asks for the description: keep it; a caption long enough is the description."""
    message = update.effective_message
    assert message is not None
    reviewing = bool(context.user_data and context.user_data.get("reviewing"))
    caption = clean_caption(message.caption)
    described = bool(caption and not reviewing and draft.description is None
                     and _describe_by_caption(context, draft, caption))
    kept = _keep_photo(draft, message, None if described else caption)
    await _save(update, context, draft)
    if described:
        check = _needs_category_check(draft)
        if _album_pending(update, context, "early" if check else "attach", kept=kept, described=True):
            return CHOOSING_CATEGORY if check else ADDING_ATTACHMENTS
        if check:
            return await _after_description(update, context, draft)
        text = str(notice("caption_is_description")) + "\n" + _attachment_added_text(draft, f"Foto {len(draft.photos)}")
        await reply(update, "common/raw", text=text, reply_markup=keyboards.attachments_done(len(draft.photos)))
        return ADDING_ATTACHMENTS
    if _album_pending(update, context, "describe", kept=kept):
        return WRITING_DESCRIPTION
    await reply(update, "aspirations/aspiration_photo_before_description", photos=len(draft.photos),
                dropped=kept is False,
                max_photos=MAX_PHOTOS, reviewing=reviewing,
                reply_markup=keyboards.BACK_TO_SUMMARY if reviewing else None)
    return WRITING_DESCRIPTION


async def description_not_text(update: Update, context: SambangContext) -> str:
    await refuse(update, notice("describe_in_text"))
    return WRITING_DESCRIPTION


async def category_not_chosen(update: Update, context: SambangContext) -> str:
    await refuse(update, notice("choose_category"))
    return CHOOSING_CATEGORY


async def category_not_changed(update: Update, context: SambangContext) -> str:
    await refuse(update, notice("category_by_button"))
    return CHANGING_CATEGORY


# -- attachments ------------------------------------------------------------------------------------------------


async def _ask_attachments(update: Update, context: SambangContext, draft: Draft) -> str:
    await reply(update, "aspirations/aspiration_attachments", max_photos=MAX_PHOTOS, max_documents=MAX_DOCUMENTS,
                max_videos=MAX_VIDEOS,
                reply_markup=keyboards.attachments_done(len(draft.photos)))
    return ADDING_ATTACHMENTS


def _attachment_added_text(draft: Draft, what: str) -> str:
    return render("aspirations/aspiration_attachment_added", what=what, photos=len(draft.photos), max_photos=MAX_PHOTOS,
                  documents=len(draft.documents), location=draft.location is not None, videos=len(draft.videos),
                  voices=len(draft.voices))


async def _ack_attachment(update: Update, draft: Draft, what: str) -> None:
    await reply(update, "common/raw", text=_attachment_added_text(draft, what),
                reply_markup=keyboards.attachments_done(len(draft.photos)))


def _keep_photo(draft: Draft, message: Message, caption: str | None) -> bool | None:
    """Add the message's photo (largest size) to the draft: True if added, None if it is there already, False if
    the draft holds MAX_PHOTOS already."""
    largest = message.photo[-1]
    if any(p.file_unique_id == largest.file_unique_id for p in draft.photos):
        return None
    if len(draft.photos) >= MAX_PHOTOS:
        return False
    draft.attachments.append(Attachment("photo", largest.file_id, largest.file_unique_id,
                                        file_size=largest.file_size, caption=caption))
    return True


def _album_pending(update: Update, context: SambangContext, kind: str, *, kept: bool | None,
                   described: bool = False) -> bool:
    """A photo of an album: (re)schedule the album's one answer, sent once its last photo is in. False if the photo
    is no album's (answer it now). ``kept`` as _keep_photo says; ``described``: its caption became the description."""
    message = update.effective_message
    chat = update.effective_chat
    user = update.effective_user
    if message is None or not message.media_group_id or chat is None or user is None or context.job_queue is None:
        return False
    name = f"asp:album:{chat.id}:{message.media_group_id}"
    data: dict[str, Any] = {"kind": kind, "kept": 0, "dropped": 0, "described": False, "user_id": user.id}
    for job in context.job_queue.get_jobs_by_name(name):
        data = dict(cast(dict[str, Any], job.data))
        job.schedule_removal()
    data["kind"] = kind
    data["kept"] += int(kept is True)
    data["dropped"] += int(kept is False)
    data["described"] = data["described"] or described
    # PTB types CallbackContext.job_queue with its own unbound context type variable
    queue = cast("JobQueue[SambangContext]", context.job_queue)
    queue.run_once(_answer_album, ALBUM_QUIET_SECONDS, data=data, name=name, chat_id=chat.id,
                   user_id=user.id)
    return True


async def _answer_album(context: SambangContext) -> None:
    """The one answer to an album, from the draft as it is once every photo of it is saved."""
    job = context.job
    assert job is not None and job.chat_id is not None
    data = cast(dict[str, Any], job.data)
    draft = await context.services.aspirations.load_draft(int(data["user_id"]))
    if draft is None:  # cancelled meanwhile
        return
    dropped = int(data["dropped"])
    if data["kind"] == "early":
        text, markup = _early_answer(draft, dropped, described=bool(data["described"]))
    elif data["kind"] == "describe":
        text = render("aspirations/aspiration_photo_before_description", photos=len(draft.photos),
                      dropped=bool(dropped),
                      max_photos=MAX_PHOTOS, reviewing=False)
        markup = None
    else:
        text = _attachment_added_text(draft, f"Album ({data['kept']} foto)")
        if data["described"]:
            text = str(notice("caption_is_description")) + "\n" + text
        if dropped:
            text += "\n" + str(notice("album_photos_dropped", dropped=dropped, max_photos=MAX_PHOTOS))
        markup = keyboards.attachments_done(len(draft.photos))
    await context.bot.send_message(job.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)


def _early_answer(draft: Draft, dropped: int, *, described: bool) -> tuple[str, Any]:
    text = render("aspirations/aspiration_early_photos", photos=len(draft.photos), dropped=dropped,
                  max_photos=MAX_PHOTOS,
                  described=described, description=bool(draft.description), length=len(draft.description or ""),
                  suggested=draft.suggested)
    return text, keyboards.categories(draft.suggested, draft.category)


@_typed_step
async def photo_early(update: Update, context: SambangContext, person: Person) -> str | int:
    """A photo while the bot asks for the category: keep it; its caption, if long enough, is the description."""
    message = update.effective_message
    assert message is not None
    draft = await _draft(update, context) or Draft()
    caption = clean_caption(message.caption)
    described = bool(caption and draft.description is None and _describe_by_caption(context, draft, caption))
    kept = _keep_photo(draft, message, None if described else caption)
    await _save(update, context, draft)
    if _album_pending(update, context, "early", kept=kept, described=described):
        return CHOOSING_CATEGORY
    text, markup = _early_answer(draft, int(kept is False), described=described)
    await reply(update, "common/raw", text=text, reply_markup=markup)
    return CHOOSING_CATEGORY


@_draft_step
async def photo_added(update: Update, context: SambangContext, person: Person, draft: Draft) -> str | int:
    message = update.effective_message
    assert message is not None
    kept = _keep_photo(draft, message, clean_caption(message.caption))
    if kept:
        await _save(update, context, draft)
    if _album_pending(update, context, "attach", kept=kept):
        return ADDING_ATTACHMENTS
    if kept is False:
        await refuse(update, notice("photos_full", max_photos=MAX_PHOTOS), reply_markup=keyboards.ATTACHMENTS_DONE)
    elif kept:
        await _ack_attachment(update, draft, f"Foto {len(draft.photos)}")
    return ADDING_ATTACHMENTS


@_draft_step
async def attachment_at_summary(update: Update, context: SambangContext, person: Person, draft: Draft) -> str | int:
    """A photo, location, document, voice note or video sent while the summary shows: back to the attachment step
    with it."""
    message = update.effective_message
    assert message is not None
    await _retire_summary(update, context, draft)
    await _save(update, context, draft)
    if message.photo:
        return await photo_added(update, context)
    if message.location:
        return await location_added(update, context)
    if message.voice:
        return await voice_added(update, context)
    if message.video or message.video_note:
        return await video_added(update, context)
    return await document_added(update, context)


@_pressed_step
async def photo_list(update: Update, context: SambangContext, person: Person) -> str | int:
    """"🗑 Hapus foto": the photos by number, one button each."""
    query = update.callback_query
    assert query is not None and query.data is not None
    origin = callbacks.field(query.data, 1)
    state = REVIEWING_SUMMARY if origin == "sum" else ADDING_ATTACHMENTS
    draft = await _draft(update, context)
    if draft is None:
        await refuse(update, notice("draft_missing"), show_alert=True)
        return ConversationHandler.END
    if not draft.photos:
        await refuse(update, notice("no_photos"), show_alert=True)
        return state
    if origin == "sum":
        await _retire_summary(update, context, draft)
        await _save(update, context, draft)
    photos = [(n, p.file_unique_id or "", p.caption) for n, p in enumerate(draft.photos, start=1)]
    await reply(update, "aspirations/aspiration_remove_photo", photos=draft.photos,
                reply_markup=keyboards.remove_photo(photos, origin))
    return state


@_pressed_step
async def photo_removed(update: Update, context: SambangContext, person: Person) -> str | int:
    """A photo's button in the "Hapus foto" list: remove it, then back where the list was asked for."""
    query = update.callback_query
    assert query is not None and query.data is not None
    origin, unique_id = callbacks.field(query.data, 1), callbacks.rest(query.data, 3)
    draft = await _draft(update, context)
    if draft is None:
        await refuse(update, notice("draft_missing"), show_alert=True)
        return ConversationHandler.END
    number = next((n for n, p in enumerate(draft.photos, start=1) if (p.file_unique_id or "")[:40] == unique_id),
                  None)
    if number is None:
        await refuse(update, notice("stale_button"), show_alert=True)
        return REVIEWING_SUMMARY if origin == "sum" else ADDING_ATTACHMENTS
    draft.remove_photo(draft.photos[number - 1].file_unique_id or "")
    await _save(update, context, draft)
    await _clear_pressed(update)
    await reply(update, "aspirations/aspiration_photo_removed", number=number, photos=len(draft.photos),
                max_photos=MAX_PHOTOS,
                summary=origin == "sum",
                reply_markup=None if origin == "sum" else keyboards.attachments_done(len(draft.photos)))
    if origin == "sum":
        return await _show_summary(update, context, draft)
    return ADDING_ATTACHMENTS


@_pressed_draft_step
async def photo_list_closed(update: Update, context: SambangContext, person: Person, draft: Draft) -> str | int:
    """"↩️ Kembali" under the photo list at the attachment step."""
    await _clear_pressed(update)
    return await _ask_attachments(update, context, draft)


async def contact_during_aspiration(update: Update, context: SambangContext) -> bool:
    """A contact card from a kepala desa writing an aspiration: say it is no attachment (and no registration).

    Called by the contact handler of registration, which comes first; True if it was answered here.
    """
    user = update.effective_user
    if user is None:
        return False
    person = await current_person(update, context)
    if person is None or person.role is not Role.KEPALA_DESA:
        return False
    if await context.services.aspirations.load_draft(user.id) is None:
        return False
    await refuse(update, notice("contact_not_attachment"))
    return True


@_draft_step
async def location_added(update: Update, context: SambangContext, person: Person, draft: Draft) -> str | int:
    """A shared location: it replaces the one attached before, if any."""
    location = update.effective_message.location if update.effective_message is not None else None
    assert location is not None
    latitude, longitude = location.latitude, location.longitude
    if -90 <= latitude <= 90 and -180 <= longitude <= 180:
        draft.attachments = [a for a in draft.attachments if a.kind != "location"]
        draft.attachments.append(Attachment("location", latitude=latitude, longitude=longitude))
        await _save(update, context, draft)
        await _ack_attachment(update, draft, "Lokasi")
    else:
        await refuse(update, notice("location_invalid"))
    return ADDING_ATTACHMENTS


@_draft_step
async def document_added(update: Update, context: SambangContext, person: Person, draft: Draft) -> str | int:
    message = update.effective_message
    assert message is not None and message.document is not None
    doc = message.document
    name = clean_text(doc.file_name or "dokumen")[:128] or "dokumen"
    if (doc.file_size or 0) > MAX_DOCUMENT_BYTES:
        await refuse(update, notice("document_too_big", name=name), reply_markup=keyboards.ATTACHMENTS_DONE)
        return ADDING_ATTACHMENTS
    if not document_accepted(clean_text(doc.file_name or ""), doc.mime_type):
        await refuse(update, notice("document_type_refused"), reply_markup=keyboards.ATTACHMENTS_DONE)
        return ADDING_ATTACHMENTS
    if len(draft.documents) >= MAX_DOCUMENTS:
        await refuse(update, notice("documents_full", max_documents=MAX_DOCUMENTS),
                     reply_markup=keyboards.ATTACHMENTS_DONE)
        return ADDING_ATTACHMENTS
    draft.attachments.append(Attachment("document", doc.file_id, doc.file_unique_id, name, doc.mime_type,
                                        doc.file_size))
    await _save(update, context, draft)
    await _ack_attachment(update, draft, f"Dokumen {name}")
    return ADDING_ATTACHMENTS


@_pressed_draft_step
async def attachments_done(update: Update, context: SambangContext, person: Person, draft: Draft) -> str | int:
    if context.user_data is not None:
        context.user_data.pop("reviewing", None)
    return await _show_summary(update, context, draft)


async def attachments_text(update: Update, context: SambangContext) -> str | int:
    message = update.effective_message
    assert message is not None and message.text is not None
    if message.text.strip().lower() in DONE_WORDS:
        return await attachments_done(update, context)
    draft = await _draft(update, context)
    if draft is not None and draft.description is None and draft.voices:
        # told by voice first: the typed words join it as the written description
        if await _take_description(update, context, draft, message.text):
            await reply(update, "common/raw", text=notice("written_with_voice"),
                        reply_markup=keyboards.attachments_done(len(draft.photos)))
        return ADDING_ATTACHMENTS
    await refuse(update, notice("attachments_expected"), reply_markup=keyboards.ATTACHMENTS_DONE)
    return ADDING_ATTACHMENTS


# -- voice notes and videos -------------------------------------------------------------------------------------


def _seconds(value: int | timedelta | None) -> int:
    """A voice note's or video's length in whole seconds (PTB gives an int now, a timedelta later)."""
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return int(value or 0)


def _voice(message: Message) -> Attachment:
    voice = message.voice
    assert voice is not None
    with warnings.catch_warnings():  # PTB warns that durations become timedeltas; _seconds takes both
        warnings.simplefilter("ignore")
        duration = _seconds(voice.duration)
    return Attachment("voice", voice.file_id, voice.file_unique_id, mime_type=voice.mime_type,
                      file_size=voice.file_size, duration=duration)


def _voice_refusal(draft: Draft, voice: Attachment) -> str | None:
    """Why this voice note cannot be kept (the kepala desa's words), or None."""
    if (voice.file_size or 0) > MAX_VIDEO_BYTES:
        return str(notice("voice_too_big", size_mb=round((voice.file_size or 0) / 1024 / 1024)))
    if len(draft.voices) >= MAX_VOICES:
        return str(notice("voices_full", max_voices=MAX_VOICES))
    return None


async def _keep_voice(update: Update, context: SambangContext, draft: Draft, *, attaching: bool) -> Attachment | None:
    """Add the message's voice note to the draft and save it; None (refused, with the reason) if it cannot be."""
    message = update.effective_message
    assert message is not None
    voice = _voice(message)
    refusal = _voice_refusal(draft, voice)
    if refusal is not None:
        await refuse(update, refusal, reply_markup=keyboards.ATTACHMENTS_DONE if attaching else None)
        return None
    if any(v.file_unique_id == voice.file_unique_id for v in draft.voices):
        return voice  # the same voice note again (a repeated delivery): kept once
    caption = clean_caption(message.caption)
    # a caption long enough is the written description when there is none yet; else it stays the voice's caption
    if caption and not (draft.description is None and _describe_by_caption(context, draft, caption)):
        voice.caption = caption
    draft.attachments.append(voice)
    await _save(update, context, draft)
    return voice


@_categorised_step
async def voice_while_describing(update: Update, context: SambangContext, person: Person, draft: Draft) -> str | int:
    """A voice note where the bot asks for the description: it tells the aspiration (typed words may follow)."""
    voice = await _keep_voice(update, context, draft, attaching=False)
    if voice is None:
        return WRITING_DESCRIPTION
    if context.user_data is not None and context.user_data.pop("reviewing", None):
        return await _show_summary(update, context, draft)
    await reply(update, "aspirations/aspiration_voice_received", duration=voice.duration,
                described=bool(draft.description), max_photos=MAX_PHOTOS, max_documents=MAX_DOCUMENTS,
                max_videos=MAX_VIDEOS, reply_markup=keyboards.attachments_done(len(draft.photos)))
    return ADDING_ATTACHMENTS


@_draft_step
async def voice_added(update: Update, context: SambangContext, person: Person, draft: Draft) -> str | int:
    """A voice note with the attachments: beside the written description, or as it."""
    voice = await _keep_voice(update, context, draft, attaching=True)
    if voice is not None:
        seconds = voice.duration or 0
        await _ack_attachment(update, draft, f"Pesan suara {seconds // 60}:{seconds % 60:02d}")
    return ADDING_ATTACHMENTS


@_draft_step
async def video_added(update: Update, context: SambangContext, person: Person, draft: Draft) -> str | int:
    """A video or a round video note: kept as an attachment within the count and size the bot states."""
    message = update.effective_message
    assert message is not None
    video = message.video or message.video_note
    assert video is not None
    kind = "video" if message.video is not None else "video_note"
    size = video.file_size or 0
    if size > MAX_VIDEO_BYTES:
        await refuse(update, notice("video_too_big", size_mb=round(size / 1024 / 1024)),
                     reply_markup=keyboards.ATTACHMENTS_DONE)
        return ADDING_ATTACHMENTS
    if any(v.file_unique_id == video.file_unique_id for v in draft.videos):
        await _ack_attachment(update, draft, "Video")
        return ADDING_ATTACHMENTS
    if len(draft.videos) >= MAX_VIDEOS:
        await refuse(update, notice("videos_full", max_videos=MAX_VIDEOS), reply_markup=keyboards.ATTACHMENTS_DONE)
        return ADDING_ATTACHMENTS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        duration = _seconds(video.duration)
    file_name = getattr(video, "file_name", None)
    draft.attachments.append(Attachment(kind, video.file_id, video.file_unique_id,
                                        clean_text(file_name)[:128] if file_name else None,
                                        getattr(video, "mime_type", None), size, duration=duration,
                                        caption=clean_caption(message.caption)))
    await _save(update, context, draft)
    await _ack_attachment(update, draft, "Video" if kind == "video" else "Video bulat")
    return ADDING_ATTACHMENTS


# -- summary and sending ----------------------------------------------------------------------------------------


async def _show_summary(update: Update, context: SambangContext, draft: Draft, *, edit: bool = False) -> str:
    person = await _kepala_desa(update, context)
    assert draft.category is not None
    confidential = CATEGORY_BY_CODE[draft.category].confidential
    values = dict(person=person, draft=draft, confidential=confidential,
                  visit=await _visit_for(context, draft.visit_id))
    markup = keyboards.summary(confidential, draft.copy_to_camat, len(draft.photos))
    if edit and update.callback_query is not None:
        try:
            await update.callback_query.edit_message_text(render("aspirations/aspiration_summary", **values),
                                                          parse_mode=ParseMode.HTML, reply_markup=markup)
            return REVIEWING_SUMMARY
        except BadRequest:
            pass
    sent = await reply(update, "aspirations/aspiration_summary", reply_markup=markup, **values)
    if sent is not None:  # remembered, so that its buttons come off when the kepala desa leaves it
        draft.summary_message = sent.message_id
        await _save(update, context, draft)
    return REVIEWING_SUMMARY


@_pressed_step
async def summary_action(update: Update, context: SambangContext, person: Person) -> str | int:
    query = update.callback_query
    assert query is not None and query.data is not None
    action = callbacks.field(query.data, -1)
    draft = await _draft(update, context)
    if draft is None:
        await refuse(update, await _already_done(context, person), show_alert=True)
        return ConversationHandler.END
    if action == "camat":
        if draft.category and CATEGORY_BY_CODE[draft.category].confidential:
            await refuse(update, notice("confidential_no_copy"), show_alert=True)
            return REVIEWING_SUMMARY
        draft.copy_to_camat = not draft.copy_to_camat
        await _save(update, context, draft)
        return await _show_summary(update, context, draft, edit=True)
    if action in ("edit", "cat", "att"):
        if context.user_data is not None:
            context.user_data["reviewing"] = True
        await _retire_summary(update, context, draft)
        await _save(update, context, draft)
        if action == "edit":
            return await _ask_description(update, context, draft, back=True)
        if action == "att":
            return await _ask_attachments(update, context, draft)
        await reply(update, "aspirations/aspiration_change_category", category=draft.category,
                    reply_markup=keyboards.change_category(draft.category))
        return CHANGING_CATEGORY
    if action == "photos":
        return await photo_list(update, context)
    if action == "back":
        if context.user_data is not None:
            context.user_data.pop("reviewing", None)
        await _clear_pressed(update)
        if draft.summary_message is not None:
            await _retire_summary(update, context, draft)
        if draft.category is None or draft.description is None:
            return await _continue(update, context, draft)
        return await _show_summary(update, context, draft)
    if action == "cancel" and draft.description:
        # a full draft is not thrown away by one slip of the thumb: ask once
        await _retire_summary(update, context, draft)
        await _save(update, context, draft)
        await reply(update, "aspirations/aspiration_cancel_confirm", attachments=len(draft.attachments),
                    reply_markup=keyboards.CONFIRM_CANCEL)
        return REVIEWING_SUMMARY
    if action in ("cancel", "cancelok"):
        return await cancel(update, context)
    if action not in ("send", "sendok"):
        await refuse(update, notice("stale_button"), show_alert=True)
        return REVIEWING_SUMMARY
    if draft.visit_id is not None:  # the visit may have passed or been cancelled since the draft was tagged
        refusal = await _visit_refusal(context, person, draft.visit_id, sending=True)
        if refusal is not None:
            draft.visit_id = None
            await _save(update, context, draft)
            await reply(update, "common/refusal", message=refusal)
            return await _show_summary(update, context, draft)
    if action == "send":  # open aspirations nearby about the same problem are offered first ("tetap kirim?")
        duplicates = await context.services.aspirations.possible_duplicates(person, draft)
        if duplicates:
            await reply(update, "aspirations/aspiration_possible_duplicates", duplicates=duplicates,
                        reply_markup=keyboards.POSSIBLE_DUPLICATES)
            return REVIEWING_SUMMARY
    # Send: one aspiration per draft, however often the button is pressed.
    summary = (query.message.chat.id, query.message.message_id) if query.message is not None else None
    if action == "sendok":  # pressed under the possible duplicates: the summary's buttons come off too
        await _clear_pressed(update)
        if summary is not None and draft.summary_message is not None:
            summary = (summary[0], draft.summary_message)
    aspiration, _created = await context.services.aspirations.submit(
        person, draft, f"{person.id}:{draft.token}", summary_message=summary)
    if context.user_data is not None:
        context.user_data.pop("reviewing", None)
    receipt = await reply(update, "aspirations/aspiration_receipt", aspiration=aspiration)
    if receipt is not None:  # a Telegram reply to the receipt joins the aspiration's thread
        await context.services.thread.remember(receipt.chat.id, receipt.message_id, aspiration.id)
    return ConversationHandler.END


async def _already_done(context: SambangContext, person: Any) -> str:
    """What an old summary's button should say: the ticket it became, if it was sent in the last day."""
    recent = [a for a in await context.services.aspirations.list_for(person, limit=5) if a.submitter_id == person.id]
    if recent:
        newest = recent[0]
        age = context.services.clock.now() - from_iso(newest.created_at)
        if age.total_seconds() < 86400:
            return notice("already_sent_ticket", ticket=newest.ticket)
    return notice("already_sent")


async def summary_text(update: Update, context: SambangContext) -> str:
    await refuse(update, notice("press_send"))
    return REVIEWING_SUMMARY


async def cancel(update: Update, context: SambangContext) -> int:
    await _answer(update)
    user = update.effective_user
    assert user is not None
    removed = await context.services.aspirations.discard_draft(user.id)
    if context.user_data is not None:
        context.user_data.pop("reviewing", None)
    await drop_buttons(update)
    await reply(update, "aspirations/aspiration_cancelled" if removed else "common/nothing_to_cancel")
    return ConversationHandler.END


async def stale_button(update: Update, context: SambangContext) -> None:
    """A button of a finished or cancelled aspiration (outside the conversation)."""
    query = update.callback_query
    if query is not None and query.data == "asp:sum:send":
        person = await current_person(update, context)
        if person is not None and person.role is Role.KEPALA_DESA and await _draft(update, context) is None:
            await refuse(update, await _already_done(context, person), show_alert=True)
            return
    await refuse(update, notice("stale_button"), show_alert=True)


async def cancel_outside(update: Update, context: SambangContext) -> None:
    """/batal outside the conversation: remove a leftover draft if there is one."""
    user = update.effective_user
    assert user is not None
    removed = await context.services.aspirations.discard_draft(user.id)
    if not removed:
        for cancel_other in context.cancel_hooks:  # e.g. a half-written village potential
            if await cancel_other(update, context):
                return
    await reply(update, "aspirations/aspiration_cancelled" if removed else "common/nothing_to_cancel")


async def offer_aspiration(update: Update, context: SambangContext) -> bool:
    """Text a kepala desa typed outside any flow that reads like an aspiration: keep it and offer to start one.

    False (nothing sent) when the text is too short or too long to be a description.
    """
    message = update.effective_message
    user = update.effective_user
    if message is None or message.text is None or user is None:
        return False
    try:
        text = validate_description(message.text, context.services.config.max_description)
    except DomainError:
        return False
    await context.services.aspirations.offer_text(user.id, text)
    await reply(update, "common/unknown_text", offer=True, reply_markup=keyboards.OFFER)
    return True


@_typed_step
async def start_from_text(update: Update, context: SambangContext, person: Person) -> str | int:
    """"📝 Jadikan aspirasi": the offered text becomes a new draft's description; the category is asked next."""
    user = update.effective_user
    assert user is not None
    existing = await _draft(update, context)
    if existing is not None and (existing.description or existing.category):
        # an unsent aspiration comes first; the offered text stays for a later press
        await _answer(update)
        await reply(update, "aspirations/aspiration_resume", draft=existing, reply_markup=keyboards.RESUME)
        return RESUMING_DRAFT
    text = await context.services.aspirations.take_offered_text(user.id)
    if text is None:
        await refuse(update, notice("stale_button"), show_alert=True)
        return ConversationHandler.END
    await _answer(update)
    await _clear_pressed(update)
    draft = Draft(description=text, suggested=suggest_category(text))
    await _save(update, context, draft)
    await reply(update, "aspirations/aspiration_suggest", length=len(text), suggested=draft.suggested,
                reply_markup=keyboards.categories(draft.suggested))
    return CHOOSING_CATEGORY


def build_conversation() -> ConversationHandler[SambangContext]:
    private, text, other = flow.PRIVATE, flow.TEXT, flow.OTHER
    return flow.drafting("aspirasi", start_aspiration, [
        (r"^asp:new(:\d+)?$", start_aspiration),
        (r"^asp:text$", start_from_text),
    ], {
        RESUMING_DRAFT: [(r"^asp:resume:(yes|new)$", resume_choice)],
        CHOOSING_CATEGORY: [(r"^asp:cat:", category_chosen), (text, description_first),
                            (private & filters.PHOTO, photo_early), (other, category_not_chosen)],
        CHANGING_CATEGORY: [(r"^asp:cat:", category_chosen), (text, category_typed), (other, category_not_changed)],
        WRITING_DESCRIPTION: [(text, description_written), (private & filters.PHOTO, photo_while_describing),
                              (private & filters.VOICE, voice_while_describing), (other, description_not_text)],
        ADDING_ATTACHMENTS: [
            (private & filters.PHOTO, photo_added),
            (private & filters.LOCATION, location_added),
            (private & filters.Document.ALL, document_added),
            (private & filters.VOICE, voice_added),
            (private & (filters.VIDEO | filters.VIDEO_NOTE), video_added),
            (r"^asp:att:done$", attachments_done),
            (r"^asp:att:photos$", photo_list),
            (r"^asp:att:rm:", photo_removed),
            (r"^asp:att:keep$", photo_list_closed),
            (text, attachments_text),
        ],
        REVIEWING_SUMMARY: [
            (r"^asp:sum:rm:", photo_removed),
            (r"^asp:sum:", summary_action),
            (private & (filters.PHOTO | filters.LOCATION | filters.Document.ALL | filters.VOICE | filters.VIDEO
                        | filters.VIDEO_NOTE), attachment_at_summary),
            (text, summary_text),
        ],
    }, [(r"^asp:sum:(cancel|cancelok|back)$", summary_action)], cancel=cancel)


def register(app: SambangApp) -> None:
    app.add_handler(build_conversation())
    # /batal outside every conversation is a fallback (handlers/fallback.py), so that the guided flows registered
    # after this module still get their own /batal first.
    app.add_handler(CallbackQueryHandler(stale_button, pattern=r"^asp:(cat|att|sum|resume):"))
