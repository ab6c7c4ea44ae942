"""Names that outlive a release. They are stored in databases and chats already in use — conversation states in
``ptb_conversations``, buttons under messages people still have, job periods in ``job_runs``, outbox dedup keys,
audit actions an admin filters by — so a refactoring may add to them but must never rename or drop one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

from bot import app as root
from tests.harness import BotHarness

ROOT = Path(__file__).resolve().parents[2]

#: Conversation name -> the states a stored conversation may be in.
CONVERSATIONS: dict[str, set[object]] = {
    "aspirasi": {"melampirkan", "melanjutkan_draf", "memeriksa_ringkasan", "memilih_kategori", "menulis_uraian"},
    "kunjungan": {
        "melihat_kunjungan", "memastikan_tanggal", "memastikan_tanggal_baru", "memeriksa_kunjungan",
        "memeriksa_pembatalan", "memeriksa_pindah", "memilih_kecamatan", "memilih_menu", "memilih_opd",
        "menulis_agenda", "menulis_alasan_batal", "menulis_jam", "menulis_jam_baru", "menulis_tanggal",
        "menulis_tanggal_baru", "menulis_tempat", "menulis_tempat_baru",
    },
    "umpan_balik": {"menulis_komentar"},
    "janji": {"memeriksa_janji", "memilih_kunjungan", "memilih_opd", "menulis_desa", "menulis_janji",
              "menulis_tenggat", "menulis_tiket"},
    "hasil_janji": {"menulis_hasil"},
    "siaran": {"memeriksa_siaran", "memilih_peran", "memilih_sasaran", "menulis_kecamatan", "menulis_pesan"},
    "potensi": {"melampirkan_foto_potensi", "melanjutkan_draf_potensi", "memeriksa_ringkasan_potensi",
                "memilih_jenis_potensi", "menulis_uraian_potensi"},
}

#: Callback data of buttons the previous release put under messages; each must still reach a handler.
CALLBACK_DATA = [
    "asp:new", "asp:new:7", "asp:resume:yes", "asp:resume:new", "asp:cat:infrastruktur", "asp:cat:?",
    "asp:att:done", "asp:sum:send", "asp:sum:camat", "asp:sum:edit", "asp:sum:cat", "asp:sum:cancel",
    "asp:act:12:terima", "asp:act:12:proses", "asp:act:12:selesai", "asp:act:12:balas", "asp:act:12:alihkan",
    "asp:act:12:tolak", "asp:act:12:tdt", "asp:act:12:lepas", "asp:act:12:info", "asp:act:12:duplikat",
    "asp:msg:12:new", "asp:rte:12:PUPR", "asp:rte:12:-", "asp:cfm:12:ya", "asp:cfm:12:belum",
    "fb:3:k:4", "fb:3:v:5", "fb:3:skip", "desa:show:35.13.02.2001",
    "pot:new", "pot:edit:5", "pot:resume:yes", "pot:resume:new", "pot:kind:wisata", "pot:media:done",
    "pot:media:clear", "pot:sum:save", "pot:sum:kind", "pot:sum:desc", "pot:sum:media", "pot:sum:cancel",
    "pot:open:5", "pot:list", "pot:del:5", "pot:delok:5",
    "bc:rep:4", "bc:a:semua", "bc:a:kecamatan", "bc:a:peran", "bc:r:kepala_desa", "bc:send", "bc:stop",
    "jj:v:3", "jj:v:0", "jj:d:PUPR", "jj:due:30", "jj:skip", "jj:save", "jj:stop",
    "jnj:3:send", "jnj:3:ok", "jnj:3:run", "jnj:3:no",
    "kj:add", "kj:list", "kj:skip", "kj:kec:35.13.02", "kj:date:ok", "kj:time:0900", "kj:place:keep",
    "kj:place:default", "kj:save", "kj:stop", "kj:v:3", "kj:mv:3", "kj:cx:3", "kj:mvsave", "kj:cxsave",
]

#: Scheduled tasks: their names are the ``job`` of ``job_runs`` rows (claimed periods).
SCHEDULED_TASKS = [
    "visits", "commitments", "heartbeat", "daily_backup", "prune_processed_updates", "officials:service-levels",
    "digest:daily", "digest:weekly", "officials:info-reminders", "media:downloads",
]

#: Actions in the audit log an admin's export is filtered and read by.
AUDIT_ACTIONS = ["invite", "register_invite", "register_contact", "roster_import", "restore", "ditolak", "asp:duplikat"]


def _walk(handler: BaseHandler[Any, Any, Any]) -> Iterator[BaseHandler[Any, Any, Any]]:
    yield handler
    if isinstance(handler, ConversationHandler):
        for inner in handler.entry_points + handler.fallbacks:
            yield from _walk(inner)
        for handlers in handler.states.values():
            for inner in handlers:
                yield from _walk(inner)


def _all_handlers(harness: BotHarness) -> list[BaseHandler[Any, Any, Any]]:
    return [h for group in harness.app.handlers.values() for top in group for h in _walk(top)]


async def test_conversation_names_and_states_are_kept(harness: BotHarness) -> None:
    conversations = {h.name: h for h in _all_handlers(harness) if isinstance(h, ConversationHandler)}
    for name, states in CONVERSATIONS.items():
        assert name in conversations, f"conversation {name!r} is gone: stored conversations would be lost"
        conversation = conversations[name]
        assert conversation.persistent, f"conversation {name!r} is no longer persisted"
        missing = states - set(conversation.states)
        assert not missing, f"conversation {name!r} lost the states {missing}"


async def test_buttons_of_the_previous_release_still_reach_a_handler(harness: BotHarness) -> None:
    patterns = [h.pattern for h in _all_handlers(harness) if isinstance(h, CallbackQueryHandler)]
    compiled = [p for p in patterns if isinstance(p, re.Pattern)]
    unmatched = [data for data in CALLBACK_DATA if not any(p.match(data) for p in compiled)]
    assert not unmatched, f"no handler for buttons already sent: {unmatched}"


async def test_scheduled_task_names_and_the_ticker_are_kept(harness: BotHarness) -> None:
    names = [name for name, _ in root.SCHEDULED_TASKS]
    assert [n for n in SCHEDULED_TASKS if n not in names] == []
    assert harness.app.job_queue.get_jobs_by_name("sambang:tick")


def test_audit_action_names_are_still_written() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for d in ("bot", "handlers", "schedules")
                       for p in (ROOT / d).rglob("*.py"))
    missing = [a for a in AUDIT_ACTIONS if f"'{a}'" not in source and f'"{a}"' not in source]
    assert not missing, f"audit actions no longer written: {missing}"
