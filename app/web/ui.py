"""The Gradio chat UI (`iurc serve`): chat with footnotes that open their sources, a sources
panel with the quoted span marked, onboarding views (programme, glossary, documents),
feedback, the `/ask` API endpoint that returns the `iurc ask --json` object, and a plain JSON API
(POST /api/ask, GET /api/health) on the same server."""
from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from fastapi import HTTPException, Request  # noqa: E402  (gradio's own web framework)
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import FileResponse  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from pydantic import BaseModel, Field, field_validator  # noqa: E402

from core import settings  # noqa: E402
from core.formats import FORMATS, SUPPORTED  # noqa: E402
from core.languages import pivot  # noqa: E402

from app.web.guard import (ClientLimits, Guard, RateLimit, Throttle, auth_from_setting, basic_credentials,  # noqa: E402
                    basic_login, client_address, credentials_match, session_token, session_user,
                    staff_from_setting, throttled_login)
from app.web.render import (ORIGINAL_ROUTE, UI_LANGUAGES, answer_markdown, conversation_markdown,  # noqa: E402
                     conversation_sources, empty_sources, inert_markdown, said_in, sources_html, ui_language,
                     ui_text)
from app.answering.question import check_encodable  # noqa: E402
from app.answering.service import Assistant  # noqa: E402
from app.web.page import (COPY_JS, CSS, FIRST_LANGUAGE_JS, LOCALE_JS, PAGE_JS, THUMB_NOTE_JS,  # noqa: E402
                          gradio_translations, head, login_page)
from app.web.preview import add_preview_route  # noqa: E402
from app.web.staff import STAFF_ROUTE, StaffDesk, StaffSessions, add_staff_routes, upload_folder  # noqa: E402
from app.web.views import (DOCUMENT_TYPES, document_table, example_questions, glossary_table, local_time,  # noqa: E402
                    network_svg, page_counts, programme_table,  # noqa: E402
                    programme_tables, what_is_indexed)

MAX_SAVED_CONVERSATIONS = 20


def browser_secret(beside: Path) -> str:
    """The key the browser-kept conversations are encrypted with: made once and kept beside the
    feedback file, so a restarted server still opens them (Gradio's default is new per start)."""
    path = Path(beside).parent / "browser_state.key"
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32), "utf-8")
            path.chmod(0o600)
        return path.read_text("utf-8").strip()
    except OSError:
        return secrets.token_hex(32)  # unwritable: conversations last as long as this server


def conversation_choices(kept: list) -> list[tuple[str, str]]:
    return [(f"{c['title']} · {c['at']}", c["id"]) for c in kept or [] if isinstance(c, dict) and c.get("id")]


def save_conversation(chat: list, results: list, conversation_id: str, kept: list):
    """Keep the conversation on screen in the browser (newest first, at most 20)."""
    import uuid

    answered = [r for r in results or [] if r]
    if not answered:
        return gr.skip(), conversation_id, gr.skip()
    conversation_id = conversation_id or uuid.uuid4().hex[:12]
    entry = {"id": conversation_id, "title": answered[0]["question"][:80],
             "at": datetime.now().strftime("%Y-%m-%d %H:%M"), "chat": chat, "results": results}
    kept = [entry] + [c for c in kept or [] if isinstance(c, dict) and c.get("id") != conversation_id]
    kept = kept[:MAX_SAVED_CONVERSATIONS]
    return kept, conversation_id, gr.update(choices=conversation_choices(kept), value=conversation_id)


def reopen_conversation(choice: str, kept: list, language: str = ""):
    entry = next((c for c in kept or [] if isinstance(c, dict) and c.get("id") == choice), None)
    if entry is None:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    results = entry.get("results") or []
    last = max((i for i, r in enumerate(results) if r), default=-1)
    chat = entry.get("chat") or []
    return (shown_chat(chat, results), results, conversation_sources(results, last, language), entry["id"])


# The chat's thumbs, as Gradio names them; a rating is kept with its answer ("up" / "down").
FEEDBACK_OPTIONS = ("Like", "Dislike")
_THUMB = {"up": FEEDBACK_OPTIONS[0], "down": FEEDBACK_OPTIONS[1]}


def shown_chat(chat: list, results: list):
    """The chat with each answer's thumb as it was rated, so a reopened conversation (or one that
    goes on) shows the ratings given."""
    ratings = [_THUMB.get((results[i] or {}).get("rating", "")) if i < len(results or []) else None
               for i, message in enumerate(chat or []) if isinstance(message, dict) and message.get("role") == "assistant"]
    return gr.update(value=chat, feedback_value=ratings)


def export_name(results: list, when: datetime | None = None) -> str:
    """An exported conversation's file name: its first question and the date
    ("What did Kobe and Marseille work on-2026-12-03.md"), only characters every file system takes."""
    import re
    import unicodedata

    first = next((r["question"] for r in results or [] if r and isinstance(r.get("question"), str)), "")
    words = unicodedata.normalize("NFC", first)
    words = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', " ", words)
    words = " ".join(words.split()).strip(" .")[:60].rstrip(" .")
    return f"{words or 'conversation'}-{(when or datetime.now()).strftime('%Y-%m-%d')}.md"


MEDIA_TYPES = {f.name: f.media_type for f in FORMATS}


def add_original_route(app, assistant: Assistant) -> None:
    """GET /original/<key>: the file a cited document was read from, read-only, only for
    documents in the index, behind the same login as the chat. HTML and text are sent as plain
    text, so a stored page can never run in the app's origin."""
    @app.get(ORIGINAL_ROUTE + "/{key}", responses=_errors(401, 404, 429))
    def original(key: str, request: Request):
        if app.auth is not None and session_user(app, request.cookies) is None:
            raise HTTPException(status_code=401, detail="log in first")
        found = assistant.original(key)
        if found is None:
            raise HTTPException(status_code=404, detail="no such document in the index, or its file "
                                "is not on this machine or changed since it was indexed")
        path, fmt = found
        return FileResponse(path, media_type=MEDIA_TYPES.get(fmt, "application/octet-stream"),
                            content_disposition_type="inline", filename=path.name,
                            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
                                     "Content-Security-Policy": "sandbox"})


API_ROUTE = "/api"


class AskRequest(BaseModel):
    """The body of POST /api/ask."""

    @field_validator("question", "history")
    @classmethod
    def _encodable(cls, value):
        # A lone surrogate ("\ud800" in the JSON) is refused here with 422, never a 500 later.
        for text in [value] if isinstance(value, str) else value:
            check_encodable(text)
        return value

    question: str = Field(..., description="The question, in English or Japanese.")
    history: list[str] = Field(default_factory=list, description="Earlier questions, oldest first "
                               "(at most IURC_MAX_HISTORY_ENTRIES).",
                               max_length=settings.get("max_history_entries"))


def client_key(request: Request, credentials: tuple[str, str] | None = None) -> str:
    """Who a request counts against: a logged-in chat session (its server-issued token), else
    the HTTP Basic user whose password is right, else the client's address; never a header the
    client makes up (a random Authorization header gets no allowance of its own)."""
    if session_user(request.app, request.cookies):
        return "session:" + session_token(request.app, request.cookies)
    given = basic_credentials(request.headers.get("authorization", ""))
    if given and credentials and credentials_match(*given, credentials):
        return "user:" + given[0]
    return "address:" + client_address(request.scope)


def add_api_routes(app, assistant: Assistant, credentials: tuple[str, str] | None,
                   concurrency: int, queue_size: int) -> None:
    """A plain JSON API beside the chat, on the same server: POST /api/ask {question, history?}
    returns the `iurc ask --json` object; GET /api/health says whether the index is loaded. The
    same login (the chat's session cookie, or HTTP Basic with IURC_AUTH) and the same bounds:
    `concurrency` questions answered at once, `queue_size` more waiting, the rest refused (503);
    per client at most IURC_MAX_IN_FLIGHT_PER_CLIENT at once and IURC_RATE_PER_MINUTE a minute
    (429); wrong Basic passwords are throttled per user like the chat's login."""
    working = threading.BoundedSemaphore(concurrency)
    admitted = threading.BoundedSemaphore(concurrency + queue_size)
    limits = ClientLimits()
    app.add_exception_handler(RequestValidationError, _invalid_request)

    def allowed(request: Request) -> bool:
        if credentials is None or session_user(app, request.cookies):
            return True
        ok = basic_login(request.headers.get("authorization", ""), credentials, client_address(request.scope))
        if ok is None:
            raise HTTPException(status_code=429, detail="too many failed logins; try again later",
                                headers={"Retry-After": "60"})
        return ok

    @app.get(API_ROUTE + "/health", responses=_errors(401, 429))
    def health(request: Request):
        if not allowed(request):
            raise HTTPException(status_code=401, detail="log in first", headers={"WWW-Authenticate": "Basic"})
        return {"status": "ok", "passages": len(assistant.retriever.passages)}

    @app.post(API_ROUTE + "/ask", responses=_errors(400, 401, 403, 413, 422, 429, 503))
    def ask(body: AskRequest, request: Request):
        if not allowed(request):
            raise HTTPException(status_code=401, detail="log in first", headers={"WWW-Authenticate": "Basic"})
        key = client_key(request, credentials)
        refused = limits.admit(key)
        if refused == "rate":
            raise HTTPException(status_code=429, detail="too many questions from this client; slow down",
                                headers={"Retry-After": "5"})
        if refused:
            raise HTTPException(status_code=429, detail="too many questions from this client at once",
                                headers={"Retry-After": "1"})
        try:
            if not admitted.acquire(blocking=False):
                raise HTTPException(status_code=503, detail="too many questions at once; try again shortly",
                                    headers={"Retry-After": "1"})
            try:
                with working:
                    return assistant.ask(body.question, body.history)
            finally:
                admitted.release()
        finally:
            limits.leave(key)


_ERROR_MEANINGS = {
    400: "The question cannot be taken (empty, too long, invalid characters).",
    401: "Log in first (the chat's session cookie, or HTTP Basic with IURC_AUTH).",
    403: "Refused: a cross-site request, or a route this login may not use.",
    404: "No such document (removed or never stored).",
    413: "The request body is over IURC_MAX_BODY_BYTES.",
    422: "The body does not match the schema (at most three errors are listed).",
    429: "Too many questions from this client, or too many failed logins: see Retry-After.",
    503: "Too many questions at once: try again shortly (Retry-After).",
}


def _errors(*codes: int) -> dict:
    """The error responses a route may give, for its OpenAPI schema."""
    return {code: {"description": _ERROR_MEANINGS[code]} for code in codes}


async def _invalid_request(request: Request, exc: RequestValidationError):
    """A request the API cannot take (422): a short summary of at most three errors, never the
    input echoed back (it may be a megabyte, or hold characters no JSON writer takes), and one
    log line however many errors it has."""
    from fastapi.responses import JSONResponse

    errors = exc.errors()
    summary = [{"loc": [str(x)[:50] for x in e.get("loc", ())][:5], "msg": str(e.get("msg", ""))[:200]}
               for e in errors[:3]]
    logging.getLogger("iurc.api").warning("invalid request to %s: %d errors, first: %s", request.url.path[:100],
                                          len(errors), summary[0]["msg"] if summary else "")
    return JSONResponse({"detail": summary, "errors": len(errors)}, status_code=422)


class FeedbackLog:
    """Thumbs up/down and comments, appended as JSON lines; at most IURC_FEEDBACK_PER_MINUTE
    records per client; the file is rotated (`.1`, `.2`, `.3`) at IURC_FEEDBACK_MAX_BYTES."""

    KEEP = 3

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self.rate = RateLimit(settings.get("feedback_per_minute"))
        self.max_bytes = settings.get("feedback_max_bytes")

    def append(self, record: dict, client: str = "") -> bool:
        """False (nothing written) when this client has sent too much feedback lately."""
        if not self.rate.allow(client or "unknown"):
            return False
        record = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **record}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size + len(line) > self.max_bytes:
                for n in range(self.KEEP - 1, 0, -1):
                    older = self.path.with_name(f"{self.path.name}.{n}")
                    if older.exists():
                        older.replace(self.path.with_name(f"{self.path.name}.{n + 1}"))
                self.path.replace(self.path.with_name(f"{self.path.name}.1"))
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
        return True


def _client(request: gr.Request | None) -> str:
    """Whom the chat's questions and feedback count against: the logged-in session (its
    server-issued token, which the Guard has checked), else the client's address (through a
    trusted proxy: the address it forwards); never an id the browser chooses."""
    raw = getattr(request, "request", None) if request is not None else None
    if raw is None:
        return "address:" + (request.client.host if request is not None and request.client else "unknown")
    if session_user(raw.app, raw.cookies):
        return "session:" + session_token(raw.app, raw.cookies)
    return "address:" + client_address(raw.scope)


# The UI's own text of each component, by property, from ui_text (core/lang/<language>.yaml):
# the language switch and the first load set them all.
class Words:
    def __init__(self):
        self.parts: list[tuple[object, dict[str, str]]] = []

    def __call__(self, component, **keys: str):
        self.parts.append((component, keys))
        return component

    @property
    def components(self) -> list:
        return [c for c, _ in self.parts]

    def updates(self, language: str) -> list:
        return [gr.update(**{prop: ui_text(key, language) for prop, key in keys.items()}) for _, keys in self.parts]


def build(assistant: Assistant, feedback_path: str | Path | None = None,
          staff: StaffSessions | None = None) -> gr.Blocks:
    """The app. `staff`: who may add and remove documents (default: nobody)."""
    max_chars = settings.get("max_question_chars")
    feedback = FeedbackLog(feedback_path or settings.get("feedback_file"))
    desk = StaffDesk(assistant, staff or StaffSessions(None))
    # One address cannot take the whole queue: the same per-client bounds as the JSON API.
    chat_limits = ClientLimits()
    words = Words()

    def ask(question: str, history: list[str] | None = None) -> dict:
        return assistant.ask(question, history or [])

    # `results` is aligned with the chat's messages: results[i] is the answer shown as message i,
    # None for a question or a note. Footnotes, the sources panel, thumbs and comments find their
    # answer by that position, which never shifts: the chat only grows, and Clear empties both.
    def respond(message: str, chat: list[dict], results: list, language: str, conversation_id: str = "",
                kept: list | None = None, request: gr.Request = None):
        """One event per question: the answer, its sources, and the conversation kept in the
        browser, in one update (no second event to save it, no line-by-line re-sending)."""
        unchanged = (gr.skip(), gr.skip(), gr.skip())
        chat = list(chat or [])
        results = list(results or [])
        results += [None] * (len(chat) - len(results))
        message = (message or "").strip() if isinstance(message, str) else ""

        def note(text: str, shown_question: str):
            chat.extend([{"role": "user", "content": inert_markdown(shown_question)},
                         {"role": "assistant", "content": text}])
            results.extend([None, None])

        if len(message) > max_chars:
            text = ui_text("too_long", language, n=len(message), max=max_chars)
            note(text, message[:200] + "…")
            return (shown_chat(chat, results), sources_html({"abstained": True, "answer": text, "related": [], "language": language}),
                    results, message, *unchanged)
        if not message:
            return (chat, gr.skip(), results, "", *unchanged)
        history = [r["question"] for r in results if r and not r.get("error")
                   and isinstance(r.get("question"), str)][-settings.get("max_history_entries"):]
        address = _client(request)
        if chat_limits.admit(address):
            note(ui_text("too_many_questions", language), message)
            return (shown_chat(chat, results), gr.skip(), results, message, *unchanged)
        try:
            result = ask(message, history)
        finally:
            chat_limits.leave(address)
        chat.append({"role": "user", "content": inert_markdown(message)})
        results += [None, result]
        position = len(chat)
        chat.append({"role": "assistant", "content": answer_markdown(result, position)})
        return (shown_chat(chat, results), conversation_sources(results, position, language), results, "",
                *save_conversation(chat, results, conversation_id, kept))

    def _answer_at(results: list, index) -> tuple[int, dict | None]:
        position = index if isinstance(index, int) else index[0]
        result = results[position] if results and 0 <= position < len(results) else None
        return position, result

    def show_sources(results: list, language: str, data: gr.SelectData):
        position, result = _answer_at(results, data.index)
        return conversation_sources(results, position, language) if result else gr.skip()

    def _feedback_record(result: dict) -> dict:
        return {"question": result["question"], "language": result["language"], "answer": result["answer"],
                "abstained": result["abstained"],
                "citations": [{k: c[k] for k in ("doc", "location", "quote")} for c in result["citations"]]}

    def on_like(results: list, chat: list, language: str, conversation_id: str, kept: list, data: gr.LikeData,
                request: gr.Request):
        """Record the rating; keep it with its answer in the conversation kept in the browser."""
        unchanged = (gr.skip(), gr.skip(), gr.skip(), gr.skip())
        position, result = _answer_at(results, data.index)
        if not result:
            return (ui_text("nothing_to_rate", language), *unchanged)
        liked = data.liked if isinstance(data.liked, bool) else str(data.liked).lower() in ("like", "true")
        rating = "up" if liked else "down"
        if not feedback.append({"rating": rating, **_feedback_record(result)}, _client(request)):
            return (ui_text("too_much_feedback", language), *unchanged)
        results = list(results)
        results[position] = {**result, "rating": rating}
        return (ui_text("thanks", language), results, *save_conversation(chat, results, conversation_id, kept))

    def on_comment(comment: str, results: list, language: str, request: gr.Request):
        comment = (comment or "").strip()[:2000]
        last = next((r for r in reversed(results or []) if r), None)
        if not comment or last is None:
            return ui_text("ask_first", language), comment
        if not feedback.append({"rating": "comment", "comment": comment, **_feedback_record(last)},
                               _client(request)):
            return ui_text("too_much_feedback", language), comment
        return ui_text("comment_saved", language), ""

    def reload_views(table: str | None = None, query: str = "", year: str = "all", language: str = ""):
        assistant.reload_if_changed()
        entries = assistant.store.manifest_entries()  # read once for both views
        tables = programme_tables(assistant)
        return (programme_table(assistant, table, query, year, language), gr.update(choices=tables),
                network_svg(assistant, table, query, year, language), glossary_table(assistant, language),
                document_table(entries, language, page_counts(assistant)), what_is_indexed(entries, language))

    def staff_state(request: gr.Request | None, language: str) -> tuple:
        """The staff panel shown or hidden, the line above it, the action token its buttons send,
        the staff badge in the header, and the history of staff changes."""
        if desk.allowed(request):
            return (gr.update(visible=True), ui_text("staff_logged_in", language, route=STAFF_ROUTE),
                    desk.action_token(request), staff_badge(language), history_table(desk.history.latest(), language))
        hint = "staff_login_hint" if desk.sessions.enabled else "staff_cli_hint"
        return gr.update(visible=False), ui_text(hint, language, route=STAFF_ROUTE), "", "", gr.skip()

    # delete_cache: exported conversations are removed from Gradio's cache after an hour.
    with gr.Blocks(title="IURC programme assistant", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        with gr.Row(elem_id="header"):
            words(gr.Markdown(ui_text("title"), elem_id="title"), value="title")
            badge = gr.HTML("", elem_id="staff-badge", padding=False)
            language = gr.Radio([(ui_text("language_name", code), code) for code in UI_LANGUAGES], value=pivot(),
                                show_label=False, container=False, elem_id="ui-language", scale=0, min_width=0)
        words(gr.Markdown(ui_text("intro"), elem_id="intro"), value="intro")
        entries = assistant.store.manifest_entries()
        indexed = gr.Markdown(what_is_indexed(entries), elem_id="indexed")
        results = gr.State([])
        # Conversations persist in the browser (encrypted localStorage), the last 20, each
        # reopened whole: its messages, its answers and their sources. So does the UI language.
        saved = gr.BrowserState([], storage_key="iurc-conversations", secret=browser_secret(feedback.path))
        saved_language = gr.BrowserState("", storage_key="iurc-ui-language")
        conversation = gr.State("")  # id of the conversation on screen ("" until it has an answer)
        with words(gr.Tab(ui_text("tab_ask")), label="tab_ask"):
            with gr.Row():
                with gr.Column(scale=3):
                    # No per-message copy (it gave escaped Markdown without sources) and no share:
                    # "Copy conversation" below gives the conversation as exported, sources numbered.
                    # Empty, the box is small and says what to do, so the input and the examples
                    # are in view on a laptop's and a phone's first screen; it grows with the answers.
                    chatbot = words(gr.Chatbot(label=ui_text("answers"), height=None, min_height=120,
                                               max_height=560, sanitize_html=True, render_markdown=True,
                                               allow_tags=False, buttons=[], placeholder=ui_text("chat_empty"),
                                               feedback_options=FEEDBACK_OPTIONS, elem_id="chat"),
                                    label="answers", placeholder="chat_empty")
                    with gr.Row():
                        question = words(gr.Textbox(placeholder=ui_text("question_placeholder"), show_label=False,
                                                    label=ui_text("question_label"), scale=5, elem_id="question",
                                                    lines=1),
                                         placeholder="question_placeholder", label="question_label")
                        send = words(gr.Button(ui_text("ask"), variant="primary", scale=1, elem_id="send",
                                               min_width=80), value="ask")
                    examples = gr.Examples(example_questions(assistant, pivot()), inputs=question,
                                           label=ui_text("examples"))
                    status = gr.Markdown("", elem_id="status")
                    with gr.Row():
                        copy_button = words(gr.Button(ui_text("copy"), size="sm", elem_id="copy-conversation"),
                                            value="copy")
                        export_button = words(gr.Button(ui_text("export"), size="sm", elem_id="export"), value="export")
                        new_button = words(gr.Button(ui_text("new_conversation"), size="sm",
                                                     elem_id="new-conversation"), value="new_conversation")
                    export_file = words(gr.File(label=ui_text("export_file"), interactive=False, visible=False,
                                                elem_id="export-file"), label="export_file")
                    picker = words(gr.Dropdown([], value=None, label=ui_text("conversations"),
                                               elem_id="conversations", allow_custom_value=False), label="conversations")
                    copied = gr.Textbox(visible=False, elem_id="copied-text")
                    with words(gr.Accordion(ui_text("comment_heading"), open=False), label="comment_heading"):
                        comment = gr.Textbox(show_label=False, lines=2, max_lines=6)
                        comment_button = words(gr.Button(ui_text("send_comment")), value="send_comment")
                with gr.Column(scale=2):
                    words(gr.Markdown(ui_text("sources_heading"), elem_id="sources-heading"), value="sources_heading")
                    sources = gr.HTML(empty_sources(), elem_id="sources")
        with words(gr.Tab(ui_text("tab_programme")), label="tab_programme"):
            words(gr.Markdown(ui_text("programme_intro")), value="programme_intro")
            years = sorted({p.record.start_year for p in assistant.facts.rows} - {""})
            tables = programme_tables(assistant)
            with gr.Row():
                table_picker = words(gr.Dropdown(tables, value=tables[0] if tables else None, label=ui_text("table"),
                                                 scale=3, elem_id="table-picker"), label="table")
                name_filter = words(gr.Textbox(label=ui_text("name_filter"), scale=3, elem_id="name-filter"),
                                    label="name_filter")
                year_filter = words(gr.Dropdown(year_choices(years, pivot()), value="all", label=ui_text("start_year"),
                                                scale=1), label="start_year")
            # The first column stays in view while the table scrolls sideways inside its own box.
            pairs = gr.Dataframe(programme_table(assistant), interactive=False, wrap=True, pinned_columns=1,
                                 elem_id="pairs")
            words(gr.Markdown(ui_text("network_heading")), value="network_heading")
            network = gr.HTML(network_svg(assistant), elem_id="network")
            words(gr.Markdown(ui_text("glossary_heading")), value="glossary_heading")
            glossary_view = gr.Dataframe(glossary_table(assistant), interactive=False, wrap=True, pinned_columns=1,
                                         elem_id="glossary")
        with words(gr.Tab(ui_text("tab_documents")), label="tab_documents"):
            documents = gr.Dataframe(document_table(entries, pivot(), page_counts(assistant)), interactive=False,
                                     wrap=True, datatype=DOCUMENT_TYPES, elem_id="documents")
            refresh = words(gr.Button(ui_text("refresh")), value="refresh")
            staff_note = gr.Markdown("", elem_id="staff-state")
            with gr.Group(visible=False, elem_id="staff-panel") as staff_panel:
                words(gr.Markdown(ui_text("staff_heading")), value="staff_heading")
                words(gr.Markdown(ui_text("staff_help")), value="staff_help")
                upload_box = words(gr.File(file_count="multiple", type="filepath", file_types=sorted(SUPPORTED),
                                           label=ui_text("files_to_add"), elem_id="upload"), label="files_to_add")
                add_button = words(gr.Button(ui_text("add"), variant="primary", elem_id="add-documents"), value="add")
                to_remove = words(gr.Dropdown(document_choices(entries), value=[], multiselect=True,
                                              elem_id="remove-choice", label=ui_text("to_remove")), label="to_remove")
                remove_button = words(gr.Button(ui_text("remove"), variant="stop", elem_id="remove-documents"),
                                      value="remove")
                outcome = gr.Dataframe(outcome_table([], pivot()), interactive=False, wrap=True, elem_id="upload-outcome")
                # Sent back with every add / remove (app/web/staff.py: the forged-request check).
                action_token = gr.Textbox("", visible="hidden", elem_id="staff-action-token")
                # The file names an upload would replace (the add button asks first).
                replaceable = gr.Textbox(uploaded_names(entries), visible="hidden", elem_id="replaceable")
                words(gr.Markdown(ui_text("history_heading")), value="history_heading")
                history = gr.Dataframe(history_table([], pivot()), interactive=False, wrap=True, elem_id="history")

        filters = [table_picker, name_filter, year_filter, language]
        views = [pairs, table_picker, network, glossary_view, documents, indexed]

        # The language: from the saved choice or the browser on load, then from the switch.
        def apply_language(chosen: str, table, query, year, shown: list | None = None, request: gr.Request = None):
            """Every word of the page in the chosen language: the components' own, the views, the
            examples (in that language), the year filter, an empty sources panel, the staff panel."""
            panel, note, token, shown_badge, shown_history = staff_state(request, chosen)
            samples = [[q] for q in example_questions(assistant, chosen)]
            empty = not any(r for r in shown or [])
            return [chosen, chosen, *words.updates(chosen), *reload_views(table, query, year, chosen), panel, note,
                    token, shown_badge, shown_history, gr.update(samples=samples, label=ui_text("examples", chosen)),
                    gr.update(choices=year_choices(years, chosen)),
                    empty_sources(chosen) if empty else gr.skip(), outcome_table([], chosen) if empty else gr.skip()]

        language_outputs = [language, saved_language, *words.components, *views, staff_panel, staff_note,
                            action_token, badge, history, examples.dataset, year_filter, sources, outcome]
        language_inputs = [table_picker, name_filter, year_filter, results]

        def first_language(saved_code: str, table, query, year, shown: list | None = None,
                           request: gr.Request = None):
            # The reader's saved choice, else the browser's first language (its Accept-Language).
            browser = (request.headers.get("accept-language", "") if request is not None else "").split(",")[0]
            return apply_language(ui_language(saved_code or browser), table, query, year, shown, request)

        # (no progress drawn: a language change is quick, and an overlay on every component of
        # the page would only flash)
        demo.load(first_language, [saved_language, *language_inputs], language_outputs,
                  js=FIRST_LANGUAGE_JS, show_progress="hidden", api_visibility="private") \
            .then(None, [language], None, js=LOCALE_JS, api_visibility="private")
        language.input(apply_language, [language, *language_inputs], language_outputs,
                       show_progress="hidden", api_visibility="private") \
            .then(None, [language], None, js=LOCALE_JS, api_visibility="private")

        # One event per question; its outputs are what a question changes.
        outputs = [chatbot, sources, results, question, saved, conversation, picker]
        for trigger in (question.submit, send.click):
            trigger(respond, [question, chatbot, results, language, conversation, saved], outputs,
                    api_visibility="private")
        picker.input(reopen_conversation, [picker, saved, language],
                     [chatbot, results, sources, conversation], api_visibility="private")
        new_button.click(lambda lang: ([], [], empty_sources(lang), "", gr.update(value=None), ""), [language],
                         [chatbot, results, sources, conversation, picker, status], api_visibility="private")
        demo.load(lambda kept: gr.update(choices=conversation_choices(kept)), [saved], [picker],
                  show_progress="hidden", api_visibility="private")
        chatbot.select(show_sources, [results, language], [sources], api_visibility="private")
        chatbot.like(on_like, [results, chatbot, language, conversation, saved],
                     [status, results, saved, conversation, picker], api_visibility="private") \
            .then(None, [status], None, js=THUMB_NOTE_JS, api_visibility="private")
        # Clear starts a new conversation: the answers, their sources and the follow-up context go.
        chatbot.clear(lambda lang: ([], empty_sources(lang), "", "", gr.update(value=None)), [language],
                      [results, sources, status, conversation, picker], api_visibility="private")
        comment_button.click(on_comment, [comment, results, language], [status, comment], api_visibility="private")

        def export(results: list, lang: str):
            import tempfile

            folder = Path(tempfile.mkdtemp(prefix="iurc-export-"))
            path = folder / export_name(results)
            path.write_text(conversation_markdown(results, lang), "utf-8")
            return gr.update(value=str(path), visible=True)

        export_button.click(export, [results, language], [export_file], api_visibility="private")
        # Copy: the same Markdown as the export, put on the clipboard by the browser.
        copy_button.click(lambda r, lang: (conversation_markdown(r, lang), ui_text("copied", lang)),
                          [results, language], [copied, status], api_visibility="private") \
            .then(None, [copied], None, js=COPY_JS, api_visibility="private")
        for control in (table_picker, name_filter, year_filter):
            control.change(lambda t, q, y, lang: (programme_table(assistant, t, q, y, lang),
                                                  network_svg(assistant, t, q, y, lang)),
                           filters, [pairs, network], api_visibility="private")
        refresh.click(reload_views, filters, views, api_visibility="private")
        # Readers see what another process ingested without a refresh: the views follow the
        # store (the assistant reloads on its own when the generation changes).
        gr.Timer(15).tick(reload_views, filters, views, show_progress="hidden", api_visibility="private")

        def after_change(done: list, lang: str) -> tuple:
            entries = assistant.store.manifest_entries()
            return (outcome_table(done, lang), gr.update(choices=document_choices(entries), value=[]),
                    uploaded_names(entries), history_table(desk.history.latest(), lang))

        def add_documents(files, lang: str, token: str, _known: str, request: gr.Request, progress=gr.Progress()):
            if files is None:  # the replacement was not confirmed: nothing happens
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return (None, *after_change(desk.add(files, request, token, progress, lang), lang))

        def remove_documents(docs, lang: str, token: str, request: gr.Request):
            if docs is None:  # the removal was not confirmed
                return gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return after_change(desk.remove(docs, request, token), lang)

        changed = [outcome, to_remove, replaceable, history]
        # One progress line, on the result table; replacing or removing asks first (in the
        # reader's language).
        add_button.click(add_documents, [upload_box, language, action_token, replaceable], [upload_box, *changed],
                         js=confirm_js("confirm_replace", "add"), show_progress_on=[outcome],
                         api_visibility="private", concurrency_limit=1) \
            .then(reload_views, filters, views, show_progress="hidden", api_visibility="private")
        remove_button.click(remove_documents, [to_remove, language, action_token], changed,
                            js=confirm_js("confirm_remove", "remove"), show_progress_on=[outcome],
                            api_visibility="private", concurrency_limit=1) \
            .then(reload_views, filters, views, show_progress="hidden", api_visibility="private")

        def ask_api(question: str, request: gr.Request = None) -> dict:
            """Answer one question; returns the same JSON object as `iurc ask --json`."""
            address = _client(request)
            if chat_limits.admit(address):
                raise gr.Error(ui_text("too_many_questions"))
            try:
                return ask(question)
            finally:
                chat_limits.leave(address)

        gr.api(ask_api, api_name="ask", time_limit=60)
    return demo


def staff_badge(language: str) -> str:
    import html

    return f'<span class="staff-badge" role="status">{html.escape(ui_text("staff_badge", language))}</span>'


def history_table(records: list[dict], language: str):
    """The staff history, newest first: when (the reader's locale), who, which file, what came of it."""
    import pandas as pd

    said = ui_text("outcome", language)
    return pd.DataFrame([[local_time(r.get("at", ""), language), r.get("user", ""), r.get("file", ""),
                          said.get(r.get("outcome", ""), r.get("outcome", "")), r.get("passages", 0)]
                         for r in records], columns=ui_text("history_columns", language))


def document_choices(entries: dict) -> list[tuple[str, str]]:
    """Documents to remove, named as staff know them: the file name (its folder too when two share a
    name), the stored name as the value."""
    from collections import Counter

    names = Counter(Path(doc).name for doc in entries)
    return [(Path(doc).name if names[Path(doc).name] == 1 else f"{Path(doc).name} ({Path(doc).parent.name})", doc)
            for doc in sorted(entries)]


def uploaded_names(entries: dict) -> str:
    """File names an upload would replace (the documents kept in the upload folder), as JSON."""
    import json

    folder = upload_folder()
    return json.dumps(sorted({Path(e.path).name for e in entries.values()
                              if e.path and Path(e.path).resolve().parent == folder}), ensure_ascii=False)


def confirm_js(key: str, action: str) -> str:
    """The browser asks before a removal or a replacement, in the reader's language; declined, the
    handler gets None and changes nothing. `action`: "remove" (inputs: chosen documents, language,
    token) or "add" (inputs: uploads, language, token; asks only when a file name is already in the
    upload folder: the JSON list in #replaceable, the fourth input)."""
    import json

    said = json.dumps({code: ui_text(key, code) for code in UI_LANGUAGES}, ensure_ascii=False)
    if action == "remove":
        return (f"(docs, lang, token) => {{ const said = {said}; if (!docs || !docs.length) return [docs, lang, token];"
                " const text = (said[lang] || Object.values(said)[0]).replace('{n}', docs.length);"
                " return window.confirm(text) ? [docs, lang, token] : [null, lang, token]; }")
    return (f"(files, lang, token, known) => {{ const said = {said};"
            " if (!files || !files.length) return [files, lang, token, known];"
            " let names = []; try { names = JSON.parse(known || '[]'); } catch (e) {}"
            " const clash = files.map((f) => f.orig_name || (f.path || '').split('/').pop())"
            "   .filter((n) => names.includes(n));"
            " if (!clash.length) return [files, lang, token, known];"
            " const text = (said[lang] || Object.values(said)[0]).replace('{names}', clash.join(', '));"
            " return window.confirm(text) ? [files, lang, token, known] : [null, lang, token, known]; }")


def year_choices(years: list[str], language: str) -> list:
    """The start-year filter: every year, or one (its value stays "all" whatever it is called)."""
    return [(ui_text("all_years", language), "all"), *years]


def outcome_table(outcomes, language: str):
    """The staff panel's table: one row per file, its outcome in the reader's words."""
    import pandas as pd

    said = ui_text("outcome", language)
    return pd.DataFrame([[o.name, said.get(o.status, o.status), o.passages, said_in(o.reason, language)]
                         for o in outcomes],
                        columns=ui_text("outcome_columns", language))


def serve(assistant: Assistant, host: str, port: int, prevent_thread_lock: bool = False):
    staff = StaffSessions(staff_from_setting())
    demo = build(assistant, staff=staff)
    demo.queue(default_concurrency_limit=settings.get("concurrency"), max_size=settings.get("queue_size"),
               api_open=False)
    credentials = auth_from_setting()
    routes_ready = threading.Event()
    launched = demo.launch(server_name=host, server_port=port, show_error=False,
                           auth=throttled_login(credentials, staff.credentials) if credentials else None,
                           # Uploads are for staff only (the guard refuses everyone else first).
                           max_file_size=settings.get("max_file_bytes") if staff.enabled else "1kb",
                           prevent_thread_lock=True, quiet=False,
                           footer_links=["api"], js=PAGE_JS, css=CSS, head=head(), ssr_mode=False,
                           i18n=gradio_translations(),
                           allowed_paths=[], blocked_paths=[str(Path.cwd())],
                           # OpenAPI docs of the JSON API (the schema only: no answers without the login)
                           app_kwargs={"docs_url": API_ROUTE + "/docs", "openapi_url": API_ROUTE + "/openapi.json",
                                       # Before any route: body limit, no uploads, login, headers.
                                       "middleware": [Middleware(Guard, credentials=credentials,
                                                                 address_throttle=Throttle(),
                                                                 routes_ready=routes_ready, staff=staff,
                                                                 login_page=login_page)]})
    add_original_route(demo.server_app, assistant)
    add_preview_route(demo.server_app, assistant)
    add_staff_routes(demo.server_app, staff)
    add_api_routes(demo.server_app, assistant, credentials, settings.get("concurrency"),
                   settings.get("queue_size"))
    routes_ready.set()
    if not prevent_thread_lock:
        demo.block_thread()
    return launched
