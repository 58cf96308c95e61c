"""A clean process that lays out chunks of letters: `python render_worker.py STATIC NICE`.

Run as a script (by path, not with -m) so that neither the app package nor Flask is
imported: a worker starts in half the time and memory, and never re-imports a web
server's or a command's __main__ (multiprocessing's spawn would). It reads one JSON
chunk per line on stdin and answers on stdout with JSON lines: {"done": PATH} after
writing each letter's file, then {"pages": N} or {"error": "..."}. End of input (the
parent closed the pipe or died) ends the worker.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TextIO

# Warms the letters' fonts (every face they use) before the first chunk.
WARM_UP = (
    '<html><head><meta charset="utf-8"></head>'
    '<body class="letter"><section class="letter" id="letter-0">'
    "<h1>Ereveld</h1><p><b>Ereveld</b> <i>Ереве́лд</i> <span class=url>Ereveld</span></p>"
    "</section></body></html>"
)


def _sibling(name: str) -> ModuleType:
    """pdf.py from beside this file, without importing the app package around it."""
    spec = importlib.util.spec_from_file_location(
        f"ereveld_{name}", Path(__file__).with_name(f"{name}.py")
    )
    if spec is None or spec.loader is None:
        raise ImportError(name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from app.documents import pdf
else:
    pdf = _sibling("pdf")


def _answer(channel: TextIO, message: dict[str, object]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def serve(static_root: Path, requests: TextIO, answers: TextIO) -> None:
    """Render chunks from ``requests`` until it ends; an exception answers, never kills."""
    renderer = pdf.Renderer(static_root, None)
    renderer.layout(WARM_UP, title="warm-up", lang="nl").write_pdf()
    # The long-lived objects (modules, fonts, stylesheets) are never garbage: frozen, the
    # collector stops walking them on every pass, which took a fifth of the layout time.
    gc.collect()
    gc.freeze()
    for line in requests:
        try:
            chunk = pdf.Chunk(**json.loads(line))
            pages = pdf.write_chunk(renderer, chunk, lambda path: _answer(answers, {"done": path}))
        except BrokenPipeError:
            # The parent is gone (killed): no more letters, whose links nobody would issue.
            return
        except Exception as error:  # reported to the parent, which fails the batch
            # The cause in words a planner can act on ("No space left on device").
            cause = error.strerror if isinstance(error, OSError) and error.strerror else ""
            _answer(answers, {"error": f"{type(error).__name__}: {error}", "cause": cause})
        else:
            _answer(answers, {"pages": pages})
        # A chunk's laid-out document is a web of cycles; freed now (while the parent
        # hands out the next chunk) a worker stays at ~70 MB instead of growing to ~85.
        gc.collect()


def main(argv: list[str]) -> int:
    static_root, nice = Path(argv[1]).resolve(), int(argv[2])
    if nice:
        # Below the web workers: pages stay quick while a batch renders.
        os.nice(nice)
    # The answers get the real stdout; anything a library prints goes to stderr instead
    # of corrupting them.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    requests = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115  (stdin, for the worker's life)
    serve(static_root, requests, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
