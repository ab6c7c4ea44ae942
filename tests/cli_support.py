"""Running ``sambang`` as a real subprocess in tests: a clean environment (no SAMBANG_/TELEGRAM_ variables of
the machine) and one call that returns (exit code, stdout, stderr)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli_env(tmp_path: Path, db_name: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMBANG_", "TELEGRAM_"))}
    env.update({"PYTHONPATH": str(ROOT), "SAMBANG_DB": str(tmp_path / db_name)})
    env.update(extra)
    return env


async def run_sambang(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
