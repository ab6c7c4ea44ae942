"""Indonesian day and month names, shared by every part of the bot that shows a date to users."""

from __future__ import annotations

import datetime as dt

#: Day names indexed by ``date.weekday()`` (0 = Senin … 6 = Minggu).
HARI: tuple[str, ...] = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")

#: Month names indexed by ``date.month - 1`` (0 = Januari … 11 = Desember).
BULAN: tuple[str, ...] = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def nama_hari(d: dt.date) -> str:
    """Indonesian day name of a date: "Senin"."""
    return HARI[d.weekday()]


def nama_bulan(month: int) -> str:
    """Indonesian name of a month number 1..12: "Januari"."""
    if not 1 <= month <= 12:
        raise ValueError(f"Bulan harus 1 sampai 12, bukan {month}.")
    return BULAN[month - 1]


def format_tanggal(d: dt.date) -> str:
    """Full Indonesian date with the day name: "Senin, 12 Januari 2026"."""
    return f"{nama_hari(d)}, {d.day} {nama_bulan(d.month)} {d.year}"
