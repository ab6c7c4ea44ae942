"""`sambang` on the command line: run the bot and keep its roster, calling the same services as the bot."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError, load_config
from bot.core.domain import DomainError
from bot.core.wording import phrases, plain

log = logging.getLogger("sambang")

#: The commands that may create the database file; every other one refuses a SAMBANG_DB that does not exist.
CREATES_DATABASE = frozenset({"run", "migrate", "restore"})
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def setup_logging(level: str = "INFO") -> None:
    from bot.operations.logs import configure

    configure(level)


def check_settings(config: Config) -> None:
    """Every setting the features read later, checked now: a bad value stops a command before it touches the
    database (each raises ``ConfigError`` naming the variable)."""
    from bot.media.settings import media_dir
    from bot.officials.departments import load_routing
    from bot.operations.settings import ops_settings

    ops_settings(config)
    load_routing(config)
    media_dir(config)


def _folder_problem(db_path: Path) -> str | None:
    """Why the database (and its folder) could not be written, or None. Checked before anything is created."""
    probe = db_path.absolute().parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return plain("cli/db_folder_not_folder", folder=db_path.parent, probe=probe)
    if not os.access(probe, os.W_OK | os.X_OK):
        return plain("cli/db_folder_not_writable", folder=probe)
    if db_path.exists() and not os.access(db_path, os.R_OK | os.W_OK):
        return plain("cli/db_file_not_writable", path=db_path)
    return None


def _database_problem(config: Config, command: str) -> str | None:
    """One line when SAMBANG_DB cannot serve ``command``: missing (only run, migrate and restore create it), not
    writable, or made for another wilayah (``WilayahMismatch``, a ``ConfigError``, is raised)."""
    from bot.people.regions import check_wilayah_file

    path = config.db_path
    if command not in CREATES_DATABASE and not path.is_file():
        return plain("cli/db_missing", path=path)
    if command in ("run", "migrate") and (problem := _folder_problem(path)) is not None:
        return plain("cli/config_error", variable="SAMBANG_DB", text=problem)
    if command != "restore" and path.is_file():
        check_wilayah_file(path, config.wilayah)
    return None


def _one_line(exc: BaseException) -> str:
    """An exception as one line with secrets masked (the bot token must never be printed)."""
    from bot.operations.logs import mask_text

    text = " ".join(str(exc).split()) or type(exc).__name__
    return mask_text(text)[:300]


def _start_problem(exc: BaseException, config: Config, webhook: Any) -> str | None:
    """One line naming why the bot could not start, or None for an error that is not a start-up failure."""
    from telegram.error import InvalidToken, NetworkError

    if isinstance(exc, InvalidToken):
        return plain("cli/token_refused")
    if isinstance(exc, NetworkError):  # TimedOut included
        host = config.base_url.split("://", 1)[-1].split("/", 1)[0]
        return plain("cli/telegram_unreachable", host=host, error=_one_line(exc))
    if isinstance(exc, OverflowError | OSError) and webhook is not None:
        if getattr(exc, "errno", None) == errno.EADDRINUSE:
            return plain("cli/port_in_use", port=webhook.port)
        return plain("cli/cannot_listen", listen=webhook.listen, port=webhook.port, error=_one_line(exc))
    return None


def _port_problem(config: Config, webhook: Any) -> str | None:
    """Whether the webhook server could listen: bound and released the way it binds (tornado)."""
    import tornado.netutil

    try:
        for sock in tornado.netutil.bind_sockets(webhook.port, address=webhook.listen):
            sock.close()
    except (OSError, OverflowError) as exc:
        return _start_problem(exc, config, webhook)
    return None


def _web_problem(config: Config) -> str | None:
    """Whether the dashboard's own server (polling mode, ``SAMBANG_WEB_LISTEN``) could listen."""
    import tornado.netutil

    if config.web_listen is None:
        return None
    host, port = config.web_listen
    try:
        for sock in tornado.netutil.bind_sockets(port, address=host):
            sock.close()
    except (OSError, OverflowError) as exc:
        if getattr(exc, "errno", None) == errno.EADDRINUSE:
            return plain("cli/web_port_in_use", port=port)
        return plain("cli/web_cannot_listen", listen=host, port=port, error=_one_line(exc))
    return None


async def _telegram_problem(config: Config) -> str | None:
    """Whether Telegram answers and accepts the token (getMe), before anything is created."""
    from telegram import Bot

    try:
        async with Bot(config.token, base_url=config.base_url, base_file_url=config.base_file_url):
            pass
    except Exception as exc:
        problem = _start_problem(exc, config, None)
        if problem is None:
            raise
        return problem
    return None


async def _open_services(config: Config) -> Any:
    """The services for a feature's sub-command, given to it as ``args.open_services`` (features import no root)."""
    from bot.app import open_services

    return await open_services(config)


async def _with_services(config: Config, work: Callable[[Any], Awaitable[int]]) -> int:
    services = await _open_services(config)
    try:
        return await work(services)
    finally:
        await services.db.close()


async def cmd_run(config: Config, args: argparse.Namespace) -> int:
    from bot.app import WebhookSettings, build_application, open_services, start_bot, stop_bot
    from bot.operations.settings import ops_settings
    from bot.storage.runlock import AlreadyRunning, RunLock
    from bot.telegram.webhook import WebhookError, check_secret, new_secret, webhook_path

    webhook = None
    if getattr(args, "webhook", None):
        secret = args.secret_token or ops_settings(config).webhook_secret
        try:
            if secret:
                check_secret(secret)
            else:
                secret = new_secret()
                log.info("webhook: no SAMBANG_WEBHOOK_SECRET given; using a new random secret token for this run")
            webhook_path(args.webhook, args.url_path)
        except WebhookError as exc:
            print(plain("cli/config_error", variable="--webhook", text=exc), file=sys.stderr)
            return 2
        webhook = WebhookSettings(url=args.webhook, secret_token=secret, listen=args.listen, port=args.port,
                                  url_path=args.url_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    problem = await _telegram_problem(config)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        lock = RunLock(config.db_path).acquire()
    except AlreadyRunning:
        print(plain("cli/already_running", path=config.db_path), file=sys.stderr)
        return 1
    except OSError as exc:
        print(plain("cli/config_error", variable="SAMBANG_DB", text=plain("cli/db_folder_not_writable_because",
                                                                             error=exc.strerror)), file=sys.stderr)
        return 2
    try:
        problem = _port_problem(config, webhook) if webhook is not None else _web_problem(config)
        if problem is not None:
            print(problem, file=sys.stderr)
            return 2
        services = await open_services(config)
        try:
            app = build_application(services)
            try:
                try:
                    await start_bot(app, webhook=webhook, timeout=30)
                except Exception as exc:  # the network or the port went away since the checks above
                    problem = _start_problem(exc, config, webhook)
                    if problem is None:
                        raise
                    print(problem, file=sys.stderr)
                    return 2
                if webhook is None:
                    log.info("polling for updates; stop with Ctrl+C or SIGTERM")
                else:
                    log.info("webhook mode: %s; stop with Ctrl+C or SIGTERM", webhook.url.split("?")[0])
                await stop.wait()
            finally:  # also after a failed start: whatever did start is stopped in order
                log.info("stopping: no new updates, finishing in-flight work")
                await stop_bot(app)
                log.info("stopped cleanly")
        finally:
            try:
                await services.db.close()
            except Exception as exc:  # a stop during a fault ends cleanly; SQLite's journal keeps the data safe
                log.error("stopping: closing the database failed (%s: %s)", type(exc).__name__, exc)
    finally:
        lock.release()
    return 0


async def cmd_migrate(config: Config, args: argparse.Namespace) -> int:
    from bot.people.regions import count_regions, ensure_wilayah, load_regions
    from bot.storage.database import Database

    db = await Database.open(config.db_path, migrate=False)
    try:
        applied = await db.migrate()
        await ensure_wilayah(db, config.wilayah)
        kecamatan, _ = await count_regions(db)
        if kecamatan == 0:
            await load_regions(db, config.wilayah)
        k, d = await count_regions(db)
        version = await db.schema_version()
    finally:
        await db.close()
    print(plain("cli/migrate", applied=applied, version=version, wilayah=config.wilayah, kecamatan=k, desa=d))
    return 0


async def _bot_username(services: Any) -> str:
    """The bot's @username for invitation links: configured, remembered from the last run, or asked of Telegram."""
    config: Config = services.config
    if config.bot_username:
        return config.bot_username
    stored = await services.db.fetchval("SELECT value FROM app_state WHERE key = 'bot_username'")
    if stored:
        return str(stored)
    if config.token:
        from telegram import Bot

        try:
            async with Bot(config.token, base_url=config.base_url, base_file_url=config.base_file_url) as bot:
                return bot.username
        except Exception:  # offline or a wrong token: the code still works, only the link is incomplete
            log.warning("could not ask Telegram for the bot's username", exc_info=True)
    return "<bot>"


async def cmd_invite(config: Config, args: argparse.Namespace) -> int:
    from bot.people import roster

    if args.hours is not None and args.hours < 1:
        print(plain("cli/invite_hours", hours=args.hours), file=sys.stderr)
        return 2

    async def work(services: Any) -> int:
        invitation = await roster.create_invitation(
            services.db, services.clock, role=args.role, desa=args.desa, kecamatan=args.kecamatan,
            department=args.department, title=args.title,
            ttl_hours=args.hours if args.hours is not None else config.invite_ttl_hours,
        )
        username = await _bot_username(services)
        until = invitation.expires_at.astimezone(config.tz)
        head = None
        if invitation.desa_code:
            from bot.people.service import registered_head

            head = await registered_head(services.db, invitation.desa_code)
        print(plain("cli/invite", code=invitation.code, username=username, role=invitation.role.label,
                    until=f"{until:%Y-%m-%d %H:%M %Z}", head=head.label if head is not None else None))
        return 0

    return await _with_services(config, work)


async def cmd_roster_import(config: Config, args: argparse.Namespace) -> int:
    from bot.people import roster

    path = Path(args.file)
    try:
        raw = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        print(plain("cli/cannot_read", path=path, error=exc.strerror), file=sys.stderr)
        return 1
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")

    async def work(services: Any) -> int:
        report = await roster.import_roster(services.db, services.clock, text)
        if not report.ok:
            print(plain("cli/import_failed", errors=report.errors), file=sys.stderr)
            return 1
        print(plain("cli/roster_imported", report=report))
        return 0

    return await _with_services(config, work)


def build_parser() -> argparse.ArgumentParser:
    help_texts = phrases("cli/help")
    parser = argparse.ArgumentParser(prog="sambang", description=help_texts["description"])
    parser.add_argument("--log-level", default="INFO", help=", ".join(LOG_LEVELS))
    parser.set_defaults(open_services=_open_services)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help=help_texts["run"])
    run.add_argument("--webhook", metavar="URL", help=help_texts["run_webhook"])
    run.add_argument("--listen", default="0.0.0.0", help=help_texts["run_listen"])
    run.add_argument("--port", type=int, default=8443, help=help_texts["run_port"])
    run.add_argument("--secret-token", help=help_texts["run_secret_token"])
    run.add_argument("--url-path", help=help_texts["run_url_path"])
    run.set_defaults(func=cmd_run, needs_token=True)
    mig = sub.add_parser("migrate", help=help_texts["migrate"])
    mig.set_defaults(func=cmd_migrate, needs_token=False)
    inv = sub.add_parser("invite", help=help_texts["invite"])
    inv.add_argument("--role", required=True, help=help_texts["invite_role"])
    inv.add_argument("--desa", help=help_texts["invite_desa"])
    inv.add_argument("--kecamatan", help=help_texts["invite_kecamatan"])
    inv.add_argument("--department", "--opd", dest="department", help=help_texts["invite_department"])
    inv.add_argument("--title", "--jabatan", dest="title", help=help_texts["invite_title"])
    inv.add_argument("--hours", type=int, help=help_texts["invite_hours"])
    inv.set_defaults(func=cmd_invite, needs_token=False)
    ros = sub.add_parser("roster", help=help_texts["roster"])
    ros_sub = ros.add_subparsers(dest="roster_command", required=True)
    imp = ros_sub.add_parser("import", help=help_texts["roster_import"])
    imp.add_argument("file")
    imp.set_defaults(func=cmd_roster_import, needs_token=False)
    for name, help_template, configure, func in feature_commands():
        p = sub.add_parser(name, help=phrases(help_template)[name])
        configure(p)
        if p.get_default("func") is None:
            p.set_defaults(func=func)
        if p.get_default("needs_token") is None:
            p.set_defaults(needs_token=False)
    return parser


#: A feature's ``sambang`` sub-command: (name, the template of its help texts — the phrase named like the command is
#: its help —, configure(parser), run(config, args) -> exit code).
#: ``configure`` may ``set_defaults(func=...)`` for nested sub-commands and ``needs_token=True`` when it needs one.
SubCommand = tuple[str, str, Callable[[argparse.ArgumentParser], None],
                   Callable[[Config, argparse.Namespace], Awaitable[int]]]


def feature_commands() -> list[SubCommand]:
    """The features' sub-commands, in the order ``sambang --help`` lists them (after run, migrate, invite, roster)."""
    from bot.media.cli import MEDIA_COMMAND
    from bot.officials.cli import DEPARTMENTS_COMMAND
    from bot.operations.cli import OPS_COMMANDS
    from bot.operations.deadletters import DEADLETTERS_COMMAND
    from bot.people.cli import PEOPLE_COMMAND
    from bot.village_map.service import EXPORT_COMMAND
    from bot.visits.cli import SCHEDULE_COMMAND

    return [DEPARTMENTS_COMMAND, SCHEDULE_COMMAND, EXPORT_COMMAND, *OPS_COMMANDS, MEDIA_COMMAND, DEADLETTERS_COMMAND,
            PEOPLE_COMMAND]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = str(args.log_level).strip().upper()
    if level not in LOG_LEVELS:
        print(plain("cli/config_error", variable="--log-level",
                    text=plain("cli/log_level_unknown", value=args.log_level, choices=LOG_LEVELS)), file=sys.stderr)
        return 2
    setup_logging(level)
    try:
        config = load_config(require_token=bool(getattr(args, "needs_token", False)))
        from bot.operations.logs import hide_secret

        hide_secret(config.token)
        check_settings(config)
        problem = _database_problem(config, args.command)
    except ConfigError as exc:
        print(plain("cli/config_error", variable=exc.variable, text=exc.message), file=sys.stderr)
        return 2
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        code: int = asyncio.run(args.func(config, args))
        return code
    except ConfigError as exc:
        print(plain("cli/config_error", variable=exc.variable, text=exc.message), file=sys.stderr)
        return 2
    except DomainError as exc:
        print(plain("cli/failed", text=exc.message), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a defect: the traceback goes to the log, masked like every log line
        log.critical("sambang %s failed", args.command, exc_info=True)
        print(plain("cli/failed", text=plain("cli/unexpected", kind=type(exc).__name__, error=_one_line(exc))),
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
