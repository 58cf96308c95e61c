"""Login throttling in lanes, counted and checked in one atomic step before any hashing.

A lane is a key (this account from this address, this address, this account from
devices it does not know, this account's own device, this account's second factor) with
a count that lapses, a number of free attempts and then a wait between attempts that
grows up to a cap. Nothing locks an account for good: a flood against an account slows
the flood, while the owner's browser, which carries a device cookie signed at its last
completed login, has a lane of its own that the flood cannot fill (issue #12, Security 6).

Counting and checking is one statement (SQLite and PostgreSQL: an upsert with RETURNING;
Redis: a Lua script), run in its own committed transaction before the password is
hashed: fifteen parallel guesses are fifteen counts, and only those the lane lets through
cost Argon2 (Security 7). The same refusal answers known and unknown accounts alike.
"""

from __future__ import annotations

import hashlib
import importlib
import ipaddress
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.extensions import DbSession


@dataclass(frozen=True)
class Lane:
    """Free attempts, then waits from ``base`` doubling up to ``cap`` seconds.

    The count lapses ``forget`` seconds after the lane's first attempt (a fixed window)
    or, when ``sliding``, after its latest one.
    """

    name: str
    free: int
    base: float
    cap: float
    forget: float
    sliding: bool


# This account from this address: three tries for typos, then 5 s, 10 s, ... 15 min.
PAIR = Lane("pair", free=3, base=5.0, cap=900.0, forget=3600.0, sliding=True)
# Everything from one address (any account): 20 per quarter of an hour.
ADDRESS = Lane("address", free=20, base=900.0, cap=900.0, forget=900.0, sliding=False)
# This account from browsers without its device cookie, from anywhere: 20 per 30 s, which
# slows a flood spread over many addresses to 40 a minute and leaves room for the owner.
ACCOUNT = Lane("account", free=20, base=30.0, cap=30.0, forget=30.0, sliding=False)
# The owner's own browser (device cookie): its own 5 per quarter of an hour, whatever
# the rest of the world sends.
DEVICE = Lane("device", free=5, base=900.0, cap=900.0, forget=900.0, sliding=False)
# The second factor, per account and apart from the password: a right password does not
# reset it, only a completed login. Five tries, then 30 s doubling to 15 min.
CODE = Lane("code", free=5, base=30.0, cap=900.0, forget=86400.0, sliding=True)

# Old lanes are swept now and then, not on every attempt.
SWEEP_ONE_IN = 50


def account_key(email: str) -> str:
    """An account named in a login form, known or not, by a hash of the address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def address_key(address: str) -> str:
    """IPv4 addresses as they are; IPv6 by their /64, which one subscriber usually has."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


# Each SET is worked out from the row as it was (both SQLite and PostgreSQL evaluate
# the right-hand sides on the old row). A lane still waiting stays as it is: the refused
# attempt neither counts nor lengthens the wait, so the owner's lane never runs away.
_WAITING = "login_throttle.blocked_until > :now"
_LAPSED = "login_throttle.reset_at <= :now"
_COUNT = f"(CASE WHEN {_LAPSED} THEN 1 ELSE login_throttle.count + 1 END)"
_PREVIOUS = f"(CASE WHEN {_LAPSED} THEN 0 ELSE login_throttle.delay END)"
_DELAY = (
    f"(CASE WHEN {_COUNT} < :free THEN 0"
    f" WHEN {_PREVIOUS} * 2 < :base THEN :base"
    f" WHEN {_PREVIOUS} * 2 > :cap THEN :cap"
    f" ELSE {_PREVIOUS} * 2 END)"
)
# Only the constant fragments above are joined in; every value is a bound parameter.
RESERVE_SQL = sa.text(
    "INSERT INTO login_throttle (key, count, reset_at, blocked_until, delay, last_at)"  # noqa: S608  # nosec B608
    " VALUES (:key, 1, :now + :forget, :first_block, :first_delay, :now)"
    " ON CONFLICT (key) DO UPDATE SET"
    f" count = CASE WHEN {_WAITING} THEN login_throttle.count ELSE {_COUNT} END,"
    f" reset_at = CASE WHEN {_WAITING} THEN login_throttle.reset_at"
    f"  WHEN {_LAPSED} OR :sliding = 1 THEN :now + :forget ELSE login_throttle.reset_at END,"
    f" blocked_until = CASE WHEN {_WAITING} THEN login_throttle.blocked_until"
    f"  WHEN {_DELAY} > 0 THEN :now + {_DELAY} ELSE 0 END,"
    f" delay = CASE WHEN {_WAITING} THEN login_throttle.delay ELSE {_DELAY} END,"
    f" last_at = CASE WHEN {_WAITING} THEN login_throttle.last_at ELSE :now END"
    " RETURNING last_at, blocked_until"
)

# The same rules in Redis, atomic because a script runs alone.
RESERVE_LUA = """
local now = tonumber(ARGV[1])
local free, base, cap = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local forget, sliding = tonumber(ARGV[5]), ARGV[6] == '1'
local row = redis.call('HMGET', KEYS[1], 'count', 'reset_at', 'blocked_until', 'delay')
local count, reset_at = tonumber(row[1]), tonumber(row[2])
local blocked, delay = tonumber(row[3]) or 0, tonumber(row[4]) or 0
if count and blocked > now then
  return {0, tostring(blocked)}
end
if not count or reset_at <= now then
  count, delay, reset_at = 0, 0, now + forget
elseif sliding then
  reset_at = now + forget
end
count = count + 1
if count < free then
  delay = 0
elseif delay * 2 < base then
  delay = base
elseif delay * 2 > cap then
  delay = cap
else
  delay = delay * 2
end
blocked = 0
if delay > 0 then blocked = now + delay end
redis.call('HSET', KEYS[1], 'count', count, 'reset_at', tostring(reset_at),
  'blocked_until', tostring(blocked), 'delay', tostring(delay))
redis.call('EXPIREAT', KEYS[1], math.ceil(math.max(reset_at, blocked)) + 1)
return {1, tostring(blocked)}
"""

REFUND_LUA = """
local count = tonumber(redis.call('HGET', KEYS[1], 'count'))
if not count or count <= 0 then return 0 end
count = count - 1
redis.call('HSET', KEYS[1], 'count', count)
if count < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'blocked_until', '0', 'delay', '0')
end
return 1
"""


class RedisLanes:
    """Lanes in Redis (``LOGIN_THROTTLE_REDIS_URL``), for several app servers."""

    def __init__(self, url: str) -> None:
        redis: Any = importlib.import_module("redis")  # optional: only when configured
        # Short timeouts: a hung Redis falls back to the database instead of hanging logins.
        self._client: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script: Any = self._client.register_script(RESERVE_LUA)
        self._refund: Any = self._client.register_script(REFUND_LUA)

    def reserve(self, lane: Lane, key: str, now: float) -> float:
        allowed, blocked = self._script(
            keys=[f"ereveld:login:{key}"],
            args=[now, lane.free, lane.base, lane.cap, lane.forget, int(lane.sliding)],
        )
        return 0.0 if int(allowed) else max(float(blocked) - now, 0.001)

    def clear(self, keys: list[str]) -> None:
        self._client.delete(*[f"ereveld:login:{key}" for key in keys])

    def refund(self, lane: Lane, key: str) -> None:
        self._refund(keys=[f"ereveld:login:{key}"], args=[lane.free])


def _redis() -> RedisLanes | None:
    url = current_app.config.get("LOGIN_THROTTLE_REDIS_URL")
    if not url:
        return None
    lanes = current_app.extensions.get("login_throttle_redis")
    if lanes is None:
        lanes = current_app.extensions["login_throttle_redis"] = RedisLanes(str(url))
    return lanes


def _redis_down() -> None:
    current_app.logger.warning("login throttle: Redis unavailable, counting in the database")


def _engine(session: DbSession) -> sa.Engine:
    """The session's engine: the counts go through a connection of their own."""
    bind = session.get_bind()
    return bind if isinstance(bind, sa.Engine) else bind.engine


def reserve(session: DbSession, lanes: list[tuple[Lane, str]], now: float | None = None) -> float:
    """Count one attempt in every lane; 0.0 if all let it through, else seconds to wait.

    Committed at once in a transaction of its own, whatever the request does next: the
    count must be visible to every worker before the password is hashed.
    """
    now = time.time() if now is None else now
    redis = _redis()
    wait = 0.0
    if redis is not None:
        try:
            for lane, key in lanes:
                wait = max(wait, redis.reserve(lane, key, now))
        except Exception:  # Redis down: count in the database rather than not at all
            _redis_down()
        else:
            return wait
    with _engine(session).connect() as connection:
        for lane, key in lanes:
            first_delay = lane.base if lane.free <= 1 else 0.0
            row = connection.execute(
                RESERVE_SQL,
                {
                    "key": key,
                    "now": now,
                    "free": lane.free,
                    "base": lane.base,
                    "cap": lane.cap,
                    "forget": lane.forget,
                    "sliding": int(lane.sliding),
                    "first_delay": first_delay,
                    "first_block": now + first_delay if first_delay else 0.0,
                },
            ).one()
            if row.last_at != now:  # the lane was still waiting: nothing counted
                wait = max(wait, float(row.blocked_until) - now, 0.001)
        if secrets.randbelow(SWEEP_ONE_IN) == 0:
            connection.execute(
                sa.text(
                    "DELETE FROM login_throttle WHERE reset_at < :now AND blocked_until < :now"
                ),
                {"now": now},
            )
        connection.commit()
    return wait


def clear(session: DbSession, keys: list[str]) -> None:
    """Forget these lanes (after a completed login), committed at once like the counts."""
    redis = _redis()
    if redis is not None:
        try:
            redis.clear(keys)
        except Exception:
            _redis_down()
        else:
            return
    with _engine(session).connect() as connection:
        connection.execute(
            sa.text("DELETE FROM login_throttle WHERE key IN :keys").bindparams(
                sa.bindparam("keys", expanding=True)
            ),
            {"keys": keys},
        )
        connection.commit()


# The keys of each lane, in one place so that the views and the tests agree.
def pair_key(email: str, address: str) -> str:
    return f"pair:{account_key(email)}:{address_key(address)}"


def address_lane_key(address: str) -> str:
    return f"address:{address_key(address)}"


def account_lane_key(email: str) -> str:
    return f"account:{account_key(email)}"


def device_key(user_id: int, device: str) -> str:
    return f"device:{user_id}:{device}"


def code_key(user_id: int) -> str:
    return f"code:{user_id}"


def password_lanes(email: str, address: str, device: str | None = None) -> list[tuple[Lane, str]]:
    """The lanes one password attempt goes through.

    A browser with this account's own device cookie goes only through its device lane:
    the cookie is signed by us at a completed login, so no flood can have it.
    """
    if device is not None:
        return [(DEVICE, device)]
    return [
        (PAIR, pair_key(email, address)),
        (ADDRESS, address_lane_key(address)),
        (ACCOUNT, account_lane_key(email)),
    ]


def refund(session: DbSession, lanes: list[tuple[Lane, str]]) -> None:
    """Take back an attempt that turned out right: a staff member who logs in twenty
    times a quarter of an hour from the office is no flood. Only this attempt's own count
    goes; a wait it started ends if the lane is below its free attempts again."""
    redis = _redis()
    if redis is not None:
        try:
            for lane, key in lanes:
                redis.refund(lane, key)
        except Exception:
            _redis_down()
        else:
            return
    with _engine(session).connect() as connection:
        for lane, key in lanes:
            connection.execute(
                sa.text(
                    "UPDATE login_throttle SET count = count - 1,"
                    " blocked_until = CASE WHEN count - 1 < :free THEN 0 ELSE blocked_until END,"
                    " delay = CASE WHEN count - 1 < :free THEN 0 ELSE delay END"
                    " WHERE key = :key AND count > 0"
                ),
                {"key": key, "free": lane.free},
            )
        connection.commit()
