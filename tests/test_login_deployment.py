"""Staff logins against a real gunicorn in production mode (issue #12, Security 6, 7, 11)."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import redis

from app.auth import throttle
from tests.production import flask, gunicorn, own_database, production_env

# Redis database 1 (this suite's own number); its keys carry a fresh account each run.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


# --- staff logins against gunicorn (issue #12, Security 6, 7, 11) ---------------------

OWNER_PASSWORD = "the owner's own passphrase"
CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def run(env: dict[str, str], *args: str, stdin: str = "") -> None:
    result = flask(env, *args, stdin=stdin)
    assert result.returncode == 0, result.stderr


@contextlib.contextmanager
def staff_instance(tmp_path: Path, *emails: str, **extra: str) -> Iterator[tuple[str, Path]]:
    """Production gunicorn on a migrated database with these staff accounts."""
    with own_database(tmp_path) as database:
        env = production_env(
            tmp_path,
            database,
            EREVELD_ARGON2_MEMORY_COST="8192",  # 8 MiB: fifteen at once must fit anywhere
            **extra,
        )
        run(env, "db", "upgrade")
        for email in emails:
            run(
                env,
                "users",
                "create",
                email,
                "--role",
                "planner",
                "--password-stdin",
                stdin=OWNER_PASSWORD + "\n",
            )
        with gunicorn(env, "-w", "2", "--threads", "8") as running:
            yield running


def checked(log: Path) -> int:
    """How many passwords the app verified with Argon2, by its log."""
    return log.read_text(errors="replace").count("login: password checked")


class Browser:
    """One browser: its cookies, its address (as the proxy reports it), no redirects."""

    def __init__(self, base: str, address: str | None = None, https: bool = False) -> None:
        self.port = int(base.rsplit(":", 1)[1])
        self.address = address
        self.https = https
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        headers = {"Host": "ereveld.example"}
        if self.address:
            headers["X-Forwarded-For"] = self.address
        if self.https:
            headers["X-Forwarded-Proto"] = "https"
            headers["Referer"] = "https://ereveld.example/login"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                self.set_cookies.append(header)
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if value and "Max-Age=0" not in header:
                    self.cookies[name] = value
                else:
                    self.cookies.pop(name, None)
            return response.status, dict(response.headers), text
        finally:
            connection.close()

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, dict[str, str], str]:
        status, _headers, page = self.request("GET", path)
        token = CSRF.search(page)
        assert token is not None, (status, page[:300])
        return self.request("POST", path, {"csrf_token": token.group(1), **fields})

    def log_in(self, email: str, password: str, secret: str | None = None) -> tuple[int, str]:
        status, headers, _page = self.post_form("/login", {"email": email, "password": password})
        if status == 302 and headers["Location"].endswith("/login/code") and secret:
            code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step: never used yet
            status, headers, _page = self.post_form("/login/code", {"code": code})
        return status, headers.get("Location", "")


def test_secure_cookies(tmp_path: Path) -> None:
    """Issue #12, Security 11: __Host- cookies (Secure, Path=/, no Domain) in production."""
    with staff_instance(tmp_path, "cookies@example.org") as (base, _log):
        browser = Browser(base, https=True)
        assert browser.log_in("cookies@example.org", OWNER_PASSWORD) == (302, "/staff/ceremonies")
    names = {header.split("=", 1)[0] for header in browser.set_cookies}
    assert names == {"__Host-session", "__Host-ereveld_device"}
    for header in browser.set_cookies:
        attributes = [part.strip().lower() for part in header.split(";")[1:]]
        assert "secure" in attributes
        assert "httponly" in attributes
        assert "path=/" in attributes
        assert "samesite=lax" in attributes
        assert not any(part.startswith("domain") for part in attributes)


def test_a_flood_slows_the_flood_not_the_owner(tmp_path: Path) -> None:
    """Issue #12, Security 6: five wrong passwords from anywhere locked the owner out.

    A flood of wrong passwords for the owner's account comes from ever new addresses
    (as the proxy reports them). While it goes on, the owner's browser, which logged in
    before, gets in with the right password and code at its first try; the flood meets
    waits, and only a few of its guesses ever reach Argon2.
    """
    owner = "owner@example.org"
    with staff_instance(tmp_path, owner) as (base, log):
        laptop = Browser(base, address="192.0.2.10")
        assert laptop.log_in(owner, OWNER_PASSWORD) == (302, "/staff/ceremonies")
        page = laptop.request("GET", "/staff/account/two-factor?lang=en")[2]
        secret, token = re.search(r"type this key: ([A-Z2-7]+)", page), CSRF.search(page)
        assert secret is not None
        assert token is not None
        code = pyotp.TOTP(secret.group(1)).now()
        form = {"csrf_token": token.group(1), "action": "enable", "code": code}
        enabled = laptop.request("POST", "/staff/account/two-factor", form)
        assert enabled[0] == 302
        # Logged out (the session cookie gone), the device cookie stays.
        laptop.cookies = {k: v for k, v in laptop.cookies.items() if "device" in k}
        before = checked(log)

        stop = threading.Event()
        answers: list[int] = []
        lock = threading.Lock()

        def flood(worker: int) -> None:
            attacker = Browser(base)
            status, _h, page = attacker.request("GET", "/login")
            token = CSRF.search(page)
            assert token is not None
            for number in range(400):  # bounded; stopped long before
                if stop.is_set():
                    return
                attacker.address = f"10.{worker}.{number // 250}.{number % 250 + 1}"
                status, _h, _p = attacker.request(
                    "POST",
                    "/login",
                    {"csrf_token": token.group(1), "email": owner, "password": f"guess {number}"},
                )
                with lock:
                    answers.append(status)

        threads = [threading.Thread(target=flood, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        try:
            for _ in range(600):  # until the flood fills the account's shared lane
                with lock:
                    if answers.count(429) >= 20:
                        break
                time.sleep(0.05)
            # A browser the account does not know, even at the owner's own address, now
            # waits: the flood has used up what unknown browsers may try.
            stranger = Browser(base, address="192.0.2.10")
            assert stranger.log_in(owner, OWNER_PASSWORD)[0] == 429
            # The owner's own browser: straight in, password and code, first try.
            assert laptop.log_in(owner, OWNER_PASSWORD, secret.group(1)) == (
                302,
                "/staff/ceremonies",
            )
            assert laptop.request("GET", "/staff/ceremonies")[0] == 200
            with lock:
                sent_while_owner_logged_in = len(answers)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
    assert len(answers) > sent_while_owner_logged_in or len(answers) >= 100  # still going
    refused = answers.count(429)
    assert answers.count(400) + refused == len(answers)  # wrong or waiting, nothing else
    assert refused > len(answers) / 2  # the flood mostly waits
    # Argon2 ran for the owner's login, and for the flood only as often as the lanes let
    # it: the account's shared lane, per 30-second window.
    assert checked(log) - before - 1 <= answers.count(400)
    assert answers.count(400) <= throttle.ACCOUNT.free * 3


@pytest.mark.parametrize("store", ["database", "redis"])
def test_parallel_guesses_are_counted_before_hashing(tmp_path: Path, store: str) -> None:
    """Issue #12, Security 7: fifteen parallel guesses were all evaluated."""
    email = f"parallel-{uuid.uuid4().hex[:8]}@example.org"
    extra = {"EREVELD_LOGIN_THROTTLE_REDIS_URL": REDIS_URL} if store == "redis" else {}
    if store == "redis":  # lanes of an earlier run (this address) must not count
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter("ereveld:login:*"):
            client.delete(key)
    with staff_instance(tmp_path, email, **extra) as (base, log):
        browsers = [Browser(base, address="198.51.100.7") for _ in range(15)]
        tokens = []
        for browser in browsers:
            page = browser.request("GET", "/login")[2]
            token = CSRF.search(page)
            assert token is not None
            tokens.append(token.group(1))
        before = checked(log)
        start = threading.Barrier(15)
        statuses: list[int] = []

        def guess(number: int) -> None:
            start.wait()
            status, _h, _p = browsers[number].request(
                "POST",
                "/login",
                {"csrf_token": tokens[number], "email": email, "password": f"guess {number}"},
            )
            statuses.append(status)

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(15)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        evaluated = checked(log) - before
    assert sorted(set(statuses)) == [400, 429]
    assert statuses.count(400) == evaluated
    assert evaluated <= throttle.PAIR.free
