"""The Gradio chat UI (`iurc serve`): chat with footnotes that open their sources, a sources
panel with the quoted span marked, onboarding views (programme, glossary, documents),
feedback, the `/ask` API endpoint that returns the `iurc ask --json` object, and a plain JSON API
(POST /api/ask, GET /api/health) on the same server."""
from __future__ import annotations

import html
import json
import os
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from fastapi import HTTPException, Request  # noqa: E402  (gradio's own web framework)
from fastapi.responses import FileResponse  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402

from ingest import settings  # noqa: E402
from ingest.load import SUPPORTED  # noqa: E402
from ingest.names import vocabulary  # noqa: E402

from .guard import (USER_THROTTLE, ClientLimits, Guard, RateLimit, Throttle, auth_from_setting,  # noqa: E402
                    basic_auth_ok, basic_credentials, session_token, session_user, staff_from_setting,
                    throttled_login)
from .staff import OUTCOME_HEADERS, STAFF_ROUTE, StaffDesk, StaffSessions, add_staff_routes  # noqa: E402
from .service import Assistant, original_key  # noqa: E402

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|>~])")
_MARKER = re.compile(r" ?\[(\d+)\]")
_HOST = re.compile(r"(?i)\b(?:[a-z0-9-]+\\?\.)+[a-z]{2,}\b")
# Footnote clicks open the matching source in the panel instead of following the link: the
# panel holds the sources of every answer of the conversation, one section per answer, and
# shows the section of the answer whose footnote was clicked ("src-<message>-<n>").
FOOTNOTE_JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href*="#src-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const id = link.getAttribute('href').split('#')[1];
    const message = id.split('-')[1];
    document.querySelectorAll('#sources section.answer-sources').forEach(
      (section) => section.classList.toggle('inactive', section.dataset.msg !== message));
    const found = document.getElementById(id);
    const target = found && (found.closest('details') || found);
    if (target) { target.open = true; target.scrollIntoView({behavior: 'smooth', block: 'nearest'});
                  target.classList.add('flash'); setTimeout(() => target.classList.remove('flash'), 1200); }
  }, true);
}
"""
CSS = """
.sources details { border: 1px solid #ddd; border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
.sources details.flash { outline: 3px solid #f5b700; }
.sources summary { cursor: pointer; font-weight: 600; }
.sources mark { background: #fff3a3; color: #1a1a1a; padding: 0 1px; }
.dark .sources mark { background: #6b5900; color: #fff8d6; }
.sources .passage { white-space: pre-wrap; font-size: 0.92em; overflow-wrap: anywhere; }
.sources summary { overflow-wrap: anywhere; }
@media (max-width: 640px) {
  #chat { height: 55vh !important; min-height: 240px; }
  .sources details { padding: 4px 6px; }
}
.sources .abstained { color: #8a4b00; font-weight: 600; }
.sources a.original { font-size: 0.85em; }
.sources section.inactive { display: none; }
.sources .asked { font-size: 0.9em; opacity: 0.8; margin: 4px 0; }
"""


def inert_markdown(text: str) -> str:
    """Text from documents shown as plain text: no HTML, no images, no links."""
    text = html.escape(text, quote=False)
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    # Bare URLs, host names ("www.example.org", "example.org") and e-mail addresses would be
    # auto-linked; a zero-width space after the scheme, before a host's dots and after "@" keeps
    # them text.
    text = re.sub(r"(?i)\b(https?|ftp|file|javascript|data|mailto):", lambda m: m.group(1) + "\u200b:", text)
    text = _HOST.sub(lambda m: m.group(0).replace(".", "\u200b."), text)
    return text.replace("@", "@\u200b")


def answer_markdown(result: dict, message: int = 0) -> str:
    """The answer for the chat: document text inert, each [n] a footnote link to its source in
    the section of answer `message` (its position in the chat)."""
    lines = []
    for line in result["answer"].split("\n"):
        parts, pos = [], 0
        for m in _MARKER.finditer(line):
            parts.append(inert_markdown(line[pos:m.start()]))
            n = m.group(1)
            parts.append(f" [\\[{n}\\]](#src-{message}-{n})")
            pos = m.end()
        parts.append(inert_markdown(line[pos:]))
        lines.append("".join(parts))
    if result.get("abstained"):
        lines.insert(0, "**No answer in the documents / 資料に記載なし**")
    return "  \n".join(lines)


def conversation_markdown(results: list) -> str:
    """The conversation as Markdown for export: each question, its answer as plain text and its
    numbered sources (file, location, the quoted span)."""
    lines = ["# IURC programme assistant · conversation", ""]
    for result in (r for r in results or [] if r):
        lines += [f"## {result['question']}", "", result["answer"], ""]
        for c in result.get("citations", []):
            lines.append(f"[{c['n']}] {c['doc']} · {c['location']}: “{c['quote']}”  ")
        if result.get("abstained"):
            for r in result.get("related", []):
                lines.append(f"related: {r['doc']} · {r['location']}  ")
        lines.append("")
    return "\n".join(lines)


EMPTY_SOURCES_TEXT = "Sources of the answer appear here."
EMPTY_SOURCES = f'<div class="sources"><p>{EMPTY_SOURCES_TEXT}</p></div>'
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


def reopen_conversation(choice: str, kept: list):
    entry = next((c for c in kept or [] if isinstance(c, dict) and c.get("id") == choice), None)
    if entry is None:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    results = entry.get("results") or []
    last = max((i for i, r in enumerate(results) if r), default=-1)
    return entry.get("chat") or [], results, conversation_sources(results, last), entry["id"]


@lru_cache(maxsize=None)
def language_name(code: str, in_language: str | None = None) -> str:
    """A language's name (CLDR, through babel): in its own language by default ("日本語"), or in
    `in_language`; an unknown code as it is."""
    from babel import Locale

    try:
        return Locale(in_language or code).languages.get(code, code)
    except Exception:  # noqa: BLE001 - babel refuses unknown codes
        return code


def language_tag(code: str) -> str:
    """' · 日本語' / ' · English': a source's language in its own name; a source in both shows
    both. Scores are left out: they rank, they do not mean anything to a reader."""
    codes = ["ja", "en"] if code == "mixed" else [code] if code else []
    return (" · " + " / ".join(html.escape(language_name(c)) for c in codes)) if codes else ""


def _panel(items: str, empty: str) -> str:
    return '<div class="sources">' + (items or f"<p>{empty}</p>") + "</div>"


def conversation_sources(results: list, active: int) -> str:
    """The sources panel for a conversation: one section per answer (`results` is aligned with
    the chat's messages, None where a message is not an answer), the `active` one shown."""
    sections = [f'<section class="answer-sources{"" if message == active else " inactive"}" '
                f'data-msg="{message}" id="answer-{message}">'
                f'<p class="asked">{html.escape(result.get("question", ""))}</p>'
                f'{_source_items(result, message)}</section>'
                for message, result in enumerate(results) if result]
    return _panel("".join(sections), EMPTY_SOURCES_TEXT)


def sources_html(result: dict, message: int = 0) -> str:
    """The sources panel of one answer."""
    return _panel(_source_items(result, message), "No sources.")


def _source_items(result: dict, message: int) -> str:
    """Each cited passage with the quoted span marked; for an abstention, the answer and the
    related passages."""
    if result.get("abstained"):
        items = [f'<p class="abstained">{html.escape(result["answer"])}</p>']
        for i, r in enumerate(result.get("related", []), start=1):
            items.append(
                f'<details id="rel-{message}-{i}"><summary>related / 関連: {html.escape(r["doc"])} · '
                f'{html.escape(r["location"])}{language_tag(r.get("language", ""))}</summary>'
                f'<div class="passage">{html.escape(r["text"])}</div></details>')
        return "".join(items)
    # One card per passage: quotes from the same passage (or the same text in the same place)
    # share it, every footnote number pointing at it and every quote marked.
    cards: dict[tuple, list[dict]] = {}
    for c in result["citations"]:
        cards.setdefault((c["doc"], c["location"], c["text"]), []).append(c)
    items = []
    for (doc, location, text), cited in cards.items():
        numbers = "".join(f"[{c['n']}]" for c in cited)
        also = "".join(f'<span id="src-{message}-{c["n"]}" class="also"></span>' for c in cited[1:])
        items.append(
            f'<details id="src-{message}-{cited[0]["n"]}" open><summary>{numbers} {html.escape(doc)} · '
            f'{html.escape(location)}{language_tag(cited[0].get("language", ""))}</summary>{also}'
            f'{original_link(doc, location)}'
            f'<div class="passage">{_marked(text, [c["quote"] for c in cited])}</div></details>')
    return "".join(items)


def _marked(text: str, quotes: list[str]) -> str:
    """The passage, escaped, with each quote found in it marked (overlaps merged)."""
    spans = sorted((at, at + len(q)) for q in quotes if q and (at := text.find(q)) >= 0)
    out, pos = [], 0
    for start, end in spans:
        start = max(start, pos)
        if end <= start:
            continue
        out += [html.escape(text[pos:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        pos = end
    return "".join(out) + html.escape(text[pos:])


ORIGINAL_ROUTE = "/original"
_PAGE = re.compile(r"^(?:p\.|slide) (\d+)")


def original_link(doc: str, location: str) -> str:
    """A link that opens the cited file, at the page for a PDF ("p. 3" -> #page=3)."""
    page = _PAGE.match(location)
    where = f"{page.group(0)}" if page else "the file"
    anchor = f"#page={page.group(1)}" if page and doc.lower().endswith(".pdf") else ""
    return (f'<a class="original" href="{ORIGINAL_ROUTE}/{original_key(doc)}{anchor}" target="_blank" '
            f'rel="noopener noreferrer">open {html.escape(where)} of the original / 原本を開く</a>')


MEDIA_TYPES = {"pdf": "application/pdf", "txt": "text/plain; charset=utf-8",
               "md": "text/plain; charset=utf-8", "html": "text/plain; charset=utf-8",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}


def add_original_route(app, assistant: Assistant) -> None:
    """GET /original/<key>: the file a cited document was read from, read-only, only for
    documents in the index, behind the same login as the chat. HTML and text are sent as plain
    text, so a stored page can never run in the app's origin."""
    @app.get(ORIGINAL_ROUTE + "/{key}")
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

    question: str = Field(..., description="The question, in English or Japanese.")
    history: list[str] = Field(default_factory=list, description="Earlier questions, oldest first "
                               "(at most IURC_MAX_HISTORY_ENTRIES).",
                               max_length=settings.get("max_history_entries"))


def client_key(request: Request) -> str:
    """Who a request counts against: the logged-in session or Basic user, else the address."""
    auth = request.headers.get("authorization", "")
    return auth[-24:] or session_token(request.app, request.cookies) \
        or (request.client.host if request.client else "unknown")


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

    def allowed(request: Request) -> bool:
        if credentials is None or session_user(app, request.cookies):
            return True
        header = request.headers.get("authorization", "")
        user = _basic_user(header)
        if user and USER_THROTTLE.wait(user) > 0:
            raise HTTPException(status_code=429, detail="too many failed logins; try again later",
                                headers={"Retry-After": str(int(USER_THROTTLE.wait(user)) + 1)})
        ok = basic_auth_ok(header, credentials)
        if user:
            (USER_THROTTLE.succeeded if ok else USER_THROTTLE.failed)(user)
        return ok

    @app.get(API_ROUTE + "/health")
    def health(request: Request):
        if not allowed(request):
            raise HTTPException(status_code=401, detail="log in first", headers={"WWW-Authenticate": "Basic"})
        return {"status": "ok", "passages": len(assistant.retriever.passages)}

    @app.post(API_ROUTE + "/ask")
    def ask(body: AskRequest, request: Request):
        if not allowed(request):
            raise HTTPException(status_code=401, detail="log in first", headers={"WWW-Authenticate": "Basic"})
        key = client_key(request)
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


def _basic_user(header: str) -> str:
    return (basic_credentials(header) or ("",))[0][:200]


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


def _address(request: gr.Request | None) -> str:
    return request.client.host if request is not None and request.client else "unknown"


def _client(request: gr.Request | None) -> str:
    """Whom feedback counts against: the chat session, else the address."""
    return getattr(request, "session_hash", None) or _address(request)


def example_questions(assistant: Assistant) -> list[str]:
    """Example questions in both languages, filled from what is ingested: the templates are in
    ingest/lang/<language>.yaml (ui_examples), the names and years come from the table rows."""
    glossary, rows = assistant.glossary, assistant.facts.rows
    pair = next((names for names in (
        [e for e in assistant.facts.names[r.chunk_id] if glossary.entities[e].kind in ("city", "region")]
        for r in rows) if len(names) >= 2), None)
    year = next((r.record.start_year for r in rows if r.record.start_year), "")
    out = []
    for language in ("en", "ja"):
        templates = vocabulary(language).get("ui_examples", {})
        if pair:
            a, b = (glossary.display_name(e, language) for e in pair[:2])
            out += [t.format(a=a, b=b) for t in templates.get("named", [])[:1]]
        if year:
            out += [t.format(year=year) for t in templates.get("year", [])]
        if not pair:
            out += templates.get("generic", [])
    return out


def programme_tables(assistant: Assistant) -> list[str]:
    """The ingested tables' titles, the one with most rows first (each shown with its own columns)."""
    counts: dict[str, int] = {}
    for passage in assistant.facts.rows:
        counts[passage.record.table] = counts.get(passage.record.table, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t))


def programme_table(assistant: Assistant, table: str | None = None, query: str = "", year: str = "all"):
    """One table as ingested: its own columns, then group, start year and document; rows
    filtered by any name (either script or spelling) or word, and by start year."""
    import pandas as pd

    tables = programme_tables(assistant)
    table = table if table in tables else (tables[0] if tables else "")
    chosen = [p for p in assistant.facts.rows if p.record.table == table]
    columns = list(dict.fromkeys(c for p in chosen for c in p.record.columns))
    wanted = {m.entity_id for m in assistant.glossary.find(query)} if query else set()
    rows = []
    for passage in chosen:
        record = passage.record
        if year != "all" and record.start_year != year:
            continue
        text = " ".join(list(record.values.values()) + [record.group]).casefold()
        if query and not (wanted & set(record.entities) or query.casefold() in text):
            continue
        rows.append([record.values.get(c, "") for c in columns] + [record.group, record.start_year, passage.doc])
    return pd.DataFrame(rows, columns=columns + ["group / グループ", "start year / 開始年", "document / 文書"])


def glossary_rows(assistant: Assistant) -> list[list[str]]:
    return [[e.entity_id, e.kind, e.country, e.name_en, e.name_ja, " | ".join(e.aliases)]
            for e in assistant.glossary.entities.values()]


def what_is_indexed(entries: dict[str, dict]) -> str:
    """The landing line from the manifest (`entries`): how many documents in which languages, how
    recent, and what the assistant does not do."""
    entries = [e for e in entries.values() if e.get("status") == "complete"]
    languages = sorted({lang for e in entries for lang in
                        (("ja", "en") if e.get("language") == "mixed" else (e.get("language", ""),)) if lang})
    names_en = ", ".join(language_name(c, "en") for c in languages)
    names_ja = "・".join(language_name(c, "ja") for c in languages)
    latest = max((e.get("ingested_at", "") for e in entries), default="")[:10]
    return (f"**Indexed:** {len(entries)} documents ({names_en}), last added {latest or '–'}. "
            "It quotes the documents and says where; it does not translate, summarise beyond them, or "
            "know anything they do not say. / "
            f"**索引済み:** 文書{len(entries)}件（{names_ja}）、最終追加 {latest or '–'}。"
            "資料の文を出典付きで引用します。翻訳や資料にない内容の回答はしません。")


def document_rows(entries: dict[str, dict]) -> list[list]:
    """The Documents view from the manifest (`entries`)."""
    return [[doc, e.get("chunk_count", 0), e.get("language", ""), e.get("format", ""),
             e.get("ingested_at", ""), e.get("status", "")] for doc, e in sorted(entries.items())]


TOO_MANY_QUESTIONS = ("Too many questions from this computer at once; please wait a moment. / "
                      "同時の質問が多すぎます。少しお待ちください。")
TOO_MUCH_FEEDBACK = "Too much feedback at once; please wait a minute. / 送信が多すぎます。1分ほどお待ちください。"


def build(assistant: Assistant, feedback_path: str | Path | None = None,
          staff: StaffSessions | None = None) -> gr.Blocks:
    """The app. `staff`: who may add and remove documents (default: nobody)."""
    max_chars = settings.get("max_question_chars")
    desk = StaffDesk(assistant, staff or StaffSessions(None))
    feedback = FeedbackLog(feedback_path or settings.get("feedback_file"))
    # One address cannot take the whole queue: the same per-client bounds as the JSON API.
    chat_limits = ClientLimits()

    def ask(question: str, history: list[str] | None = None) -> dict:
        return assistant.ask(question, history or [])

    # `results` is aligned with the chat's messages: results[i] is the answer shown as message i,
    # None for a question or a note. Footnotes, the sources panel, thumbs and comments find their
    # answer by that position, which never shifts: the chat only grows, and Clear empties both.
    def respond(message: str, chat: list[dict], results: list, request: gr.Request = None):
        chat = list(chat or [])
        results = list(results or [])
        results += [None] * (len(chat) - len(results))
        message = (message or "").strip() if isinstance(message, str) else ""

        def note(text: str, shown_question: str):
            chat.extend([{"role": "user", "content": inert_markdown(shown_question)},
                         {"role": "assistant", "content": text}])
            results.extend([None, None])

        if len(message) > max_chars:
            text = (f"Your question has {len(message)} characters; please keep it under {max_chars}. "
                    f"/ 質問は{max_chars}文字以内でお願いします。")
            note(text, message[:200] + "…")
            yield chat, sources_html({"abstained": True, "answer": text, "related": []}), results, message
            return
        if not message:
            yield chat, gr.skip(), results, ""
            return
        history = [r["question"] for r in results if r and not r.get("error")
                   and isinstance(r.get("question"), str)][-settings.get("max_history_entries"):]
        address = _address(request)
        if chat_limits.admit(address):
            note(TOO_MANY_QUESTIONS, message)
            yield chat, gr.skip(), results, message
            return
        try:
            result = ask(message, history)
        finally:
            chat_limits.leave(address)
        chat.append({"role": "user", "content": inert_markdown(message)})
        chat.append({"role": "assistant", "content": ""})
        results += [None, result]
        position = len(chat) - 1
        full = answer_markdown(result, position)
        # Stream the answer line by line, so long answers appear as they are read.
        shown = []
        for line in full.split("  \n"):
            shown.append(line)
            chat[-1] = {"role": "assistant", "content": "  \n".join(shown)}
            yield chat, gr.skip(), results, ""
            time.sleep(0.02)
        yield chat, conversation_sources(results, position), results, ""

    def _answer_at(results: list, index) -> tuple[int, dict | None]:
        position = index if isinstance(index, int) else index[0]
        result = results[position] if results and 0 <= position < len(results) else None
        return position, result

    def show_sources(results: list, data: gr.SelectData):
        position, result = _answer_at(results, data.index)
        return conversation_sources(results, position) if result else gr.skip()

    def _feedback_record(result: dict) -> dict:
        return {"question": result["question"], "language": result["language"], "answer": result["answer"],
                "abstained": result["abstained"],
                "citations": [{k: c[k] for k in ("doc", "location", "quote")} for c in result["citations"]]}

    def on_like(results: list, data: gr.LikeData, request: gr.Request):
        _, result = _answer_at(results, data.index)
        if not result:
            return "Nothing to rate: rate an answer. / 回答を評価してください。"
        liked = data.liked if isinstance(data.liked, bool) else str(data.liked).lower() in ("like", "true")
        if not feedback.append({"rating": "up" if liked else "down", **_feedback_record(result)}, _client(request)):
            return TOO_MUCH_FEEDBACK
        return "Thanks, noted. / ありがとうございます。"

    def on_comment(comment: str, results: list, request: gr.Request):
        comment = (comment or "").strip()[:2000]
        last = next((r for r in reversed(results or []) if r), None)
        if not comment or last is None:
            return "Ask a question first, then comment on its answer.", comment
        if not feedback.append({"rating": "comment", "comment": comment, **_feedback_record(last)},
                               _client(request)):
            return TOO_MUCH_FEEDBACK, comment
        return "Comment saved. / コメントを保存しました。", ""

    def reload_views(table: str | None = None, query: str = "", year: str = "all"):
        assistant.reload_if_changed()
        entries = assistant.store.manifest_entries()  # read once for both views
        tables = programme_tables(assistant)
        return (programme_table(assistant, table, query, year), gr.update(choices=tables),
                glossary_rows(assistant), document_rows(entries), what_is_indexed(entries))

    # delete_cache: exported conversations are removed from Gradio's cache after an hour.
    with gr.Blocks(title="IURC programme assistant", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown("## IURC programme assistant · IURC プログラム アシスタント\n"
                    "Ask in English or Japanese. Every statement is quoted from the programme "
                    "documents; click a footnote to open its source. / 英語・日本語で質問できます。")
        entries = assistant.store.manifest_entries()
        indexed = gr.Markdown(what_is_indexed(entries), elem_id="indexed")
        results = gr.State([])
        # Conversations persist in the browser (encrypted localStorage), the last 20, each
        # reopened whole: its messages, its answers and their sources.
        saved = gr.BrowserState([], storage_key="iurc-conversations", secret=browser_secret(feedback.path))
        conversation = gr.State("")  # id of the conversation on screen ("" until it has an answer)
        with gr.Tab("Ask / 質問"):
            with gr.Row():
                picker = gr.Dropdown([], value=None, label="Conversations / 会話", scale=4,
                                     elem_id="conversations", allow_custom_value=False)
                new_button = gr.Button("New conversation / 新しい会話", scale=1, size="sm",
                                       elem_id="new-conversation")
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Answers / 回答", height=520, sanitize_html=True,
                                         render_markdown=True, allow_tags=False,
                                         feedback_options=("Like", "Dislike"), elem_id="chat")
                    with gr.Row():
                        question = gr.Textbox(placeholder="Ask about the programme… / プログラムについて質問…",
                                              show_label=False, scale=5, elem_id="question", lines=1)
                        send = gr.Button("Ask / 質問", variant="primary", scale=1, elem_id="send")
                    gr.Examples(example_questions(assistant), inputs=question, label="Examples / 質問の例")
                    with gr.Row():
                        export_button = gr.Button("Export conversation (Markdown) / 会話を書き出す", size="sm",
                                                  elem_id="export")
                        export_file = gr.File(label="Conversation / 会話", interactive=False, visible=False,
                                              elem_id="export-file")
                    with gr.Accordion("Comment on the last answer / 最後の回答へのコメント", open=False):
                        comment = gr.Textbox(show_label=False, lines=2, max_lines=6)
                        comment_button = gr.Button("Send comment / 送信")
                    status = gr.Markdown("")
                with gr.Column(scale=2):
                    gr.Markdown("### Sources / 出典")
                    sources = gr.HTML(EMPTY_SOURCES, elem_id="sources")
        with gr.Tab("Programme / プログラム"):
            gr.Markdown("Rows of the programme tables, every row as ingested. Filter by any name, "
                        "in either script or spelling, or by start year. / 表の全行。名前(どの表記でも)や開始年で絞り込めます。")
            years = sorted({p.record.start_year for p in assistant.facts.rows} - {""})
            tables = programme_tables(assistant)
            with gr.Row():
                table_picker = gr.Dropdown(tables, value=tables[0] if tables else None,
                                           label="Table / 表", scale=3, elem_id="table-picker")
                name_filter = gr.Textbox(label="Name or topic / 名前・テーマ", scale=3)
                year_filter = gr.Dropdown(["all"] + years, value="all", label="Start year / 開始年", scale=1)
            pairs = gr.Dataframe(programme_table(assistant), interactive=False, wrap=True, elem_id="pairs")
            gr.Markdown("### Glossary / 用語集")
            glossary_table = gr.Dataframe(glossary_rows(assistant), interactive=False, wrap=True,
                                          headers=["id", "kind", "country", "English", "日本語", "variants"])
        with gr.Tab("Documents / 文書"):
            documents = gr.Dataframe(document_rows(entries), interactive=False, wrap=True, elem_id="documents",
                                     headers=["document", "passages", "language", "format", "ingested at",
                                              "status"])
            refresh = gr.Button("Refresh / 更新")
            staff_state = gr.Markdown("", elem_id="staff-state")
            with gr.Group(visible=False, elem_id="staff-panel") as staff_panel:
                gr.Markdown("### Add or remove documents (staff) / 文書の追加・削除（スタッフ）\n"
                            "Each file is checked (type by its content, size, archive limits) before it is "
                            "read, then indexed like `iurc ingest`. / 各ファイルは内容・サイズを確認してから索引に追加します。")
                upload_box = gr.File(file_count="multiple", type="filepath", file_types=sorted(SUPPORTED),
                                     label="Files to add / 追加するファイル", elem_id="upload")
                add_button = gr.Button("Add to the index / 索引に追加", variant="primary", elem_id="add-documents")
                to_remove = gr.Dropdown(sorted(entries), value=[], multiselect=True, elem_id="remove-choice",
                                        label="Documents to remove / 削除する文書")
                remove_button = gr.Button("Remove from the index / 索引から削除", variant="stop",
                                          elem_id="remove-documents")
                outcome = gr.Dataframe(headers=OUTCOME_HEADERS, interactive=False, wrap=True,
                                       elem_id="upload-outcome")

        outputs = [chatbot, sources, results, question]
        keep = ([chatbot, results, conversation, saved], [saved, conversation, picker])
        question.submit(respond, [question, chatbot, results], outputs, api_visibility="private") \
            .then(save_conversation, *keep, api_visibility="private")
        send.click(respond, [question, chatbot, results], outputs, api_visibility="private") \
            .then(save_conversation, *keep, api_visibility="private")
        picker.input(reopen_conversation, [picker, saved], [chatbot, results, sources, conversation],
                     api_visibility="private")
        new_button.click(lambda: ([], [], EMPTY_SOURCES, "", gr.update(value=None), ""), None,
                         [chatbot, results, sources, conversation, picker, status], api_visibility="private")
        demo.load(lambda kept: gr.update(choices=conversation_choices(kept)), [saved], [picker],
                  api_visibility="private")
        chatbot.select(show_sources, [results], [sources], api_visibility="private")
        chatbot.like(on_like, [results], [status], api_visibility="private")
        # Clear starts a new conversation: the answers, their sources and the follow-up context go.
        chatbot.clear(lambda: ([], EMPTY_SOURCES, "", "", gr.update(value=None)), None,
                      [results, sources, status, conversation, picker], api_visibility="private")
        comment_button.click(on_comment, [comment, results], [status, comment], api_visibility="private")

        def export(results: list):
            import tempfile

            folder = Path(tempfile.mkdtemp(prefix="iurc-export-"))
            path = folder / f"conversation-{datetime.now().strftime('%Y%m%d-%H%M%S')}.md"
            path.write_text(conversation_markdown(results), "utf-8")
            return gr.update(value=str(path), visible=True)

        export_button.click(export, [results], [export_file], api_visibility="private")
        for control in (table_picker, name_filter, year_filter):
            control.change(lambda t, q, y: programme_table(assistant, t, q, y), [table_picker, name_filter, year_filter],
                           [pairs], api_visibility="private")
        views = [pairs, table_picker, glossary_table, documents, indexed]
        refresh.click(reload_views, [table_picker, name_filter, year_filter], views, api_visibility="private")

        def staff_view(request: gr.Request):
            if desk.allowed(request):
                return gr.update(visible=True), ("Logged in as staff / スタッフとしてログイン中 · "
                                                 f"[log out / ログアウト]({STAFF_ROUTE}/logout)")
            if desk.sessions.enabled:
                return gr.update(visible=False), (f"Staff: [log in / ログイン]({STAFF_ROUTE}) to add or remove "
                                                  "documents. / スタッフはログインすると文書を追加・削除できます。")
            return gr.update(visible=False), ("Documents are added with `iurc ingest` on the server. / "
                                              "文書はサーバーで `iurc ingest` により追加します。")

        demo.load(staff_view, None, [staff_panel, staff_state], api_visibility="private")

        def add_documents(files, request: gr.Request, progress=gr.Progress()):
            rows = desk.add(files, request, progress)
            return rows, None, gr.update(choices=sorted(assistant.store.manifest_entries()))

        def remove_documents(docs, request: gr.Request):
            rows = desk.remove(docs, request)
            return rows, gr.update(choices=sorted(assistant.store.manifest_entries()), value=[])

        add_button.click(add_documents, [upload_box], [outcome, upload_box, to_remove], api_visibility="private",
                         concurrency_limit=1) \
            .then(reload_views, [table_picker, name_filter, year_filter], views, api_visibility="private")
        remove_button.click(remove_documents, [to_remove], [outcome, to_remove], api_visibility="private",
                            concurrency_limit=1) \
            .then(reload_views, [table_picker, name_filter, year_filter], views, api_visibility="private")
        # Readers see what another process ingested without a refresh: the views follow the
        # store (the assistant reloads on its own when the generation changes).
        gr.Timer(15).tick(reload_views, [table_picker, name_filter, year_filter], views,
                          api_visibility="private")

        def ask_api(question: str, request: gr.Request = None) -> dict:
            """Answer one question; returns the same JSON object as `iurc ask --json`."""
            address = _address(request)
            if chat_limits.admit(address):
                raise gr.Error(TOO_MANY_QUESTIONS)
            try:
                return ask(question)
            finally:
                chat_limits.leave(address)

        gr.api(ask_api, api_name="ask", time_limit=60)
    return demo


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
                           footer_links=["api"], js=FOOTNOTE_JS, css=CSS, ssr_mode=False,
                           allowed_paths=[], blocked_paths=[str(Path.cwd())],
                           # OpenAPI docs of the JSON API (the schema only: no answers without the login)
                           app_kwargs={"docs_url": API_ROUTE + "/docs", "openapi_url": API_ROUTE + "/openapi.json",
                                       # Before any route: body limit, no uploads, login, headers.
                                       "middleware": [Middleware(Guard, credentials=credentials,
                                                                 address_throttle=Throttle(),
                                                                 routes_ready=routes_ready, staff=staff)]})
    add_original_route(demo.server_app, assistant)
    add_staff_routes(demo.server_app, staff)
    add_api_routes(demo.server_app, assistant, credentials, settings.get("concurrency"),
                   settings.get("queue_size"))
    routes_ready.set()
    if not prevent_thread_lock:
        demo.block_thread()
    return launched
