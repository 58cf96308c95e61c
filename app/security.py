"""HTTP hardening that holds for every response (SECURITY.md, OWASP ASVS level 2).

- Content-Security-Policy without inline script or style: the pages have none.
- No framing, no MIME sniffing, Referrer-Policy same-origin (not no-referrer: Flask-WTF's
  CSRF check over HTTPS needs a same-origin Referer).
- HSTS when the request came over HTTPS (behind the proxy: see PROXY_FIX_* settings).
- Staff pages are never stored by caches; personal pages (staff, RSVP) are not indexed.
- Only configured host names are answered (TRUSTED_HOSTS), against Host-header games.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix
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
