"""Letters and programmes: our batch against the naive loop, measured in the same run,
and the memory of a 500-letter batch made by `flask documents letters`; 300 place
cards and badges against the old template and stylesheet (benchmarks/baseline/)."""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pikepdf
import sqlalchemy as sa
from flask import Flask
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from app.ceremonies.models import Ceremony
from app.contacts.models import Gender, Organisation, OrganisationKind, Person
from app.documents.letters import Letter, letters_html, render_letters
from app.documents.lists import Card, CardLayout, cards_html
from app.documents.pdf import RefusingFetcher
from app.documents.services import programme_pdf, renderer
from app.documents.workers import close_pools
from app.extensions import db
from app.invitations.models import Invitation

LETTERS = 150
BIG_BATCH = 500
ROOT = Path(__file__).resolve().parent.parent


def make_invitations(slug: str, count: int = LETTERS) -> list[Invitation]:
    ceremony = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    assert ceremony is not None
    invitations = []
    for number in range(count):
        organisation = Organisation(
            name=f"Bench organisation {slug} {number}",
            kind=OrganisationKind.EMBASSY,
            country="KZ",
            address=f"Straat {number}\n2514 AA Den Haag",
        )
        person = Person(
            given_name="Nurlan",
            family_name=f"Sarsenbayev {number}",
            native_name="Нұрлан Сәрсенбаев",
            gender=Gender.MALE,
            language="ru",
        )
        invitations.append(
            Invitation(
                ceremony=ceremony,
                organisation=organisation,
                addressee=person,
                language=("nl", "en", "ru")[number % 3],
                rsvp_deadline=date(ceremony.year, 4, 25),
            )
        )
    db.session.add_all(invitations)
    db.session.commit()
    return invitations


def naive(letters: list[Letter], app: Flask) -> float:
    """What one would write first: a new document, fonts and stylesheet per letter."""
    static = renderer().static_root
    started = time.perf_counter()
    for letter in letters:
        fonts = FontConfiguration()
        fetcher = RefusingFetcher(static)
        css = CSS(
            filename=str(static / "pdf" / "print.css"), font_config=fonts, url_fetcher=fetcher
        )
        HTML(
            string=letters_html([letter], "letter"),
            base_url=static.as_uri() + "/",
            url_fetcher=fetcher,
        ).write_pdf(stylesheets=[css], font_config=fonts)
    return time.perf_counter() - started


ROUNDS = 3  # ours and a third of the naive loop, taking turns


def run(app: Flask, slug: str) -> dict[str, float]:
    """Our batch of 150 letters and the naive loop over the same letters, in turns: each
    round renders the whole batch our way and a third of the letters the naive way. This
    machine's speed drifts by half within minutes (other tenants), so measuring one after
    the other would put the drift into the ratio; in turns, both see the same machine.
    The ratio is the naive loop's total over the median of our batches."""
    with app.test_request_context(), tempfile.TemporaryDirectory() as tmp:
        invitations = make_invitations(slug)
        letters = [
            Letter(i, f"https://ereveld.example/rsvp/{'A' * 42}{i.id % 10}") for i in invitations
        ]
        # Starts and warms the render workers, as a running server has them.
        render_letters(letters[:2], "letter", Path(tmp) / "warm")
        ours, ours_cpu, slow, slow_cpu, rounds = [], [], 0.0, 0.0, []
        share = LETTERS // ROUNDS
        for number in range(ROUNDS):
            started, cpu = time.perf_counter(), _cpu_seconds()
            batch = render_letters(letters, "letter", Path(tmp) / f"ours-{number}")
            ours.append(time.perf_counter() - started)
            ours_cpu.append(_cpu_seconds() - cpu)
            assert len(batch.each) == LETTERS
            assert all(path.stat().st_size > 0 for path in [*batch.each, batch.combined])
            cpu = _cpu_seconds()
            part = naive(letters[number * share : (number + 1) * share], app)
            slow_cpu += _cpu_seconds() - cpu
            slow += part
            rounds.append(part * ROUNDS / ours[-1])
        close_pools()  # idle workers would only take memory from what comes next
        ceremony = invitations[0].ceremony
        programme_pdf(db.session, ceremony, "nl")
        hits = []
        for _ in range(50):
            started = time.perf_counter()
            programme_pdf(db.session, ceremony, "nl")
            hits.append((time.perf_counter() - started) * 1000)
    return {
        "naive": slow,
        "ours": statistics.median(ours),
        "naive_cpu": slow_cpu,
        "ours_cpu": statistics.median(ours_cpu),
        "round_ratio_low": min(rounds),
        "round_ratio_high": max(rounds),
        "programme_hit_ms": statistics.median(hits),
    }


def _cpu_seconds() -> float:
    """CPU time of this process and its living children (the render workers): on a
    machine shared with other work, the wall-clock ratio alone says little."""
    ticks = 0
    for pid in _tree(os.getpid()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> list[int]:
    """The process and its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _kilobytes(pid: int, field: str, source: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _ours(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().startswith(sys.executable.encode())
    except OSError:
        return False


def memory(instance: Path, slug: str) -> dict[str, float]:
    """Run `flask documents letters SLUG --send` on BIG_BATCH invitations in a new process
    and sample its process tree every 20 ms: the peak of the summed RSS (which counts
    shared libraries once per process) and of the summed PSS (which shares them out), and
    the sum of each Python process's own peak (VmHWM), reached or not at the same time.
    In MB; also the command's seconds, start-up included."""
    env = {
        **os.environ,
        "EREVELD_INSTANCE_PATH": str(instance),
        "FLASK_APP": "app",
        "EREVELD_LETTER_RENDER_NICE": "0",
    }
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "flask", "documents", "letters", slug, "--out", out]
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--send"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
        )
        peak_sum = peak_pss = 0
        peaks: dict[int, int] = {}
        while process.poll() is None:
            tree = _tree(process.pid)
            peak_sum = max(peak_sum, sum(_kilobytes(pid, "VmRSS") for pid in tree))
            peak_pss = max(peak_pss, sum(_kilobytes(pid, "Pss", "smaps_rollup") for pid in tree))
            for pid in tree:
                if _ours(pid):  # not the linker that ctypes runs to find libraries
                    peaks[pid] = max(peaks.get(pid, 0), _kilobytes(pid, "VmHWM"))
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        assert process.returncode == 0
        written = len(list(Path(out).glob("*.pdf")))
        assert written == BIG_BATCH + 1, written
    return {
        "rss_peak_mb": peak_sum / 1024,
        "pss_peak_mb": peak_pss / 1024,
        "rss_hwm_sum_mb": sum(peaks.values()) / 1024,
        "processes": len(peaks),
        "seconds": seconds,
    }


CARD_GUESTS = 300
BASELINE = Path(__file__).resolve().parent / "baseline"  # the cards as they were


def sample_cards(count: int = CARD_GUESTS) -> list[Card]:
    """Guests as a 9 May has them: Latin and Cyrillic names, some with the other script,
    long functions and organisations."""
    names = (
        ("Nurlan Sarsenbayev", "Нұрлан Сәрсенбаев"),
        ("Anna de Vries-van der Berg", ""),
        ("Ion Popescu", ""),
        ("Алексей Иванович Смирнов", "Aleksej Ivanovitsj Smirnov"),
    )
    cards = []
    for number in range(count):
        name, other = names[number % len(names)]
        cards.append(
            Card(
                f"{name} {number}",
                other,
                "Ambassador Extraordinary and Plenipotentiary",
                "Embassy of the Republic of Kazakhstan",
                "",
            )
        )
    return cards


def _baseline_pdf(html: str, static: Path) -> tuple[bytes, int]:
    """The old template's HTML with the old stylesheet, written as Renderer.write does."""
    fonts = FontConfiguration()
    fetcher = RefusingFetcher(static)
    css = CSS(
        string=(BASELINE / "print.css").read_text(),
        base_url=(static / "pdf" / "print.css").as_uri(),
        font_config=fonts,
        url_fetcher=fetcher,
    )
    document = HTML(string=html, base_url=static.as_uri() + "/", url_fetcher=fetcher).render(
        stylesheets=[css], font_config=fonts
    )
    return document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True), len(document.pages)


def cards(app: Flask) -> dict[str, dict[str, float]]:
    """300 place cards and 300 badges: the current template and stylesheet, and a copy
    of the old ones (benchmarks/baseline/: dotted fold lines and flex boxes), each
    rendered once in this run; seconds, pages and MB of each."""
    results: dict[str, dict[str, float]] = {}
    common = {"lang": "en", "list_name": "Place cards", "title": "Victory Day"}
    made = sample_cards()
    with app.test_request_context():
        pdf = renderer()
        static = pdf.static_root
        pdf.render_uncached("<p>warm</p>", title="warm-up", lang="en")  # fonts, stylesheet
        old_template = app.jinja_env.from_string((BASELINE / "cards.html").read_text())
        for layout in (CardLayout.TENTS, CardLayout.BADGES):
            per_sheet = 8 if layout == CardLayout.BADGES else 2
            started = time.perf_counter()
            data = pdf.render_uncached(
                cards_html(made, layout, common), title="Place cards", lang="en"
            )
            seconds = time.perf_counter() - started
            pages = len(pikepdf.open(io.BytesIO(data)).pages)
            old_html = old_template.render(
                layout=layout.value,
                sheets=[made[i : i + per_sheet] for i in range(0, len(made), per_sheet)],
                **common,
            )
            started = time.perf_counter()
            old, old_pages = _baseline_pdf(old_html, static)
            old_seconds = time.perf_counter() - started
            results[layout.value] = {
                "seconds": seconds,
                "pages": pages,
                "mb": len(data) / 1e6,
                "old_seconds": old_seconds,
                "old_pages": old_pages,
                "old_mb": len(old) / 1e6,
            }
    return results
