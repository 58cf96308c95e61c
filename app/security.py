"""HTTP hardening that holds for every response (SECURITY.md, OWASP ASVS level 2).

- Content-Security-Policy without inline script or style: the pages have none.
- No framing, no MIME sniffing, Referrer-Policy same-origin (not no-referrer: Flask-WTF's
  CSRF check over HTTPS needs a same-origin Referer).
- HSTS when the request came over HTTPS (behind the proxy: see PROXY_FIX_* settings).
- Staff pages are never stored by caches; personal pages (staff, RSVP) are not indexed.
- Only configured host names are answered (TRUSTED_HOSTS), against Host-header games.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
PRIVATE_PREFIXES = ("/staff", "/login", "/logout", "/rsvp")


def _harden(response: Response) -> Response:
    headers = response.headers
    # The server writes Date; one written here too (werkzeug's make_conditional does)
    # went out as a second Date header behind servers that do not look.
    headers.pop("Date", None)
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith(PRIVATE_PREFIXES):
        # Personal data and one-time forms: never from a cache, never in a search engine.
        headers["Cache-Control"] = "no-store"
        headers.setdefault("X-Robots-Tag", "noindex, nofollow")
    return response


# C0 controls, DEL and C1 controls: browsers drop tab, CR and LF inside a URL and strip
# the others at its ends, so "/\t/evil.example" becomes "//evil.example" (seen).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def redirect_target(target: str | None) -> str:
    """Where to send someone after a login: a path of this application, else the start page.

    Judged on what a browser would make of it: control characters anywhere (also
    percent-encoded, since some hops decode once more), backslashes (a browser reads them
    as slashes), a scheme or a host (``//evil.example``, ``/\\evil.example``) all mean
    "not ours". What is left must be a route of this app.
    """
    start = url_for("ceremonies.editions")
    if not target or len(target) > 2000:
        return start
    seen = target
    for _ in range(3):  # also what one or two more rounds of decoding would show
        if _CONTROL.search(seen) or "\\" in seen:
            return start
        decoded = unquote(seen)
        if decoded == seen:
            break
        seen = decoded
    if _CONTROL.search(seen) or "\\" in seen:
        return start
    root = request.script_root
    if not target.startswith(root + "/") or seen[len(root) :].startswith("//"):
        return start
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return start
    path = parts.path[len(root) :]
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
    except RequestRedirect:
        pass  # a route of ours (the trailing-slash form); the browser follows it
    except HTTPException:
        return start  # not a page of this application
    return target


def register(app: Flask) -> None:
    app.after_request(_harden)
    if app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = list(app.config["TRUSTED_HOSTS"])
    proxies = int(app.config.get("PROXY_FIX_X_FOR", 0) or 0)
    if proxies:
        # Behind a reverse proxy: the client's address and scheme come from its headers,
        # trusted for exactly as many hops as configured.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0
        )
