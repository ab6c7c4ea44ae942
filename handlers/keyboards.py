"""Inline keyboards people press. Callback data is short, prefixed, and always re-checked on the server."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import CATEGORIES, category_label


def categories(suggested: str | None = None, chosen: str | None = None) -> InlineKeyboardMarkup:
    order = list(CATEGORIES)
    first = [c for c in order if c.code in (suggested, chosen)]
    first.sort(key=lambda c: 0 if c.code == suggested else 1)
    rest = [c for c in order if c not in first]
    rows = []
    for cat in first + rest:
        mark = "✅ " if cat.code == suggested else ""
        suffix = " (disarankan)" if cat.code == suggested else (" (pilihan Anda)" if cat.code == chosen else "")
        rows.append([InlineKeyboardButton(f"{mark}{cat.label}{suffix}", callback_data=f"asp:cat:{cat.code}")])
    return InlineKeyboardMarkup(rows)


def confirm_category(suggested: str, chosen: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(f"✅ {category_label(suggested)}", callback_data=f"asp:cat:{suggested}")],
        [InlineKeyboardButton(f"Tetap {category_label(chosen)}", callback_data=f"asp:cat:{chosen}")],
        [InlineKeyboardButton("Pilih kategori lain", callback_data="asp:cat:?")],
    ])


ATTACHMENTS_DONE = InlineKeyboardMarkup([[InlineKeyboardButton("➡️ Lanjut ke ringkasan", callback_data="asp:att:done")]])


def summary(confidential: bool, copy_to_camat: bool) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton("✅ Kirim", callback_data="asp:sum:send")]]
    if not confidential:
        label = "📨 Tembusan ke camat: Ya" if copy_to_camat else "📨 Tembusan ke camat: Tidak"
        rows.append([InlineKeyboardButton(label, callback_data="asp:sum:camat")])
    rows.append([
        InlineKeyboardButton("✏️ Ubah uraian", callback_data="asp:sum:edit"),
        InlineKeyboardButton("🏷 Ubah kategori", callback_data="asp:sum:cat"),
    ])
    rows.append([InlineKeyboardButton("❌ Batal", callback_data="asp:sum:cancel")])
    return InlineKeyboardMarkup(rows)


RESUME = InlineKeyboardMarkup([
    [InlineKeyboardButton("▶️ Lanjutkan draf", callback_data="asp:resume:yes")],
    [InlineKeyboardButton("🆕 Mulai baru", callback_data="asp:resume:new")],
])
