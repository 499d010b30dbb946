"""Staff document management in the chat UI: the staff login (IURC_STAFF_AUTH, separate from the
readers' IURC_AUTH), its sessions, and the Documents view's add / remove panel, which runs the
same ingest code as the CLI (ingest/upload.py) under the same one-writer lock.

Staff log in at /staff (a small form; the session is an HttpOnly, SameSite=Strict cookie), or,
when readers have a login too, with the staff user on the chat's own login form. Only a staff
session may use Gradio's upload route (the guard refuses everyone else before a byte is stored)
and only a staff session's clicks add or remove anything (each handler checks again, and checks
the action token the staff page was given: a keyed hash of that session's token, which another
site's page can neither read nor compute, so a forged request carrying the staff cookie fails)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from pathlib import Path

from fastapi import Request  # (Gradio's web framework; module-level so route annotations resolve)
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.requests import cookie_parser

from core import settings

from app.web.guard import CLIENT_ADDRESS, LOGINS, credentials_match, session_token, session_user
from app.web.page import login_page
from app.web.render import ui_text

STAFF_COOKIE = "iurc-staff"
STAFF_ROUTE = "/staff"


class StaffSessions:
    """Staff logins: token -> (user, expiry). `is_staff` also accepts the chat's own login when
    it was made with the staff user."""

    def __init__(self, credentials: tuple[str, str] | None, hours: float | None = None):
        self.credentials = credentials
        self.seconds = 3600 * (hours if hours is not None else settings.get("staff_session_hours"))
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.max_per_user = settings.get("max_sessions_per_user")
        self._key = secrets.token_bytes(32)  # for action tokens; a restart invalidates them

    @property
    def enabled(self) -> bool:
        return self.credentials is not None

    def login(self, user: str, password: str) -> str | None:
        """A new session token for the right staff user and password, else None (throttled per
        user and address like the readers' login: LOGINS)."""
        user = (user or "")[:200]
        if not self.enabled:
            return None
        ok = LOGINS.check(user, CLIENT_ADDRESS.get(), lambda: credentials_match(user, password or "", self.credentials))
        if not ok:
            return None
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}  # drop expired ones
            mine = sorted((v[1], t) for t, v in self._tokens.items() if v[0] == user)
            for _, old in mine[:max(0, len(mine) + 1 - self.max_per_user)]:  # the oldest logins end
                self._tokens.pop(old)
            self._tokens[token] = (user, now + self.seconds)
        return token

    def logout(self, token: str | None) -> None:
        with self._lock:
            self._tokens.pop(token or "", None)

    def _session(self, app, cookies: dict) -> str | None:
        """The token of the staff session these cookies carry (a staff cookie that has not
        expired, or the chat's login made as the staff user), else None."""
        if not self.enabled:
            return None
        token = cookies.get(STAFF_COOKIE, "")
        with self._lock:
            found = self._tokens.get(token)
        if found and found[1] > time.monotonic():
            return token
        if session_user(app, cookies) == self.credentials[0]:
            return session_token(app, cookies)
        return None

    def is_staff(self, app, cookies: dict) -> bool:
        return self._session(app, cookies) is not None

    def action_token(self, app, cookies: dict) -> str:
        """What the staff page sends back with every add or remove: HMAC-SHA256 of the session's
        token under a key only this process holds ("" for anyone not staff)."""
        session = self._session(app, cookies)
        return hmac.new(self._key, session.encode(), hashlib.sha256).hexdigest() if session else ""

    def may_act(self, app, cookies: dict, token: str) -> bool:
        """A staff session and the action token made for it."""
        expected = self.action_token(app, cookies)
        return bool(expected) and hmac.compare_digest(expected, str(token or ""))

    def user(self, app, cookies: dict) -> str:
        """The staff user these cookies are logged in as ("" for anyone else)."""
        return self.credentials[0] if self._session(app, cookies) is not None else ""

    def from_headers(self, app, headers: dict) -> bool:
        return self.is_staff(app, cookie_parser(headers.get("cookie", "")))


def add_staff_routes(app, sessions: StaffSessions) -> None:
    """GET /staff (the login form), POST /staff/login, GET /staff/logout."""
    def page(message_key: str = "", status: int = 200) -> HTMLResponse:
        return HTMLResponse(login_page(staff=True, message_key=message_key, action=STAFF_ROUTE + "/login"),
                            status_code=status, headers={"Cache-Control": "no-store"})

    @app.get(STAFF_ROUTE)
    def staff_page():
        if not sessions.enabled:
            return page("staff_page_off", 404)
        return page()

    @app.post(STAFF_ROUTE + "/login")
    async def staff_login(request: Request):
        form = await request.form()
        token = sessions.login(str(form.get("username", "")), str(form.get("password", "")))
        if token is None:
            return page("staff_page_failed", 401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(STAFF_COOKIE, token, max_age=int(sessions.seconds), httponly=True,
                            samesite="strict", path="/")
        return response

    @app.get(STAFF_ROUTE + "/logout")
    def staff_logout(request: Request):
        sessions.logout(request.cookies.get(STAFF_COOKIE))
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(STAFF_COOKIE, path="/")
        return response


def upload_folder() -> Path:
    return Path(settings.get("upload_dir")).resolve()


def curated_glossary_for_uploads():
    """The curated glossary an upload is ingested with: found as `iurc ingest <corpus>` finds it."""
    from core.glossary import curated_glossary

    glossary, _ = curated_glossary(None, [str(upload_folder().parent)])
    return glossary


NOT_STAFF = "Only staff may add or remove documents: log in at /staff. / 文書の追加・削除はスタッフのみです。"


def _discard(paths: list[Path], temp_root: Path) -> None:
    """Remove upload temporary copies inside `temp_root` (Gradio's upload folder; nothing
    outside it, whoever sent the path), and their folder when left empty (Gradio puts each
    upload in a folder of its own)."""
    for path in paths:
        path = path.resolve()
        if not path.is_relative_to(temp_root) or path == temp_root:
            continue
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()
        except OSError:
            pass  # not empty, or already gone
    # Uploads never added (the page closed first) lose their files to Gradio's hourly cache
    # clean-up (delete_cache in app/web/ui.py), which leaves their folders: empty ones an hour old go.
    hour_ago = time.time() - 3600
    try:
        for folder in temp_root.iterdir():
            try:
                if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < hour_ago:
                    folder.rmdir()  # fails, harmlessly, unless empty
            except OSError:
                pass
    except OSError:
        pass  # no upload folder yet


def _failed(reason: str):
    from ingest.upload import Outcome

    return [Outcome("", "failed", reason=reason)]


class StaffHistory:
    """Who added, replaced or removed which file, when, and what came of it: JSON lines
    (IURC_STAFF_HISTORY_FILE), one per file and change."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path or settings.get("staff_history_file"))
        self._lock = threading.Lock()

    def record(self, user: str, outcomes: list) -> None:
        import json
        from datetime import datetime, timezone

        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        lines = "".join(json.dumps({"at": at, "user": user, "file": o.name, "outcome": o.status,
                                    "passages": o.passages, "reason": o.reason}, ensure_ascii=False) + "\n"
                        for o in outcomes if o.name)
        if not lines:
            return
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(lines)

    def latest(self, n: int = 50) -> list[dict]:
        """The latest `n` records, newest first (a damaged line is skipped)."""
        import json

        try:
            lines = self.path.read_text("utf-8").splitlines()[-n:]
        except OSError:
            return []
        out = []
        for line in reversed(lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out


class StaffDesk:
    """The add / remove handlers behind the Documents view's staff panel. One change at a time
    in this process (and the store's writer lock across processes); after a change the
    assistant reloads at once, so the next question, from any reader, sees it."""

    def __init__(self, assistant, sessions: StaffSessions, temp_root: Path | None = None,
                 history: StaffHistory | None = None):
        """`temp_root`: where uploads' temporary copies are (default: Gradio's upload folder)."""
        from gradio.utils import get_upload_folder

        self.assistant = assistant
        self.sessions = sessions
        self.history = history or StaffHistory()
        self.temp_root = Path(temp_root or get_upload_folder()).resolve()
        self._busy = threading.Lock()

    def allowed(self, request) -> bool:
        """May see the staff panel."""
        return request is not None and self.sessions.is_staff(getattr(request, "app", None), dict(request.cookies))

    def may_act(self, request, token: str) -> bool:
        """May add or remove: a staff session and its action token."""
        return request is not None and self.sessions.may_act(getattr(request, "app", None), dict(request.cookies),
                                                             token)

    def action_token(self, request) -> str:
        return self.sessions.action_token(getattr(request, "app", None), dict(request.cookies)) if request else ""

    def _run(self, change, request=None):
        from core.store import StoreError

        if not self._busy.acquire(blocking=False):
            return _failed("another change is under way; try again in a moment")
        try:
            done = change()
        except StoreError as exc:
            done = _failed(str(exc))
        finally:
            self._busy.release()
        self.assistant.reload_if_changed(force=True)
        self.history.record(self.sessions.user(getattr(request, "app", None), dict(request.cookies))
                            if request is not None else "", done)
        return done

    def add(self, paths: list[str] | None, request, token: str = "", progress=None, language: str = "") -> list:
        """Uploaded files (Gradio's temporary copies) -> one Outcome per file. The temporary
        copies are removed whatever happens (refused, failed, over the file count)."""
        from ingest import upload
        from core.formats import LoadError, read_file

        paths = [Path(p) for p in (paths or [])]
        if not self.may_act(request, token):
            _discard(paths, self.temp_root)
            return _failed(NOT_STAFF)
        paths, extra = paths[:settings.get("max_upload_files")], paths[settings.get("max_upload_files"):]
        _discard(extra, self.temp_root)
        max_bytes = settings.get("max_file_bytes")

        def change():
            files, refused = [], []
            for path in paths:
                try:
                    files.append((path.name, read_file(path, max_bytes)))  # never reads an oversized one
                except LoadError as exc:
                    refused.append(upload.Outcome(upload.safe_name(path.name), "failed", reason=str(exc)))
                finally:
                    _discard([path], self.temp_root)  # the upload's temporary copy is not kept

            def on_file(number: int, total: int, doc: str) -> None:
                if progress is not None:  # one line per file, named as staff know it
                    progress((number, total), desc=ui_text("indexing", language, name=Path(doc).name),
                             unit=ui_text("files_unit", language))

            outcomes, _ = upload.add(files, upload_folder(), self.assistant.store, curated_glossary_for_uploads(),
                                     max_bytes, on_file)
            return refused + outcomes

        return self._run(change, request)

    def remove(self, docs: list[str] | None, request, token: str = "") -> list:
        from ingest import upload

        if not self.may_act(request, token):
            return _failed(NOT_STAFF)
        if not docs:
            return _failed("choose the documents to remove first")
        return self._run(lambda: upload.delete(list(docs), upload_folder(), self.assistant.store,
                                               curated_glossary_for_uploads()), request)
