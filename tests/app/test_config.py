"""Configuration: defaults, .env files, and one clear line with exit code 2 for a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import DEFAULT_BASE_URL, ConfigError, load_config

TOKEN = "123456:ABC-def_ghi"


def test_defaults(tmp_path: Path) -> None:
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN}, dotenv_path=tmp_path / "none.env")
    assert config.token == TOKEN
    assert config.base_url == DEFAULT_BASE_URL
    assert config.db_path == Path("data/sambang.db")
    assert config.wilayah == "35.13"
    assert config.admins == frozenset()
    assert config.tz_name == "Asia/Jakarta"
    assert config.digest_max_items == 100


def test_digest_max_items(tmp_path: Path) -> None:
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_DIGEST_MAX_ITEMS": " 25 "},
                         dotenv_path=tmp_path / "none.env")
    assert config.digest_max_items == 25
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_DIGEST_MAX_ITEMS": "1"},
                         dotenv_path=tmp_path / "none.env")
    assert config.digest_max_items == 1


def test_values_and_file_url_follows_base_url(tmp_path: Path) -> None:
    config = load_config(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "SAMBANG_DB": str(tmp_path / "x.db"),
            "SAMBANG_WILAYAH": "35",
            "SAMBANG_ADMINS": "111, 222",
            "SAMBANG_TZ": "Asia/Makassar",
        },
        dotenv_path=tmp_path / "none.env",
    )
    assert config.base_file_url == "http://127.0.0.1:8081/file/bot"
    assert config.admins == frozenset({111, 222})
    assert config.wilayah == "35"
    assert str(config.tz) == "Asia/Makassar"


def test_explicit_file_url(tmp_path: Path) -> None:
    config = load_config({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "http://h:1/bot",
                          "TELEGRAM_API_FILE_URL": "http://files:2/file/bot"}, dotenv_path=tmp_path / "n")
    assert config.base_file_url == "http://files:2/file/bot"


def test_dotenv_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nSAMBANG_ADMINS=5\nSAMBANG_TZ=Asia/Jayapura\n")
    config = load_config({"SAMBANG_TZ": "Asia/Jakarta"}, dotenv_path=env_file)
    assert config.token == TOKEN
    assert config.admins == frozenset({5})
    assert config.tz_name == "Asia/Jakarta"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_WILAYAH": "99.99"}, "SAMBANG_WILAYAH"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_WILAYAH": "abc"}, "SAMBANG_WILAYAH"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_ADMINS": "12,budi"}, "SAMBANG_ADMINS"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_TZ": "Mars/Olympus"}, "SAMBANG_TZ"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "ftp://x"}, "TELEGRAM_API_BASE_URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_DAILY_DIGEST_TIME": "25:00"}, "SAMBANG_DAILY_DIGEST_TIME"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_DIGEST_MAX_ITEMS": "0"}, "SAMBANG_DIGEST_MAX_ITEMS"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_DIGEST_MAX_ITEMS": "-5"}, "SAMBANG_DIGEST_MAX_ITEMS"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_DIGEST_MAX_ITEMS": "2.5"}, "SAMBANG_DIGEST_MAX_ITEMS"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_DIGEST_MAX_ITEMS": "seratus"}, "SAMBANG_DIGEST_MAX_ITEMS"),
    ],
)
def test_invalid_values_name_the_variable(tmp_path: Path, env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env, dotenv_path=tmp_path / "none.env")
    assert info.value.variable == variable


def _run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SAMBANG_", "TELEGRAM_"))}
    base["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env={**base, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_cli_missing_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _run_cli(["run"], {}, tmp_path)
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_bad_digest_max_items_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _run_cli(["run"], {"TELEGRAM_BOT_TOKEN": TOKEN, "SAMBANG_DIGEST_MAX_ITEMS": "0",
                                "SAMBANG_DB": str(tmp_path / "d.db")}, tmp_path)
    assert result.returncode == 2
    assert "SAMBANG_DIGEST_MAX_ITEMS" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_bad_wilayah_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _run_cli(["migrate"], {"SAMBANG_WILAYAH": "77.77", "SAMBANG_DB": str(tmp_path / "d.db")}, tmp_path)
    assert result.returncode == 2
    assert "SAMBANG_WILAYAH" in result.stderr
    assert "Traceback" not in result.stderr
