"""PDFs from HTML with WeasyPrint: locked-down fetching, shared fonts, a render cache.

- The URL fetcher serves only the app's own static files (from disk, never over HTTP)
  and data: URLs; anything else is refused and remembered, so a name like
  `<link rel=attachment href=file:///etc/hostname>` can never pull a server file into a
  PDF (SECURITY.md), even if escaping failed somewhere.
- One FontConfiguration and the pre-parsed stylesheets per process, made lazily (after
  a server forks): a new configuration per render costs time and leaks memory.
- A PDF is rendered once per content: the cache key is a hash of the HTML (which holds
  all the data) and the stylesheet's bytes; hits come from memory, then from
  instance/pdf-cache/ which every worker shares.
- Batches of letters are laid out in chunks (`write_chunk`), in this process or in render
  worker processes (render_worker.py); this module imports nothing of the app, so a
  worker loads it without the app's second of imports.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from weasyprint import CSS, HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcherResponse

from app.files import write_atomically

STYLESHEETS = ("pdf/print.css",)  # under static/


class RefusingFetcher(URLFetcher):  # type: ignore[misc]  # untyped library base
    """Static files and data: URLs only; every refused URL is kept in ``refused``."""

    def __init__(self, static_root: Path) -> None:
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
        self.static_root = static_root.resolve()
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path)).resolve()
            if path.is_file() and path.is_relative_to(self.static_root):
                return URLFetcherResponse(url, body=path.read_bytes())
        self.refused.append(url)
        raise ValueError(f"refused to fetch {url!r}: only static files and data: URLs")


@dataclass
class Renderer:
    """One per process: fonts, parsed stylesheets, and the cache of rendered PDFs."""

    static_root: Path
    cache_dir: Path | None
    memory_size: int = 64
    _fonts: FontConfiguration | None = None
    _css: list[CSS] = field(default_factory=list)
    _css_digest: str = ""
    _memory: OrderedDict[str, bytes] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # WeasyPrint's fonts (Pango, fontconfig) are shared by every render of this process and
    # are not made for two threads at once: a web request and the background mail sender
    # (which renders letters) take turns. Rendering holds the GIL most of the time anyway.
    _render_lock: threading.RLock = field(default_factory=threading.RLock)
    renders: int = 0  # how often we really rendered (tests and benchmarks read it)
    last_refused: list[str] = field(default_factory=list)

    def _prepare(self) -> None:
        with self._render_lock:
            if self._fonts is None:
                self._load()

    def _load(self) -> None:
        self._fonts = FontConfiguration()
        digest = hashlib.sha256()
        fetcher = RefusingFetcher(self.static_root)
        for name in STYLESHEETS:
            path = self.static_root / name
            digest.update(path.read_bytes())
            self._css.append(CSS(filename=str(path), font_config=self._fonts, url_fetcher=fetcher))
        self._css_digest = digest.hexdigest()

    def key(self, html: str) -> str:
        self._prepare()
        return hashlib.sha256((self._css_digest + html).encode()).hexdigest()

    def cached(self, key: str) -> bytes | None:
        with self._lock:
            hit = self._memory.get(key)
            if hit is not None:
                self._memory.move_to_end(key)
                return hit
        if self.cache_dir is not None:
            path = self.cache_dir / f"{key}.pdf"
            if path.exists():
                data = path.read_bytes()
                self._remember(key, data)
                return data
        return None

    def _remember(self, key: str, data: bytes) -> None:
        with self._lock:
            self._memory[key] = data
            while len(self._memory) > self.memory_size:
                self._memory.popitem(last=False)

    def render(self, html: str, *, title: str, lang: str) -> bytes:
        """The PDF of ``html``, from the cache when the same content was rendered before."""
        key = self.key(html)
        hit = self.cached(key)
        if hit is not None:
            return hit
        data = self.render_uncached(html, title=title, lang=lang)
        self._remember(key, data)
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            temporary = self.cache_dir / f"{key}.{threading.get_ident()}.tmp"
            temporary.write_bytes(data)
            temporary.replace(self.cache_dir / f"{key}.pdf")  # atomic for other workers
        return data

    def layout(self, html: str, *, title: str, lang: str) -> Any:
        """Lay ``html`` out once (the expensive part); write it whole or in page ranges."""
        self._prepare()
        fetcher = RefusingFetcher(self.static_root)
        with self._render_lock:
            document = HTML(
                string=html,
                base_url=self.static_root.as_uri() + "/",
                url_fetcher=fetcher,
            ).render(font_config=self._fonts, stylesheets=self._css)
        document.metadata.title = title
        document.metadata.authors = ["Stichting Sovjet Ereveld"]
        document.metadata.lang = lang
        with self._lock:
            self.renders += 1
            self.last_refused = list(fetcher.refused)
        return document

    @staticmethod
    def write(document: Any) -> bytes:
        data = document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)
        if not isinstance(data, bytes):
            raise TypeError("WeasyPrint returned no bytes")
        return data

    def exclusive(self) -> threading.RLock:
        """Hold while using WeasyPrint with this renderer's fonts (see ``_render_lock``)."""
        return self._render_lock

    def render_uncached(self, html: str, *, title: str, lang: str) -> bytes:
        with self._render_lock:
            return self.write(self.layout(html, title=title, lang=lang))

    def forget(self) -> None:
        """Drop every cached PDF (e.g. after erasing a person's data)."""
        with self._lock:
            self._memory.clear()
        if self.cache_dir is not None and self.cache_dir.exists():
            for path in self.cache_dir.glob("*.pdf"):
                path.unlink(missing_ok=True)


_renderers: dict[tuple[Path, Path | None], Renderer] = {}
_renderers_lock = threading.Lock()


def renderer_for(static_root: Path, cache_dir: Path | None) -> Renderer:
    """The process's renderer for this app (tests make several apps in one process)."""
    key = (static_root, cache_dir)
    with _renderers_lock:
        if key not in _renderers:
            _renderers[key] = Renderer(static_root, cache_dir)
        return _renderers[key]


@dataclass(frozen=True)
class Chunk:
    """Some letters as one HTML document (sections anchored letter-0, letter-1, ...), the
    file each letter's PDF goes to, and each letter's own title and language: a chunk
    mixes languages, and a screen reader or a printer's preflight reads /Lang and /Title
    of each letter's PDF, not of its chunk."""

    html: str
    title: str  # of the chunk's layout (and of a letter without its own)
    lang: str
    each: list[str]  # a path per section, in order
    titles: list[str] = field(default_factory=list)  # per section; empty: ``title``
    langs: list[str] = field(default_factory=list)  # per section; empty: ``lang``

    def __post_init__(self) -> None:
        for name in ("titles", "langs"):
            given = getattr(self, name)
            if given and len(given) != len(self.each):
                raise ValueError(f"{len(given)} {name} for {len(self.each)} letters")

    def metadata_of(self, index: int) -> tuple[str, str]:
        """The title and language of the letter in section ``index``."""
        title = self.titles[index] if self.titles else self.title
        lang = self.langs[index] if self.langs else self.lang
        return title, lang


def write_chunk(renderer: Renderer, chunk: Chunk, progress: Callable[[str], None]) -> int:
    """Lay the chunk out once and write each letter's pages as its own tagged PDF, calling
    ``progress`` with the path of each file written; returns the number of pages.

    Every page is drawn once, into its letter's PDF: the printer's copy is put together
    from those files (letters.PrinterCopy), since drawing the pages a second time into a
    PDF of the chunk cost a ninth of a letter's work.
    """
    with renderer.exclusive():
        document = renderer.layout(chunk.html, title=chunk.title, lang=chunk.lang)
        starts: dict[int, int] = {}
        for number, page in enumerate(document.pages):
            for anchor in page.anchors:
                if anchor.startswith("letter-"):
                    # A letter that runs over a page has its anchor on each of them.
                    starts.setdefault(int(anchor.removeprefix("letter-")), number)
        bounds = [starts[i] for i in range(len(chunk.each))] + [len(document.pages)]
        for index, path in enumerate(chunk.each):
            pages = document.pages[bounds[index] : bounds[index + 1]]
            part = document.copy(pages)
            # copy() shares the chunk's metadata object: each letter gets its own.
            part.metadata = copy.copy(document.metadata)
            part.metadata.title, part.metadata.lang = chunk.metadata_of(index)
            write_atomically(Path(path), renderer.write(part))
            progress(path)
        return len(document.pages)
