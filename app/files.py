"""Files that are either whole on the disk or not there: letters, backups."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Readers (a job's ZIP, another worker) never see half a file, and a file that has
    its name is on the disk: a letter's invitation is marked sent once its PDF is there,
    so the data is synced before the rename (the folder is synced before that commit).
    A failed write leaves no temporary file."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def sync_folder(folder: Path) -> None:
    """Make the renames into ``folder`` durable (its entries are on the disk)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
