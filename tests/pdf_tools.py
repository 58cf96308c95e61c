"""Reading PDFs as a person or a printer would: poppler's command-line tools."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree


def _run(args: list[str], pdf: bytes, tmp_path: Path, *after: str) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [*args, str(path), *after], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def text(pdf: bytes, tmp_path: Path, *, layout: bool = True) -> str:
    """The text as laid out, or (``layout=False``) in reading order: side-by-side cards
    would otherwise interleave line by line."""
    mode = ["-layout"] if layout else []
    return _run(["pdftotext", *mode, "-enc", "UTF-8"], pdf, tmp_path, "-")


def fonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    lines = _run(["pdffonts"], pdf, tmp_path).splitlines()[2:]
    return [line.split() for line in lines]


def info(pdf: bytes, tmp_path: Path) -> dict[str, str]:
    result = {}
    for line in _run(["pdfinfo"], pdf, tmp_path).splitlines():
        key, _, value = line.partition(":")
        result[key.strip()] = value.strip()
    return result


def attachments(pdf: bytes, tmp_path: Path) -> str:
    return _run(["pdfdetach", "-list"], pdf, tmp_path)


def pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page (pdftotext ends every page with a form feed)."""
    return text(pdf, tmp_path).split("\f")[:-1]


def outline(pdf: bytes, tmp_path: Path) -> list[tuple[int, str, int]]:
    """The bookmarks as (level, label, page), in order: pdftohtml's XML lists them, and
    neither pdfinfo nor pdftotext can (no PDF library needed for this)."""
    xml = _run(["pdftohtml", "-xml", "-i", "-q", "-stdout"], pdf, tmp_path)
    # Our own PDF read back through poppler, not input from outside.
    root = ElementTree.fromstring(xml)  # noqa: S314
    found: list[tuple[int, str, int]] = []

    def walk(node: ElementTree.Element, level: int) -> None:
        for child in node:
            if child.tag == "item":
                found.append((level, "".join(child.itertext()), int(child.get("page", "0"))))
            elif child.tag == "outline":
                walk(child, level + 1)

    for top in root.findall("outline"):
        walk(top, 1)
    return found


def raster(pdf: bytes, tmp_path: Path) -> bytes:
    """Every page as poppler draws it (grey, 40 dpi): the same bytes mean the same print."""
    path = tmp_path / "raster.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", str(path)], capture_output=True, check=True, timeout=60
    ).stdout


def qr_codes(pdf: bytes, tmp_path: Path, *, dpi: int = 300) -> list[str]:
    """What a phone reads off the printed page: page 1 drawn at ``dpi`` (300 as a printer
    prints; 150 as a cheap office printer or a fax does) by poppler, the codes decoded by
    zbar (an independent decoder, not the library that drew them)."""
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-singlefile", "-png", str(path), str(tmp_path / "scan")],
        check=True,
        timeout=60,
    )
    found = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(tmp_path / "scan.png")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert found.returncode in (0, 4), found.stderr  # 4: no code on the page
    return found.stdout.split()


@dataclass(frozen=True)
class Word:
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


def words(pdf: bytes, tmp_path: Path) -> list[tuple[float, float, list[Word]]]:
    """Each page's width, height and words with their boxes (in points, from the top
    left), in reading order: pdftotext -bbox."""
    # Our own PDF read back through poppler, not input from outside.
    root = ElementTree.fromstring(_run(["pdftotext", "-bbox"], pdf, tmp_path, "-"))  # noqa: S314
    found = []
    for page in root.iter("{http://www.w3.org/1999/xhtml}page"):
        boxes = [
            Word(
                (word.text or "").replace("\u200b", ""),
                float(word.get("xMin", 0)),
                float(word.get("yMin", 0)),
                float(word.get("xMax", 0)),
                float(word.get("yMax", 0)),
            )
            for word in page.iter("{http://www.w3.org/1999/xhtml}word")
        ]
        found.append((float(page.get("width", 0)), float(page.get("height", 0)), boxes))
    return found
