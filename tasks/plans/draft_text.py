"""A plan document as numbered lines: the first step of drafting a plan file from its text.

Plans reach the office as Word files, or as text pasted from a web page or a PDF. Either way
the drafter wants the same thing: lines it can quote by number, in simplified characters,
without the noise conversion leaves behind. A Word file's paragraphs are its lines and each
table row becomes one line of tab-separated cells, which is also how a table pasted from a web
page arrives, so the reader downstream sees one shape. Text converted from traditional
characters is converted back (OpenCC), and the pinyin that some sites print after each
character ("規(guī)") is dropped: both are said in `Document.notes`, since the clerk compares
the draft with the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from duban.errors import BadInput

__all__ = ["Document", "DocumentUnreadable", "Line", "read_document", "document_from_text"]

# "規(guī)", "號(hào)": a syllable with tone marks in brackets right after a character.
_PINYIN = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]{1,6}[)）]")


class DocumentUnreadable(BadInput):
    """The file is not a Word document or UTF-8 text the drafter can read."""


@dataclass(frozen=True)
class Line:
    """One line of the document as the clerk sees it, numbered from 1."""

    number: int
    text: str

    @property
    def cells(self) -> list[str]:
        """A table row's cells (a line of tab-separated text); one cell for prose."""
        return [c.strip() for c in self.text.split("\t")]


@dataclass
class Document:
    """The lines of a plan document, and what was done to them on the way in."""

    source: str
    lines: list[Line]
    notes: list[str] = field(default_factory=list)


def read_document(path: Path) -> Document:
    """A .docx through python-docx; anything else as UTF-8 text (BOM allowed)."""
    try:
        if path.suffix.lower() == ".docx":
            raw = _docx_lines(path)
        else:
            raw = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise DocumentUnreadable(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise DocumentUnreadable(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise DocumentUnreadable(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return document_from_text(path.name, raw)


def document_from_text(source: str, raw: list[str]) -> Document:
    """Number the lines and clear conversion noise, saying what was cleared."""
    notes: list[str] = []
    text = "\n".join(raw)
    if len(_PINYIN.findall(text)) > 5:
        text = _PINYIN.sub("", text)
        notes.append("删去了字后括注的拼音（如「規(guī)」）")
    simplified = _simplified(text)
    if simplified != text and _share_changed(text, simplified) > 0.02:
        notes.append("原文为繁体字，已转为简体（OpenCC t2s）")
        text = simplified
    lines = [Line(i, t.rstrip(" \r\u3000")) for i, t in enumerate(text.split("\n"), start=1)]
    return Document(source, lines, notes)


def _simplified(text: str) -> str:
    import opencc

    return str(opencc.OpenCC("t2s").convert(text))


def _share_changed(before: str, after: str) -> float:
    changed = sum(a != b for a, b in zip(before, after, strict=False))
    return changed / max(1, len(before))


def _docx_lines(path: Path) -> list[str]:
    """Paragraphs and table rows in document order; a row's cells joined by tabs."""
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentUnreadable(f"{path}: not a Word (.docx) document ({exc})") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.extend(block.text.split("\n"))
        elif isinstance(block, Table):
            for row in block.rows:
                cells = [" ".join(c.text.split()) for c in row.cells]
                lines.append("\t" + "\t".join(_unmerged(cells)))
    return lines


def _unmerged(cells: list[str]) -> list[str]:
    """python-docx repeats a merged cell in each column it spans; a table read by a person
    shows it once, like the pasted tables whose later rows leave a carried cell empty."""
    return [c if i == 0 or c != cells[i - 1] else "" for i, c in enumerate(cells)]
