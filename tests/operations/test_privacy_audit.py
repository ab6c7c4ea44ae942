"""Privacy in logs (phone numbers, NIK, names and tokens masked, even at DEBUG where PTB logs whole updates) and the
audit trail of privileged actions that admins export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.operations.logs import PrivacyFilter, make_handler, mask_text, remember_name
from bot.people import roster
from tests.harness import ADMIN_ID, BotHarness


def _masked(message: str, *args: object) -> str:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, args or None, None)
    PrivacyFilter().filter(record)
    return record.getMessage()


def test_phone_numbers_nik_and_tokens_are_masked() -> None:
    for phone in ("081277778888", "0812-7777-8888", "+62 812 7777 8888", "6281277778888"):
        out = _masked("kontak %s", phone)
        assert "7777" not in out, out
    assert "3513020101900001" not in _masked("NIK 3513020101900001 terdaftar")
    out = _masked("GET https://api.telegram.org/bot123456789:AAH-abcdefghijklmnopqrstuvwxyz12345/getMe")
    assert "AAH-abc" not in out and "<token>" in out


def test_known_names_are_masked_whole_and_word_by_word() -> None:
    remember_name("Ngatemo Kertowijoyo", "ngatemo_k")
    out = _masked("sent receipt to Ngatemo Kertowijoyo (@ngatemo_k); later NGATEMO again, and Kertowijoyo")
    for part in ("Ngatemo", "NGATEMO", "Kertowijoyo", "ngatemo_k"):
        assert part not in out, out
    assert "sent receipt to" in out  # the rest stays readable
    # words that are part of how people are addressed are not names on their own
    remember_name("Kepala Desa")
    assert "Kepala" in _masked("Kepala Desa Ledokombo")


def test_name_fields_of_telegram_objects_are_masked_whatever_the_name() -> None:
    out = mask_text("User(first_name='Zorblax', id=5, last_name=\"Quimby\", username='zq77')")
    assert "Zorblax" not in out and "Quimby" not in out and "zq77" not in out and "id=5" in out
    out = mask_text('{"first_name": "Zorblax", "phone_number": "6281233334444", "text": "halo"}')
    assert "Zorblax" not in out and "6281233334444" not in out and '"text": "halo"' in out


def test_tracebacks_are_masked_too() -> None:
    remember_name("Wiryokusumo")
    try:
        raise ValueError("gagal untuk Wiryokusumo, HP 0813-5555-6666")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "boom", None, __import__("sys").exc_info())
    stream = io.StringIO()
    handler = make_handler(stream)
    handler.handle(record)
    out = stream.getvalue()
    assert "ValueError" in out and "Wiryokusumo" not in out and "5555-6666" not in out



def test_a_log_line_is_one_json_object_with_the_same_fields_and_no_extras() -> None:
    """The fields operators parse stay the same, text stays readable (not \\u escapes), and attributes passed
    with ``extra=`` are not written: the privacy filter does not mask them."""
    stream = io.StringIO()
    handler = make_handler(stream)
    logger = logging.getLogger("sambang.test.json")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("panen %s di Pandanlaras 🚜", "kopi", extra={"phone": "081277778888", "first_name": "Zorblax"})
        try:
            raise RuntimeError("gagal")
        except RuntimeError:
            logger.exception("tiket %d", 7)
    finally:
        logger.removeHandler(handler)
    plain, failed = (json.loads(line) for line in stream.getvalue().splitlines())
    assert list(plain) == ["ts", "level", "logger", "msg"]
    assert plain["level"] == "WARNING" and plain["logger"] == "sambang.test.json"
    assert plain["msg"] == "panen kopi di Pandanlaras 🚜" and "🚜" in stream.getvalue()
    assert dt.datetime.fromisoformat(plain["ts"]).utcoffset() == dt.timedelta()
    assert list(failed) == ["ts", "level", "logger", "msg", "exc"] and failed["msg"] == "tiket 7"
    assert failed["exc"].startswith("Traceback") and failed["exc"].endswith("RuntimeError: gagal")
    assert "Zorblax" not in stream.getvalue() and "7777" not in stream.getvalue()

@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = make_handler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # the worst case: PTB logs every update in full at DEBUG
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "asyncio", "aiosqlite")}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)


async def test_a_whole_session_at_debug_level_leaks_no_name_or_phone(harness: BotHarness,
                                                                     captured_logs: io.StringIO) -> None:
    report = await roster.import_roster(harness.svc.db, harness.clock,
                                        "kode_desa,nama,telepon\n35.13.07.2003,Sumarsih Prawirodirjo,0813-4242-9191\n")
    assert report.ok
    user = harness.user(4242, "Sumarsih", username="sumarsih_lbg", last_name="Prawirodirjo")
    await harness.say(user, "/start", "Bagikan nomor saya")
    mark = harness.server.mark()
    user.send_contact("+62 813 4242 9191")
    await harness.server.wait_for_text(4242, "Pendaftaran berhasil", since=mark)
    await harness.say(user, "/undang admin", "hanya untuk")  # a refused privileged attempt is logged
    await harness.say(user, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(user, "Pelayanan Publik", "Langkah 2 dari 4")
    await harness.say(user, "Warga atas nama Sumarsih Prawirodirjo belum menerima KTP, hubungi 0813-4242-9191.",
                      "Langkah 3 dari 4")
    await harness.settle()
    logs = captured_logs.getvalue()
    assert "Processing update" in logs or "refused" in logs  # the capture really saw the bot's logs
    for secret in ("Sumarsih", "Prawirodirjo", "sumarsih_lbg", "4242-9191", "81342429191", "4242 9191"):
        assert secret not in logs, f"{secret!r} leaked into the logs"
    assert TOKEN_TAIL not in logs


TOKEN_TAIL = "TEST-token"


async def test_privileged_actions_and_refusals_are_audited_and_exported(harness: BotHarness) -> None:
    admin = harness.admin
    await harness.say(admin, "/undang camat Tiris", "Undangan dibuat")
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/undang admin", "hanya untuk")
    await harness.say(kades, "/audit", "hanya untuk")
    stranger = harness.user(99, "Asing")
    await harness.say(stranger, "/audit", "belum terdaftar")
    await harness.say(admin, "/audit xyz", "Format: /audit")
    mark = harness.server.mark()
    admin.send("/audit")
    call = await harness.server.wait_for_call("sendDocument", ADMIN_ID, since=mark)
    assert call.ok and "Jejak audit Sambang" in (call.messages[0].get("caption") or "")
    upload = call.files["document"]
    assert upload.filename.startswith("audit-sambang-") and upload.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(upload.content.decode("utf-8-sig"))))
    actions = [(r["telegram_id"], r["tindakan"]) for r in rows]
    assert (str(ADMIN_ID), "invite") in actions
    assert ("10", "register_invite") in actions
    denied = [r for r in rows if r["tindakan"] == "ditolak"]
    assert {r["telegram_id"] for r in denied} >= {"10", "99"}
    assert any("/undang" in r["rincian"] for r in denied) and any("/audit" in r["rincian"] for r in denied)
    assert all("admin" not in r["rincian"].split("(")[0] for r in denied if "/undang" in r["rincian"])  # no args
    assert rows[0]["waktu"].startswith("2026-03-02 09:00")  # local time, Asia/Jakarta
    # the export itself is audited, and /audit N limits to the last N days
    harness.clock.advance(days=10)
    await harness.say(kades, "/undang camat Lumbang", "hanya untuk")
    mark = harness.server.mark()
    admin.send("/audit 3")
    call = await harness.server.wait_for_call("sendDocument", ADMIN_ID, since=mark)
    recent = list(csv.DictReader(io.StringIO(call.files["document"].content.decode("utf-8-sig"))))
    assert [r["tindakan"] for r in recent] == ["ditolak"]
    exports = await harness.svc.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'ekspor_audit'")
    assert exports == 2


def test_csv_cells_cannot_become_spreadsheet_formulas() -> None:
    from zoneinfo import ZoneInfo

    from bot.storage.audit import AuditEntry, to_csv

    data = to_csv([AuditEntry(1, "2026-03-02T02:00:00.000000Z", 5, "=HYPERLINK(\"x\")", "admin", "invite",
                              "+62 @cmd")], ZoneInfo("Asia/Jakarta"))
    row = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1]
    assert row[3].startswith("'=") and row[6].startswith("'+")
