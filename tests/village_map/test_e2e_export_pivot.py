"""/ekspor for pivot tables, end to end: the sheet with every aspiration (deadlines, working days overdue, one
column per department) and CSV separated by ";" for Excel set to Indonesian, each role getting its share."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl

from tests.fake_telegram import Call, FakeUser
from tests.harness import BotHarness
from tests.officials_support import leader, official, press_card, submit

WIB = ZoneInfo("Asia/Jakarta")


async def _document(h: BotHarness, user: FakeUser, command: str) -> Call:
    mark = h.server.mark()
    user.send(command)
    return await h.server.wait_for_call("sendDocument", user.id, timeout=10, since=mark)


async def test_one_sheet_with_every_aspiration_and_a_semicolon_csv(harness: BotHarness) -> None:
    h = harness
    bupati = await leader(h, 70)
    pupr = await official(h, 20, "PUPR")
    kades = await h.kepala_desa(10)
    road = await submit(h, kades, "infrastruktur", "Jalan poros Ledokombo berlubang besar, panjang 2,5 km.")
    ktp = await submit(h, kades, "pelayanan_publik", "Pelayanan KTP-el di kecamatan sering tutup sebelum jam kerja.")
    secret = await submit(h, kades, "kinerja_kecamatan", "Ada pungutan untuk surat pengantar di kecamatan.")
    await h.settle()
    await press_card(h, pupr, 20, road.ticket, "terima")
    await h.server.wait_for_text(10, "diterima")
    # Tuesday 10 March: the road was accepted but not answered by Monday 9 March (1 working day late); the KTP
    # item was neither accepted by Thursday 5 March nor answered (3 working days past the first deadline)
    h.clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=WIB))
    book = openpyxl.load_workbook(io.BytesIO((await _document(h, bupati, "/ekspor")).files["document"].content))
    assert book.sheetnames[:2] == ["Ringkasan", "Semua Aspirasi"]
    ws = book["Semua Aspirasi"]
    headers = [c.value for c in ws[1]]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    rows = {r[0]: dict(zip(headers, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {road.ticket, ktp.ticket, secret.ticket}  # leadership: everything, one row each
    assert {"OPD PUPR", "OPD DISPENDUKCAPIL", "OPD ORGANISASI"} <= set(headers)
    r = rows[road.ticket]
    assert r["OPD PUPR"] == 1 and r["OPD ORGANISASI"] is None and r["Jumlah OPD"] == 1
    assert r["Batas terima"].date() == date(2026, 3, 5) and r["Batas tanggapan"].date() == date(2026, 3, 9)
    assert r["Lewat batas (hari kerja)"] == 1 and r["Bulan masuk"] == "2026-03" and r["Terbuka"] == "Ya"
    k = rows[ktp.ticket]
    assert k["OPD DISPENDUKCAPIL"] == 1 and k["OPD ORGANISASI"] == 1 and k["Jumlah OPD"] == 2
    assert k["Lewat batas (hari kerja)"] == 3 and k["Kecamatan"] == "Sumber" and k["Desa"] == "Ledokombo"

    # a department's share, as CSV for Excel set to Indonesian
    sent = await _document(h, pupr, "/ekspor csv;")
    text = sent.files["document"].content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert lines[0][:3] == ["Tiket", "Tanggal masuk", "Desa"] and len(lines[0]) > 10
    assert [line[0] for line in lines[1:]] == [road.ticket]
    assert "Jalan poros Ledokombo berlubang besar, panjang 2,5 km." in [cell for line in lines for cell in line]
    plain = list(csv.reader(io.StringIO((await _document(h, pupr, "/ekspor csv")).files["document"]
                                        .content.decode("utf-8-sig"))))
    assert plain[0] == lines[0]  # the same columns, separated by ","


async def test_rekap_lists_only_kecamatan_with_aspirations_and_the_load_per_department(harness: BotHarness) -> None:
    h = harness
    bupati = await leader(h, 70)
    pupr = await official(h, 20, "PUPR")
    sumber = await h.kepala_desa(10)  # Kec. Sumber
    tiris = await h.kepala_desa(11, desa="35.13.07.2001", name="Sutrisno")  # Kec. Tiris
    road = await submit(h, sumber, "infrastruktur", "Jalan poros Ledokombo berlubang besar.")
    await submit(h, tiris, "infrastruktur", "Jembatan gantung Andungbiru putus total.")
    await submit(h, tiris, "pelayanan_publik", "Pelayanan KTP-el di kecamatan sering tutup sebelum jam kerja.")
    await h.settle()
    await press_card(h, pupr, 20, road.ticket, "terima")
    await h.server.wait_for_text(10, "diterima")
    h.clock.set(datetime(2026, 3, 6, 9, 0, tzinfo=WIB))  # past "accept within 3 working days" (5 March)
    mark = h.server.mark()
    bupati.send("/rekap")
    await h.server.wait_for_text(bupati.id, "Per OPD", timeout=10, since=mark)
    await h.settle(timeout=20)
    text = "\n".join(c.text or "" for c in h.server.calls[mark:] if c.chat_id == bupati.id
                     and c.method == "sendMessage")
    assert "• Sumber: 1" in text and "• Tiris: 2" in text
    assert "• Krucil" not in text and "• Kraksaan" not in text  # kecamatan without aspirations are not listed
    assert "22 kecamatan belum mengirim aspirasi dan tidak dicantumkan" in text
    lines = {line.split(" ", 2)[1]: line for line in text.splitlines() if line.startswith("• PUPR")
             or line.startswith("• DISPENDUKCAPIL") or line.startswith("• ORGANISASI")}
    assert "2 terbuka, 1 lewat batas" in lines["PUPR"]  # the accepted road is on time, the bridge is late
    assert "1 terbuka, 1 lewat batas" in lines["DISPENDUKCAPIL"] and "1 terbuka" in lines["ORGANISASI"]
