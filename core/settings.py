"""Every tunable limit in one place: name, default, help. `IURC_<NAME>` overrides each."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .profile import load as _load_profile

_PROFILE = _load_profile()  # the calibrated thresholds' defaults (eval/profile.yaml)


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = 0  # numbers below this are refused; None: any number

    @property
    def env_var(self) -> str:
        return "IURC_" + self.name.upper()


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("store", ".iurc/store", "The store: a folder (embedded Chroma), chroma+http://host:port or "
                "memory://name."),
        Setting("chroma_host", "", "Chroma server host; when set, the server is used instead of --store."),
        Setting("chroma_port", 8000, "Chroma server port."),
        Setting("chroma_token", "", "Token sent to the Chroma server (X-Chroma-Token); `iurc chroma-guard` "
                "in front of `chroma run` refuses requests without it."),
        Setting("collection", "iurc", "Chroma collection name for passages."),
        Setting("glossary", "corpus/glossary.csv", "CSV of names and their variants (see README)."),
        Setting("language_packs", "", "Further folders of language packs (<code>.yaml, see core/languages.py), "
                "separated by the path separator; the packs in core/lang/ are always installed."),
        Setting("embedder", "use", "Embedding backend.", ("use", "st")),
        Setting("st_model", "", "Folder of a local sentence-transformers model (embedder=st)."),
        Setting("embed_threads", 2, "CPU threads for the USE embedder."),
        Setting("ingest_workers", min(os.cpu_count() or 1, 4), "Child processes that embed during an ingest "
                "of more passages than IURC_WRITE_BATCH, one thread each, beside the ingest's own work "
                "(0: embed in the ingesting process). Default: the machine's cores, at most 4."),
        Setting("max_file_bytes", 20_000_000, "Files larger than this are skipped."),
        Setting("max_unpacked_bytes", 200_000_000, "What a DOCX/PPTX unzips to, or a PDF's compressed "
                "streams inflate to, at most; larger files are refused before parsing."),
        Setting("max_compression_ratio", 100, "Largest unpacked/packed size ratio of a DOCX/PPTX "
                "(a ZIP bomb has thousands)."),
        Setting("max_zip_entries", 10_000, "Most files a DOCX/PPTX may hold."),
        Setting("max_pdf_pages", 2_000, "PDFs with more pages are refused before parsing."),
        Setting("parse_sandbox", "on", "Parse each document in a child process with the limits below "
                "(off: in the ingesting process, for debugging).", ("on", "off")),
        Setting("parse_max_memory_mb", 1536, "Address space of the parsing child process, in MB; a "
                "document needing more is refused."),
        Setting("parse_max_cpu_seconds", 120, "CPU seconds one document may take to parse."),
        Setting("parse_max_seconds", 180, "Wall-clock seconds one document may take to parse."),
        Setting("write_batch", 2000, "Passages an ingest writes per batch of documents (their entries, "
                "vectors and passages in a few store calls: each call costs ~25 ms besides its rows); "
                "a stop redoes at most the batches not yet written.", minimum=1),
        Setting("chunk_size", 500, "Largest passage, in characters, before a paragraph is split."),
        Setting("top_k", 5, "Passages retrieved per question."),
        Setting("lexical_tokenizer", "sudachi", "Japanese segmentation for lexical search.",
                ("sudachi", "bigram")),
        Setting("min_sentence_score", _PROFILE.min_sentence_score, "Best sentence score below which a question that names "
                "nothing from the glossary is abstained (calibrated: `python -m eval.calibrate`).",
                minimum=None),
        Setting("min_named_sentence_score", _PROFILE.min_named_sentence_score, "The same threshold for questions that name a "
                "programme city, country or body found in the documents (calibrated likewise).",
                minimum=None),
        Setting("name_discovery", "on", "Discover names in every document at ingest (off: only "
                "the curated glossary names things; for measuring what discovery costs).", ("on", "off")),
        Setting("name_link_threshold", _PROFILE.name_link_threshold, "Confidence at or above which a discovered English name "
                "and a Japanese name are linked as one (below it the link is only a suggestion, "
                "`iurc names --suggest`).", minimum=0),
        Setting("max_question_chars", 1000, "Longer questions are refused before any embedding."),
        Setting("max_body_bytes", 1_000_000, "Largest request body the server reads (and line of "
                "`iurc ask --batch`)."),
        Setting("max_history_entries", 20, "Earlier questions a client may send with a question "
                "(the chat sends its most recent ones)."),
        Setting("llm_base_url", "", "OpenAI-compatible endpoint for the optional generator."),
        Setting("llm_model", "", "Model name sent to the generator endpoint."),
        Setting("llm_timeout", 20.0, "Seconds before the generator is abandoned for the extractive answer."),
        Setting("reload_check_seconds", 0.5, "How often a running app checks whether an ingest "
                "changed the store (then it reloads its indexes, in the background)."),
        Setting("concurrency", 4, "Chat requests answered at once."),
        Setting("queue_size", 64, "Chat requests waiting before new ones are refused (about a second "
                "of the chat's measured throughput on two cores: bench/RESULTS.md, Load)."),
        Setting("auth", "", "user:password to require a login for the chat UI."),
        Setting("staff_auth", "", "user:password of staff, who log in at /staff to add and remove "
                "documents in the chat UI (readers keep IURC_AUTH). Unset: no uploads."),
        Setting("upload_dir", "corpus/uploads", "Folder where documents added in the chat UI are kept "
                "and ingested from; inside the corpus folder, so `iurc ingest corpus` keeps them."),
        Setting("max_upload_files", 20, "Files one staff upload may carry."),
        Setting("staff_session_hours", 8.0, "How long a staff login lasts."),
        Setting("feedback_file", ".iurc/feedback.jsonl", "Where the chat UI appends thumbs up/down and comments."),
        Setting("staff_history_file", ".iurc/staff_history.jsonl", "Where staff additions and removals are "
                "recorded (when, who, which file, what came of it); the Documents view shows the latest."),
        Setting("feedback_per_minute", 20, "Feedback records one chat session may send per minute."),
        Setting("feedback_max_bytes", 10_000_000, "Size at which the feedback file is rotated (3 kept)."),
        Setting("max_in_flight_per_client", 8, "JSON API questions one client may have under way at once."),
        Setting("rate_per_minute", 240, "JSON API questions one client may ask per minute."),
        Setting("upload_quota_bytes", 500_000_000, "Most the staff upload folder may hold, in bytes (0: "
                "no limit); an upload past it is refused."),
        Setting("session_hours", 12, "Hours a reader's login lasts on the server, however often it is used."),
        Setting("max_sessions", 2000, "Reader logins kept at once; past it the oldest end first."),
        Setting("max_sessions_per_user", 100, "Logins one user name keeps at once (reader or staff); past it that "
                "user's oldest login ends. With one shared reader login, every reader counts here."),
        Setting("login_failures_per_minute", 60, "Failed logins for one user name, from all addresses "
                "together, after which only addresses that user has logged in from may try (for a "
                "minute); each user+address pair is also slowed after 5 failures."),
        Setting("public_host", "", "Host names (comma-separated, with :port if not the default) the "
                "server is reached at; when set, requests for another Host are refused. Requests that "
                "change state from a page of another origin are refused either way."),
        Setting("trusted_proxies", "", "Comma-separated addresses of reverse proxies whose "
                "X-Forwarded-For names the client; from any other peer the header is ignored."),
    ]
}


class SettingError(ValueError):
    """A setting has a value it cannot take."""


def _coerce(setting: Setting, raw: Any) -> Any:
    kind = type(setting.default)
    try:
        value = kind(raw) if not isinstance(raw, kind) else raw
    except (TypeError, ValueError):
        raise SettingError(
            f"{setting.env_var}={raw!r}: expected a {kind.__name__} ({setting.help})"
        ) from None
    if setting.choices and value not in setting.choices:
        raise SettingError(
            f"{setting.env_var}={raw!r}: allowed values are {', '.join(setting.choices)}"
        )
    if isinstance(value, (int, float)) and setting.minimum is not None and value < setting.minimum:
        raise SettingError(f"{setting.env_var}={raw!r}: must be at least {setting.minimum}")
    return value


def get(name: str, override: Any = None) -> Any:
    """The value of a setting: an explicit override, else `IURC_<NAME>`, else the default."""
    setting = SETTINGS[name]
    if override is not None:
        return _coerce(setting, override)
    raw = os.environ.get(setting.env_var)
    if raw is None or raw == "":
        return setting.default
    return _coerce(setting, raw)


def describe() -> str:
    """A table of all settings for `iurc settings` and the README."""
    rows = [f"{s.env_var:<26} {s.default!r:<24} {s.help}" for s in SETTINGS.values()]
    return "\n".join(rows)
