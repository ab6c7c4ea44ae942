"""Hostile input, one parametrised case each (well over 200), against one real bot for the whole module.

Every case checks the same four things after doing something hostile:
- no crash: the bot gave the expected Indonesian answer (or, where silence is right, none), and no call the bot made
  to that chat was refused by the (strict) fake Bot API — unescaped user text in HTML fails there loudly;
- no traceback or technical text reaches the user, and the generic "gangguan" apology (a handler crashed) never does;
- nothing half-stored: no attachment or history without its aspiration, no aspiration without history, drafts
  readable, and no aspiration stored unless the case meant to store one;
- the bot answers the next normal message (/bantuan).

Floods (the per-user rate limit) run against a bot of their own with a low limit, at the end of the module.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from bot.core.clock import FakeClock
from bot.core.text import clean_text
from bot.people import roster
from tests.conftest import START
from tests.fake_telegram import Call, FakeTelegram, FakeUser
from tests.harness import ADMIN_ID, BotHarness

pytestmark = pytest.mark.asyncio(loop_scope="module")

FORBIDDEN_IN_REPLIES = ("Traceback", "Exception", "Error", "NoneType", "KeyError", "sqlite", "terjadi gangguan")
CONFIDENTIAL = "Kinerja Kecamatan (rahasia)"  # a category without the "did you mean" check, to keep cases short


class Corpus:
    def __init__(self, harness: BotHarness) -> None:
        self.h = harness
        self.server: FakeTelegram = harness.server
        self._ids = itertools.count(300_001)

    def stranger(self, name: str = "Tamu") -> FakeUser:
        return self.h.user(next(self._ids), name)

    async def kades(self, desa: str | None = None) -> FakeUser:
        user = self.stranger("Kades")
        if desa is None:  # a desa without a head: a second head of one desa waits for an admin as a successor
            desa = await self.h.svc.db.fetchval(
                "SELECT code FROM desa WHERE code NOT IN (SELECT desa_code FROM people WHERE role = 'kepala_desa'"
                " AND desa_code IS NOT NULL) ORDER BY code LIMIT 1")
        invitation = await roster.create_invitation(self.h.svc.db, self.h.clock, role="kepala_desa", desa=desa)
        await self.h.say(user, f"/start {invitation.code}", "Pendaftaran berhasil")
        return user

    async def describing(self) -> FakeUser:
        """A kepala desa at the description step of /aspirasi."""
        user = await self.kades()
        await self.h.say(user, "/aspirasi", "Langkah 1 dari 4")
        await self.h.press(user, CONFIDENTIAL, "Langkah 2 dari 4")
        return user

    async def attaching(self) -> FakeUser:
        user = await self.describing()
        await self.h.say(user, "Kantor kecamatan menolak melayani surat pengantar warga kami.", "Langkah 3 dari 4")
        return user

    async def reviewing(self) -> FakeUser:
        user = await self.attaching()
        await self.h.press(user, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
        return user

    async def expect(self, chat_id: int, action: Callable[[], Any], *expected: str, timeout: float = 5) -> Call:
        """Do ``action`` and wait for a bot message (or button answer) in ``chat_id`` containing any of ``expected``."""
        mark = self.server.mark()
        action()

        def matches(call: Call) -> bool:
            texts = [m.get("text") or m.get("caption") or "" for m in call.messages]
            if call.method == "answerCallbackQuery":
                texts.append(str(call.params.get("text") or ""))
            return any(e in t for t in texts for e in expected)

        return await self.server.wait_for(matches, timeout, chat_id=chat_id, since=mark,
                                          what=f"any of {expected!r} in chat {chat_id}")

    async def silence(self, chat_id: int, action: Callable[[], Any]) -> None:
        mark = self.server.mark()
        action()
        await self.server.wait_idle(quiet=0.15)
        sent = [c for c in self.server.calls[mark:] if c.chat_id == chat_id and c.method != "answerCallbackQuery"]
        assert sent == [], f"expected no answer in {chat_id}, got {[c.describe() for c in sent]}"

    async def aspirations(self) -> int:
        return int(await self.h.svc.db.fetchval("SELECT COUNT(*) FROM aspirations"))

    async def check(self, users: list[FakeUser], *, before: int, stored: int = 0, chats: tuple[int, ...] = ()) -> None:
        db = self.h.svc.db
        for user in users:  # the bot answers the next normal message (updates are handled in order, so every
            await self.h.say(user, "/bantuan", "Bantuan Sambang")  # earlier one is done by now)
        await self.h.svc.outbox.drain()
        for chat_id in [u.id for u in users] + list(chats):
            failed = [c for c in self.server.calls_for(chat_id) if not c.ok]
            assert failed == [], f"calls refused by the Bot API: {[c.describe() for c in failed]}"
            for text in self.server.texts(chat_id):
                for bad in FORBIDDEN_IN_REPLIES:
                    assert bad not in text, f"{bad!r} reached the user: {text[:300]!r}"
            for call in self.server.calls_for(chat_id, "answerCallbackQuery"):
                answer = str(call.params.get("text") or "")
                assert not any(bad in answer for bad in FORBIDDEN_IN_REPLIES), answer
        assert await self.aspirations() == before + stored
        assert await db.fetchval(
            "SELECT COUNT(*) FROM attachments WHERE aspiration_id NOT IN (SELECT id FROM aspirations)") == 0
        assert await db.fetchval(
            "SELECT COUNT(*) FROM aspirations a WHERE NOT EXISTS"
            " (SELECT 1 FROM aspiration_history h WHERE h.aspiration_id = a.id)") == 0
        for row in await db.fetchall("SELECT data FROM drafts"):
            json.loads(row["data"])
        assert await db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def corpus(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Corpus]:
    h = BotHarness(tmp_path_factory.mktemp("hostile"), FakeClock(START))
    await h.start()
    try:
        yield Corpus(h)
    finally:
        await h.close()


# -- payloads ---------------------------------------------------------------------------------------------------

PAYLOADS: dict[str, str] = {
    "max_telegram_text": "x" * 4096,
    "long_words": "kata " * 819,
    "just_over_limit": "A" * 2001,
    "exactly_limit": "Jalan " + "B" * 1994,
    "html_bold": "<b>tebal</b> jalan rusak parah di dusun",
    "html_stray_closers": "</a></b></i></code> tag penutup liar di uraian",
    "html_script": "<script>alert(1)</script> jembatan putus",
    "html_js_link": '<a href="javascript:alert(1)">klik</a> saluran irigasi jebol',
    "html_entities": "&lt;b&gt; &amp; &quot; &#x27; &nbsp; entitas mentah",
    "html_tg_tags": "<tg-spoiler>rahasia</tg-spoiler> <blockquote>kutip <pre>pre",
    "html_unclosed": "<<<>>> &&& ;;; tag tidak ditutup <b <i",
    "markdown": "*tebal* _miring_ `kode` [tautan](http://contoh.id) ~coret~ ||spoiler||",
    "jinja_expr": "{{ 7*7 }} {{ config }} permintaan perbaikan",
    "jinja_block": "{% for x in range(10) %}ulang{% endfor %} banjir",
    "jinja_ssti": "{# komentar #} {{ ''.__class__.__mro__[1].__subclasses__() }}",
    "format_strings": "${jndi:ldap://x/a} %s %d %n {0} {name!r} jalan",
    "sql_drop": "'; DROP TABLE aspirations; --",
    "sql_or": "\" OR 1=1 -- jalan desa rusak",
    "sql_bobby": "Robert'); DELETE FROM people WHERE ('1'='1",
    "sql_like": "%' OR '%'='%_ dan \\ garis miring",
    "nul_inside": "jalan\x00rusak\x00parah sekali di dusun Krajan",
    "only_nul": "\x00" * 16,
    "control_chars": "\x01\x02\x07\x1b[31mmerah\x1b[0m jalan rusak di RT 3",
    "zero_width_inside": "jalan\u200brusak\u200c\u200d\u2060\ufeff di desa kami parah",
    "only_zero_width": "\u200b" * 30,
    "rtl_override": "\u202ekaser nalaj\u202c rusak parah sekali di dusun",
    "rtl_isolates": "\u2067\u05e9\u05dc\u05d5\u05dd\u2069 jalan desa rusak",
    "emoji": "🚧🚧🚧 jalan rusak 🛣️💥 " * 3,
    "zalgo": "Z̴̡̛͓̈́a̷̡͖͌l̸̰̈́g̵̣̈o̴̪͆ jalan rusak parah",
    "family_emoji": "👨‍👩‍👧‍👦" * 50,
    "one_long_word": "a" * 500 + " b",
    "many_lines": "\n".join(["baris"] * 300),
    "command_inside": "tolong /aspirasi /undang admin di tengah teks",
    "phishing_url": "https://evil.example/phish?x=<b>&y=\"1\" klik",
    "pii": "warga HP +62 812 3456 7890 NIK 3513020101900001 belum dapat bansos",
    "homoglyph_ticket": "ASР-2026-00001",  # Cyrillic Р
}


def _text_for(prefix: str, payload: str) -> str:
    return (prefix + payload)[:4096]


# -- cases: a payload in six places -----------------------------------------------------------------------------


def stranger_text(payload: str) -> Callable[[Corpus], Awaitable[None]]:
    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        user = c.stranger()
        await c.expect(user.id, lambda: user.send(payload), "belum terdaftar")
        await c.check([user], before=before)
        assert await roster.get_person(c.h.svc.db, user.id) is None

    return case


def kades_text(payload: str) -> Callable[[Corpus], Awaitable[None]]:
    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        user = await c.kades()
        await c.expect(user.id, lambda: user.send(payload), "belum dapat dipahami")
        await c.check([user], before=before)

    return case


def description(payload: str) -> Callable[[Corpus], Awaitable[None]]:
    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        user = await c.describing()
        call = await c.expect(user.id, lambda: user.send(payload), "Langkah 3 dari 4", "terlalu pendek",
                              "terlalu panjang")
        cleaned = clean_text(payload)
        if "Langkah 3 dari 4" in (call.text or ""):
            summary = await c.h.press(user, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
            assert cleaned in (summary.text or ""), "the description is not shown literally"
            draft = await c.h.svc.aspirations.load_draft(user.id)
            assert draft is not None and draft.description == cleaned
        else:
            draft = await c.h.svc.aspirations.load_draft(user.id)
            assert draft is not None and draft.description is None  # the refused text was not kept
        await c.h.say(user, "/batal", "Aspirasi dibatalkan")
        assert await c.h.svc.aspirations.load_draft(user.id) is None
        await c.check([user], before=before)

    return case


def status_arg(payload: str) -> Callable[[Corpus], Awaitable[None]]:
    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        user = await c.kades()
        text = _text_for("/status ", payload)
        expected = ("Format nomor tiket tidak dikenal", "tidak ditemukan") if text.split()[1:] else ("Aspirasi desa",)
        call = await c.expect(user.id, lambda: user.send(text), *expected)
        first = text.split()[1][:40] if text.split()[1:] else ""
        if "Format nomor" in (call.text or ""):
            assert first.strip() in (call.text or ""), "the refused ticket is not echoed literally"
        await c.check([user], before=before)

    return case


def start_code(payload: str) -> Callable[[Corpus], Awaitable[None]]:
    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        user = c.stranger()
        text = _text_for("/start ", payload)
        expected = ("Kode undangan tidak dikenal",) if text.split()[1:] else ("belum terdaftar",)
        await c.expect(user.id, lambda: user.send(text), *expected)
        await c.check([user], before=before)
        assert await roster.get_person(c.h.svc.db, user.id) is None

    return case


def undang_arg(payload: str) -> Callable[[Corpus], Awaitable[None]]:
    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        invitations = await c.h.svc.db.fetchval("SELECT COUNT(*) FROM invitations")
        text = _text_for("/undang kepala_desa ", payload)
        call = await c.expect(ADMIN_ID, lambda: c.h.admin.send(text), "tidak ditemukan", "cocok dengan beberapa",
                              "Undangan dibuat", "memerlukan kode desa")
        created = await c.h.svc.db.fetchval("SELECT COUNT(*) FROM invitations") - invitations
        assert created == (1 if "Undangan dibuat" in (call.text or "") else 0)
        await c.check([c.h.admin], before=before)

    return case


CASES: list[Any] = []
for _name, _payload in PAYLOADS.items():
    for _where, _make in (("stranger", stranger_text), ("kades", kades_text), ("description", description),
                          ("status", status_arg), ("start_code", start_code), ("undang", undang_arg)):
        CASES.append(pytest.param(_make(_payload), id=f"{_where}-{_name}"))


# -- cases: message types no feature takes ----------------------------------------------------------------------


def _game(user: FakeUser, chat: Any = None) -> Any:
    return user._send_content({"game": {"title": "Tebak", "description": "permainan",
                                        "photo": c_photo(user)}}, chat)


def c_photo(user: FakeUser) -> list[dict[str, Any]]:
    return user.server.make_photo_sizes()


SENDERS: dict[str, Callable[[FakeUser], Any]] = {
    "sticker": lambda u: u.send_sticker(),
    "voice": lambda u: u.send_voice(),
    "video_note": lambda u: u.send_video_note(),
    "video": lambda u: u.send_video(caption="<b>video</b> banjir"),
    "poll": lambda u: u.send_poll("Setuju <b>?</b>", ["Ya", "Tidak"]),
    "dice": lambda u: u.send_dice(),
    "game": lambda u: _game(u),
    "animation": lambda u: u._send_content({"animation": u.server.make_media_object("animation")}, None),
    "audio": lambda u: u._send_content({"audio": u.server.make_media_object("audio")}, None),
    "venue": lambda u: u._send_content({"venue": {"location": {"latitude": -7.8, "longitude": 113.3},
                                                  "title": "<b>Balai</b>", "address": "Jl. Desa"}}, None),
}
UNSUPPORTED = ("belum dapat diproses", "Kirim teks")


def type_stranger(kind: str) -> Callable[[Corpus], Awaitable[None]]:
    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        user = c.stranger()
        await c.expect(user.id, lambda: SENDERS[kind](user), *UNSUPPORTED, "belum terdaftar")
        await c.check([user], before=before)

    return case


def type_idle(kind: str) -> Callable[[Corpus], Awaitable[None]]:
    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        user = await c.kades()
        await c.expect(user.id, lambda: SENDERS[kind](user), *UNSUPPORTED)
        await c.check([user], before=before)

    return case


#: What an aspiration takes as evidence, and at which stage: a voice note tells the description (or joins the
#: attachments), videos and video notes are attachments.
ACCEPTED_IN_FLOW = {"voice": ("describing", "attaching"), "video": ("attaching",), "video_note": ("attaching",)}


def type_in_flow(kind: str, stage: str) -> Callable[[Corpus], Awaitable[None]]:
    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        user = await getattr(c, stage)()
        draft_before = await c.h.svc.aspirations.load_draft(user.id)
        assert draft_before is not None
        if stage in ACCEPTED_IN_FLOW.get(kind, ()):
            await c.expect(user.id, lambda: SENDERS[kind](user), "diterima")
            draft = await c.h.svc.aspirations.load_draft(user.id)
            assert draft is not None and [a.kind for a in draft.attachments] == [
                *(a.kind for a in draft_before.attachments), kind]
        else:
            await c.expect(user.id, lambda: SENDERS[kind](user), *UNSUPPORTED, "Tuliskan uraian masalahnya",
                           "Pilih kategori")
            assert await c.h.svc.aspirations.load_draft(user.id) == draft_before  # nothing half-stored
        await c.h.say(user, "/batal", "Aspirasi dibatalkan")
        await c.check([user], before=before)

    return case


for _kind in SENDERS:
    CASES.append(pytest.param(type_stranger(_kind), id=f"type-stranger-{_kind}"))
    CASES.append(pytest.param(type_idle(_kind), id=f"type-idle-{_kind}"))
    for _stage in ("describing", "attaching"):
        CASES.append(pytest.param(type_in_flow(_kind, _stage), id=f"type-{_stage}-{_kind}"))


# -- cases: edits, files, groups, channels ----------------------------------------------------------------------


async def edit_idle(c: Corpus) -> None:
    before = await c.aspirations()
    user = await c.kades()
    sent = user.send("halo pak")
    await c.h.settle()
    await c.expect(user.id, lambda: user.edit(sent["message"], "/undang admin"), "Perubahan pesan tidak diproses")
    await c.check([user], before=before)


async def edit_description(c: Corpus) -> None:
    before = await c.aspirations()
    user = await c.describing()
    first = "Puskesmas pembantu tutup sejak bulan lalu tanpa pemberitahuan."
    mark = c.server.mark()
    sent = user.send(first)
    await c.server.wait_for_text(user.id, "Langkah 3 dari 4", since=mark)
    await c.expect(user.id, lambda: user.edit(sent["message"], "diganti <b>diam-diam</b> lewat edit pesan"),
                   "Perubahan pesan tidak diproses")
    draft = await c.h.svc.aspirations.load_draft(user.id)
    assert draft is not None and draft.description == first
    summary = await c.h.press(user, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    assert first in (summary.text or "") and "diam-diam" not in (summary.text or "")
    await c.h.say(user, "/batal", "Aspirasi dibatalkan")
    await c.check([user], before=before)


async def edit_command(c: Corpus) -> None:
    before = await c.aspirations()
    user = await c.reviewing()
    mark = c.server.mark()
    sent = user.send("apa kabar")
    await c.server.wait_for_text(user.id, "Tekan Kirim", since=mark)
    await c.expect(user.id, lambda: user.edit(sent["message"], "/batal"), "Perubahan pesan tidak diproses")
    assert await c.h.svc.aspirations.load_draft(user.id) is not None  # the edit did not cancel anything
    await c.h.press(user, "✅ Kirim", "Aspirasi terkirim")
    await c.check([user], before=before, stored=1)


async def edit_in_group(c: Corpus) -> None:
    before = await c.aspirations()
    user = await c.kades()
    group = c.server.group(-100_777_001, "Grup Desa")
    sent = user.send("pesan di grup", chat=group)
    await c.h.settle()
    await c.silence(group.id, lambda: user.edit(sent["message"], "/aspirasi"))
    await c.check([user], before=before, chats=(group.id,))


async def oversized_document(c: Corpus) -> None:
    before = await c.aspirations()
    user = await c.attaching()
    await c.expect(user.id, lambda: user.send_document("peta<b>.pdf", file_size=25 * 1024 * 1024), "terlalu besar")
    draft = await c.h.svc.aspirations.load_draft(user.id)
    assert draft is not None and draft.documents == []
    await c.h.say(user, "/batal", "Aspirasi dibatalkan")
    await c.check([user], before=before)


async def executable_document(c: Corpus) -> None:
    before = await c.aspirations()
    user = await c.attaching()
    await c.expect(user.id, lambda: user.send_document("bansos.apk", file_size=4096), "tidak diterima")
    await c.h.say(user, "/batal", "Aspirasi dibatalkan")
    await c.check([user], before=before)


def document_of_type(file_name: str, mime_type: str | None, accepted: bool) -> Callable[[Corpus], Awaitable[None]]:
    """Documents are judged by extension and MIME type against an allowlist; a refusal names what is accepted."""

    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        user = await c.attaching()
        if accepted:
            await c.expect(user.id, lambda: user.send_document(file_name, mime_type), "diterima (0/5 foto, 1 dokumen")
        else:
            call = await c.expect(user.id, lambda: user.send_document(file_name, mime_type), "tidak diterima")
            text = " ".join(m.get("text") or "" for m in call.messages)
            assert "Yang diterima: PDF" in text and "DOCX" in text and "TXT, CSV" in text, text
        draft = await c.h.svc.aspirations.load_draft(user.id)
        assert draft is not None and len(draft.documents) == (1 if accepted else 0)
        await c.h.say(user, "/batal", "Aspirasi dibatalkan")
        await c.check([user], before=before)

    return case


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCUMENTS = [
    ("proposal.pdf", "application/pdf", True),
    ("RAB 2026.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", True),
    ("surat.docx", DOCX, True),
    ("paparan.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", True),
    ("surat lama.doc", "application/msword", True),
    ("notulen.odt", "application/vnd.oasis.opendocument.text", True),
    ("daftar warga.csv", "text/csv", True),
    ("daftar warga excel.csv", "application/vnd.ms-excel", True),
    ("catatan.txt", "text/plain", True),
    ("DENAH.PNG", "image/png", True),
    ("foto jalan.jpeg", "image/jpeg", True),
    ("bansos.apk", "application/vnd.android.package-archive", False),
    ("setup.exe", "application/x-msdownload", False),
    ("makro.docm", "application/vnd.ms-word.document.macroEnabled.12", False),
    ("anggaran.xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12", False),
    ("paparan.pptm", "application/vnd.ms-powerpoint.presentation.macroEnabled.12", False),
    ("arsip.zip", "application/zip", False),
    ("halaman.html", "text/html", False),
    ("logo.svg", "image/svg+xml", False),
    ("skrip.js", "text/javascript", False),
    ("laporan.pdf.exe", "application/x-msdownload", False),
    ("laporan.pdf", "application/x-msdownload", False),  # the extension says PDF, the type says program
    ("surat.docx", "application/octet-stream", False),
    ("tanpa ekstensi", "application/pdf", False),
    ("invoice\u202efdp.exe", "application/pdf", False),  # shows as "invoiceexe.pdf" in some apps
]


async def forged_due_date(c: Corpus) -> None:
    """A due-date button with a number no button offers, in the middle of /janji: refused, the flow goes on."""
    admin = c.h.admin
    await c.h.say(admin, "/janji", "kunjungan yang mana")
    await c.h.press(admin, "Tanpa kunjungan", "apa yang dijanjikan")
    await c.h.say(admin, "Perbaikan jalan poros desa", "OPD penanggung jawab")
    await c.h.say(admin, "pupr", "desa mana")
    await c.h.say(admin, "Ledokombo", "tenggatnya")
    message = admin.last_message()
    assert message is not None
    for data in ("jj:due:9999999", "jj:due:99999999999999999999", "jj:due:-14"):
        await c.expect(admin.id, lambda d=data: c.server.push_callback_query(admin, message, d), *STALE)
    await c.h.press(admin, "2 minggu", "nomor tiket aspirasi")  # the real buttons still work
    await c.h.say(admin, "/batal", "")
    await c.check([admin], before=await c.aspirations())


async def sixth_photo(c: Corpus) -> None:
    before = await c.aspirations()
    user = await c.attaching()
    for i in range(5):
        await c.expect(user.id, lambda: user.send_photo(), f"Foto {i + 1} diterima")
    await c.expect(user.id, lambda: user.send_photo(), "batas maksimal")
    draft = await c.h.svc.aspirations.load_draft(user.id)
    assert draft is not None and len(draft.photos) == 5
    await c.h.press(user, "➡️ Lanjut ke ringkasan", "5 foto")
    await c.h.press(user, "✅ Kirim", "Aspirasi terkirim")
    await c.check([user], before=before, stored=1)
    stored = await c.h.svc.db.fetchval(
        "SELECT COUNT(*) FROM attachments WHERE aspiration_id = (SELECT MAX(id) FROM aspirations)")
    assert stored == 5


async def fourth_document(c: Corpus) -> None:
    before = await c.aspirations()
    user = await c.attaching()
    for i in range(3):
        await c.expect(user.id, lambda i=i: user.send_document(f"surat{i}.pdf"), "diterima")
    await c.expect(user.id, lambda: user.send_document("surat4.pdf"), "batas maksimal")
    await c.h.say(user, "/batal", "Aspirasi dibatalkan")
    await c.check([user], before=before)


async def photo_outside_flow(c: Corpus) -> None:
    before = await c.aspirations()
    user = await c.kades()
    await c.expect(user.id, lambda: user.send_photo(caption="<i>foto</i>"), "Lampiran hanya diterima")
    await c.expect(user.id, lambda: user.send_location(-7.87, 113.30), "Lampiran hanya diterima")
    await c.expect(user.id, lambda: user.send_document("laporan.pdf"), "Lampiran hanya diterima")
    await c.check([user], before=before)


async def group_text_is_ignored(c: Corpus) -> None:
    before = await c.aspirations()
    user = await c.kades()
    group = c.server.group(-100_777_002, "Grup Kecamatan")
    await c.silence(group.id, lambda: user.send("<b>halo</b> semua {{ x }}", chat=group))
    await c.silence(group.id, lambda: user.send_sticker(chat=group))
    await c.check([user], before=before, chats=(group.id,))


def group_command(command: str) -> Callable[[Corpus], Awaitable[None]]:
    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        user = await c.kades()
        group = c.server.group(-100_777_003, "Grup Kecamatan")
        await c.expect(group.id, lambda: user.send(command, chat=group), "hanya dapat dipakai di chat pribadi")
        await c.check([user], before=before, chats=(group.id,))

    return case


async def channel_post(c: Corpus) -> None:
    before = await c.aspirations()
    channel = {"id": -100_888_001, "type": "channel", "title": "Kanal <b>Desa</b>"}
    post = {"message_id": 1, "date": 1772416800, "chat": channel, "sender_chat": channel, "text": "/aspirasi"}
    mark = c.server.mark()
    c.server.push_update("channel_post", post)
    await c.server.wait_for_text(channel["id"], "Bot keluar dari kanal ini", since=mark)
    await c.server.wait_for_call("leaveChat", since=mark)
    await c.silence(channel["id"], lambda: c.server.push_update("edited_channel_post",
                                                                {**post, "text": "diubah", "edit_date": 1772416900}))
    await c.check([], before=before, chats=(channel["id"],))


# -- cases: forged callback data, strangers, invitations --------------------------------------------------------


def forged_button(data: str, stage: str, *expected: str) -> Callable[[Corpus], Awaitable[None]]:
    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        if stage == "admin":
            user = c.h.admin
            await c.h.say(user, "/bantuan", "Bantuan Sambang")
        else:
            user = c.stranger() if stage == "stranger" else await (getattr(c, stage)() if stage != "idle"
                                                                    else c.kades())
        if stage == "stranger":
            await c.h.say(user, "/start", "belum terdaftar")
        message = user.last_message()
        assert message is not None
        await c.expect(user.id, lambda: c.server.push_callback_query(user, message, data), *expected)
        if stage in ("describing", "attaching", "reviewing"):
            await c.h.say(user, "/batal", "Aspirasi dibatalkan")
        await c.check([user], before=before)

    return case


STALE = ("tidak berlaku", "tidak dikenal")
FORGED = [
    ("asp:sum:send", "stranger", "belum terdaftar", *STALE),
    ("asp:cat:infrastruktur", "stranger", "belum terdaftar", *STALE),
    ("asp:sum:send", "idle", "tidak berlaku", "sudah terkirim"),
    ("asp:cat:infrastruktur", "idle", *STALE),
    ("asp:resume:yes", "idle", *STALE),
    ("asp:new:99999", "idle", "Kunjungan ini tidak ditemukan"),
    ("asp:new:-1", "idle", *STALE, "Langkah 1 dari 4"),
    ("zzz:random", "idle", *STALE),
    ("asp:act:1:terima", "idle", *STALE, "hanya untuk", "tidak ditemukan"),
    ("' OR 1=1 --", "idle", *STALE),
    ("x" * 64, "idle", *STALE),
    ("🎯:ünï:cødé", "idle", *STALE),
    ("asp:cat:../../etc/passwd", "describing", "Kategori tidak dikenal", *STALE),
    ("asp:cat:kinerja_kecamatan:extra", "describing", "Kategori tidak dikenal", *STALE, "Langkah 2 dari 4"),
    ("asp:sum:send", "describing", *STALE, "Tuliskan uraian"),
    ("asp:sum:nuke", "reviewing", *STALE, "Ringkasan"),
    ("asp:att:done", "reviewing", *STALE, "Ringkasan"),
    ("asp:resume:new", "attaching", *STALE),
    # numbers no button of ours carries: refused as stale, never parsed into a crash
    ("asp:new:99999999999999999999", "idle", *STALE),
    ("asp:new:\u00b2", "idle", *STALE),
    ("asp:new:\u0663", "idle", *STALE),
    ("asp:new:+7", "idle", *STALE),
    ("asp:act:-1:terima", "idle", *STALE),
    ("asp:act:99999999999:terima", "idle", *STALE),
    ("fb:99999999999999999999:v:5", "idle", *STALE),
    ("fb:1:v:99999999999999999999", "idle", *STALE),
    ("pot:open:-5", "idle", *STALE),
    ("desa:show:99999999999999999999", "idle", *STALE),
    ("bc:rep:99999999999999999999", "admin", *STALE),
    ("bc:rep:-3", "admin", *STALE),
    ("jnj:99999999999999999999:ok", "admin", *STALE),
    ("kj:v:99999999999999999999", "admin", *STALE),
    ("jj:v:99999999999999999999", "admin", *STALE),
]


def stranger_command(command: str, *expected: str) -> Callable[[Corpus], Awaitable[None]]:
    async def case(c: Corpus) -> None:
        before = await c.aspirations()
        user = c.stranger()
        await c.expect(user.id, lambda: user.send(command), *expected)
        await c.check([user], before=before)
        assert await roster.get_person(c.h.svc.db, user.id) is None

    return case


STRANGER_COMMANDS = [
    ("/aspirasi", "belum terdaftar"),
    ("/status", "belum terdaftar"),
    ("/status ASP-2026-00001", "belum terdaftar"),
    ("/undang admin", "belum terdaftar"),
    ("/undang kepala_desa 35.13.02.2001", "belum terdaftar"),
    ("/audit", "belum terdaftar"),
    ("/batal", "belum terdaftar", "Tidak ada"),
    ("/kunjungan", "belum terdaftar", "tidak dikenal"),
    ("/siaran halo semua", "belum terdaftar", "tidak dikenal"),
    ("/inbox", "belum terdaftar", "tidak dikenal", "di dalam grup"),
    ("/tangani ASP-2026-00001", "belum terdaftar"),
    ("/opd", "belum terdaftar"),
    ("/potensi", "belum terdaftar"),
    ("/desa Ledokombo", "belum terdaftar"),
    ("/rekap", "belum terdaftar"),
    ("/ekspor xlsx", "belum terdaftar"),
    ("/jadwal", "belum terdaftar"),
    ("/umpanbalik", "belum terdaftar"),
    ("/start@sambang_test_bot", "belum terdaftar"),
    ("/bantuan", "Bantuan Sambang"),
]


async def reused_invitation(c: Corpus) -> None:
    first = await c.kades()
    invitation = await roster.create_invitation(c.h.svc.db, c.h.clock, role="camat", kecamatan="Tiris")
    owner = c.stranger()
    await c.h.say(owner, f"/start {invitation.code}", "Pendaftaran berhasil")
    thief = c.stranger()
    await c.h.say(thief, f"/start {invitation.code}", "sudah pernah dipakai")
    await c.h.say(first, f"/start {invitation.code}", "Selamat datang kembali")  # already registered: greeted
    before = await c.aspirations()
    await c.check([thief, owner], before=before)
    assert await roster.get_person(c.h.svc.db, thief.id) is None


async def expired_invitation(c: Corpus) -> None:
    invitation = await roster.create_invitation(c.h.svc.db, c.h.clock, role="camat", kecamatan="Krucil", ttl_hours=1)
    c.h.clock.advance(hours=2)
    user = c.stranger()
    await c.h.say(user, f"/start {invitation.code.lower()}", "kedaluwarsa")
    await c.check([user], before=await c.aspirations())
    assert await roster.get_person(c.h.svc.db, user.id) is None


async def guessing_invitations(c: Corpus) -> None:
    user = c.stranger()
    for i in range(5):
        await c.h.say(user, f"/start GUESS{i:03d}", "tidak dikenal")
    real = await roster.create_invitation(c.h.svc.db, c.h.clock, role="camat", kecamatan="Lumbang")
    await c.h.say(user, f"/start {real.code}", "Terlalu banyak kode undangan yang salah")
    await c.check([user], before=await c.aspirations())
    assert await roster.get_person(c.h.svc.db, user.id) is None


async def someone_elses_contact(c: Corpus) -> None:
    user = c.stranger()
    mark = c.server.mark()
    user.send_contact("+62 813 0000 1111", user_id=424242)
    await c.server.wait_for_text(user.id, "nomor Anda sendiri", since=mark)
    mark = c.server.mark()
    user.send_contact("+1 555 0100", user_id=None)
    await c.server.wait_for_text(user.id, "Bagikan nomor saya", since=mark)
    await c.check([user], before=await c.aspirations())


for _data, _stage, *_expected in FORGED:
    CASES.append(pytest.param(forged_button(_data, _stage, *_expected), id=f"button-{_stage}-{_data[:20]}"))
for _command, *_expected in STRANGER_COMMANDS:
    CASES.append(pytest.param(stranger_command(_command, *_expected), id=f"stranger-cmd-{_command[:24]}"))
for _command in ("/aspirasi", "/start", "/undang admin", "/status", "/bantuan@sambang_test_bot"):
    CASES.append(pytest.param(group_command(_command), id=f"group-cmd-{_command}"))
for _name, _mime, _accepted in DOCUMENTS:
    CASES.append(pytest.param(document_of_type(_name, _mime, _accepted),
                              id=f"document-{'ok' if _accepted else 'refused'}-{_name[:20]}"))
for _fn in (edit_idle, edit_description, edit_command, edit_in_group, oversized_document, executable_document,
            sixth_photo, fourth_document, photo_outside_flow, group_text_is_ignored, channel_post, reused_invitation,
            expired_invitation, guessing_invitations, someone_elses_contact, forged_due_date):
    CASES.append(pytest.param(_fn, id=_fn.__name__))


@pytest.mark.filterwarnings("ignore::pytest.PytestWarning")
def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 200, len(CASES)


@pytest.mark.parametrize("case", CASES)
async def test_hostile(corpus: Corpus, case: Callable[[Corpus], Awaitable[None]]) -> None:
    await case(corpus)


# -- floods: a bot of their own, with a low limit ---------------------------------------------------------------


@dataclass
class Flood:
    h: BotHarness
    ids: itertools.count


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def flood(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Flood]:
    h = BotHarness(tmp_path_factory.mktemp("flood"), FakeClock(START),
                   # 4 a second refill: slow enough that how fast a loaded machine handles a flood barely moves
                   # the count of answered messages, fast enough that the tests' short waits refill the burst
                   extra={"SAMBANG_RATE_LIMIT_BURST": "8", "SAMBANG_RATE_LIMIT_PER_MINUTE": "240"})
    await h.start()
    try:
        yield Flood(h, itertools.count(400_001))
    finally:
        await h.close()


async def test_flood_of_texts_gets_one_polite_slow_down_and_nothing_else(flood: Flood) -> None:
    h = flood.h
    user = await h.kepala_desa(next(flood.ids), desa="35.13.02.2003")
    await asyncio.sleep(1.0)  # the registration used some of the burst
    mark = h.server.mark()
    for i in range(40):
        user.send(f"spam {i} <b>")
    await h.server.wait_for_text(user.id, "terlalu cepat", 5, since=mark)
    await h.settle()
    replies = [c for c in h.server.calls[mark:] if c.chat_id == user.id and c.method == "sendMessage"]
    slow = [c for c in replies if "terlalu cepat" in (c.text or "")]
    assert len(slow) == 1, [c.text for c in replies]
    # the messages of one second up to the limit (4 a second here) were answered, then one slow-down, then silence
    assert 2 <= len(replies) <= 5, [c.text for c in replies]
    assert "Mohon tunggu sekitar 2 detik" in (slow[0].text or "")
    await asyncio.sleep(2.1)  # a person who waits as asked is answered again
    await h.say(user, "/bantuan", "Bantuan Sambang")
    assert await h.svc.db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 0


async def test_an_album_of_five_photos_is_not_a_flood(flood: Flood) -> None:
    h = flood.h
    user = await h.kepala_desa(next(flood.ids), desa="35.13.02.2004")
    await h.say(user, "/aspirasi", "Langkah 1 dari 4")
    await h.press(user, CONFIDENTIAL, "Langkah 2 dari 4")
    await h.say(user, "Camat meminta pungutan untuk surat keterangan usaha warga.", "Langkah 3 dari 4")
    await asyncio.sleep(1.0)
    for _ in range(5):  # an album arrives as five updates at once, with one media_group_id
        album = {"photo": h.server.make_photo_sizes(), "media_group_id": "13000000777"}
        h.server.push_update("message", h.server.new_message(user.id, user.as_dict, album))
    await h.settle()
    draft = await h.svc.aspirations.load_draft(user.id)
    assert draft is not None and len(draft.photos) == 5
    assert not [t for t in h.server.texts(user.id) if "terlalu cepat" in t]
    await h.press(user, "➡️ Lanjut ke ringkasan", "5 foto")
    await h.press(user, "✅ Kirim", "Aspirasi terkirim")


async def test_button_mashing_is_answered_without_a_stuck_spinner(flood: Flood) -> None:
    h = flood.h
    user = await h.kepala_desa(next(flood.ids), desa="35.13.02.2005")
    await h.say(user, "/aspirasi", "Langkah 1 dari 4")
    await asyncio.sleep(1.0)
    message = user.last_message()
    assert message is not None
    mark = h.server.mark()
    queries = [h.server.push_callback_query(user, message, "asp:cat:?") for _ in range(30)]
    pressed = {q["callback_query"]["id"] for q in queries}

    def answered() -> set[str]:
        return {str(c.params.get("callback_query_id")) for c in h.server.calls[mark:]
                if c.method == "answerCallbackQuery" and c.ok}

    # a loaded machine may pause longer than ``settle``'s quiet spell before the first answer: wait for each
    # press's answer itself (bounded), then for the rest to settle
    for query_id in pressed:
        await h.server.wait_for(lambda c, q=query_id: c.method == "answerCallbackQuery" and c.ok
                                and str(c.params.get("callback_query_id")) == q, 10, since=mark,
                                what=f"the answer to press {query_id}")
    await h.settle()
    assert answered() == pressed  # every press answered, none left spinning
    alerts = [c for c in h.server.calls[mark:] if c.method == "answerCallbackQuery" and "Terlalu cepat" in
              str(c.params.get("text"))]
    assert len(alerts) == 1
    await asyncio.sleep(1.2)
    await h.say(user, "/batal", "Aspirasi dibatalkan")


async def test_one_users_flood_does_not_slow_anyone_else(flood: Flood) -> None:
    h = flood.h
    noisy = await h.kepala_desa(next(flood.ids), desa="35.13.02.2006")
    quiet = await h.kepala_desa(next(flood.ids), desa="35.13.02.2002")
    for i in range(30):
        noisy.send(f"banjir pesan {i}")
    await h.say(quiet, "/bantuan", "Bantuan Sambang")
    await h.settle()
