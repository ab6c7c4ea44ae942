"""The Dockerfile, read instruction by instruction: slim base, non-root user, the database on a volume, a health check
that the CLI really has, and polling by default. (`.ci/lint-dockerfile` runs hadolint on it as well.)"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    result: list[tuple[str, str]] = []
    buffer = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, rest = buffer.partition(" ")
        result.append((keyword.upper(), rest.strip()))
        buffer = ""
    return result


def _args(value: str) -> list[str]:
    return json.loads(value) if value.startswith("[") else shlex.split(value)


def _all(keyword: str) -> list[str]:
    return [rest for kw, rest in instructions() if kw == keyword]


def test_slim_python_base() -> None:
    bases = _all("FROM")
    assert len(bases) >= 1
    image = bases[-1].split()[0]
    assert image.startswith("python:3.1") and image.endswith("-slim"), image


def test_runs_as_a_non_root_user() -> None:
    users = _all("USER")
    assert users, "no USER instruction: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # the user is created with that id in the image
    assert any(f"--uid {user}" in run or f"-u {user}" in run for run in _all("RUN")) or not user.isdigit()
    # USER comes after the last RUN, so nothing later runs as root again
    order = [kw for kw, _ in instructions()]
    assert max(i for i, kw in enumerate(order) if kw == "USER") > max(i for i, kw in enumerate(order) if kw == "RUN")


def test_database_on_a_volume() -> None:
    volumes = [v for value in _all("VOLUME") for v in _args(value)]
    assert "/data" in volumes
    env = " ".join(_all("ENV"))
    assert "SAMBANG_DB=/data/" in env
    assert "SAMBANG_BACKUP_DIR=/data/" in env
    assert any("chown" in run and "/data" in run for run in _all("RUN"))
    assert any("chmod 700 /data /data/backups" in run for run in _all("RUN"))  # the bot's user only


def test_health_check_calls_a_real_command() -> None:
    checks = _all("HEALTHCHECK")
    assert len(checks) == 1
    command = checks[0].split("CMD", 1)[1].strip()
    argv = _args(command)
    assert argv[:2] == ["sambang", "health"]
    args = build_parser().parse_args(argv[1:])
    assert args.command == "health" and args.needs_token is False


def test_polling_by_default_and_graceful_stop() -> None:
    cmd = _args(_all("CMD")[-1])
    assert cmd == ["sambang", "run"]
    assert _all("ENTRYPOINT") == []
    stop = _all("STOPSIGNAL")
    assert stop in ([], ["SIGTERM"])


def test_copies_every_package_the_project_ships() -> None:
    copied = {rest.split()[0] for rest in _all("COPY")}
    for package in ("bot", "handlers", "schedules", "messages", "pyproject.toml"):
        assert package in copied, package
