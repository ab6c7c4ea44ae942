"""Possible duplicates: before "Kirim", open aspirations about the same problem nearby are offered.

"Nearby" is the same kecamatan (the villages of one kecamatan are its neighbours); "the same problem" is the same
category and a similar description. Similarity is plain text arithmetic, no model: descriptions are normalised the
Indonesian way (lower case, common abbreviations and slang spelled out, stop words dropped, the usual prefixes and
suffixes stripped: "kebanjiran" → "banjir", "berlubang-lubang" → "lubang"), then compared by the overlap of their
word stems and by the cosine of their character trigrams (which forgives spelling: "gorong-gorong"/"gorong gorong",
"akta"/"akte"). Candidates come from SQL by kecamatan, category and open status (an index), newest first and
capped, so a suggestion stays quick with a province's worth of aspirations. Measured on the labelled pairs in
``tests/data/duplicate_pairs.csv`` (tests/aspirations/test_duplicates.py prints precision and recall).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from bot.aspirations.audience import Audience
from bot.storage.database import Database

#: At or above this score two descriptions are offered as possibly the same problem.
THRESHOLD = 0.42
#: Most candidates compared per suggestion (the newest open ones of the kecamatan and category).
CANDIDATES = 2000

_SPELLED_OUT = {
    "jln": "jalan", "jl": "jalan", "jembtn": "jembatan", "pju": "lampu jalan", "sdn": "sd", "smpn": "smp",
    "akte": "akta", "blanko": "blangko", "mampet": "sumbat", "tersumbat": "sumbat", "ambrol": "roboh",
    "ambruk": "roboh", "runtuh": "roboh", "rubuh": "roboh", "tumbang": "roboh", "amblas": "ambles",
    "ambles": "ambles", "padam": "mati", "gelap": "mati", "jebol": "bocor", "pecah": "bocor", "rusak": "rusak",
    "selokan": "drainase", "got": "drainase", "saluran": "drainase", "pustu": "puskesmas pembantu",
    "polindes": "polindes", "tembok": "dinding", "sekolah": "sekolah", "murid": "siswa", "pdam": "air",
    "benih": "bibit", "prona": "sertifikat", "ptsl": "sertifikat", "kebanjiran": "banjir", "menggenangi": "genang",
    "tergenang": "genang", "genangan": "genang", "gak": "tidak", "nggak": "tidak", "tdk": "tidak",
    "blm": "belum", "sdh": "sudah", "yg": "yang", "dgn": "dengan", "utk": "untuk", "dr": "dari", "krn": "karena",
    "lebat": "deras", "ambulans": "ambulan", "akses": "jalan", "lubang": "lubang", "longsoran": "longsor",
}
_STOP = frozenset("""
yang di ke dari dan atau untuk dengan ini itu ada sudah belum tidak kami kita warga desa dusun mohon bantuan
sangat sekali karena akan pada oleh para juga lagi masih agar bisa dapat sehingga saat setiap banyak hal perlu
segera pak bu sejak sampai sekarang kurang lebih sebagian beberapa satu dua tiga empat lima sepuluh bulan hari
minggu tahun lalu kemarin kondisi kondisinya sudah mau hampir nyaris sering selalu kalau jika bila waktu musim
rt rw no nomor tersebut mereka dia ia kali orang sebelah sisi depan dalam luar atas bawah sekitar dekat tepi
pinggir sana sini kurang tidak belum butuh membutuhkan memohon minta meminta harus terlalu cukup sebenarnya lama
""".split())
_PREFIXES = ("memper", "meng", "meny", "peng", "peny", "mem", "men", "pem", "pen", "ber", "ter", "per", "me",
             "pe", "di", "ke", "se")
_SUFFIXES = ("nya", "kan", "lah", "kah", "an", "i")
_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light Indonesian stem: particles and one suffix, then one prefix, never leaving fewer than 4 letters."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 4:
            return word[len(prefix):]
    return word


def terms(text: str) -> list[str]:
    """The description as the stems that carry its meaning."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    folded = re.sub(r"\b([a-z]+)-\1\b", r"\1", folded)  # reduplication: lubang-lubang, gorong-gorong
    out: list[str] = []
    for word in _WORD.findall(folded):
        for part in _SPELLED_OUT.get(word, word).split():
            if part in _STOP or len(part) < 3 or part.isdigit():
                continue
            root = stem(part)
            root = _SPELLED_OUT.get(root, root)
            if root not in _STOP:
                out.append(root)
    return out


@dataclass(frozen=True)
class Profile:
    """What a description is compared by: its stems and their character trigrams."""

    stems: frozenset[str]
    grams: Counter[str]
    norm: float


@lru_cache(maxsize=16384)
def stems_of(text: str) -> frozenset[str]:
    return frozenset(terms(text))


@lru_cache(maxsize=4096)
def profile(text: str) -> Profile:
    words = terms(text)
    grams: Counter[str] = Counter()
    for word in words:
        padded = f" {word} "
        grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return Profile(frozenset(words), grams, math.sqrt(sum(n * n for n in grams.values())) or 1.0)


def similarity(a: Profile, b: Profile) -> float:
    """0..1: half the overlap of the stems (of the shorter description), half the trigram cosine."""
    if not a.stems or not b.stems:
        return 0.0
    overlap = len(a.stems & b.stems) / min(len(a.stems), len(b.stems))
    jaccard = len(a.stems & b.stems) / len(a.stems | b.stems)
    dot = sum(n * b.grams.get(g, 0) for g, n in a.grams.items())
    cosine = dot / (a.norm * b.norm)
    return 0.25 * overlap + 0.25 * jaccard + 0.5 * cosine


def similar(first: str, second: str) -> float:
    return similarity(profile(first), profile(second))


@dataclass(frozen=True)
class PossibleDuplicate:
    id: int
    ticket: str
    desa_name: str
    status: str
    description: str
    score: float


async def possible_duplicates(db: Database, who: Audience, category: str, description: str, *,
                              limit: int = 3) -> list[PossibleDuplicate]:
    """The aspirations of ``category`` that ``who`` may be shown as possible duplicates (open, not confidential,
    in their kecamatan: ``Audience.sees_duplicate_hint``) whose description is similar, the most similar first."""
    where, params = who.duplicate_hints_where()
    rows = await db.fetchall(
        "SELECT a.id, a.ticket, a.status, a.description, d.name AS desa_name FROM aspirations a"
        f" JOIN desa d ON d.code = a.desa_code WHERE a.category = ? AND {where}"
        " ORDER BY a.created_at DESC LIMIT ?", (category, *params, CANDIDATES))
    wanted = profile(description)
    found = []
    for row in rows:
        if not wanted.stems & stems_of(row["description"]):
            continue  # not one word in common: never similar enough (and the trigrams are the costly part)
        score = similarity(wanted, profile(row["description"]))
        if score >= THRESHOLD:
            found.append(PossibleDuplicate(row["id"], row["ticket"], row["desa_name"], row["status"],
                                           row["description"], round(score, 3)))
    found.sort(key=lambda p: -p.score)
    return found[:limit]
