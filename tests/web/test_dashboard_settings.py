"""The dashboard's settings: read once with the others, a bad value named in one line."""

from __future__ import annotations

import pytest

from bot.config import DEFAULT_MAP_TILES, ConfigError, load_config
from bot.web.server import content_security_policy, tile_origin

BASE = {"TELEGRAM_BOT_TOKEN": "123456:ABC"}


def _load(**env: str) -> object:
    return load_config({**BASE, **env}, dotenv_path=None)


def test_defaults_keep_the_dashboard_off() -> None:
    config = load_config(BASE)
    assert config.web_listen is None and config.web_url == "" and config.map_tiles == DEFAULT_MAP_TILES


@pytest.mark.parametrize(("raw", "expected"), [
    ("127.0.0.1:8080", ("127.0.0.1", 8080)), (":8080", ("0.0.0.0", 8080)), ("[::1]:9000", ("::1", 9000)),
    ("dasbor.local:80", ("dasbor.local", 80)),
])
def test_web_listen(raw: str, expected: tuple[str, int]) -> None:
    assert load_config({**BASE, "SAMBANG_WEB_LISTEN": raw}).web_listen == expected


@pytest.mark.parametrize(("variable", "raw"), [
    ("SAMBANG_WEB_LISTEN", "8080"), ("SAMBANG_WEB_LISTEN", "host:99999"), ("SAMBANG_WEB_LISTEN", "a b:1"),
    ("SAMBANG_WEB_URL", "dasbor.example.go.id"), ("SAMBANG_WEB_URL", "ftp://x"),
    ("SAMBANG_MAP_TILES", "https://tiles.example/{z}/{x}.png"), ("SAMBANG_MAP_TILES", "tiles"),
])
def test_bad_values_are_named(variable: str, raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({**BASE, variable: raw})
    assert caught.value.variable == variable


def test_tiles_off_and_their_origin_in_the_csp() -> None:
    assert load_config({**BASE, "SAMBANG_MAP_TILES": "off"}).map_tiles == ""
    assert load_config({**BASE, "SAMBANG_WEB_URL": "https://dasbor.example.go.id/"}).web_url == \
        "https://dasbor.example.go.id"
    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    assert tile_origin("http://10.0.0.2:8081/tiles/{z}/{x}/{y}.png") == "http://10.0.0.2:8081"
    csp = content_security_policy("")
    assert "img-src 'self' data:;" in csp and "frame-ancestors 'self' https://web.telegram.org" in csp
    assert "https://telegram.org" in content_security_policy("", login=True)
