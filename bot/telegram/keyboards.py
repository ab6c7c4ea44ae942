"""Inline keyboards people press. Callback data is short, prefixed, and always re-checked on the server."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.domain import CATEGORIES, category_label
from bot.core.wording import phrases
from bot.messaging import callbacks

#: The labels, from messages/aspirations/buttons.txt.j2 (read once: the constants below are built from them).
_W = phrases("aspirations/buttons")


def categories(suggested: str | None = None, chosen: str | None = None) -> InlineKeyboardMarkup:
    order = list(CATEGORIES)
    first = [c for c in order if c.code in (suggested, chosen)]
    first.sort(key=lambda c: 0 if c.code == suggested else 1)
    rest = [c for c in order if c not in first]
    rows = []
    for cat in first + rest:
        mark = "✅ " if cat.code == suggested else ""
        suffix = _W["suggested"] if cat.code == suggested else (_W["your_choice"] if cat.code == chosen else "")
        data = callbacks.build("asp", "cat", cat.code)
        rows.append([InlineKeyboardButton(f"{mark}{cat.label}{suffix}", callback_data=data)])
    return InlineKeyboardMarkup(rows)


def confirm_category(suggested: str, chosen: str) -> InlineKeyboardMarkup:
    take, keep = callbacks.build("asp", "cat", suggested), callbacks.build("asp", "cat", chosen)
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(f"✅ {category_label(suggested)}", callback_data=take)],
        [InlineKeyboardButton(f"{_W['keep_category']} {category_label(chosen)}", callback_data=keep)],
        [InlineKeyboardButton(_W["other_category"], callback_data="asp:cat:?")],
    ])


ATTACHMENTS_DONE = InlineKeyboardMarkup([[InlineKeyboardButton(_W["to_summary"], callback_data="asp:att:done")]])
BACK_BUTTON = InlineKeyboardButton(_W["back_to_summary"], callback_data="asp:sum:back")
BACK_TO_SUMMARY = InlineKeyboardMarkup([[BACK_BUTTON]])
CONFIRM_CANCEL = InlineKeyboardMarkup([
    [InlineKeyboardButton(_W["cancel_yes"], callback_data="asp:sum:cancelok")],
    [InlineKeyboardButton(_W["cancel_no"], callback_data="asp:sum:back")],
])
POSSIBLE_DUPLICATES = InlineKeyboardMarkup([
    [InlineKeyboardButton(_W["send_anyway"], callback_data="asp:sum:sendok")],
    [BACK_BUTTON],
])
OFFER = InlineKeyboardMarkup([[InlineKeyboardButton(_W["offer"], callback_data="asp:text")]])


def attachments_done(photos: int) -> InlineKeyboardMarkup:
    """The attachment step's buttons: on to the summary, and a way to take a wrong photo off."""
    if not photos:
        return ATTACHMENTS_DONE
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(_W["to_summary"], callback_data="asp:att:done")],
        [InlineKeyboardButton(_W["remove_photo"], callback_data="asp:att:photos")],
    ])


def change_category(chosen: str | None) -> InlineKeyboardMarkup:
    """The categories (the current one marked) and the way back to the summary."""
    rows = list(categories(None, chosen).inline_keyboard)
    return InlineKeyboardMarkup([*rows, [BACK_BUTTON]])


def remove_photo(photos: list[tuple[int, str, str | None]], origin: str) -> InlineKeyboardMarkup:
    """One button per photo (number, unique id, caption); ``origin`` is "sum" or "att", where to go back to."""
    rows = []
    for number, unique_id, caption in photos:
        label = f"{_W['photo']} {number}" + (f": {caption[:30]}" if caption else "")
        rows.append([InlineKeyboardButton(label, callback_data=callbacks.build("asp", origin, "rm", unique_id[:40]))])
    back = BACK_BUTTON if origin == "sum" else InlineKeyboardButton(_W["back"], callback_data="asp:att:keep")
    rows.append([back])
    return InlineKeyboardMarkup(rows)


def summary(confidential: bool, copy_to_camat: bool, photos: int = 0) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(_W["send"], callback_data="asp:sum:send")]]
    if not confidential:
        label = _W["copy_yes"] if copy_to_camat else _W["copy_no"]
        rows.append([InlineKeyboardButton(label, callback_data="asp:sum:camat")])
    rows.append([
        InlineKeyboardButton(_W["edit_description"], callback_data="asp:sum:edit"),
        InlineKeyboardButton(_W["edit_category"], callback_data="asp:sum:cat"),
    ])
    attachments = [InlineKeyboardButton(_W["attachments"], callback_data="asp:sum:att")]
    if photos:
        attachments.append(InlineKeyboardButton(_W["remove_photo"], callback_data="asp:sum:photos"))
    rows.append(attachments)
    rows.append([InlineKeyboardButton(_W["cancel"], callback_data="asp:sum:cancel")])
    return InlineKeyboardMarkup(rows)


RESUME = InlineKeyboardMarkup([
    [InlineKeyboardButton(_W["resume"], callback_data="asp:resume:yes")],
    [InlineKeyboardButton(_W["start_new"], callback_data="asp:resume:new")],
])
