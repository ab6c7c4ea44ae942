"""Telegram handlers, grouped by feature, one module per user task. ``register_all`` wires them in order; the
fallback goes last."""

from __future__ import annotations

from telegram.ext import Application

# isort: off
# The import order is the order of the menu commands the modules add.
from handlers.aspirations import intake as aspiration
from handlers.operations import audit
from handlers.visits import briefing, broadcast, commitments
from handlers.operations import deadletters
from handlers.village_map import desa
from handlers import fallback
from handlers.visits import feedback
from bot.telegram import guards
from handlers.people import invite
from handlers.officials import actions as officials
from handlers.people import admin as people
from handlers.village_map import potensi, rekap
from handlers.people import start
from handlers.aspirations import status
from handlers.visits import schedule as visits
# isort: on

#: Ngantor di Kecamatan (issue 4).
NGANTOR = (visits, briefing, feedback, commitments, broadcast)
#: The map of problems and potential (issue 5).
MAP = (potensi, desa, rekap)


def register_all(app: Application) -> None:  # type: ignore[type-arg]
    for module in (guards, start, invite, aspiration, status, officials, *NGANTOR, *MAP, audit, deadletters, people):
        module.register(app)
    fallback.register(app)
