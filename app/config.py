"""Default configuration: no secrets here.

Order of precedence (later wins): these defaults, ``instance/config.py``, environment
variables (``DATABASE_URL``, ``SECRET_KEY``, and any ``EREVELD_<NAME>`` for a setting
``<NAME>``, parsed as JSON where it parses), then the test configuration.
"""

from __future__ import annotations


class Config:
    """Defaults for every environment."""

    # "development" or "production"; production refuses development keys.
    ENV_NAME = "development"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # None: SQLite file in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True}
    # Seconds a SQLite write waits for another process's lock before the visitor gets a
    # friendly 503 (busy_timeout); seconds to wait for PostgreSQL to accept a connection
    # (connect_timeout) before the same 503, rather than hanging the worker.
    SQLITE_BUSY_TIMEOUT = 5.0
    DATABASE_CONNECT_TIMEOUT = 5
    # While this file exists every request is answered 503 (`flask maintenance on|off`);
    # None: instance/maintenance.
    MAINTENANCE_FILE: str | None = None

    # Languages: staff pages speak nl and en; Russian joins on the public pages.
    LANGUAGES = ("nl", "en", "ru")
    STAFF_LANGUAGES = ("nl", "en")
    BABEL_DEFAULT_LOCALE = "nl"
    BABEL_DEFAULT_TIMEZONE = "Europe/Amsterdam"
    DEFAULT_TIMEZONE = "Europe/Amsterdam"

    # Where feeds and the JSON API point their links (https://ereveld.example); None: the
    # host of the request.
    PUBLIC_BASE_URL: str | None = None
    # Months after a ceremony that delegation details are kept (flask privacy purge).
    RETENTION_MONTHS = 12
    # Where people write about their data (shown on /privacy).
    PRIVACY_CONTACT: str | None = None
    # "text" (development) or "json" (one object per line; production's default).
    LOG_FORMAT = "text"
    # How long a worker trusts the feeds' change stamp before asking the database again.
    CALENDAR_STAMP_TTL = 1.0
    # Days that a withdrawn edition's own .ics (unpublished, or no longer public) still
    # answers with the event as cancelled, so subscribers drop it; then 404.
    CALENDAR_REMOVED_GRACE_DAYS = 90

    # Mail (app/mail). Without MAIL_SERVER messages are written as .eml files to
    # instance/outbox/ instead of being sent, so that development works offline.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 587
    MAIL_SECURITY = "starttls"  # "starttls", "ssl" or "none"
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_TIMEOUT = 30.0
    # A CA bundle for a relay whose certificate a private CA signed (None: the system's).
    MAIL_CA_FILE: str | None = None
    # From: the foundation; Reply-To and the calendar ORGANIZER: the protocol mailbox,
    # which receives replies (and calendar REPLYs, read by `flask mail fetch-replies`).
    MAIL_FROM_NAME = "Stichting Sovjet Ereveld"
    MAIL_FROM_ADDRESS = "info@sovjetereveld.example"
    MAIL_PROTOCOL_NAME = "Protocol Sovjet Ereveld"
    MAIL_PROTOCOL_ADDRESS = "protocol@sovjetereveld.example"
    # Attempts before a message is given up, and the waits between them (seconds).
    MAIL_MAX_ATTEMPTS = 5
    MAIL_RETRY_DELAYS = (60, 300, 1800, 7200)
    # A message "sending" for longer than this was claimed by a sender that died: it is
    # reported, never sent again on its own (it may have left).
    MAIL_STALE_SENDING = 900
    # After a release, the web app sends in a background thread as well as `flask mail
    # send` from cron.
    MAIL_SEND_IN_BACKGROUND = True
    # The protocol mailbox over IMAP, for calendar replies.
    IMAP_SERVER: str | None = None
    IMAP_PORT = 993
    IMAP_SSL = True
    IMAP_USERNAME: str | None = None
    IMAP_PASSWORD: str | None = None
    IMAP_FOLDER = "INBOX"
    IMAP_DONE_FOLDER: str | None = None  # where applied replies are moved (None: flagged seen)
    # Where a message that cannot be read safely is moved (None: it is only flagged
    # $EreveldQuarantine and its reason), so that it never stops a run again.
    IMAP_QUARANTINE_FOLDER: str | None = None
    # A calendar REPLY is applied on its own only when its From is the invited address and,
    # when this is on, the Authentication-Results header stamped by the mailbox's own server
    # (authserv-id REPLY_AUTHSERV_ID, e.g. "mx.sovjetereveld.nl") shows DKIM or DMARC pass
    # for the From domain: anyone can write an embassy's address into From and ATTENDEE.
    # None: on in production, off in development. Replies that fail wait for review.
    REPLY_REQUIRE_AUTHENTICATION: bool | None = None
    REPLY_AUTHSERV_ID: str | None = None

    # Letter batches. Render worker processes (None: one per core, at most four; 0: in the
    # calling process); the most letters per chunk they are handed (a chunk is laid out
    # whole: 15 keeps a worker near 73 MB, 20 near 76; a chunk more costs about 3 ms);
    # their niceness (below the web workers, so pages stay quick during a batch); seconds
    # without progress after which a worker counts as hung and the batch fails; and how
    # many batches the web renders at once across all its workers (the others wait their
    # turn, shown as queued).
    LETTER_RENDER_WORKERS: int | None = None
    LETTER_CHUNK_SIZE = 15
    LETTER_RENDER_NICE = 10
    LETTER_RENDER_TIMEOUT = 120.0
    LETTER_JOBS_AT_ONCE = 1
    # Invitations marked sent per commit as their letters land on disk: a commit per
    # letter doubled the time of a batch of 500; a killed batch loses at most these marks
    # (those letters are made again, with new links, by the next run).
    LETTER_COMMIT_EVERY = 20

    WTF_CSRF_TIME_LIMIT: int | None = None  # a long edit should not lose its token
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024

    # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto (0: none).
    PROXY_FIX_X_FOR = 0
    # Host names this instance answers to (None: any; set it in production).
    TRUSTED_HOSTS: list[str] | None = None

    # Staff sessions end after this many seconds without a request, and this many after
    # the login whatever happens (issue #12, Security 8).
    SESSION_IDLE_TIMEOUT = 3 * 3600
    SESSION_LIFETIME = 12 * 3600
    # A browser that completed a login gets a signed cookie naming its own lane in the
    # login throttle (app/auth/throttle.py): a flood from elsewhere does not slow it.
    LOGIN_DEVICE_COOKIE = "ereveld_device"
    LOGIN_DEVICE_DAYS = 90
    # Login throttle lanes in Redis (redis://host:6379/0) instead of the database, e.g.
    # to spare the database the writes of a flood.
    LOGIN_THROTTLE_REDIS_URL: str | None = None

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # Argon2id parameters (RFC 9106 second recommendation, above OWASP's minimum).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 64 * 1024
    ARGON2_PARALLELISM = 4
