"""The Indonesian wording lives in messages/, not in Python strings.

A heuristic guard: every string literal in bot/ and schedules/ (f-string pieces included, docstrings left out) that
reads like an Indonesian phrase — two or more words, one of them a common Indonesian word such as "tidak", "belum",
"sudah", "Anda", "kunjungan" — fails this test, unless the allow-list below says why it may stay. SQL, regular
expressions and single identifiers ("desa", "kecamatan") are not phrases. A new message belongs in a template:
``messages/<feature>/<name>.html.j2`` for Telegram (``bot.messaging.templates.render``), ``.txt.j2`` for plain text
(``bot.core.wording.plain`` / ``Notice``), ``messages/errors/`` for a refusal (``DomainError``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "schedules")

#: Words that mark a string as Indonesian prose (matched as whole words, case-insensitive).
MARKERS = re.compile(
    r"\b(anda|tidak|belum|sudah|kunjungan|yang|dengan|untuk|harus|silakan|bukan|sedang|gagal|berhasil|dari|atau"
    r"|dan|desa|kecamatan|aspirasi|pesan|berkas|orang|hari|jam|tanggal|sebelum|sesudah|lagi|kini|ditutup"
    r"|dibuat|menunggu|terbuka|jumlah|catatan|perintah|daftar|ekspor|impor|cadangan|kode)\b",
    re.IGNORECASE,
)
_SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|PRAGMA)\b|\b(FROM|WHERE|JOIN|AND|OR|AS|IN)\b [a-z_(]")
#: English words: a log line or a developer's message in English may name Indonesian things ("desa", "kecamatan").
_ENGLISH = re.compile(r"\b(the|and|for|is|are|with|not|of|to|a|an|loaded|failed|no)\b")
_REGEX = re.compile(r"\\[sdwb]|\(\?|\[\^|\^\(")

#: Whole files whose Indonesian strings are data, not wording, with the reason.
ALLOWED_FILES = {
    # domain vocabulary: role, status and category labels are values compared, stored and shown as they are
    "bot/core/domain.py": "domain vocabulary",
    # the names of days and months (the calendar's vocabulary), used by every date a user reads
    "bot/core/dates.py": "calendar names",
    # keywords matched against what a kepala desa typed: input vocabulary, never shown
    "bot/aspirations/classifier.py": "category keywords",
    # stop words and spellings matched against descriptions (possible duplicates): input vocabulary, never shown
    "bot/aspirations/similar.py": "duplicate-suggestion vocabulary",
    # the command menu table, being moved out of Python by a parallel change
    "bot/messaging/menu.py": "menu table (moved by a parallel change)",
}

#: The audit writers (bot.storage.audit and the features' thin wrappers around it): what they are given is data.
AUDIT_WRITERS = {"record", "record_sync", "_audit", "_audit_refusal"}

#: Single strings that are data, not wording: (file, the literal's text).
ALLOWED_STRINGS = {
    # the names of history steps, stored in aspiration_history.action and matched by SQL (they outlive a release)
    ("bot/officials/service.py", "tidak dapat ditindaklanjuti"),
    ("bot/officials/service.py", "ditutup otomatis (desa tidak menjawab)"),
    ("bot/officials/service.py", "minta info dari desa"),
    ("bot/officials/service.py", "pesan dari desa"),
    ("bot/officials/service.py", "info dari desa diterima"),
    ("bot/officials/service.py", "dinyatakan bukan kewenangan"),
    # what a dead letter was, stored in dead_letters.summary
    ("bot/operations/deadletters.py", "pesan teks"),
    ("bot/operations/deadletters.py", "tidak terbaca"),
    # vocabulary: a commitment's status label and an audience's role label, values like the domain's own labels
    ("bot/visits/commitments.py", "Tidak dapat dilaksanakan"),
    ("bot/aspirations/audience.py", "Kepala desa"),
    # audit details put together before they reach the audit writer (see AUDIT_WRITERS)
    ("bot/people/roster.py", " pengganti menunggu konfirmasi"),
    ("bot/people/roster.py", "dihapus dari SAMBANG_ADMINS"),
    ("bot/people/service.py", " sebagai kepala desa"),
    # a person's state, vocabulary like "aktif" and "nonaktif"
    ("bot/people/service.py", "menunggu konfirmasi"),
    # column names of the export files (XLSX/CSV), a format other tools read, and the Open311 address field
    *(("bot/village_map/export.py", name) for name in (
        "Tanggal masuk", "Desa ", "Kode desa", ", Kecamatan ", "Lama sampai ditutup (hari)", "Ditutup lainnya",
        "Median hari sampai tuntas", "Desa aktif", "Jumlah desa", "Kode kecamatan", "Lewat batas (hari kerja)",
        "Jumlah OPD")),
    *(("bot/village_map/service.py", name) for name in (
        "Tanggal kunjungan", "Kode desa", "Kepala desa", "Nilai kunjungan (1-5)", "Nilai layanan kecamatan (1-5)")),
    # the calendar product identifier of RFC 5545, not prose
    ("bot/visits/ics.py", "-//Sambang//Ngantor di Kecamatan//ID"),
}

def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def is_phrase(text: str) -> bool:
    if len(text.split()) < 2 and not text.startswith(" ") and not text.endswith(" "):
        return False  # a single identifier or value ("desa", "kecamatan"), not prose
    if _SQL.search(text) or _REGEX.search(text):
        return False
    return len(MARKERS.findall(text)) > len(_ENGLISH.findall(text))


def _audit_details(tree: ast.AST) -> set[int]:
    """The strings given to an audit writer: the details of audit_log rows, a record kept as it was written (like
    the action names), not wording."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in AUDIT_WRITERS:
                found.update(id(n) for arg in node.args for n in ast.walk(arg))
    return found


def indonesian_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _docstrings(tree) | _audit_details(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped
            and is_phrase(node.value)]


def test_the_heuristic_sees_wording_and_skips_code() -> None:
    assert is_phrase("Tanggal ini sudah lewat.")
    assert is_phrase("Gagal: ")
    assert is_phrase(" tidak dapat dibuat: ")
    assert not is_phrase("desa")
    assert not is_phrase("SELECT code FROM desa WHERE kecamatan_code = ?")
    assert not is_phrase(r"^(desa|kelurahan|kecamatan)\s+")
    assert not is_phrase("loaded %s kecamatan and %s desa for wilayah %s")
    assert not is_phrase("c.status IN ('terbuka', 'berjalan')")


def test_no_indonesian_wording_in_python() -> None:
    found: dict[str, list[str]] = {}
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in ALLOWED_FILES:
                continue
            for line, text in indonesian_literals(path):
                if (rel, text) in ALLOWED_STRINGS:
                    continue
                found.setdefault(rel, []).append(f"{line}: {text!r}")
    assert not found, (
        "Indonesian wording in Python; put it in a template under messages/ (or, if it is data, in the allow-list"
        " with the reason):\n" + "\n".join(f"{rel}:{hit}" for rel, hits in found.items() for hit in hits))


def test_the_allow_lists_name_what_exists() -> None:
    for rel in ALLOWED_FILES:
        assert (ROOT / rel).is_file(), rel
    for rel, text in ALLOWED_STRINGS:
        present = {found for _, found in indonesian_literals(ROOT / rel)}
        assert text in present, f"{rel}: {text!r} is gone, take it off ALLOWED_STRINGS"
