"""The repository stands alone: no file points at notes outside it, and every cited doc section exists.

Code cites the project's own references as `docs/measurement.md §N` and `docs/platform.md §N`
(several sections as `§1, §2`); each N must be a numbered heading (`## N. Title`) of that file.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THIS_FILE = Path(__file__).resolve()

# Notes that once lived in a folder beside the repository, not in it: their names and that folder's
# paths are spelled in pieces below, so that no search for them finds this file. Not the folder's
# name alone: a folder of the project may one day have the same name.
OUTSIDE = re.compile(
    "|".join(
        (
            "vision" + "-science",
            "platform" + "-notes",
            "/work/" + "shared",
            "shared/" + "docs",
        )
    )
)

CITED_DOCS = ("docs/measurement.md", "docs/platform.md")
# "docs/measurement.md §2", "docs/measurement.md §1, §2", "docs/platform.md §3 and §8"
CITATION = re.compile(r"(docs/(?:measurement|platform)\.md)`?((?:(?:\s*,\s*|\s+and\s+|\s+)§\d+)+)")
SECTION_HEADING = re.compile(r"^#{2,}\s+(\d+)\.\s", re.M)


def tracked_text_files() -> list[Path]:
    """Every file git tracks or would track (all files when this is not a git checkout), text only."""
    try:
        command = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
        listed = subprocess.run(command, cwd=ROOT, capture_output=True, check=True).stdout
        paths = [ROOT / name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", "__pycache__", "instance", ".pytest_cache", ".hypothesis", "node_modules"}
        paths = [p for p in ROOT.rglob("*") if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)]
    texts = []
    for path in paths:
        try:
            path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        texts.append(path)
    return texts


FILES = tracked_text_files()


def test_the_file_list_covers_code_tests_and_docs():
    names = {p.relative_to(ROOT).as_posix() for p in FILES}
    assert {"server.py", "calibration/size.py", "docs/protocol.md", "tests/test_docs.py"} <= names


def test_no_file_points_at_notes_outside_the_repository():
    found = []
    for path in FILES:
        if path.resolve() == THIS_FILE:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, (
        "these lines point outside the repository; cite docs/measurement.md §N or docs/platform.md §N "
        "instead (and put what the code relies on into those docs):\n" + "\n".join(found)
    )


def sections(doc: str) -> set[int]:
    return {int(n) for n in SECTION_HEADING.findall((ROOT / doc).read_text(encoding="utf-8"))}


@pytest.mark.parametrize("doc", CITED_DOCS)
def test_cited_docs_number_their_sections_in_order(doc):
    numbers = [int(n) for n in SECTION_HEADING.findall((ROOT / doc).read_text(encoding="utf-8"))]
    assert numbers and numbers == list(range(1, len(numbers) + 1)), f"{doc}: sections {numbers}"


def test_every_cited_section_exists():
    known = {doc: sections(doc) for doc in CITED_DOCS}
    missing, cited = [], 0
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for match in CITATION.finditer(text):
            doc = match.group(1)
            for number in re.findall(r"§(\d+)", match.group(2)):
                cited += 1
                if int(number) not in known[doc]:
                    line = text.count("\n", 0, match.start()) + 1
                    missing.append(f"{path.relative_to(ROOT)}:{line}: {doc} §{number}")
    assert cited > 20, "the code should cite these docs; did the citation pattern change?"
    assert not missing, "cited sections that do not exist:\n" + "\n".join(missing)
