"""What the served app refuses before any handler runs, and the counters behind it:

- request bodies over IURC_MAX_BODY_BYTES (413), counted as they arrive when no length is sent;
  a staff upload may carry IURC_MAX_UPLOAD_FILES files of IURC_MAX_FILE_BYTES;
- Gradio's file-upload route (403) for anyone but a staff session (IURC_STAFF_AUTH);
- with a login (IURC_AUTH), every route but the login page and its assets, unless logged in;
- login attempts from an address that keeps failing (429, a delay that doubles per failure), and
  every login (form or HTTP Basic) through LOGINS, per user+address pair;
- another Host than IURC_PUBLIC_HOST (421, when set); a state change or CORS preflight from a
  page of another origin (403); Set-Cookie never SameSite=None, Secure over HTTPS, no CORS headers;
- security headers on every response: CSP, frame-ancestors / X-Frame-Options, no-sniff.

`Throttle`, `RateLimit` and `InFlight` are also used by the JSON API and the feedback log."""
from __future__ import annotations

import contextvars
import threading
import time
from collections import deque

from core import settings

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
     b"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; media-src 'self' blob:; "
     b"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # (same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" even from
    # the app's own forms, which the cross-site check could not tell from a foreign page)
    (b"referrer-policy", b"same-origin"),
]
# What the login page needs before anyone is logged in (Gradio serves it at "/").
_OPEN_EXACT = {"/", "/login", "/login/", "/logout", "/favicon.ico", "/theme.css", "/manifest.json",
               "/gradio_api/login_check", "/gradio_api/login_check/", "/login_check", "/login_check/",
               "/gradio_api/app_id", "/gradio_api/app_id/", "/config", "/config/", "/gradio_api/theme.css",
               "/gradio_api/startup-events"}  # Gradio's own start-up check, from the server itself
_OPEN_PREFIXES = ("/assets/", "/static/", "/svelte/", "/gradio_api/assets/", "/gradio_api/static/")
# The staff login has its own check (and its own throttle per user); it is open like the readers'.
_STAFF_PATHS = {"/staff", "/staff/", "/staff/login", "/staff/logout"}
_UPLOAD_PATHS = {"/upload", "/upload/", "/gradio_api/upload", "/gradio_api/upload/"}


class Throttle:
    """Failures per key (a user name, an address): after `free` failures each further attempt
    waits twice as long as the last (1 s, 2 s, 4 s … at most `longest`); a success clears it."""

    def __init__(self, free: int = 5, longest: float = 300.0):
        self.free, self.longest = free, longest
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds until `key` may try again (0: now)."""
        with self._lock:
            count, last = self._failures.get(key, (0, 0.0))
        if count < self.free:
            return 0.0
        delay = min(self.longest, 2.0 ** (count - self.free))
        return max(0.0, last + delay - time.monotonic())

    def failed(self, key: str) -> None:
        with self._lock:
            count, _ = self._failures.get(key, (0, 0.0))
            self._failures[key] = (count + 1, time.monotonic())
            if len(self._failures) > 100_000:  # bounded memory under a spray of keys
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class RateLimit:
    """At most `limit` events per key in any `window` seconds."""

    def __init__(self, limit: int, window: float = 60.0):
        self.limit, self.window = limit, window
        self._events: dict[str, deque] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and now - events[0] > self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            if len(self._events) > 100_000:
                self._events.pop(next(iter(self._events)))
            return True


class InFlight:
    """At most `limit` requests per key being answered or waiting at once."""

    def __init__(self, limit: int):
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, key: str) -> bool:
        with self._lock:
            if self._counts.get(key, 0) >= self.limit:
                return False
            self._counts[key] = self._counts.get(key, 0) + 1
            return True

    def leave(self, key: str) -> None:
        with self._lock:
            left = self._counts.get(key, 1) - 1
            if left:
                self._counts[key] = left
            else:
                self._counts.pop(key, None)


class ClientLimits:
    """The per-client bounds of questions: IURC_RATE_PER_MINUTE a minute and
    IURC_MAX_IN_FLIGHT_PER_CLIENT under way at once. `admit` says which one refused ("rate",
    "in_flight") or "" when admitted; an admitted question is `leave`-d when answered."""

    def __init__(self):
        self.rate = RateLimit(settings.get("rate_per_minute"))
        self.in_flight = InFlight(settings.get("max_in_flight_per_client"))

    def admit(self, key: str) -> str:
        if not self.rate.allow(key):
            return "rate"
        return "" if self.in_flight.enter(key) else "in_flight"

    def leave(self, key: str) -> None:
        self.in_flight.leave(key)


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic` header, or None."""
    import base64

    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def credentials_match(user: str, password: str, credentials: tuple[str, str]) -> bool:
    """The IURC_AUTH user and password, compared in constant time."""
    import secrets

    return secrets.compare_digest(user.encode(), credentials[0].encode()) and \
        secrets.compare_digest(password.encode(), credentials[1].encode())


def session_token(app, cookies) -> str | None:
    """The chat's login token among the request's cookies (Gradio sets it under two names)."""
    cookie_id = getattr(app, "cookie_id", None)
    return cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}") \
        if cookie_id else None


def session_user(app, cookies) -> str | None:
    """The user the chat's login cookie belongs to, or None."""
    return (getattr(app, "tokens", None) or {}).get(session_token(app, cookies))


def client_address(scope) -> str:
    """The client's address: the peer's, or, when the peer is a configured trusted proxy
    (IURC_TRUSTED_PROXIES), the last address its X-Forwarded-For names."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    trusted = {a.strip() for a in (settings.get("trusted_proxies") or "").split(",") if a.strip()}
    if peer in trusted:
        for name, value in scope.get("headers", []):
            if name.lower() == b"x-forwarded-for":
                forwarded = [a.strip() for a in value.decode("latin-1").split(",") if a.strip()]
                if forwarded:
                    return forwarded[-1][:100]
    return peer


def basic_login(header: str, credentials: tuple[str, str] | None, address: str) -> bool | None:
    """HTTP Basic through LOGINS: True/False for a header carrying a user (right/wrong
    password), None when that user is throttled at this address; False without a header."""
    given = basic_credentials(header)
    if given is None or credentials is None:
        return False
    user, password = given
    return LOGINS.check(user, address, lambda: credentials_match(user, password, credentials))


async def _reply(send, status: int, message: str, extra: list | None = None) -> None:
    import json

    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *SECURITY_HEADERS, *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


async def _page(send, text: str) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})


_STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _origin_host(origin: str) -> str:
    """"https://example.org:8443" -> "example.org:8443"; "" for "null" or nonsense."""
    scheme, sep, rest = origin.partition("://")
    return rest.split("/", 1)[0].lower() if sep and scheme in ("http", "https") else ""


def cross_site(method: str, headers: dict, hosts: set[str]) -> str:
    """Why a request from a browser page of another origin is refused ("" when it is not):
    a state change or a CORS preflight whose Origin is not this server (its Host, or one of the
    configured public host names), or that the browser itself marks cross-site."""
    origin = headers.get("origin", "")
    if method == "OPTIONS" and origin:
        own = {headers.get("host", "").lower()} | hosts
        return "" if _origin_host(origin) in own else "cross-origin requests are not allowed"
    if method not in _STATE_CHANGING:
        return ""
    fetch_site = headers.get("sec-fetch-site", "")
    if fetch_site in ("same-origin", "none"):
        return ""  # the browser says it is our own page (or the user typed it)
    if fetch_site == "cross-site":
        return "cross-site request refused"
    if origin:
        # ("null": a sandboxed frame or a page hiding where it comes from: not ours)
        own = {headers.get("host", "").lower()} | hosts
        if _origin_host(origin) not in own:
            return "cross-site request refused: the Origin is not this server"
    return ""


def _cookie_headers(headers: list, https: bool) -> list:
    """Set-Cookie headers never SameSite=None (Lax instead) and Secure when served over HTTPS."""
    out = []
    for name, value in headers:
        if name.lower() == b"set-cookie":
            text = value.decode("latin-1")
            parts = [p for p in (x.strip() for x in text.split(";")) if p.lower() != "samesite=none"]
            if not any(p.lower().startswith("samesite=") for p in parts[1:]):
                parts.append("SameSite=Lax")
            if https and not any(p.lower() == "secure" for p in parts[1:]):
                parts.append("Secure")
            if not https:
                parts = [p for p in parts if p.lower() != "secure"]
            value = "; ".join(parts).encode("latin-1")
        elif name.lower() in (b"access-control-allow-origin", b"access-control-allow-credentials"):
            continue  # no CORS: the app is served to its own pages only
        out.append((name, value))
    return out


class Guard:
    """ASGI middleware around the whole app (Gradio's routes and ours)."""

    def __init__(self, app, credentials: tuple[str, str] | None, address_throttle: Throttle,
                 routes_ready: threading.Event | None = None, staff=None, login_page=None):
        """`staff`: the StaffSessions (app/web/staff.py) whose sessions may upload; None: nobody.
        `login_page`: the HTML the chat's address shows to a reader not logged in (made by the
        caller; None: Gradio's own login form)."""
        self.app = app
        self.login_page = login_page
        self.credentials = credentials
        self.throttle = address_throttle
        self.staff = staff
        self.max_body = settings.get("max_body_bytes")
        self.max_upload = settings.get("max_file_bytes") * settings.get("max_upload_files") + 1_000_000
        # Our own routes (/api, /original) are added once Gradio's server runs: a request that
        # comes in between waits for them instead of getting a 404.
        self.routes_ready = routes_ready
        self.session_seconds = 3600 * settings.get("session_hours")
        self.max_sessions = settings.get("max_sessions")
        self.max_per_user = settings.get("max_sessions_per_user")
        self._sessions: dict[str, float] = {}  # login token -> when first seen
        self._sessions_lock = threading.Lock()

    def _session_alive(self, app, cookies: dict) -> bool:
        """The chat's login token is one the server issued, not older than IURC_SESSION_HOURS;
        an expired one is ended. Past IURC_MAX_SESSIONS logins the oldest are ended, and past
        IURC_MAX_SESSIONS_PER_USER logins of one user that user's oldest."""
        tokens = getattr(app, "tokens", None)
        token = session_token(app, cookies)
        if not tokens or token not in tokens:
            return False
        now = time.monotonic()
        with self._sessions_lock:
            if token not in self._sessions:  # a login seen for the first time: its user's cap
                user = tokens.get(token)
                mine = sorted((self._sessions[t], t) for t, u in tokens.items() if u == user and t in self._sessions)
                for _, old in mine[:max(0, len(mine) + 1 - self.max_per_user)]:
                    tokens.pop(old, None)
                    self._sessions.pop(old, None)
            first = self._sessions.setdefault(token, now)
            if now - first > self.session_seconds:
                tokens.pop(token, None)
                self._sessions.pop(token, None)
                return False
            if len(tokens) > self.max_sessions:
                for old in sorted(tokens, key=lambda t: self._sessions.get(t, now))[: len(tokens) - self.max_sessions]:
                    tokens.pop(old, None)
                    self._sessions.pop(old, None)
            if len(self._sessions) > len(tokens):  # logins ended elsewhere: forget them too
                for gone in [t for t in self._sessions if t not in tokens]:
                    self._sessions.pop(gone, None)
        return token in tokens

    async def _logout(self, scope, headers: dict, send) -> None:
        """GET /logout ends this browser's session only (Gradio's own ends every session of the
        user, and with one shared reader login that is every reader's)."""
        from starlette.requests import cookie_parser

        app = scope.get("app")
        token = session_token(app, cookie_parser(headers.get("cookie", "")))
        tokens = getattr(app, "tokens", None)
        if tokens is not None and token:
            tokens.pop(token, None)
        cookie_id = getattr(app, "cookie_id", "")
        expired = [(b"set-cookie", f"{name}-{cookie_id}=; Max-Age=0; Path=/; SameSite=Lax".encode())
                   for name in ("access-token", "access-token-unsecure")]
        await send({"type": "http.response.start", "status": 302,
                    "headers": [(b"location", b"/"), (b"content-length", b"0"), *expired, *SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": b""})

    def logged_in(self, scope, headers: dict) -> bool | None:
        """The chat's session cookie (Gradio's login) or HTTP Basic with IURC_AUTH (None: a
        Basic user throttled at this address)."""
        from starlette.requests import cookie_parser

        if self._session_alive(scope.get("app"), cookie_parser(headers.get("cookie", ""))) \
                or (self.staff is not None and self.staff.from_headers(scope.get("app"), headers)):
            return True
        return basic_login(headers.get("authorization", ""), self.credentials, client_address(scope))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope.get("path", ""), scope.get("method", "GET")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        max_body = self.max_body
        if path in _UPLOAD_PATHS and method == "POST":
            if self.staff is None or not self.staff.from_headers(scope.get("app"), headers):
                return await _reply(send, 403, "only staff may upload: log in at /staff")
            max_body = self.max_upload
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > max_body:
            return await _reply(send, 413, f"request body over {max_body} bytes")
        hosts = {h.strip().lower() for h in (settings.get("public_host") or "").split(",") if h.strip()}
        if hosts and headers.get("host", "").lower() not in hosts:
            return await _reply(send, 421, "this server does not answer for that host name")
        refused = cross_site(method, headers, hosts)
        if refused:
            return await _reply(send, 403, refused)
        if path.rstrip("/") == "/logout" and self.credentials is not None:
            return await self._logout(scope, headers, send)
        if path == "/" and method in ("GET", "HEAD") and self.credentials is not None \
                and self.login_page is not None and not self.logged_in(scope, headers):
            return await _page(send, self.login_page())
        is_login = path.rstrip("/") in ("/login", "/staff/login") and method == "POST"
        address = client_address(scope)
        if is_login:
            wait = self.throttle.wait(address)
            if wait > 0:
                return await _reply(send, 429, f"too many failed logins; try again in {int(wait) + 1} s",
                                    [(b"retry-after", str(int(wait) + 1).encode())])
        elif self.credentials is not None and not (path in _OPEN_EXACT or path in _STAFF_PATHS
                                                   or path.startswith(_OPEN_PREFIXES)):
            logged = self.logged_in(scope, headers)
            if logged is None:
                return await _reply(send, 429, "too many failed logins; try again later", [(b"retry-after", b"60")])
            if not logged:
                return await _reply(send, 401, "log in first", [(b"www-authenticate", b"Basic")])
        token = CLIENT_ADDRESS.set(address)  # for the login checks Gradio calls without the request

        if self.routes_ready is not None and not self.routes_ready.is_set() \
                and path.startswith(("/api/", "/original/", "/preview/", "/staff")):
            import asyncio

            for _ in range(300):
                if self.routes_ready.is_set():
                    break
                await asyncio.sleep(0.1)
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise BodyTooLarge
            return message

        status = {"code": 0}
        https = scope.get("scheme") == "https" or (
            address != (scope.get("client") or ("unknown",))[0]  # through a trusted proxy
            and headers.get("x-forwarded-proto", "") == "https")

        async def secured_send(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": _cookie_headers(list(message.get("headers", [])), https)
                           + [h for h in SECURITY_HEADERS if h[0] not in names]}
            await send(message)

        try:
            await self.app(scope, counted_receive, secured_send)
        except BodyTooLarge:
            if not status["code"]:
                await _reply(send, 413, f"request body over {max_body} bytes")
        finally:
            CLIENT_ADDRESS.reset(token)
        if is_login:
            if status["code"] in (200, 302, 303):
                self.throttle.succeeded(address)
            elif status["code"] in (400, 401, 403):
                self.throttle.failed(address)


class BodyTooLarge(Exception):
    pass


class Logins:
    """The one throttle for every way to log in (the chat's form, the staff form, HTTP Basic on
    any route). Failures count per user+address pair, so guesses from other addresses never
    lock out the real user; a pair slows down (1 s, 2 s, 4 s …) after `free` failures. Across
    addresses, once a user name has more than IURC_LOGIN_FAILURES_PER_MINUTE failures in a
    minute, only pairs that have logged in before may try until the minute has passed: a spray
    from rotating addresses is capped, the user at a known address is not blocked."""

    def __init__(self, free: int = 5, longest: float = 300.0, ceiling: int | None = None, window: float = 60.0):
        self.pairs = Throttle(free, longest)
        self.ceiling = ceiling if ceiling is not None else settings.get("login_failures_per_minute")
        self.window = window
        self._recent: dict[str, deque] = {}  # user -> times of failures from any address
        self._known: dict[str, float] = {}  # pairs that logged in, last success time
        self._lock = threading.Lock()

    @staticmethod
    def _pair(user: str, address: str) -> str:
        return f"{user[:200]}\n{address}"

    def wait(self, user: str, address: str) -> float:
        """Seconds until this user may try again from this address (0: now)."""
        pair = self._pair(user, address)
        wait = self.pairs.wait(pair)
        with self._lock:
            if pair in self._known:
                return wait
            recent = self._recent.get(user[:200])
            now = time.monotonic()
            while recent and now - recent[0] > self.window:
                recent.popleft()
            if recent and len(recent) >= self.ceiling:
                wait = max(wait, recent[0] + self.window - now)
        return wait

    def failed(self, user: str, address: str) -> None:
        self.pairs.failed(self._pair(user, address))
        with self._lock:
            # The last `ceiling` failures are all the check needs (are they within the window?).
            self._recent.setdefault(user[:200], deque(maxlen=self.ceiling)).append(time.monotonic())
            if len(self._recent) > 100_000:
                self._recent.pop(next(iter(self._recent)))

    def succeeded(self, user: str, address: str) -> None:
        pair = self._pair(user, address)
        self.pairs.succeeded(pair)
        with self._lock:
            self._known[pair] = time.monotonic()
            if len(self._known) > 100_000:
                self._known.pop(next(iter(self._known)))

    def check(self, user: str, address: str, ok) -> bool | None:
        """Run `ok()` (the password comparison) unless throttled; None when throttled, else its
        result, counted."""
        user = (user or "")[:200]
        if self.wait(user, address) > 0:
            return None
        good = bool(ok())
        (self.succeeded if good else self.failed)(user, address)
        return good


# Shared by the chat's login form, the staff login and HTTP Basic on every route.
LOGINS = Logins()
# The client address of the request being handled (set by the Guard, read by login checks that
# Gradio calls with a user name and password only).
CLIENT_ADDRESS: contextvars.ContextVar[str] = contextvars.ContextVar("iurc_client_address", default="unknown")


def credentials_from_setting(name: str) -> tuple[str, str] | None:
    """A `user:password` setting (IURC_AUTH, IURC_STAFF_AUTH) as a pair, or None when unset."""
    raw = settings.get(name)
    if not raw:
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise settings.SettingError(f"{settings.SETTINGS[name].env_var} must be user:password")
    return user, password


def auth_from_setting() -> tuple[str, str] | None:
    """The readers' login (IURC_AUTH)."""
    return credentials_from_setting("auth")


def staff_from_setting() -> tuple[str, str] | None:
    """The staff login (IURC_STAFF_AUTH): its user must differ from the readers', since a
    session is known by its user name."""
    staff = credentials_from_setting("staff_auth")
    reader = auth_from_setting()
    if staff and reader and staff[0] == reader[0]:
        raise settings.SettingError("IURC_STAFF_AUTH must name another user than IURC_AUTH")
    return staff


def throttled_login(*accepted: tuple[str, str] | None):
    """The chat's login check (Gradio calls it with the form's user and password), taking any of
    the `accepted` pairs (readers, and staff, who may read too), throttled by LOGINS per user and
    the address the Guard saw: a pair that keeps failing waits longer before each next try, even
    with the right password."""
    pairs = [p for p in accepted if p]

    def check(user: str, password: str) -> bool:
        user = (user or "")[:200]
        ok = LOGINS.check(user, CLIENT_ADDRESS.get(),
                          lambda: any(credentials_match(user, password or "", pair) for pair in pairs))
        return bool(ok)

    return check
