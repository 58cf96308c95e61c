"""The production setup as documented: gunicorn workers behind a reverse proxy."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    database = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'prod.sqlite'}"
    env = {
        **os.environ,
        "EREVELD_INSTANCE_PATH": str(tmp_path / "instance"),
        "EREVELD_ENV_NAME": "production",
        "SECRET_KEY": "a-production-secret-key-that-is-long-enough-1234",
        "DATABASE_URL": database,
        "EREVELD_PUBLIC_BASE_URL": "https://ereveld.example",
        "EREVELD_TRUSTED_HOSTS": '["ereveld.example", "127.0.0.1"]',
        "EREVELD_PROXY_FIX_X_FOR": "1",
    }
    env.pop("TEST_DATABASE_URL", None)
    return env | extra


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = production_env(tmp_path_factory.mktemp("production"))
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--forwarded-allow-ips",
            "127.0.0.1",
            "app.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()  # noqa: S310
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(
                        process.stderr.read().decode() if process.stderr else "gunicorn died"
                    ) from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_behind_a_proxy(server: str) -> None:
    status, headers = get(
        server + "/healthz",
        {"Host": "ereveld.example", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
    )
    assert status == 200
    # The proxy said https: the app knows, and tells browsers to stay on https.
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_unknown_hosts_are_refused(server: str) -> None:
    status, _ = get(server + "/healthz", {"Host": "evil.example"})
    assert status == 400


def test_secure_cookies(server: str) -> None:
    status, headers = get(
        server + "/login", {"Host": "ereveld.example", "X-Forwarded-Proto": "https"}
    )
    assert status == 200
    cookie = headers.get("Set-Cookie", "")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_refuses_to_start_with_a_development_key(tmp_path: Path) -> None:
    env = production_env(tmp_path, SECRET_KEY="dev")
    result = subprocess.run(
        [sys.executable, "-c", "import app.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
