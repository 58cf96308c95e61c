"""Speed of the calendar feed, as ratios against a baseline measured in the same run.

`make bench` runs this. It builds an instance with ten years of ceremonies from eight
series, then:
1. times building the ten-year feed from the database (goal: under 10 ms);
2. serves the app with gunicorn on 127.0.0.1 and measures requests per second with wrk
   for a bare Flask route (the baseline), /calendar.ics, and the 304 answer to
   If-None-Match (goal: the feed at 0.9x the bare route or better);
3. checks that the cache hits and 304s rendered nothing;
4. renders letters and programmes, and 300 place cards and badges against the old
   template and stylesheet (benchmarks/documents.py).
Load goes to loopback only, for a fixed number of seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = 16


def build_instance(instance: Path) -> None:
    """Migrate a fresh SQLite database and fill it with ten years of ceremonies."""
    os.environ["EREVELD_INSTANCE_PATH"] = str(instance)
    from flask_migrate import upgrade

    from app import create_app
    from app.ceremonies.models import CeremonySeries
    from app.ceremonies.seed import seed
    from app.ceremonies.services import schedule_year
    from app.extensions import db
    from app.types import local_today

    app = create_app()
    with app.app_context():
        upgrade()
        seed(db.session)
        for slug, month, day in (
            ("jubileum-18-november", 11, 18),
            ("dodenherdenking-15-aug", 8, 15),
        ):
            db.session.add(
                CeremonySeries(
                    slug=slug,
                    title_nl=slug,
                    title_en=slug,
                    title_ru=slug,
                    month=month,
                    day=day,
                    start_time=clock(11, 0),
                    duration_minutes=60,
                    venue=None,
                    base_year=1945,
                    default_programme=[],
                    active=True,
                    public=True,
                )
            )
        db.session.flush()
        import sqlalchemy as sa

        from app.ceremonies.models import Venue

        field = db.session.scalar(sa.select(Venue).where(Venue.name == "Sovjet Ereveld"))
        for series in db.session.scalars(sa.select(CeremonySeries)):
            series.venue = series.venue or field
        first = local_today().year - 2
        for year in range(first, first + 10):
            schedule_year(db.session, year, publish=True)
        db.session.commit()
        db.engine.dispose()


def time_feed_build(instance: Path) -> float:
    """Median milliseconds to query and render the public feed (no cache)."""
    from app import create_app
    from app.calendar.services import PUBLIC_FEED, build_calendar, feed_editions
    from app.extensions import db
    from app.types import local_today

    app = create_app()
    samples = []
    with app.test_request_context():
        year = local_today().year
        for _ in range(30):
            started = time.perf_counter()
            editions = feed_editions(db.session, PUBLIC_FEED, year)
            body = build_calendar(
                editions,
                lang="nl",
                name="bench",
                source_url=None,
                private=False,
                page_url=lambda c: None,
                years=(year - 2, year + 10),
            )
            samples.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        count = len(editions.editions)
        db.engine.dispose()
    print(f"feed: {count} editions, {len(body)} bytes")
    return statistics.median(samples[5:])


def time_documents(instance: Path) -> dict[str, float]:
    from app import create_app
    from benchmarks.documents import BIG_BATCH, make_invitations, memory, run

    app = create_app()
    # The naive loop runs at normal priority, so ours does too: in production the workers'
    # niceness only yields to the web workers, but here it would yield to whatever else
    # the machine runs.
    app.config["LETTER_RENDER_NICE"] = 0
    with app.app_context():
        from app.extensions import db
        from app.types import local_today

        year = local_today().year
        result = run(app, f"{year + 1}-9-mei")
        make_invitations(f"{year + 2}-9-mei", BIG_BATCH)
        db.engine.dispose()
    return result | memory(instance, f"{year + 2}-9-mei")


def time_cards(instance: Path) -> dict[str, dict[str, float]]:
    from app import create_app
    from benchmarks.documents import cards

    return cards(create_app())


def print_cards(results: dict[str, dict[str, float]]) -> None:
    """Seconds, pages and MB of the old and the current render, and the ratios."""
    for layout, label in (("tents", "place cards"), ("badges", "badges")):
        r = results[layout]
        print(
            f"300 {label}, old CSS:   {r['old_seconds']:6.2f} s, {r['old_pages']:.0f} pages,"
            f" {r['old_mb']:6.2f} MB   1.00x (baseline)"
        )
        print(
            f"300 {label}, now:       {r['seconds']:6.2f} s, {r['pages']:.0f} pages,"
            f" {r['mb']:6.2f} MB   {r['old_seconds'] / r['seconds']:.1f}x faster,"
            f" {r['old_mb'] / r['mb']:.0f}x smaller (goal < 5 s, < 2 MB)"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wrk(url: str, headers: dict[str, str] | None = None) -> float:
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if match is None or non2xx:
        raise RuntimeError(f"wrk failed for {url}:\n{output}")
    return float(match.group(1))


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is missing: `make bench` installs it with apt-get", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        build_instance(instance)
        build_ms = time_feed_build(instance)
        documents = time_documents(instance)
        card_results = time_cards(instance)
        port = free_port()
        env = {**os.environ, "EREVELD_INSTANCE_PATH": str(instance)}
        workers = str(os.cpu_count() or 2)
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-w",
                workers,
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "benchmarks.wsgi:app",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.1)
            with urllib.request.urlopen(base + "/calendar.ics") as response:  # noqa: S310
                etag = response.headers["ETag"]
            bare = wrk(base + "/bench/bare")
            feed = wrk(base + "/calendar.ics")
            not_modified = wrk(base + "/calendar.ics", {"If-None-Match": etag})
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"build ten-year feed from the database: {build_ms:.1f} ms (goal < 10 ms)")
    print(f"bare Flask route:        {bare:9.0f} req/s   1.00x (baseline)")
    print(f"/calendar.ics:           {feed:9.0f} req/s   {feed / bare:.2f}x (goal >= 0.90x)")
    print(f"/calendar.ics 304:       {not_modified:9.0f} req/s   {not_modified / bare:.2f}x")
    naive, ours = documents["naive"], documents["ours"]
    print(f"150 letters, naive loop: {naive:9.2f} s      1.00x (baseline, in three turns)")
    print(
        f"150 letters, our batch:  {ours:9.2f} s      {naive / ours:.2f}x faster (goal >= 5x;"
        f" rounds {documents['round_ratio_low']:.2f}-{documents['round_ratio_high']:.2f}x)"
    )
    naive_cpu, ours_cpu = documents["naive_cpu"], documents["ours_cpu"]
    print(
        f"  CPU time: naive {naive_cpu:.2f} s, ours {ours_cpu:.2f} s in all processes"
        f" ({naive_cpu / ours_cpu:.2f}x less work; on {os.cpu_count()} free cores at best"
        f" {naive_cpu / ours_cpu * min(os.cpu_count() or 1, 2):.1f}x faster)"
    )
    print(
        f"500 letters by `flask documents letters --send`: {documents['seconds']:.1f} s,"
        f" peak memory {documents['rss_peak_mb']:.0f} MB summed RSS,"
        f" {documents['pss_peak_mb']:.0f} MB summed PSS of {documents['processes']:.0f}"
        f" processes ({documents['rss_hwm_sum_mb']:.0f} MB as the sum of each one's peak RSS;"
        " goal < 300 MB)"
    )
    print(f"programme PDF from cache: {documents['programme_hit_ms']:.2f} ms (goal < 5 ms)")
    print_cards(card_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
