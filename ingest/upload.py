"""Documents added by staff in the chat UI: each file's name stripped of any path, its size,
its type (by content, not by name) and its archive limits checked before anything parses it;
accepted files are kept in the upload folder and ingested by the same `ingest()` as the CLI,
under the same one-writer lock. Also the removal of a document.

A file's stored name is `<corpus folder>/<upload folder>/<file>`, the name `iurc ingest corpus`
gives the same file, so the next CLI ingest of the corpus finds it unchanged."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from core import settings
from core.glossary import Glossary
from .load import SUPPORTED, LoadError, check_content, check_limits, check_size
from .pipeline import FoundFile, IngestReport, ingest, printable, remove
from core.store import Store

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")
MAX_NAME_CHARS = 120


@dataclass
class Outcome:
    """What happened to one uploaded or removed file, for the UI's table."""

    name: str
    status: str  # added, updated, unchanged, removed, failed
    passages: int = 0
    reason: str = ""


def safe_name(name: str) -> str:
    """The file name alone: any folder part (`../../x`, `C:\\x\\y`) dropped, control and
    reserved characters replaced, no leading dot (hidden files are not ingested), at most 120
    characters with the ending kept. '' when nothing usable is left."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("_", name)
    # Format characters (U+202E right-to-left override, zero-width joiners) make a name read as
    # another ("invoice\u202Efdp.exe"): replaced like control characters.
    name = "".join("_" if unicodedata.category(c) == "Cf" else c for c in name).strip().lstrip(".").strip()
    stem, dot, suffix = name.rpartition(".")
    if dot and len(name) > MAX_NAME_CHARS:
        name = stem[:MAX_NAME_CHARS - len(suffix) - 1] + "." + suffix
    return name[:MAX_NAME_CHARS] if name not in ("", ".", "..") else ""


def check_upload(name: str, data: bytes, max_bytes: int) -> str:
    """The format of an acceptable upload, or LoadError with the reason: its ending must be one
    we read, its size within IURC_MAX_FILE_BYTES, its bytes of that format, and its archive or
    PDF within the unpacking limits."""
    fmt = SUPPORTED.get(Path(name).suffix.lower())
    if fmt is None:
        raise LoadError(f"unsupported file type {Path(name).suffix or '(none)'}; supported: "
                        + " ".join(sorted(SUPPORTED)))
    check_size(len(data), max_bytes)
    if not data:
        raise LoadError("empty file")
    check_content(fmt, data)
    check_limits(fmt, data)
    return fmt


def doc_name(folder: Path, name: str) -> str:
    """The stored name of an uploaded file: as `iurc ingest <folder's parent>` would name it."""
    folder = folder.resolve()
    return f"{folder.parent.name}/{folder.name}/{name}"


def add(files: list[tuple[str, bytes]], folder: Path, store: Store, glossary: Glossary,
        max_bytes: int, on_file=None) -> tuple[list[Outcome], IngestReport | None]:
    """Check every (name, bytes) upload, keep the acceptable ones in `folder`, ingest them, and
    say per file what happened. A file that fails to ingest is taken out of the folder again
    (a changed file gets its earlier version back), so the folder holds only indexed files."""
    outcomes: list[Outcome] = []
    accepted: dict[str, tuple[bytes, Path]] = {}
    for raw_name, data in files:
        name = safe_name(raw_name)
        if not name:
            outcomes.append(Outcome(printable(raw_name)[:MAX_NAME_CHARS], "failed", reason="no usable file name"))
            continue
        try:
            check_upload(name, data, max_bytes)
        except LoadError as exc:
            outcomes.append(Outcome(name, "failed", reason=str(exc)))
            continue
        accepted[name] = (data, folder / name)  # the same name twice: the last one counts
    if not accepted:
        return outcomes, None
    quota = settings.get("upload_quota_bytes")
    used = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
    for name in list(accepted):
        data, path = accepted[name]
        grows = len(data) - (path.stat().st_size if path.is_file() else 0)
        if quota and used + grows > quota:
            outcomes.append(Outcome(name, "failed", reason=f"the upload folder would hold more than {quota} "
                                                           "bytes (IURC_UPLOAD_QUOTA_BYTES); remove documents first"))
            del accepted[name]
            continue
        used += grows
    if not accepted:
        return outcomes, None
    folder.mkdir(parents=True, exist_ok=True)
    earlier: dict[str, bytes | None] = {}
    for name, (data, path) in accepted.items():
        earlier[name] = path.read_bytes() if path.is_file() else None
        temporary = path.with_name(f".{name}.part")  # hidden: never ingested half-written
        temporary.write_bytes(data)
        temporary.replace(path)

    def put_back(name: str, path: Path) -> None:
        if earlier[name] is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(earlier[name])

    try:
        report = ingest([FoundFile(path, doc_name(folder, name)) for name, (_, path) in accepted.items()],
                        store, glossary, progress=False, warn=lambda _message: None, on_file=on_file)
    except BaseException:
        for name, (_, path) in accepted.items():  # another writer, a full disk: nothing half-added
            put_back(name, path)
        raise
    by_doc = {f["doc"]: f for f in report.files}
    status = {"new": "added", "changed": "updated", "unchanged": "unchanged"}
    for name, (_, path) in accepted.items():
        result = by_doc.get(doc_name(folder, name), {"status": "failed", "reason": "not ingested"})
        reason = result.get("reason", "")
        if result["status"] == "failed":
            put_back(name, path)
        elif result["status"] == "changed" and earlier[name] is not None:
            # A file with the name of one already uploaded replaced it; the earlier version is
            # kept (hidden, so never ingested) in .versions/, named by when it was replaced.
            versions = folder / ".versions"
            versions.mkdir(exist_ok=True)
            kept = versions / f"{path.stem}.{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}{path.suffix}"
            kept.write_bytes(earlier[name])
            reason = f"replaced an earlier file of this name, kept as {kept.parent.name}/{kept.name}"
        outcomes.append(Outcome(name, status.get(result["status"], "failed"), result.get("passages", 0), reason))
    return outcomes, report


def delete(docs: list[str], folder: Path, store: Store, glossary: Glossary) -> list[Outcome]:
    """Remove documents from the index. An uploaded file is deleted from the upload folder too;
    a document from elsewhere keeps its file, and the outcome says that the next ingest of its
    folder brings it back."""
    folder = folder.resolve()
    report = remove(docs, store, glossary)
    outcomes = []
    for f in report.files:
        if f["status"] != "removed":
            outcomes.append(Outcome(f["doc"], "failed", reason=f["reason"]))
            continue
        path = Path(f["path"]) if f["path"] else None
        reason = ""
        if path is not None and path.resolve().parent == folder and not path.is_symlink():
            path.unlink(missing_ok=True)
        elif path is not None and path.exists():
            reason = f"its file stays at {path}; delete it there too, or the next ingest adds it again"
        outcomes.append(Outcome(f["doc"], "removed", f["passages"], reason))
    return outcomes
