"""Feeds, the subscribe page, the JSON API and the staff feed link."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import segno
import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.http import parse_date, parse_etags
from werkzeug.wrappers import Response

from app.auth.access import viewer_required
from app.calendar import bp
from app.calendar.services import (
    CALENDAR_NAMES,
    PUBLIC_FEED,
    FeedScope,
    RenderedFeed,
    Stamps,
    build_calendar,
    feed_cache,
    feed_editions,
    first_year,
    is_public,
    issue_staff_feed_link,
    last_change,
    rendered,
    revoke_staff_feed_link,
    staff_for_token,
    withdrawn_shown,
)
from app.ceremonies.models import Ceremony, CeremonySeries
from app.extensions import db
from app.i18n import current_language
from app.types import local_today, utcnow

FEED_LANGUAGES = ("nl", "en", "ru")
# Feed names follow the feed's ?lang=, not the page locale: no gettext here.
STAFF_WORD = {"nl": "medewerkers", "en": "staff", "ru": "сотрудники"}
YEARS_AHEAD = 10


def base_url() -> str:
    """Where links in feeds point: the configured public address, else this host."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    return str(configured).rstrip("/") if configured else request.host_url.rstrip("/")


def feed_language() -> str:
    lang = request.args.get("lang", "nl")
    return lang if lang in FEED_LANGUAGES else "nl"


def public_page(ceremony: Ceremony) -> str:
    return base_url() + url_for("public.edition", slug=ceremony.slug)


def no_page(ceremony: Ceremony) -> None:
    return None


def staff_page(ceremony: Ceremony) -> str:
    return base_url() + url_for("ceremonies.edition", slug=ceremony.slug)


def feed_headers(
    *, filename: str, personal: bool, mimetype: str = "text/calendar; charset=utf-8"
) -> list[tuple[str, str]]:
    """The headers of a feed, computed once when it is rendered, not on every poll."""
    headers = [
        ("Content-Type", mimetype),
        ("Content-Disposition", f'inline; filename="{filename}"'),
    ]
    if personal:
        # A secret link: no shared cache may keep it, no search engine may list it.
        headers += [("Cache-Control", "private, no-cache"), ("X-Robots-Tag", "noindex")]
    else:
        headers.append(("Cache-Control", "public, max-age=300"))
    return headers


def serve(feed: RenderedFeed) -> Response:
    """200 with the feed, or 304 when the client has these bytes already.

    If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2); a server that answered
    304 to everything would freeze Apple's subscriptions, so both are checked for real.
    """
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        fresh = parse_etags(if_none_match).contains_weak(feed.etag)
    else:
        since = parse_date(request.headers.get("If-Modified-Since"))
        fresh = since is not None and feed.last_modified <= since
    if fresh:
        headers = [h for h in feed.headers if h[0] != "Content-Type"]
        return Response(status=304, headers=headers)
    return Response(feed.body, headers=feed.headers)


def stamps() -> Stamps:
    return last_change(db.session, current_app.config["CALENDAR_STAMP_TTL"])


def canonical_url(endpoint: str, lang: str, **values: Any) -> str:
    """This feed's own address: the configured base, the route, and ``lang`` when it is not
    Dutch; nothing else of the request. Feeds are cached and shared by every subscriber,
    so a stray query string or Host header of the first requester must not go into them."""
    if lang != "nl":
        values["lang"] = lang
    return base_url() + url_for(endpoint, **values)


def _feed(
    scope: FeedScope,
    *,
    name: str,
    filename: str,
    source: Callable[[], str] | None,
    subscription: bool = True,
    changed: datetime | None = None,
) -> Response:
    """A feed from the cache, rendered only when its data changed since it was cached.

    Everything before the cache lookup is cheap on purpose: this runs for every poll.
    ``source`` makes the canonical address a subscriber uses (secret links never go in);
    called only to render, so a poll answered from the cache builds no URL.
    """
    lang = feed_language()
    # Each feed's own latest change: a draft's edit leaves the public feeds' alone.
    if changed is None:
        now = stamps()
        changed = now.everything if scope.private else now.public
    year = local_today().year
    page: Callable[[Ceremony], str | None] = staff_page if scope.private else public_page
    if scope.withdrawn:  # its public page answers 404 now
        page = no_page

    def render() -> RenderedFeed:
        body = build_calendar(
            feed_editions(db.session, scope, year),
            lang=lang,
            name=name,
            source_url=source() if source else None,
            private=scope.private,
            page_url=page,
            years=(first_year(year), year + YEARS_AHEAD),
            subscription=subscription,
            withdrawn=scope.withdrawn,
        )
        return rendered(body, changed, feed_headers(filename=filename, personal=scope.private))

    # Keyed on the base the links are made from, not on the Host header as sent: with
    # PUBLIC_BASE_URL set, made-up hosts cannot multiply the entries either.
    key: Hashable = (scope.key, lang, base_url(), changed, year)
    feed = feed_cache.get_or_render(key, render)
    return serve(feed)


@bp.get("/calendar.ics")
def public_feed() -> Response:
    """Every announced public edition of the past two years and the future."""
    lang = feed_language()
    return _feed(
        PUBLIC_FEED,
        name=CALENDAR_NAMES[lang],
        filename="ereveld.ics",
        source=lambda: canonical_url("calendar.public_feed", lang),
    )


@bp.get("/calendar/<series_slug>.ics")
def series_feed(series_slug: str) -> Response:
    series = db.session.scalar(sa.select(CeremonySeries).where(CeremonySeries.slug == series_slug))
    if series is None:
        abort(404)
    lang = feed_language()
    name = f"{CALENDAR_NAMES[lang]}: {series.title(lang)}"
    scope = FeedScope(("series", series_slug), series_slug=series_slug)
    return _feed(
        scope,
        name=name,
        filename=f"ereveld-{series_slug}.ics",
        source=lambda: canonical_url("calendar.series_feed", lang, series_slug=series_slug),
    )


@bp.get("/ceremonies/<slug>.ics")
def edition_file(slug: str) -> Response:
    """One edition, for "add to my calendar": a single event, not a calendar of its own.

    People subscribe to this address too. An edition withdrawn from the public (unpublished,
    made private) answers as cancelled for CALENDAR_REMOVED_GRACE_DAYS, so that their
    calendars drop it rather than keep a stale copy; a 404 would leave it there.
    """
    ceremony = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    if ceremony is None:
        abort(404)
    changed = None
    if is_public(ceremony):
        scope = FeedScope(("edition", slug), edition_slug=slug)
    elif withdrawn_shown(ceremony, current_app.config["CALENDAR_REMOVED_GRACE_DAYS"], utcnow()):
        scope = FeedScope(("withdrawn", slug), edition_slug=slug, withdrawn=True)
        # Its own stamp: the public feeds' does not move for an edition they no longer show.
        changed = ceremony.calendar_changed_at or ceremony.updated_at.replace(microsecond=0)
    else:
        abort(404)
    return _feed(
        scope,
        name=ceremony.title(feed_language()),
        filename=f"{slug}.ics",
        source=None,
        subscription=False,
        changed=changed,
    )


@bp.get("/calendar/staff/<token>.ics")
def staff_feed(token: str) -> Response:
    """A staff member's feed with drafts and internal items, by secret link."""
    user = staff_for_token(db.session, token)
    if user is None:
        abort(404)
    scope = FeedScope(("staff",), private=True)
    lang = feed_language()
    name = f"{CALENDAR_NAMES[lang]} – {STAFF_WORD[lang]}"
    return _feed(scope, name=name, filename="ereveld-staff.ics", source=None)


# --- subscribe page ---------------------------------------------------------------


def subscribe_links(feed_url: str) -> dict[str, Any]:
    webcal = "webcal://" + feed_url.split("://", 1)[1]
    # segno writes the SVG from the bits of the code; no input text reaches the markup.
    svg = segno.make(feed_url, error="m").svg_inline(scale=3)
    qr = Markup(svg)  # noqa: S704  # nosec B704
    return {
        "https": feed_url,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=":/"),
        "qr": qr,
    }


@bp.get("/calendar")
def subscribe() -> str:
    """How to subscribe, in nl, en and ru, with links for every client and a QR code."""
    lang = current_language()
    params: dict[str, Any] = {} if lang == "nl" else {"lang": lang}
    series = db.session.scalars(
        sa.select(CeremonySeries)
        .where(CeremonySeries.active.is_(True), CeremonySeries.public.is_(True))
        .order_by(CeremonySeries.month, CeremonySeries.day)
    ).all()
    feeds = [
        {
            "title": CALENDAR_NAMES[lang],
            "what": _("Every public ceremony: the past two years and all coming ones."),
            **subscribe_links(base_url() + url_for("calendar.public_feed", **params)),
        }
    ]
    for one in series:
        url = base_url() + url_for("calendar.series_feed", series_slug=one.slug, **params)
        feeds.append(
            {
                "title": one.title(lang),
                "what": _("Only this ceremony, every year."),
                **subscribe_links(url),
            }
        )
    return render_template("calendar/subscribe.html", feeds=feeds)


# --- JSON for the foundation's website ----------------------------------------------


def edition_json(ceremony: Ceremony) -> dict[str, Any]:
    venue = ceremony.venue
    return {
        "slug": ceremony.slug,
        "series": ceremony.series.slug if ceremony.series else None,
        "title": {"nl": ceremony.title_nl, "en": ceremony.title_en, "ru": ceremony.title_ru},
        "starts_at": ceremony.local_start.isoformat(),
        "ends_at": ceremony.local_end.isoformat(),
        "status": ceremony.status.value,
        "anniversary": ceremony.anniversary,
        "venue": {
            "name": venue.name,
            "address": venue.address,
            "latitude": venue.latitude,
            "longitude": venue.longitude,
            "timezone": venue.timezone,
        },
        "url": public_page(ceremony),
        "ics_url": base_url() + url_for("calendar.edition_file", slug=ceremony.slug),
    }


@bp.get("/api/ceremonies.json")
def api_editions() -> Response | tuple[Response, int]:
    raw_year = request.args.get("year")
    year: int | None = None
    if raw_year is not None:
        if not raw_year.isdigit() or not 1945 <= int(raw_year) <= 2200:
            refusal = jsonify(error="year must be a year between 1945 and 2200")
            refusal.headers["Access-Control-Allow-Origin"] = "*"
            return refusal, 400
        year = int(raw_year)
    changed = stamps().public
    today = local_today().year

    def render() -> RenderedFeed:
        editions = feed_editions(db.session, PUBLIC_FEED, today).editions
        if year is not None:
            editions = [c for c in editions if c.year == year]
        body = current_app.json.dumps([edition_json(c) for c in editions]).encode()
        headers = feed_headers(
            filename="ceremonies.json", personal=False, mimetype="application/json"
        )
        # The foundation's website reads this from the browser, from another origin.
        return rendered(body, changed, [*headers, ("Access-Control-Allow-Origin", "*")])

    key: Hashable = ("json", year, base_url(), changed, today)
    return serve(feed_cache.get_or_render(key, render))


# --- the staff member's own feed link ------------------------------------------------


@bp.post("/staff/account/feed")
@viewer_required
def new_staff_feed() -> str:
    token = issue_staff_feed_link(db.session, current_user)
    db.session.commit()
    url = base_url() + url_for("calendar.staff_feed", token=token)
    # Shown in this answer only: a flash message would carry the secret link in the
    # session cookie, signed but readable (issue #12, Security 11).
    return render_template("calendar/staff_feed_link.html", url=url)


@bp.post("/staff/account/feed/revoke")
@viewer_required
def revoke_staff_feed() -> Response:
    revoke_staff_feed_link(db.session, current_user)
    db.session.commit()
    flash(_("Your personal feed link no longer works."), "success")
    return redirect(url_for("auth.account"))
