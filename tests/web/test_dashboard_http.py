"""The dashboard over HTTP: Telegram's login (widget and Mini App, forged and stale ones refused), who may enter,
what each role reads, CSRF on every change, the security headers, and bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.core.clock import FakeClock, to_iso
from tests.web.dashboard_support import PEOPLE, STRANGER, TOKEN, Dashboard, init_data, running_dashboard, widget_fields

ALLOWED = ("pimpinan", "admin", "pejabat")
REFUSED = ("camat", "kepala_desa", "stranger")


@pytest.fixture
async def dash(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Dashboard]:
    async with running_dashboard(tmp_path, clock) as d:
        yield d


async def _ticket(dash: Dashboard, where: str, *params: object) -> str:
    value = await dash.services.db.fetchval(f"SELECT ticket FROM aspirations a WHERE {where} ORDER BY id LIMIT 1",
                                            params)
    assert value, f"the seed has no aspiration where {where}"
    return str(value)


async def test_a_page_without_login_goes_to_the_login_page(dash: Dashboard) -> None:
    async with dash.client() as s:
        r = await s.get("/aspirasi?status=terbuka", allow_redirects=False)
        assert r.status == 302
        assert r.headers["Location"].startswith("/masuk?lanjut=")
        page = await (await s.get("/masuk")).text()
        assert "Masuk ke dasbor Sambang" in page
        data = await s.get("/peta/data.json", allow_redirects=False)
        assert data.status == 302  # no data without a session


@pytest.mark.parametrize("role", ALLOWED)
async def test_widget_login_opens_the_dashboard(dash: Dashboard, role: str) -> None:
    async with dash.client() as s:
        r = await dash.login(s, role)
        assert r.status == 302 and r.headers["Location"] == "/"
        cookie = r.headers["Set-Cookie"]
        assert "sambang_sesi=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # plain http in this test; https sets it (test below)
        page = await s.get("/")
        html = await page.text()
        assert page.status == 200
        assert "Ringkasan aspirasi" in html and "Peta panas" in html


@pytest.mark.parametrize("role", REFUSED)
async def test_camat_kepala_desa_and_strangers_get_a_refusal_and_no_data(dash: Dashboard, role: str) -> None:
    async with dash.client() as s:
        r = await dash.login(s, role)
        html = await r.text()
        assert r.status == 403
        assert "Dasbor hanya untuk pimpinan daerah, admin, dan pejabat OPD" in html
        assert "sambang_sesi" not in r.headers.get("Set-Cookie", "")
        assert "ASP-" not in html
        after = await s.get("/aspirasi", allow_redirects=False)
        assert after.status == 302  # still not signed in


async def test_forged_and_stale_widget_logins_are_refused(dash: Dashboard, clock: FakeClock) -> None:
    async with dash.client() as s:
        forged = widget_fields(PEOPLE["pimpinan"], clock.now(), token="123456:NOT-the-token")
        r = await s.get("/auth/telegram", params=forged, allow_redirects=False)
        assert r.status == 403 and "tidak sah" in await r.text()
        changed = widget_fields(PEOPLE["camat"], clock.now())
        changed["id"] = str(PEOPLE["pimpinan"])  # the camat's signature on the Bupati's id
        r = await s.get("/auth/telegram", params=changed, allow_redirects=False)
        assert r.status == 403
        stale = widget_fields(PEOPLE["pimpinan"], clock.now() - timedelta(hours=24, minutes=1))
        r = await s.get("/auth/telegram", params=stale, allow_redirects=False)
        assert r.status == 403 and "24 jam" in await r.text()
        fresh = widget_fields(PEOPLE["pimpinan"], clock.now() - timedelta(hours=23, minutes=59))
        r = await s.get("/auth/telegram", params=fresh, allow_redirects=False)
        assert r.status == 302


async def test_mini_app_login_with_init_data(dash: Dashboard, clock: FakeClock) -> None:
    async with dash.client() as s:
        page = await (await s.get("/masuk")).text()
        csrf = dash.csrf(page)
        ok = await s.post("/auth/webapp", data={"initData": init_data(PEOPLE["pejabat"], clock.now()),
                                                "lanjut": "/peta", "_xsrf": csrf})
        assert ok.status == 200 and (await ok.json())["lanjut"] == "/peta"
        assert (await s.get("/peta")).status == 200
    async with dash.client() as s:
        csrf = dash.csrf(await (await s.get("/masuk")).text())
        forged = await s.post("/auth/webapp", data={
            "initData": init_data(PEOPLE["pimpinan"], clock.now(), token="654321:OTHER-bot"), "_xsrf": csrf})
        assert forged.status == 403
        stale = await s.post("/auth/webapp", data={
            "initData": init_data(PEOPLE["pimpinan"], clock.now() - timedelta(days=2)), "_xsrf": csrf})
        assert stale.status == 403
        camat = await s.post("/auth/webapp", data={"initData": init_data(PEOPLE["camat"], clock.now()),
                                                   "_xsrf": csrf})
        assert camat.status == 403
        refusal = await s.get((await camat.json())["lanjut"])
        assert refusal.status == 403 and "/status" in await refusal.text()
        assert (await s.get("/", allow_redirects=False)).status == 302
        no_csrf = await s.post("/auth/webapp", data={"initData": init_data(PEOPLE["pimpinan"], clock.now())})
        assert no_csrf.status == 403


async def test_a_pejabat_sees_only_the_department_share(dash: Dashboard) -> None:
    own = await _ticket(dash, "a.department = 'PUPR'")
    other = await _ticket(dash, "a.department = 'DINKES'")
    secret = await _ticket(dash, "a.confidential = 1")
    async with dash.client() as s:
        await dash.login(s, "pejabat")
        r = await s.get(f"/aspirasi/{own}")
        assert r.status == 200 and own in await r.text()
        for forbidden in (other, secret):
            r = await s.get(f"/aspirasi/{forbidden}")
            html = await r.text()
            assert r.status == 404 and "bukan untuk Anda" in html
            assert "Uraian aspirasi nomor" not in html
            assert (await s.get(f"/aspirasi/{forbidden}/lampiran/0")).status == 404
        listing = await (await s.get("/aspirasi?status=terbuka")).text()
        assert own in listing or "aspirasi" in listing
        assert other not in listing and secret not in listing
        everything = await (await s.get("/aspirasi?opd=DINKES")).text()
        assert other not in everything and "0 aspirasi" in everything
        total = await dash.services.db.fetchval(
            "SELECT COUNT(*) FROM aspirations a WHERE a.confidential = 0 AND EXISTS (SELECT 1 FROM"
            " aspiration_departments d WHERE d.aspiration_id = a.id AND d.department = 'PUPR')")
        assert f'id="jumlah">{total} aspirasi' in (await (await s.get("/aspirasi")).text())


async def test_confidential_items_only_for_pimpinan(dash: Dashboard) -> None:
    secret = await _ticket(dash, "a.confidential = 1")
    async with dash.client() as s:
        await dash.login(s, "admin")
        assert (await s.get(f"/aspirasi/{secret}")).status == 404
        assert 'title="Kinerja Kecamatan (rahasia)"' not in await (await s.get("/")).text()
    async with dash.client() as s:
        await dash.login(s, "pimpinan")
        r = await s.get(f"/aspirasi/{secret}")
        assert r.status == 200 and "Kinerja Kecamatan" in await r.text()
        assert 'title="Kinerja Kecamatan (rahasia)"' in await (await s.get("/")).text()


async def test_list_filters_and_paging(dash: Dashboard) -> None:
    db = dash.services.db
    kec, cat = (await db.fetchone(
        "SELECT kecamatan_code, category FROM aspirations WHERE confidential = 0"
        " GROUP BY kecamatan_code, category ORDER BY COUNT(*) DESC LIMIT 1"))
    expected = await db.fetchval("SELECT COUNT(*) FROM aspirations WHERE kecamatan_code = ? AND category = ?",
                                 (kec, cat))
    async with dash.client() as s:
        await dash.login(s, "pimpinan")
        overview = await (await s.get("/")).text()
        assert f"/aspirasi?kecamatan={kec}&amp;kategori={cat}" in overview  # the heat map cell links to its list
        html = await (await s.get(f"/aspirasi?kecamatan={kec}&kategori={cat}")).text()
        assert f'id="jumlah">{expected} aspirasi' in html
        desa = await db.fetchval("SELECT desa_code FROM aspirations WHERE kecamatan_code = ? AND category = ?"
                                 " LIMIT 1", (kec, cat))
        assert f'<option value="{desa}"' in html  # the kecamatan's villages to choose from
        one = await db.fetchval("SELECT COUNT(*) FROM aspirations WHERE desa_code = ? AND category = ?", (desa, cat))
        narrowed = await (await s.get(f"/aspirasi?kecamatan={kec}&kategori={cat}&desa={desa}")).text()
        assert f'id="jumlah">{one} aspirasi' in narrowed
        all_rows = await (await s.get("/aspirasi")).text()
        assert 'id="jumlah">300 aspirasi · halaman 1 dari 6' in all_rows
        second = await (await s.get("/aspirasi?hal=2")).text()
        assert "halaman 2 dari 6" in second and 'rel="prev"' in second
        bad = await s.get("/aspirasi?sejak=kemarin&kategori=<script>&hal=-3")
        text = await bad.text()
        assert bad.status == 200 and "tidak dapat dibaca" in text and "tidak dikenal" in text
        assert "<script>" not in text


async def test_logout_ends_the_session_on_the_server(dash: Dashboard) -> None:
    async with dash.client() as s:
        r = await dash.login(s, "pimpinan")
        cookie = r.cookies["sambang_sesi"].value
        html = await (await s.get("/")).text()
        refused = await s.post("/keluar", allow_redirects=False)  # no CSRF token
        assert refused.status == 403
        out = await s.post("/keluar", data={"_xsrf": dash.csrf(html)}, allow_redirects=False)
        assert out.status == 302
    async with dash.client() as s:  # the old cookie, replayed, opens nothing
        s.cookie_jar.update_cookies({"sambang_sesi": cookie})
        assert (await s.get("/", allow_redirects=False)).status == 302


async def test_sessions_expire(dash: Dashboard, clock: FakeClock) -> None:
    async with dash.client() as s:
        await dash.login(s, "admin")
        assert (await s.get("/", allow_redirects=False)).status == 200
        clock.advance(hours=13)
        assert (await s.get("/", allow_redirects=False)).status == 302


async def test_a_deactivated_person_is_refused_at_once(dash: Dashboard) -> None:
    async with dash.client() as s:
        await dash.login(s, "pimpinan")
        assert (await s.get("/")).status == 200
        await dash.services.db.execute("UPDATE people SET active = 0 WHERE telegram_id = ?", (PEOPLE["pimpinan"],))
        r = await s.get("/")
        assert r.status == 403 and "ASP-" not in await r.text()


async def test_security_headers(dash: Dashboard) -> None:
    async with dash.client() as s:
        await dash.login(s, "pimpinan")
        r = await s.get("/")
        csp = r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'self' https://web.telegram.org" in csp
        assert "script-src 'self';" in csp and "https://tile.openstreetmap.org" in csp
        assert "X-Frame-Options" not in r.headers  # Telegram must be able to embed the Mini App
        assert r.headers["X-Content-Type-Options"] == "nosniff"


async def test_export_is_a_post_with_csrf_and_is_audited(dash: Dashboard) -> None:
    async with dash.client() as s:
        await dash.login(s, "pejabat")
        html = await (await s.get("/ekspor")).text()
        assert (await s.post("/ekspor", data={"format": "csv"})).status == 403
        r = await s.post("/ekspor", data={"format": "csv", "_xsrf": dash.csrf(html)})
        assert r.status == 200 and "opd-pupr" in r.headers["Content-Disposition"]
        body = (await r.read()).decode("utf-8-sig")
        assert "Kinerja Kecamatan" not in body and "Dinas Kesehatan" not in body
        bad = await s.post("/ekspor", data={"format": "exe", "_xsrf": dash.csrf(html)})
        assert bad.status == 400 and "Format ekspor tidak dikenal" in await bad.text()
    audit = await dash.services.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'ekspor'"
                                            " AND actor_telegram_id = ?", (PEOPLE["pejabat"],))
    assert audit == 1


async def test_village_page_map_data_and_visits(dash: Dashboard) -> None:
    db = dash.services.db
    code = await db.fetchval("SELECT desa_code FROM aspirations WHERE status = 'baru' AND confidential = 0 LIMIT 1")
    async with dash.client() as s:
        await dash.login(s, "admin")
        desa = await s.get(f"/desa/{code}")
        assert desa.status == 200 and "Aspirasi terbaru" in await desa.text()
        assert (await s.get("/desa/99.99.99.9999")).status == 404
        data = await (await s.get("/peta/data.json")).json()
        placed = {v[0]: v for v in data["desa"]}
        assert code in placed or data["tanpa_lokasi"] > 0
        assert (await s.get("/kunjungan")).status == 200
        await dash.services.ngantor.visits.create("Tiris", dash.clock.now().date() + timedelta(days=9),
                                                  time(8, 0))
        page = await (await s.get("/kunjungan")).text()
        assert "Kecamatan Tiris" in page
        ics = await s.get("/kunjungan.ics")
        assert ics.headers["Content-Type"].startswith("text/calendar")
        assert "Ngantor di Kecamatan Tiris" in await ics.text()


async def test_https_cookies_are_secure(tmp_path: Path, clock: FakeClock) -> None:
    async with running_dashboard(tmp_path, clock, aspirations=0,
                                 config={"web_url": "https://dasbor.example.go.id"}) as dash:
        async with dash.client() as s:
            r = await dash.login(s, "pimpinan")
            assert "Secure" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]


def test_token_is_the_test_token() -> None:
    assert TOKEN.startswith("123456:") and STRANGER not in PEOPLE.values()


async def test_photos_come_from_the_archive(tmp_path: Path, clock: FakeClock) -> None:
    stored = tmp_path / "ab" / ("ab" + "0" * 62 + ".jpg")
    stored.parent.mkdir()
    stored.write_bytes(b"\xff\xd8\xff\xe0 a photo of a bridge")

    async def archive(file_unique_id: str | None, mime_type: str | None) -> tuple[Path, str] | None:
        return (stored, mime_type or "image/jpeg") if file_unique_id in ("AQAD-foto", "AQAD-pot") else None

    async with running_dashboard(tmp_path, clock, aspirations=30, media=archive) as dash:
        db = dash.services.db
        own = await _ticket(dash, "a.department = 'PUPR'")
        other = await _ticket(dash, "a.department = 'DINKES'")
        async with db.transaction() as tx:
            for ticket in (own, other):
                await tx.execute("INSERT INTO attachments(aspiration_id, position, kind, file_id, file_unique_id)"
                                 " SELECT id, 9, 'photo', 'AgAD', 'AQAD-foto' FROM aspirations WHERE ticket = ?",
                                 (ticket,))
            entry = await tx.execute(
                "INSERT INTO village_potential(desa_code, kind, description, created_at, updated_at)"
                " VALUES ('35.13.02.2001', 'wisata', 'Air terjun Madakaripura di kaki Bromo', ?, ?)",
                (to_iso(clock.now()), to_iso(clock.now())))
            await tx.execute("INSERT INTO village_potential_photos(potential_id, position, file_id, file_unique_id)"
                             " VALUES (?, 0, 'AgAD-pot', 'AQAD-pot')", (entry,))
        async with dash.client() as s:
            await dash.login(s, "pejabat")
            page = await (await s.get(f"/aspirasi/{own}")).text()
            position = len(await db.fetchall(
                "SELECT 1 FROM attachments l JOIN aspirations a ON a.id = l.aspiration_id WHERE a.ticket = ?",
                (own,))) - 1
            assert f'<img src="/aspirasi/{own}/lampiran/{position}"' in page
            photo = await s.get(f"/aspirasi/{own}/lampiran/{position}")
            assert photo.status == 200 and photo.headers["Content-Type"] == "image/jpeg"
            assert await photo.read() == stored.read_bytes()
            assert (await s.get(f"/aspirasi/{other}/lampiran/0")).status == 404  # not their department's
            village = await (await s.get("/desa/35.13.02.2001")).text()
            assert f'<img src="/desa/35.13.02.2001/potensi/{entry}/0"' in village
            assert (await s.get(f"/desa/35.13.02.2001/potensi/{entry}/0")).status == 200
            assert (await s.get(f"/desa/35.13.02.2002/potensi/{entry}/0")).status == 404  # another village's URL
