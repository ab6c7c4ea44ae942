"""The dashboard in a real browser: Debian's headless Chromium, driven by Selenium through /usr/bin/chromedriver.

It loads the overview, the map, a filtered list and an aspiration with its photo, on a phone's width (390 px, the
Mini App) and a desktop's; any console error fails the test, and a screenshot of each page is kept under
``tests/artifacts/``. Without Chromium (or Selenium) these tests skip, saying so; the HTTP-level tests still run.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import struct
import warnings
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.core.clock import FakeClock, to_iso
from tests.web.dashboard_support import PEOPLE, Dashboard, init_data, running_dashboard, widget_fields

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - the test extra installs it
    webdriver = None

_MISSING = ("selenium is not installed (pip install -e '.[test]')" if webdriver is None else
            "no headless browser: install Debian's chromium and chromium-driver (apt-get install -y chromium"
            " chromium-driver)" if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)) else "")
if _MISSING:
    warnings.warn(f"SKIPPING the dashboard's browser tests: {_MISSING}", stacklevel=1)
pytestmark = pytest.mark.skipif(bool(_MISSING), reason=f"SKIPPED LOUDLY: {_MISSING}")


def _png(width: int, height: int) -> bytes:
    """A small solid PNG (a field in the rain, say)."""
    raw = b"".join(b"\x00" + bytes((60, 140, 70)) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture
def browser() -> Iterator[Any]:
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download a driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=390,844", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
async def dash(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Dashboard]:
    """A dashboard with tiles off (no test reaches the internet: the map must show its markers without them) and
    one aspiration whose photo is archived."""
    content = _png(320, 200)
    sha = hashlib.sha256(content).hexdigest()
    async with running_dashboard(tmp_path, clock, config={"map_tiles": ""}) as d:
        db = d.services.db
        # the photo as the media archive keeps it: named by its SHA-256, recorded with its download
        stored = d.services.media.root / sha[:2] / f"{sha}.png"
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_bytes(content)
        stamp = to_iso(clock.now())
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO media_files(sha256, size, mime_type, path, created_at)"
                             " VALUES (?, ?, ?, ?, ?)",
                             (sha, len(content), "image/png", f"{sha[:2]}/{sha}.png", stamp))
            await tx.execute("INSERT INTO media_downloads(file_unique_id, file_id, kind, owner, status, next_try_at,"
                             " sha256, created_at, updated_at) VALUES ('uniq-1', 'AgAD-photo', 'photo', 'asp:0',"
                             " 'done', ?, ?, ?, ?)", (stamp, sha, stamp, stamp))
        asp = await db.fetchone("SELECT a.id, a.ticket, a.desa_code FROM aspirations a JOIN attachments l"
                                " ON l.aspiration_id = a.id AND l.kind = 'location' WHERE a.confidential = 0"
                                " AND a.status = 'baru' ORDER BY a.id LIMIT 1")
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO attachments(aspiration_id, position, kind, file_id, file_unique_id,"
                             " mime_type, caption) VALUES (?, -1, 'photo', 'AgAD-photo', 'uniq-1', 'image/png',"
                             " 'Jembatan <retak> di sisi timur')", (asp["id"],))
            await tx.execute("INSERT INTO village_locations(desa_code, latitude, longitude, set_at)"
                             " VALUES (?, -7.9, 113.25, ?)", (asp["desa_code"], to_iso(clock.now())))
        d.ticket = asp["ticket"]
        yield d


async def _load(browser: Any, url: str) -> None:
    await asyncio.to_thread(browser.get, url)


def _errors(browser: Any) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e.get("level") == "SEVERE"]


async def _shot(browser: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await asyncio.to_thread(browser.save_screenshot, str(path))
    return path


async def _wait(browser: Any, condition: Any, timeout: float = 15) -> Any:
    return await asyncio.to_thread(WebDriverWait(browser, timeout).until, condition)


async def _login(browser: Any, dash: Dashboard, role: str = "pimpinan") -> None:
    await _load(browser, f"{dash.url}/auth/telegram?" + urlencode(widget_fields(PEOPLE[role], dash.clock.now())))
    assert "Ringkasan aspirasi" in browser.page_source


@pytest.mark.parametrize("width", [390, 1280])
async def test_pages_in_a_real_browser(browser: Any, dash: Dashboard, width: int) -> None:
    await asyncio.to_thread(browser.set_window_size, width, 900)
    await _login(browser, dash)
    # overview: the figures, the weekly chart and the heat map, nothing wider than the screen
    assert browser.find_element(By.CSS_SELECTOR, ".angka .kartu b").text.strip()
    assert browser.find_elements(By.CSS_SELECTOR, "svg.grafik rect.batang")
    cell = browser.find_element(By.CSS_SELECTOR, "table.panas td a")
    page_width = browser.execute_script("return document.documentElement.scrollWidth")
    assert page_width <= width + 1, f"the overview is {page_width} px wide on a {width} px screen"
    await _shot(browser, f"ringkasan-{width}")
    assert _errors(browser) == []

    # a heat map cell opens its filtered list
    await asyncio.to_thread(cell.click)
    await _wait(browser, lambda b: "/aspirasi?" in b.current_url)
    assert "kecamatan=" in browser.current_url and "kategori=" in browser.current_url
    rows = browser.find_elements(By.CSS_SELECTOR, "table.daftar tbody tr")
    assert rows and "aspirasi" in browser.find_element(By.ID, "jumlah").text
    await _shot(browser, f"daftar-{width}")
    assert _errors(browser) == []

    # the map: markers drawn without any tiles
    await _load(browser, f"{dash.url}/peta")
    await _wait(browser, lambda b: b.find_element(By.ID, "peta").get_attribute("data-siap"))
    markers = browser.find_elements(By.CSS_SELECTOR, "#peta path.leaflet-interactive")
    assert len(markers) == int(browser.find_element(By.ID, "peta").get_attribute("data-siap")) > 0
    await _shot(browser, f"peta-{width}")
    assert _errors(browser) == []

    # an aspiration with its photo from the archive, the caption escaped
    await _load(browser, f"{dash.url}/aspirasi/{dash.ticket}")
    img = browser.find_element(By.CSS_SELECTOR, ".lampiran img")
    await _wait(browser, lambda b: b.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img))
    assert browser.execute_script("return arguments[0].naturalWidth", img) == 320
    assert "Jembatan <retak> di sisi timur" in browser.find_element(By.CSS_SELECTOR, ".lampiran figcaption").text
    assert browser.find_elements(By.CSS_SELECTOR, "#titik path.leaflet-interactive")  # its location, drawn
    await _shot(browser, f"aspirasi-{width}")
    assert _errors(browser) == []

    # its village's page, from the link on the aspiration
    await asyncio.to_thread(browser.find_element(By.CSS_SELECTOR, "dl.data a[href^='/desa/']").click)
    await _wait(browser, lambda b: "/desa/" in b.current_url)
    assert "Lokasi kantor desa" in browser.page_source and "Aspirasi terbaru" in browser.page_source
    await _shot(browser, f"desa-{width}")
    assert _errors(browser) == []
    await asyncio.to_thread(browser.find_element(By.PARTIAL_LINK_TEXT, "lihat di peta").click)
    await _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content a"))
    assert browser.find_element(By.CSS_SELECTOR, ".leaflet-popup-content a").text.startswith("Desa ")
    assert _errors(browser) == []


async def test_a_console_error_would_fail_the_test(browser: Any, dash: Dashboard) -> None:
    """The console check itself: a page that logs an error is caught."""
    await _login(browser, dash)
    await asyncio.to_thread(browser.execute_script, "console.error('rusak')")
    assert any("rusak" in e for e in _errors(browser))


async def test_the_mini_app_signs_in_with_its_launch_data(browser: Any, dash: Dashboard) -> None:
    """Telegram opens the Mini App at the dashboard's address with ``#tgWebAppData=…``: the page sends that initData
    to /auth/webapp and lands on the overview, no password and no script from outside."""
    launch = urlencode({"tgWebAppData": init_data(PEOPLE["pejabat"], dash.clock.now()), "tgWebAppVersion": "8.0",
                        "tgWebAppPlatform": "android"})
    await _load(browser, f"{dash.url}/#{launch}")
    await _wait(browser, lambda b: "Ringkasan aspirasi" in b.page_source)
    assert "OPD PUPR" in browser.find_element(By.CSS_SELECTOR, ".siapa").text
    await _shot(browser, "mini-app-masuk")
    assert _errors(browser) == []
    # a forged launch goes back to the login page, signed out
    await asyncio.to_thread(browser.delete_all_cookies)
    forged = urlencode({"tgWebAppData": init_data(PEOPLE["pimpinan"], dash.clock.now(), token="654321:OTHER")})
    await _load(browser, f"{dash.url}/peta#{forged}")
    await _wait(browser, lambda b: "gagal=1" in b.current_url)
    assert "Masuk lewat Telegram gagal" in browser.page_source
    assert "Peta masalah" not in browser.page_source
