"""The dashboard at the scale of a province: every page timed on the 100,000-aspiration database.

The dashboard's own server (``bot.web.server.WebServer``, as ``SAMBANG_WEB_LISTEN`` starts it) runs in this process
on 127.0.0.1 on a copy of the volume database; the Bupati and an official of the busiest department log in with a
Login Widget signature and ask for each page ``runs`` times after one warm-up (the overview and the map's data
also with their minute's cache emptied before each request). The time is the request's, from the
client on the same machine (so it includes a little HTTP on localhost): targets p95 under 300 ms per page and under
1 s for the map's data of all 8,494 villages.
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
import time
from pathlib import Path
from typing import Any

from .common import OUT, Figures, copy_db, log, percentile
from .reports import _context

TARGETS = {"page": 0.300, "map_data": 1.0}


def _widget(telegram_id: int, now: Any, token: str) -> dict[str, str]:
    fields = {"id": str(telegram_id), "first_name": "Bench", "auth_date": str(int(now.timestamp()))}
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields)).encode()
    fields["hash"] = hmac.new(hashlib.sha256(token.encode()).digest(), check, hashlib.sha256).hexdigest()
    return fields


async def run_dashboard(figures: Figures, volume_db: Path, *, runs: int) -> None:
    import aiohttp

    from bot.app import dashboard
    from bot.web.server import WebServer

    work = OUT / "dashboard"
    shutil.rmtree(work, ignore_errors=True)
    db_path = work / "sambang.db"
    copy_db(volume_db, db_path)  # logins write sessions: never on the cached database
    ctx = await _context(db_path)
    services = ctx.services
    server = WebServer(dashboard(services), "127.0.0.1", 0)
    await server.start()
    db = services.db
    busy_kec = ctx.places["busy_kecamatan"]
    ticket = ctx.places["busy_ticket"]
    official = ctx.people["official"]
    own_ticket = await db.fetchval(
        "SELECT a.ticket FROM aspirations a JOIN aspiration_departments d ON d.aspiration_id = a.id"
        " WHERE d.department = ? AND a.confidential = 0 ORDER BY a.id DESC LIMIT 1", (official.department,))
    # the overview and the map's data are reused for a minute (bot/village_map/dashboard.py): "_uncached" times
    # them with that cache emptied before every request, which is what the first reader of each minute waits
    pages = [
        ("overview", "/", "page"),
        ("overview_uncached", "/", "page"),
        ("overview_kabupaten_uncached", "/?kabupaten=35.13", "page"),
        ("map", "/peta", "page"),
        ("map_data", "/peta/data.json", "map_data"),
        ("map_data_uncached", "/peta/data.json", "map_data"),
        ("list", "/aspirasi", "page"),
        ("list_open_overdue", "/aspirasi?status=terbuka&terlambat=1", "page"),
        ("list_heat_cell", f"/aspirasi?kecamatan={busy_kec}&kategori=infrastruktur", "page"),
        ("list_page_50", "/aspirasi?hal=50", "page"),
        ("list_period_department", "/aspirasi?opd=PUPR&sejak=2026-03-01&sampai=2026-05-31", "page"),
        ("aspiration", f"/aspirasi/{ticket}", "page"),
        ("village", f"/desa/{ctx.places['busy_desa']}", "page"),
        ("visits", "/kunjungan", "page"),
        ("export_form", "/ekspor", "page"),
    ]
    url = f"http://127.0.0.1:{server.bound_port}"
    try:
        for who, person in (("bupati", ctx.people["bupati"]), ("official", official)):
            async with aiohttp.ClientSession(url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
                login = await session.get("/auth/telegram", allow_redirects=False,
                                          params=_widget(person.telegram_id, services.clock.now(),
                                                         services.config.token))
                assert login.status == 302, f"{who} could not log in: {login.status}"
                for name, path, kind in pages:
                    if who == "official" and name == "aspiration":
                        path = f"/aspirasi/{own_ticket}"
                    samples: list[float] = []
                    size = 0
                    for i in range(runs + 1):
                        if name.endswith("_uncached"):
                            services.village_map.dashboard.forget()
                        start = time.perf_counter()
                        async with session.get(path) as response:
                            body = await response.read()
                            assert response.status == 200, f"{who} {path}: HTTP {response.status}"
                        elapsed = time.perf_counter() - start
                        size = len(body)
                        if i:
                            samples.append(elapsed)
                    target = TARGETS[kind]
                    p95 = percentile(samples, 95)
                    prefix = f"dashboard.{who}.{name}"
                    figures.add(f"{prefix}.p50_ms", 1000 * percentile(samples, 50), "ms")
                    figures.add(f"{prefix}.p95_ms", 1000 * p95, "ms")
                    figures.add(f"{prefix}.kb", size / 1024, "KB")
                    figures.add(f"{prefix}.met", "yes" if p95 < target else "NO")
                    log(f"dashboard {who} {path}: p95 {1000 * p95:.0f} ms ({size / 1024:.0f} KB)")
                if who == "bupati":
                    data = await (await session.get("/peta/data.json")).json()
                    figures.add("dashboard.map.villages_placed", len(data["desa"]))
                    figures.add("dashboard.map.villages_total", data["jumlah_desa"])
    finally:
        await server.stop()
        await db.close()
