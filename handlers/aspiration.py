"""/aspirasi: a kepala desa writes an aspiration step by step — category, description, attachments, summary.

Every step is saved as a draft in SQLite before the bot answers, and the conversation state is persisted, so a
half-written aspiration survives a restart. /batal cancels at any step.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.aspirations import (
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENTS,
    MAX_PHOTOS,
    Attachment,
    Draft,
    clean_text,
    document_accepted,
    validate_description,
)
from bot.classifier import suggest_category
from bot.clock import from_iso
from bot.domain import CATEGORY_BY_CODE, DomainError, Role
from bot.templates import render

from . import keyboards
from .common import (
    CANCEL_HOOKS,
    SambangContext,
    answer_button,
    current_person,
    notice,
    person_or_refuse,
    refuse,
    reply,
)

log = logging.getLogger(__name__)

# What the kepala desa is doing right now.
CHOOSING_CATEGORY = "memilih_kategori"
WRITING_DESCRIPTION = "menulis_uraian"
ADDING_ATTACHMENTS = "melampirkan"
REVIEWING_SUMMARY = "memeriksa_ringkasan"
RESUMING_DRAFT = "melanjutkan_draf"

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


async def _visit_for(context: SambangContext, visit_id: int | None) -> Any:
    visits = context.services.extra.get("visits")
    if visit_id is None or visits is None:
        return None
    try:
        return await visits.get(visit_id)
    except DomainError:
        return None


# -- entry ------------------------------------------------------------------------------------------------------


async def start_aspiration(update: Update, context: SambangContext) -> str | int:
    """/aspirasi, or the button under a visit announcement (asp:new:<visit_id>)."""
    await _answer(update)
    person = await _kepala_desa(update, context)
    if person is None:
        return ConversationHandler.END
    visit_id = None
    if update.callback_query is not None and update.callback_query.data:
        parts = update.callback_query.data.split(":")
        if len(parts) == 3 and parts[2].isdigit():
            visit = await _visit_for(context, int(parts[2]))
            if visit is not None and not (person.desa_code or "").startswith(f"{visit.kecamatan_code}."):
                visit = None  # a visit to another kecamatan (a forged button) is not this village's to tag
            if visit is None:
                # the press was already answered above, so say it in the chat: a second answer would be refused
                await reply(update, "refusal", message=notice("visit_not_found"))
                return ConversationHandler.END
            visit_id = visit.id
    existing = await _draft(update, context)
    if existing is not None and (existing.description or existing.category):
        if visit_id is not None:
            existing.visit_id = visit_id
            await _save(update, context, existing)
        await reply(update, "aspiration_resume", draft=existing, reply_markup=keyboards.RESUME)
        return RESUMING_DRAFT
    return await _new_draft(update, context, visit_id)


async def _new_draft(update: Update, context: SambangContext, visit_id: int | None = None) -> str:
    draft = Draft(visit_id=visit_id)
    await _save(update, context, draft)
    await reply(update, "aspiration_start", visit=await _visit_for(context, visit_id),
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
        await reply(update, "aspiration_start", visit=await _visit_for(context, draft.visit_id),
                    reply_markup=keyboards.categories(draft.suggested))
        return CHOOSING_CATEGORY
    if draft.description is None:
        return await _ask_description(update, context, draft)
    return await _show_summary(update, context, draft)


# -- category and description -----------------------------------------------------------------------------------


async def _ask_description(update: Update, context: SambangContext, draft: Draft) -> str:
    assert draft.category is not None
    await reply(update, "aspiration_describe", category=draft.category,
                confidential=CATEGORY_BY_CODE[draft.category].confidential,
                max_length=context.services.config.max_description)
    return WRITING_DESCRIPTION


async def category_chosen(update: Update, context: SambangContext) -> str | int:
    await _answer(update)
    if await _kepala_desa(update, context) is None:
        return ConversationHandler.END
    query = update.callback_query
    assert query is not None and query.data is not None
    code = query.data.split(":", 2)[2]
    draft = await _draft(update, context)
    if draft is None:
        await refuse(update, notice("draft_missing"), show_alert=True)
        return ConversationHandler.END
    if code == "?":
        await reply(update, "aspiration_start", visit=None,
                    reply_markup=keyboards.categories(draft.suggested, draft.category))
        return CHOOSING_CATEGORY
    if code not in CATEGORY_BY_CODE:
        await refuse(update, notice("category_unknown"), show_alert=True)
        return CHOOSING_CATEGORY
    draft.category = code
    if CATEGORY_BY_CODE[code].confidential:
        draft.copy_to_camat = False
    await _save(update, context, draft)
    if draft.description is None:
        return await _ask_description(update, context, draft)
    if context.user_data is not None and context.user_data.pop("reviewing", False):
        return await _show_summary(update, context, draft)
    return await _ask_attachments(update, context, draft)


async def description_first(update: Update, context: SambangContext) -> str | int:
    """Text typed instead of choosing a category: take it as the description and suggest a category."""
    if await _kepala_desa(update, context) is None:
        return ConversationHandler.END
    draft = await _draft(update, context) or Draft()
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        draft.description = validate_description(message.text, context.services.config.max_description)
    except DomainError as exc:
        await reply(update, "refusal", message=exc.message)
        return CHOOSING_CATEGORY
    draft.suggested = suggest_category(draft.description)
    await _save(update, context, draft)
    await reply(update, "aspiration_suggest", length=len(draft.description), suggested=draft.suggested,
                reply_markup=keyboards.categories(draft.suggested))
    return CHOOSING_CATEGORY


async def description_written(update: Update, context: SambangContext) -> str | int:
    if await _kepala_desa(update, context) is None:
        return ConversationHandler.END
    draft = await _draft(update, context)
    if draft is None or draft.category is None:
        await refuse(update, notice("draft_missing"))
        return ConversationHandler.END
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        draft.description = validate_description(message.text, context.services.config.max_description)
    except DomainError as exc:
        await reply(update, "refusal", message=exc.message)
        return WRITING_DESCRIPTION
    draft.suggested = suggest_category(draft.description)
    await _save(update, context, draft)
    reviewing = bool(context.user_data and context.user_data.get("reviewing"))
    if draft.suggested not in (draft.category, "lainnya") and not CATEGORY_BY_CODE[draft.category].confidential:
        await reply(update, "aspiration_category_check", length=len(draft.description), chosen=draft.category,
                    suggested=draft.suggested,
                    reply_markup=keyboards.confirm_category(draft.suggested, draft.category))
        return CHOOSING_CATEGORY
    if reviewing and context.user_data is not None:
        context.user_data.pop("reviewing", None)
        return await _show_summary(update, context, draft)
    return await _ask_attachments(update, context, draft)


async def description_not_text(update: Update, context: SambangContext) -> str:
    await refuse(update, notice("describe_in_text"))
    return WRITING_DESCRIPTION


async def category_not_chosen(update: Update, context: SambangContext) -> str:
    await refuse(update, notice("choose_category"))
    return CHOOSING_CATEGORY


# -- attachments ------------------------------------------------------------------------------------------------


async def _ask_attachments(update: Update, context: SambangContext, draft: Draft) -> str:
    await reply(update, "aspiration_attachments", max_photos=MAX_PHOTOS, max_documents=MAX_DOCUMENTS,
                reply_markup=keyboards.ATTACHMENTS_DONE)
    return ADDING_ATTACHMENTS


async def _ack_attachment(update: Update, draft: Draft, what: str) -> None:
    await reply(update, "aspiration_attachment_added", what=what, photos=len(draft.photos),
                max_photos=MAX_PHOTOS, documents=len(draft.documents), location=draft.location is not None,
                reply_markup=keyboards.ATTACHMENTS_DONE)


async def photo_added(update: Update, context: SambangContext) -> str | int:
    if await _kepala_desa(update, context) is None:
        return ConversationHandler.END
    draft = await _draft(update, context)
    message = update.effective_message
    assert message is not None
    if draft is None:
        return ConversationHandler.END
    if len(draft.photos) >= MAX_PHOTOS:
        await refuse(update, notice("photos_full", max_photos=MAX_PHOTOS), reply_markup=keyboards.ATTACHMENTS_DONE)
        return ADDING_ATTACHMENTS
    largest = message.photo[-1]
    if any(p.file_unique_id == largest.file_unique_id for p in draft.photos):
        return ADDING_ATTACHMENTS
    draft.attachments.append(Attachment("photo", largest.file_id, largest.file_unique_id,
                                        file_size=largest.file_size))
    await _save(update, context, draft)
    await _ack_attachment(update, draft, f"Foto {len(draft.photos)}")
    return ADDING_ATTACHMENTS


async def location_added(update: Update, context: SambangContext) -> str | int:
    if await _kepala_desa(update, context) is None:
        return ConversationHandler.END
    draft = await _draft(update, context)
    message = update.effective_message
    assert message is not None and message.location is not None
    if draft is None:
        return ConversationHandler.END
    loc = message.location
    if not (-90 <= loc.latitude <= 90 and -180 <= loc.longitude <= 180):
        await refuse(update, notice("location_invalid"))
        return ADDING_ATTACHMENTS
    draft.attachments = [a for a in draft.attachments if a.kind != "location"]
    draft.attachments.append(Attachment("location", latitude=loc.latitude, longitude=loc.longitude))
    await _save(update, context, draft)
    await _ack_attachment(update, draft, "Lokasi")
    return ADDING_ATTACHMENTS


async def document_added(update: Update, context: SambangContext) -> str | int:
    if await _kepala_desa(update, context) is None:
        return ConversationHandler.END
    draft = await _draft(update, context)
    message = update.effective_message
    assert message is not None and message.document is not None
    if draft is None:
        return ConversationHandler.END
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


async def attachments_done(update: Update, context: SambangContext) -> str | int:
    await _answer(update)
    if await _kepala_desa(update, context) is None:
        return ConversationHandler.END
    draft = await _draft(update, context)
    if draft is None:
        await refuse(update, notice("draft_missing"), show_alert=True)
        return ConversationHandler.END
    return await _show_summary(update, context, draft)


async def attachments_text(update: Update, context: SambangContext) -> str | int:
    message = update.effective_message
    assert message is not None and message.text is not None
    if message.text.strip().lower() in DONE_WORDS:
        return await attachments_done(update, context)
    await refuse(update, notice("attachments_expected"), reply_markup=keyboards.ATTACHMENTS_DONE)
    return ADDING_ATTACHMENTS


# -- summary and sending ----------------------------------------------------------------------------------------


async def _show_summary(update: Update, context: SambangContext, draft: Draft, *, edit: bool = False) -> str:
    person = await _kepala_desa(update, context)
    assert draft.category is not None
    confidential = CATEGORY_BY_CODE[draft.category].confidential
    values = dict(person=person, draft=draft, confidential=confidential,
                  visit=await _visit_for(context, draft.visit_id))
    markup = keyboards.summary(confidential, draft.copy_to_camat)
    if edit and update.callback_query is not None:
        try:
            await update.callback_query.edit_message_text(render("aspiration_summary", **values),
                                                          parse_mode=ParseMode.HTML, reply_markup=markup)
            return REVIEWING_SUMMARY
        except BadRequest:
            pass
    await reply(update, "aspiration_summary", reply_markup=markup, **values)
    return REVIEWING_SUMMARY


async def summary_action(update: Update, context: SambangContext) -> str | int:
    await _answer(update)
    person = await _kepala_desa(update, context)
    if person is None:
        return ConversationHandler.END
    query = update.callback_query
    assert query is not None and query.data is not None
    action = query.data.rsplit(":", 1)[1]
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
    if action == "edit":
        if context.user_data is not None:
            context.user_data["reviewing"] = True
        return await _ask_description(update, context, draft)
    if action == "cat":
        if context.user_data is not None:
            context.user_data["reviewing"] = True
        await reply(update, "aspiration_start", visit=None,
                    reply_markup=keyboards.categories(draft.suggested, draft.category))
        return CHOOSING_CATEGORY
    if action == "cancel":
        return await cancel(update, context)
    if action != "send":
        await refuse(update, notice("stale_button"), show_alert=True)
        return REVIEWING_SUMMARY
    # Send: one aspiration per draft, however often the button is pressed.
    summary = (query.message.chat.id, query.message.message_id) if query.message is not None else None
    aspiration, _created = await context.services.aspirations.submit(
        person, draft, f"{person.id}:{draft.token}", summary_message=summary)
    if context.user_data is not None:
        context.user_data.pop("reviewing", None)
    await reply(update, "aspiration_receipt", aspiration=aspiration)
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
    if update.callback_query is not None and update.callback_query.message is not None:
        try:
            await update.callback_query.edit_message_reply_markup(None)
        except BadRequest:
            pass
    await reply(update, "aspiration_cancelled" if removed else "nothing_to_cancel")
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
        for cancel_other in CANCEL_HOOKS:  # e.g. a half-written village potential
            if await cancel_other(update, context):
                return
    await reply(update, "aspiration_cancelled" if removed else "nothing_to_cancel")


def build_conversation() -> ConversationHandler:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    text = private & filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[
            CommandHandler("aspirasi", start_aspiration, filters=private),
            CallbackQueryHandler(start_aspiration, pattern=r"^asp:new(:\d+)?$"),
        ],
        states={
            RESUMING_DRAFT: [CallbackQueryHandler(resume_choice, pattern=r"^asp:resume:(yes|new)$")],
            CHOOSING_CATEGORY: [
                CallbackQueryHandler(category_chosen, pattern=r"^asp:cat:"),
                MessageHandler(text, description_first),
                MessageHandler(private & ~filters.COMMAND, category_not_chosen),
            ],
            WRITING_DESCRIPTION: [
                MessageHandler(text, description_written),
                MessageHandler(private & ~filters.COMMAND, description_not_text),
            ],
            ADDING_ATTACHMENTS: [
                MessageHandler(private & filters.PHOTO, photo_added),
                MessageHandler(private & filters.LOCATION, location_added),
                MessageHandler(private & filters.Document.ALL, document_added),
                CallbackQueryHandler(attachments_done, pattern=r"^asp:att:done$"),
                MessageHandler(text, attachments_text),
            ],
            REVIEWING_SUMMARY: [
                CallbackQueryHandler(summary_action, pattern=r"^asp:sum:"),
                MessageHandler(text, summary_text),
            ],
        },
        fallbacks=[
            CommandHandler("batal", cancel, filters=private),
            CallbackQueryHandler(summary_action, pattern=r"^asp:sum:cancel$"),
        ],
        name="aspirasi",
        persistent=True,
        allow_reentry=True,
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(build_conversation())
    # /batal outside every conversation is a fallback (handlers/fallback.py), so that the guided flows registered
    # after this module still get their own /batal first.
    app.add_handler(CallbackQueryHandler(stale_button, pattern=r"^asp:(cat|att|sum|resume):"))
