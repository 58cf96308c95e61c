"""Reading PDFs as a person or a printer would: poppler's command-line tools."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _run(args: list[str], pdf: bytes, tmp_path: Path, *after: str) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [*args, str(path), *after], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def text(pdf: bytes, tmp_path: Path) -> str:
    return _run(["pdftotext", "-layout", "-enc", "UTF-8"], pdf, tmp_path, "-")


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


def raster(pdf: bytes, tmp_path: Path) -> bytes:
    """Every page as poppler draws it (grey, 40 dpi): the same bytes mean the same print."""
    path = tmp_path / "raster.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", str(path)], capture_output=True, check=True, timeout=60
    ).stdout
