"""Text cleaning keeps emoji sequences whole (the zero-width joiner inside "👨‍👩‍👧") while it still removes direction
overrides, zero-width characters between letters and control characters."""

from __future__ import annotations

import pytest

from bot.core.text import clean_text
from tests.harness import BotHarness

FAMILY = "👨\u200d👩\u200d👧"
KEPT = [
    FAMILY,
    "👨\u200d👩\u200d👧\u200d👦",  # family of four
    "👩🏽\u200d💻",  # woman technologist, medium skin tone
    "🏳️\u200d🌈",  # rainbow flag (white flag, VS16, ZWJ, rainbow)
    "❤️\u200d🔥",  # heart on fire (a BMP symbol with VS16)
    "🧑\u200d🤝\u200d🧑",  # people holding hands
    "👮\u200d♀️",  # policewoman (♀ is a BMP symbol)
]


@pytest.mark.parametrize("sequence", KEPT)
def test_zero_width_joiners_inside_emoji_sequences_are_kept(sequence: str) -> None:
    assert clean_text(f"warga {sequence} menunggu") == f"warga {sequence} menunggu"


@pytest.mark.parametrize(("dirty", "clean"), [
    ("jalan\u200drusak", "jalanrusak"),  # between letters: no emoji to join
    ("\u200d👨 awal", "👨 awal"),
    ("akhir 👨\u200d", "akhir 👨"),
    ("👨\u200d jalan", "👨 jalan"),
    ("jalan \u200d👩", "jalan 👩"),
    ("👨\u200b\u200d👩", "👨👩"),  # a zero-width space in the middle breaks the sequence: both go
    ("\u202ekaser nalaj\u202c rusak", "kaser nalaj rusak"),
    ("\u2067ab\u2069 \u200ecd\u200f", "ab cd"),
    ("👨\u202e\u200d👩", "👨👩"),  # an override between emoji is still removed, and the joiner with it
    ("nul\x00 dan \x1b[31mwarna\x7f", "nul dan [31mwarna"),
    ("baris satu\nbaris dua", "baris satu\nbaris dua"),
])
def test_direction_overrides_zero_width_and_control_characters_are_removed(dirty: str, clean: str) -> None:
    assert clean_text(dirty) == clean


async def test_a_description_with_a_family_emoji_keeps_it_whole(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(501)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Kinerja Kecamatan (rahasia)", "Langkah 2 dari 4")
    text = f"Keluarga {FAMILY} di dusun Krajan belum menerima bantuan \u202eanak\u202c sekolah."
    await harness.say(kades, text, "Langkah 3 dari 4")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    draft = await harness.svc.aspirations.load_draft(kades.id)
    assert draft is not None
    assert draft.description == f"Keluarga {FAMILY} di dusun Krajan belum menerima bantuan anak sekolah."
    assert FAMILY in (summary.text or "")
