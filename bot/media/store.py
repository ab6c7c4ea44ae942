"""The content-addressed folder: a file's name is its SHA-256 (``ab/abcdef….jpg``), so the same bytes are kept once
and a backup copies a file only when its name is new."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path

from bot.storage.database import PRIVATE_FILE, private_dir

_EXT = re.compile(r"^[a-z0-9]{1,8}$")
#: Extensions Telegram's own files go without, by the kind of file.
_KIND_EXT = {"photo": "jpg", "voice": "ogg", "video": "mp4", "video_note": "mp4"}
_KIND_MIME = {"photo": "image/jpeg", "voice": "audio/ogg", "video": "video/mp4", "video_note": "video/mp4"}
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    mime_type: str | None
    #: relative to the archive folder, with "/" between parts
    path: str


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extension(kind: str, file_name: str | None, mime_type: str | None, telegram_path: str = "") -> str:
    """A safe lower-case extension for the stored file: from its name, Telegram's path, its kind or its MIME
    type; ``bin`` when nothing tells."""
    for name in (file_name or "", telegram_path):
        if "." in name:
            ext = name.rsplit(".", 1)[1].lower()
            if _EXT.match(ext):
                return ext
    if kind in _KIND_EXT:
        return _KIND_EXT[kind]
    if mime_type:
        guessed = mimetypes.guess_extension(mime_type.split(";")[0].strip().lower())
        if guessed and _EXT.match(guessed.lstrip(".")):
            return guessed.lstrip(".")
    return "bin"


def mime_of(kind: str, mime_type: str | None, ext: str) -> str | None:
    return mime_type or _KIND_MIME.get(kind) or mimetypes.guess_type(f"x.{ext}")[0]


def relative_path(sha256: str, ext: str) -> str:
    return f"{sha256[:2]}/{sha256}.{ext}"


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, relative: str) -> Path:
        return self.root / relative

    def put(self, data: bytes, *, ext: str, mime_type: str | None, sha256: str | None = None) -> StoredFile:
        """Write ``data`` under its hash (nothing is written when that file is already there, whole); ``sha256``
        when the caller computed it already."""
        sha = sha256 or sha256_of(data)
        relative = relative_path(sha, ext)
        target = self.path(relative)
        if not (target.is_file() and target.stat().st_size == len(data) and file_sha256(target) == sha):
            write_atomically(target, data)
        return StoredFile(sha, len(data), mime_type, relative)


def write_atomically(target: Path, data: bytes) -> None:
    """Write beside ``target`` and rename into place once on disk: a crash never leaves a half file under a hash."""
    private_dir(target.parent.parent)
    private_dir(target.parent)
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, target)
