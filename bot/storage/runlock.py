"""One running bot per database: ``sambang run`` holds an exclusive lock beside the database file.

The operating system releases the lock when the process ends, however it ends (SIGKILL included), so a stale lock
never blocks a restart. ``sambang restore`` takes the same lock, so it cannot replace the database under a running
bot, and a second ``sambang run`` on the same database refuses to start.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class AlreadyRunning(Exception):
    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} is locked")
        self.path = path


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class RunLock:
    def __init__(self, db_path: Path) -> None:
        self.path = lock_path(db_path)
        self._file: IO[str] | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 (held for the life of the process)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AlreadyRunning(self.path) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_locked(db_path: Path) -> bool:
    """Whether a bot holds the database right now."""
    try:
        RunLock(db_path).acquire().release()
    except AlreadyRunning:
        return True
    return False
