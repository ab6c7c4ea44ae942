"""The composition root's order, snapshotted: handlers (and their groups), scheduled tasks, weekly-digest sections,
menu commands per role, /batal hooks, submission subscribers and command-line sub-commands.

The order is behaviour (the first handler that matches wins, a digest reads top to bottom), so a refactor of the
wiring must keep it; a deliberate change updates the lists here in the same commit.
"""

from __future__ import annotations

import argparse
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import ConversationHandler

from bot.app import SCHEDULED_TASKS, build_application, open_services
from bot.cli import build_parser
from bot.config import Config
from bot.core.clock import FakeClock
from bot.core.domain import Role

HANDLERS = [
    (-4, 'TypeHandler:bot.telegram.guards.flood_limit'),
    (-3, 'TypeHandler:bot.telegram.context.drop_duplicate_updates'),
    (-2, 'TypeHandler:bot.telegram.guards.guard'),
    (-1, 'MessageHandler:handlers.officials.thread.on_message'),
    (-1, 'MessageHandler:handlers.officials.actions.on_text'),
    (-1, 'MessageHandler:handlers.officials.actions.on_command'),
    (-1, 'MessageHandler:handlers.officials.actions.on_result_photo'),
    (0, 'CommandHandler:handlers.people.start.start'),
    (0, 'CommandHandler:handlers.people.start.help_command'),
    (0, 'MessageHandler:handlers.people.start.contact_shared'),
    (0, 'CommandHandler:handlers.people.invite.undang'),
    (0, 'conversation:aspirasi'),
    (0, 'CallbackQueryHandler:handlers.aspirations.intake.stale_button'),
    (0, 'CommandHandler:handlers.aspirations.status.status'),
    (0, 'CallbackQueryHandler:handlers.officials.thread.on_write'),
    (0, 'CallbackQueryHandler:handlers.officials.actions.on_button'),
    (0, 'CommandHandler:handlers.officials.actions.inbox'),
    (0, 'CommandHandler:handlers.officials.actions.tangani'),
    (0, 'CommandHandler:handlers.officials.actions.balas'),
    (0, 'CommandHandler:handlers.officials.actions.opd'),
    (0, 'MessageHandler:handlers.officials.actions.on_migrate'),
    (0, 'ChatMemberHandler:handlers.officials.actions.on_my_membership'),
    (0, 'CommandHandler:handlers.visits.schedule.jadwal'),
    (0, 'CallbackQueryHandler:handlers.visits.schedule.jadwal_all'),
    (0, 'conversation:kunjungan'),
    (0, 'CallbackQueryHandler:handlers.visits.schedule.stale_button'),
    (0, 'CommandHandler:handlers.visits.briefing.briefing'),
    (0, 'conversation:umpan_balik'),
    (0, 'CallbackQueryHandler:handlers.visits.feedback.visit_rated'),
    (0, 'CallbackQueryHandler:handlers.visits.feedback.stale_skip'),
    (0, 'CommandHandler:handlers.visits.feedback.umpanbalik'),
    (0, 'conversation:janji'),
    (0, 'conversation:hasil_janji'),
    (0, 'CallbackQueryHandler:handlers.visits.commitments.stale_button'),
    (0, 'conversation:siaran'),
    (0, 'CallbackQueryHandler:handlers.visits.broadcast.refresh'),
    (0, 'CallbackQueryHandler:handlers.visits.broadcast.stale_button'),
    (0, 'conversation:potensi'),
    (0, 'CallbackQueryHandler:handlers.village_map.potensi.open_entry'),
    (0, 'CallbackQueryHandler:handlers.village_map.potensi.list_entries'),
    (0, 'CallbackQueryHandler:handlers.village_map.potensi.ask_delete'),
    (0, 'CallbackQueryHandler:handlers.village_map.potensi.confirm_delete'),
    (0, 'CallbackQueryHandler:handlers.village_map.potensi.stale_button'),
    (0, 'CommandHandler:handlers.village_map.desa.desa'),
    (0, 'CallbackQueryHandler:handlers.village_map.desa.desa_button'),
    (0, 'CommandHandler:handlers.village_map.rekap.rekap'),
    (0, 'CommandHandler:handlers.village_map.rekap.ekspor'),
    (0, 'CommandHandler:handlers.village_map.lokasi.lokasi'),
    (0, 'MessageHandler:handlers.village_map.lokasi.office_location'),
    (0, 'CommandHandler:handlers.village_map.dasbor.dasbor'),
    (0, 'CommandHandler:handlers.operations.audit.audit_export'),
    (0, 'CommandHandler:handlers.operations.deadletters.gagal'),
    (0, 'CallbackQueryHandler:handlers.operations.deadletters.gagal_button'),
    (0, 'CommandHandler:handlers.people.admin.orang'),
    (0, 'CommandHandler:handlers.people.admin.nonaktifkan'),
    (0, 'CommandHandler:handlers.people.admin.aktifkan'),
    (0, 'CommandHandler:handlers.people.admin.pindah'),
    (0, 'CallbackQueryHandler:handlers.people.admin.succession_button'),
    (0, 'CommandHandler:handlers.aspirations.intake.cancel_outside'),
    (0, 'MessageHandler:handlers.fallback.unknown_command'),
    (0, 'MessageHandler:handlers.fallback.unknown_text'),
    (0, 'MessageHandler:handlers.fallback.attachment_outside'),
    (0, 'MessageHandler:handlers.fallback.unsupported'),
    (0, 'MessageHandler:handlers.fallback.group_command'),
    (0, 'CallbackQueryHandler:handlers.fallback.unknown_button'),
    (1, 'CommandHandler:handlers.village_map.potensi.pause_for_aspiration'),
    (1, 'CallbackQueryHandler:handlers.village_map.potensi.pause_for_aspiration'),
    (100, 'TypeHandler:bot.telegram.context.persist_now'),
]

TASKS = [
    'officials:service-levels',
    'officials:info-reminders',
    'digest:daily',
    'digest:weekly',
    'heartbeat',
    'dead_letter_replays',
    'daily_backup',
    'prune_processed_updates',
    'visits',
    'commitments',
    'media:downloads',
    'village_map:location-prompts',
]

WEEKLY_SECTIONS = [
    'intake',
    'outcomes',
    'departments',
    'overdue',
    'commitments',
    'peta_masalah',
]

MENU = {
    None: ['start', 'bantuan'],
    'kepala_desa': ['start', 'aspirasi', 'status', 'batal', 'jadwal', 'potensi', 'lokasi', 'bantuan'],
    'camat': ['start', 'status', 'batal', 'jadwal', 'bantuan'],
    'pejabat': ['start', 'status', 'batal', 'tangani', 'inbox', 'jadwal', 'briefing', 'desa', 'ekspor', 'dasbor',
                'bantuan'],
    'pimpinan': [
        'start', 'status', 'batal', 'tangani', 'opd', 'jadwal', 'briefing', 'janji', 'umpanbalik', 'desa', 'rekap',
        'ekspor', 'dasbor', 'bantuan',
    ],
    'admin': [
        'start', 'status', 'batal', 'undang', 'tangani', 'inbox', 'opd', 'jadwal', 'kunjungan', 'briefing', 'janji',
        'siaran', 'audit', 'gagal', 'desa', 'orang', 'nonaktifkan', 'aktifkan', 'pindah', 'rekap', 'ekspor',
        'dasbor', 'bantuan',
    ],
}

CANCEL_HOOKS = ["handlers.village_map.potensi.cancel_hook"]

SUBMIT_SUBSCRIBERS = ["copy_to_camat", "on_submit", "queue_downloads"]

CLI = [
    'run',
    'migrate',
    'invite',
    'roster',
    'departments',
    'schedule',
    'export',
    'health',
    'backup',
    'restore',
    'audit',
    'media',
    'deadletters',
    'people',
]


def _handler_name(handler: Any) -> str:
    if isinstance(handler, ConversationHandler):
        return f"conversation:{handler.name}"
    callback = handler.callback
    return f"{type(handler).__name__}:{callback.__module__}.{callback.__qualname__}"


@pytest.fixture
async def wired(tmp_path: Path) -> Any:
    config = Config(token="1:TEST", db_path=tmp_path / "sambang.db", wilayah="35.13", admins=frozenset({1}))
    services = await open_services(config, FakeClock(datetime(2026, 1, 5, tzinfo=UTC)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB's per_message advice for conversations
        app = build_application(services)
    yield services, app
    await services.db.close()


async def test_handlers_and_groups_in_order(wired: Any) -> None:
    _, app = wired
    assert [(group, _handler_name(h)) for group in sorted(app.handlers) for h in app.handlers[group]] == HANDLERS


async def test_scheduled_tasks_in_order(wired: Any) -> None:
    _, app = wired
    assert [name for name, _ in SCHEDULED_TASKS] == TASKS
    assert app.job_queue is not None  # the ticker that runs them is added once the bot is initialised


async def test_weekly_digest_sections_in_order(wired: Any) -> None:
    services, _ = wired
    assert [name for name, _ in services.weekly_sections] == WEEKLY_SECTIONS


def _cancel_hooks(app: Any) -> list[str]:
    return [f"{h.__module__}.{h.__qualname__}" for h in app.cancel_hooks]


def _submit_subscribers(services: Any) -> list[str]:
    return [h.__name__ for h in services.aspirations.submit_hooks]


async def test_menu_commands_per_role(wired: Any) -> None:
    services, _ = wired
    assert {(role.value if role else None): [c.command for c in services.menu.for_role(role)]
            for role in [None, *Role]} == MENU


async def test_cancel_hooks_and_submission_subscribers(wired: Any) -> None:
    services, app = wired
    assert _cancel_hooks(app) == CANCEL_HOOKS
    assert _submit_subscribers(services) == SUBMIT_SUBSCRIBERS


def test_cli_sub_commands_in_order() -> None:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == CLI
