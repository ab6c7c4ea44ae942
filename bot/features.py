"""Feature modules beyond the foundation, wired in one list each.

- ``FEATURE_INSTALLERS``: ``async install(services)`` run by ``open_services`` after the database is open (add a
  service to ``Services``, hook into aspiration submission, load default data).
- ``FEATURE_COMMANDS``: ``sambang`` sub-commands as (name, help, configure(parser), run(config, args) -> exit code).
  ``configure`` may ``set_defaults(func=...)`` for nested sub-commands and ``needs_token=True`` when it needs one.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Config
    from bot.services import Services

Installer = Callable[["Services"], Awaitable[None]]
SubCommand = tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[["Config", argparse.Namespace],
                                                                                Awaitable[int]]]

FEATURE_INSTALLERS: list[Installer] = []
FEATURE_COMMANDS: list[SubCommand] = []

__all__ = ["FEATURE_COMMANDS", "FEATURE_INSTALLERS", "Any"]

# -- issue 3: officials (departments and routing, actions, digests, service levels) ------------------------------
from bot.officials.cli import DEPARTMENTS_COMMAND  # noqa: E402
from bot.officials.service import install as _install_officials  # noqa: E402

FEATURE_INSTALLERS.append(_install_officials)
FEATURE_COMMANDS.append(DEPARTMENTS_COMMAND)

# -- Ngantor di Kecamatan (issue 4): visits, announcements, briefings, feedback, commitments, broadcasts -----------
from bot.visits import commitments_digest as _commitments_digest  # noqa: E402
from bot.visits import ngantor as _ngantor  # noqa: E402
from bot.visits.cli import SCHEDULE_COMMAND as _SCHEDULE_COMMAND  # noqa: E402


async def _install_ngantor(services: Services) -> None:
    await _ngantor.install(services)
    _commitments_digest.register()  # the commitments section of the weekly leadership digest


FEATURE_INSTALLERS.append(_install_ngantor)
FEATURE_COMMANDS.append(_SCHEDULE_COMMAND)  # type: ignore[arg-type]

# The map of problems and potential (issue 5): /potensi, /desa, /rekap, /ekspor and `sambang export`.
from bot.village_map import service as _village_map  # noqa: E402

FEATURE_INSTALLERS.append(_village_map.install)
FEATURE_COMMANDS.append(_village_map.EXPORT_COMMAND)

# Operations (issue 6): settings checked at start; health, backup, restore and audit export on the command line.
from bot.operations.cli import OPS_COMMANDS, install_operations  # noqa: E402

FEATURE_INSTALLERS.append(install_operations)
FEATURE_COMMANDS.extend(OPS_COMMANDS)

# Dead letters: updates whose handling kept failing, listed and replayed by an admin.
from bot.operations.deadletters import DEADLETTERS_COMMAND  # noqa: E402

FEATURE_COMMANDS.append(DEADLETTERS_COMMAND)  # type: ignore[arg-type]

# Access: `sambang people list|deactivate|activate|move`.
from bot.people.cli import PEOPLE_COMMAND  # noqa: E402

FEATURE_COMMANDS.append(PEOPLE_COMMAND)
