"""What a batch reports: grades.csv, and the text table ``grade --table`` and ``make grade-demo`` print."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path

from autograder.course import text_table
from autograder.grade.submission import Result

CSV_COLUMNS = ["student_id", "chapter", "score", "max_score", "status", "reason"]


def csv_rows(chapter: str, results: Iterable[Result]) -> list[dict[str, str]]:
    return [
        {
            "student_id": r.student,
            "chapter": chapter,
            "score": f"{r.score:g}",
            "max_score": f"{r.max_score:g}",
            "status": r.status,
            "reason": r.reason,
        }
        for r in results
    ]


def write_csv(path: Path, chapter: str, results: list[Result]) -> None:
    """grades.csv: this batch's rows replace the same students' rows of this chapter; others are kept."""
    rows = csv_rows(chapter, results)
    replaced = {(row["student_id"], row["chapter"]) for row in rows}
    if path.exists():
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames == CSV_COLUMNS:
                rows += [row for row in reader if (row["student_id"], row["chapter"]) not in replaced]
    rows.sort(key=lambda row: (row["chapter"], row["student_id"]))
    partial = path.with_suffix(".csv.partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(partial, path)


def read_statuses(path: Path, chapter: str) -> dict[str, str]:
    """student_id -> status of ``chapter``'s rows of grades.csv (empty when there is no such file)."""
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row["status"] for row in csv.DictReader(handle) if row.get("chapter") == chapter}


def table(results: Iterable[Result]) -> str:
    """The results as a text table, as ``grade --table`` and ``make grade-demo`` print it."""
    rows = [(r.student, f"{r.score:g}/{r.max_score:g}", r.status, r.reason or "-") for r in results]
    return text_table(("student_id", "score", "status", "reason"), rows)
