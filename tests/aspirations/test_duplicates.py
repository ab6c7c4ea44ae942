"""Possible duplicates: the similarity measured on labelled pairs of Indonesian descriptions."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.aspirations.similar import THRESHOLD, similar, terms

PAIRS = Path(__file__).resolve().parents[1] / "data" / "duplicate_pairs.csv"


def test_indonesian_normalisation_finds_the_same_words() -> None:
    assert set(terms("Dusun Krajan selalu kebanjiran")) == set(terms("banjir krajan"))
    assert "lubang" in terms("jalan berlubang-lubang") and "sumbat" in terms("gorong gorong mampet")
    assert terms("Mohon bantuan untuk warga desa yang sudah lama") == []  # only stop words


def test_precision_and_recall_on_the_labelled_pairs() -> None:
    with PAIRS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="|"))
    assert len(rows) >= 150
    same = sum(r["duplicate"] == "1" for r in rows)
    assert same >= 60 and len(rows) - same >= 60  # both kinds, plenty of each
    predicted = [(similar(r["first"], r["second"]) >= THRESHOLD, r["duplicate"] == "1") for r in rows]
    tp = sum(p and d for p, d in predicted)
    fp = sum(p and not d for p, d in predicted)
    fn = sum(d and not p for p, d in predicted)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"\nduplicate suggestion on {len(rows)} labelled pairs ({same} duplicates), threshold {THRESHOLD}:"
          f" precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= 0.80 and recall >= 0.85
