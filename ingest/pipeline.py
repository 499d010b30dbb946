"""The ingest run: discover files, skip unchanged ones, chunk and store the rest, delete what
disappeared, and report added / updated / skipped / deleted / failed."""
from __future__ import annotations

import hashlib
import json
import sys
import time
import uuid
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from core import index, names, settings

from . import sandbox
from .chunk import chunk
from .clean import clean
from core.glossary import Glossary, parse_glossary
from .load import SUPPORTED, LoadError, load, read_file
from core.models import Chunk, ManifestEntry
from core.store import Store, StoreError, acquire, chunk_metadata, private_tree, writer_lock
from .structure import structure

# Bump when loading, cleaning, structuring, chunking or lexical tokens change, so stored
# documents are read again.
EMBED_BATCH = 500  # passages embedded and stored per call
PIPELINE_VERSION = "15"  # 15: hyphenated titles are no names; 14: hard-wrapped lines joined (issue 24)


@dataclass
class IngestReport:
    """Counts are passages, except `failed`, which counts files."""

    added: int = 0
    updated: int = 0
    skipped: int = 0
    deleted: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    glossary_changed: bool = False
    # One outcome per file met: {"path", "doc", "status" (new, changed, unchanged, failed),
    # "passages", "reason"}; `iurc ingest --json` prints them.
    files: list[dict] = field(default_factory=list)

    def fail(self, path, reason: str, doc: str = "", verb: str = "skipped: ") -> str:
        self.failed += 1
        self.problems.append(f"{printable(path)}: {verb}{reason}")
        self.files.append({"path": str(path), "doc": doc, "status": "failed", "passages": 0, "reason": reason})
        return self.problems[-1]

    def summary(self) -> str:
        return (f"added {self.added}, updated {self.updated}, skipped {self.skipped}, "
                f"deleted {self.deleted}, failed {self.failed}")


def printable(name) -> str:
    """A file name as printed: control characters (a newline could forge a line of output) and
    other unprintable ones escaped."""
    text = str(name)
    return text if text.isprintable() else "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass
class FoundFile:
    path: Path
    doc: str  # stable name: "<folder name>/<relative path>" or the file name


def discover(paths: list, report: IngestReport, warn: Callable[[str], None],
             supported: frozenset[str] = frozenset(SUPPORTED)) -> tuple[list[FoundFile], list[str]]:
    """Files to ingest and the name prefixes (folders) whose vanished documents get deleted.
    `paths`: files and folders, or FoundFile entries already named (the chat UI's uploads).
    `supported`: the file endings accepted (ours by default; the naive baseline has its own)."""
    found, prefixes = [], []
    for raw in paths:
        if isinstance(raw, FoundFile):
            found.append(raw)
            continue
        path = Path(raw)
        if path.is_dir():
            root = path.resolve()
            prefix = root.name + "/"
            prefixes.append(prefix)
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = file.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if not file.resolve().is_relative_to(root):
                    # A link out of the folder (to /etc/passwd, another user's files) is not followed.
                    warn(report.fail(file, "a symbolic link to a file outside the folder being ingested"))
                    continue
                if file.suffix.lower() not in supported:
                    if file.name != "glossary.csv":  # the names file lives beside the documents
                        warn(report.fail(file, f"unsupported file type {file.suffix or '(none)'}; "
                                               f"supported: {' '.join(sorted(supported))}"))
                    continue
                found.append(FoundFile(file, prefix + rel.as_posix()))
        elif path.is_file():
            found.append(FoundFile(path, path.name))
        else:
            warn(report.fail(path, "no such file or folder", verb=""))
    return found, prefixes


def fingerprint(glossary: Glossary, chunk_size: int, embedder_name: str) -> str:
    return f"v{PIPELINE_VERSION}|glossary:{glossary.sha256[:16]}|chunk:{chunk_size}|{embedder_name}"


def ingest(paths: list, store: Store, glossary: Glossary, rebuild: bool = False,
           progress: bool = True, warn: Callable[[str], None] | None = None,
           on_file: Callable[[int, int, str], None] | None = None) -> IngestReport:
    """Bring the store in line with `paths`. Holds the store's writer lock throughout.
    `on_file(i, n, doc)` is told before each file (the chat UI's progress bar)."""
    from tqdm import tqdm

    warn = warn or (lambda msg: tqdm.write(msg, file=sys.stderr))
    started = time.perf_counter()
    report = IngestReport()
    lock = writer_lock(store.config)
    acquire(lock, store.config)
    parser = None  # the parsing child (ingest/sandbox.py), started with the first file
    writer = None  # its embedding workers (if it started any) end with the ingest
    try:
        if rebuild:
            # A new set of collections; readers keep answering from the old one until the end.
            store.begin_rebuild()
        chunk_size = settings.get("chunk_size")
        max_bytes = settings.get("max_file_bytes")
        current = fingerprint(glossary, chunk_size, store.embedder_name)
        manifest = store.manifest_entries()
        for entry in manifest.values():
            if entry.names:  # written before the names moved out of the listing: moved once
                store.put_manifest(entry)
        files, prefixes = discover(paths, report, warn)
        seen_docs = set()
        bar = tqdm(files, desc="ingest", unit="file", file=sys.stderr, disable=not progress or None)
        parser = sandbox.Sandbox() if sandbox.enabled() else None
        writer = _Writer(store)
        stats: dict[str, str] = {}  # unchanged documents' files as found now, when their time changed
        for number, found in enumerate(bar):
            if on_file:
                on_file(number, len(files), found.doc)
            seen_docs.add(found.doc)
            before = (report.added, report.updated, report.skipped)
            try:
                prepared = _ingest_one(found, store, glossary, manifest.get(found.doc), current, chunk_size,
                                       max_bytes, report, stats, parser.load if parser else load)
                if prepared is not None:
                    writer.put(prepared)
            except (LoadError, OSError) as exc:
                warn(report.fail(found.path, str(exc), found.doc))
                continue
            except StoreWriteError as exc:
                _stopped(exc, store, report)
            except Exception as exc:  # noqa: BLE001 - any parser's own error (lxml, pdfminer, ...)
                # One bad file is one failed file: reported on one line, and ingest carries on.
                reason = " ".join(str(exc).split())[:200]
                warn(report.fail(found.path, f"unreadable {found.path.suffix.lstrip('.') or 'file'}: "
                                             f"{type(exc).__name__}{': ' + reason if reason else ''}", found.doc))
                continue
            added, updated, skipped = (now - then for now, then in
                                       zip((report.added, report.updated, report.skipped), before))
            report.files.append({"path": str(found.path), "doc": found.doc, "passages": added + updated + skipped,
                                 "status": "new" if found.doc not in manifest else
                                 "changed" if added or updated else "unchanged", "reason": ""})
        try:
            writer.flush()
        except StoreWriteError as exc:
            _stopped(exc, store, report)
        if stats:
            store.put_stats(stats)
        # Documents that vanished from an ingested folder: their passages go too.
        for doc, entry in manifest.items():
            if doc not in seen_docs and any(doc.startswith(p) for p in prefixes):
                report.deleted += _drop(store, doc)
        table_before = store.stored_glossary()
        # (no document added, changed or dropped: the manifest read at the start is still the store's)
        same = not (report.added or report.updated or report.deleted or rebuild)
        report.glossary_changed = _store_name_table(store, glossary, manifest if same else None)
        changed = report.added or report.updated or report.deleted or rebuild or report.glossary_changed
        if changed or _index_stale(store):
            _publish(store, glossary, table_before, writer.written)
        if rebuild:
            store.commit_rebuild()  # complete: readers switch on their next check
        if not (store.config.is_server or store.config.in_memory):
            private_tree(Path(store.config.store_dir))  # files the store wrote: owner only
    finally:
        if parser is not None:
            parser.close()
        if writer is not None:
            writer.close()
        lock.release()
    report.seconds = time.perf_counter() - started
    return report


def remove(docs: list[str], store: Store, glossary: Glossary) -> IngestReport:
    """Take documents out of the index: their passages and manifest entries, then the name table
    and the read-side index, under the same writer lock as an ingest. Unknown names fail."""
    started = time.perf_counter()
    report = IngestReport()
    lock = writer_lock(store.config)
    acquire(lock, store.config)
    try:
        manifest = store.manifest_entries()
        for doc in docs:
            if doc not in manifest:
                report.fail(doc, "not in the index", doc, verb="")
                continue
            dropped = _drop(store, doc)
            report.deleted += dropped
            report.files.append({"path": manifest[doc].path, "doc": doc, "status": "removed",
                                 "passages": dropped, "reason": ""})
        if any(f["status"] == "removed" for f in report.files):
            table_before = store.stored_glossary()
            report.glossary_changed = _store_name_table(store, glossary)
            _publish(store, glossary, table_before)
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    return report


def _drop(store: Store, doc: str) -> int:
    """Delete a document's passages and its manifest entry; how many passages went."""
    ids = list(store.doc_chunks(doc))
    store.delete(ids)
    store.delete_manifest(doc)
    return len(ids)


def _publish(store: Store, glossary: Glossary, table_before: str | None = None,
             written: dict[str, index.Written] | None = None) -> None:
    """The read-side index first, then the generation that points at it: running servers reload
    on their next question and find the index already there. `table_before`: the name table the
    stored index was built with, so only passages holding a name that changed are matched again.
    `written`: the passages this ingest wrote, with the tokens its embedding workers made."""
    generation = uuid.uuid4().hex
    stored = store.stored_glossary()
    table = parse_glossary(stored, "name table stored with the collection") if stored else glossary
    before = parse_glossary(table_before, "name table before this ingest") if table_before else None
    built = index.current(store, table, settings.get("lexical_tokenizer"), generation, before, written)
    store.put_index(index.to_bytes(built), generation, built.tokenizer)
    store.bump_generation(generation)


def _ingest_one(found: FoundFile, store: Store, glossary: Glossary, entry: ManifestEntry | None,
                current: str, chunk_size: int, max_bytes: int, report: IngestReport, stats: dict[str, str],
                parse=load) -> "_Prepared | None":
    """One file, read and made into passages, with what the store must add, update and delete
    for it (None when it is unchanged). `stats`: gets the file's size and time when it is
    unchanged but they are not the recorded ones. `parse`: `load`, or a Sandbox's `load` (a
    child process with memory, CPU and wall-clock limits)."""
    stat = _stat(found.path)
    if entry and entry.complete and entry.fingerprint == current and stat and entry.stat == stat:
        # The size and modification time recorded when it was read (as git and rsync decide):
        # unchanged, and not read again. `--rebuild` reads every file.
        report.skipped += entry.chunk_count
        return None
    data = read_file(found.path, max_bytes)  # read once: hashed here, decoded by load()
    sha = hashlib.sha256(data).hexdigest()
    if entry and entry.complete and entry.sha256 == sha and entry.fingerprint == current:
        report.skipped += entry.chunk_count
        if stat != entry.stat:
            stats[found.doc] = stat  # the same bytes at another time: known next time
        return None
    source = parse(found.path, found.doc, max_bytes, data)
    cleaned = clean(source, glossary)
    # The document's own names (discovered, linked across its scripts) join the curated ones for
    # its structure: a table whose rows start with names nobody listed is still a table.
    found_names = names.discover(cleaned.text) if settings.get("name_discovery") == "on" else {}
    local, _ = names.build_table(glossary, {found.doc: found_names}, settings.get("name_link_threshold"),
                                 link=False)
    chunks = chunk(structure(cleaned, local), chunk_size)
    if not chunks:
        raise LoadError("no text to index after cleaning")
    # (a document without an entry has no passages: its entry is always written before them)
    stored = store.doc_chunks(found.doc) if entry is not None else {}
    new_ids = {c.chunk_id for c in chunks}
    to_add = [c for c in chunks if c.chunk_id not in stored]
    to_update = [c for c in chunks if c.chunk_id in stored
                 and stored[c.chunk_id] != chunk_metadata(c, source.sha256)]
    to_delete = [cid for cid in stored if cid not in new_ids]
    report.added += len(to_add)
    report.updated += len(to_update)
    report.skipped += len(chunks) - len(to_add) - len(to_update)
    report.deleted += len(to_delete)
    entry = ManifestEntry(
        names=json.dumps(found_names, ensure_ascii=False, sort_keys=True),
        doc=found.doc, path=str(found.path), sha256=source.sha256, fingerprint=current,
        format=source.format, encoding=source.encoding, chunk_count=len(chunks),
        language=_document_language(chunks), status="pending", stat=stat,
        ingested_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    return _Prepared(entry, to_add, to_update, to_delete)


def _stat(path: Path) -> str:
    """A file's size and modification time, "size:mtime_ns"; "" for a file modified in the last
    two seconds (it may change again within the file system's timestamp resolution without its
    time changing: it is read and hashed next time), or one that cannot be stat'ed."""
    try:
        st = path.stat()
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}" if time.time_ns() - st.st_mtime_ns > 2_000_000_000 else ""


def _index_stale(store: Store) -> bool:
    """The stored read-side index is missing, damaged or not the current generation's (an ingest
    stopped between writing passages and writing the index, or an older version wrote the store)."""
    head = store.index_head()
    return head.get("generation") != store.generation() or head.get("tokenizer") != settings.get("lexical_tokenizer") \
        or not store.index_intact()


def _store_name_table(store: Store, glossary: Glossary, manifest: dict | None = None) -> bool:
    """The name table (curated rows, then every document's discovered names linked across
    scripts) stored beside the passages, so every process matches the same names. True when
    it changed. `manifest`: the store's manifest when the caller holds it as it is now."""
    manifest = store.manifest_entries() if manifest is None else manifest
    entries = {doc: entry for doc, entry in manifest.items() if entry.names_sha and entry.complete}
    # What the table is made from: the curated rows, the link threshold and each document's
    # discovered names (told by their hashes: the names themselves are read only to build it).
    made_from = hashlib.sha256(json.dumps([glossary.sha256, settings.get("name_link_threshold"),
                                           sorted((doc, e.names_sha) for doc, e in entries.items())]
                                          ).encode("utf-8")).hexdigest()
    if made_from == store.glossary_made_from() and store.stored_glossary() is not None:
        return False  # built from the same: nothing to do (an unchanged re-ingest)
    # (an entry an older version wrote still lists its names: the others' are read apart)
    listed = {doc: entry.names for doc, entry in entries.items() if entry.names}
    texts = {**store.document_names(sorted(set(entries) - set(listed))), **listed}
    found = {doc: json.loads(text) for doc, text in texts.items() if text}
    table, report = names.build_table(glossary, found, settings.get("name_link_threshold"))
    if store.stored_glossary() == table.text:
        store.put_glossary(table.text, table.sha256, made_from)
        return False
    store.put_glossary(table.text, table.sha256, made_from)
    store.put_names(report.to_json())
    return True


class StoreWriteError(Exception):
    def __init__(self, cause: Exception, docs: list[str]):
        super().__init__(str(cause))
        self.cause = f"{type(cause).__name__}: {cause}"
        self.docs = docs


def _stopped(exc: StoreWriteError, store: Store, report: IngestReport) -> None:
    """Disk full, read-only store, server gone: stop here. Documents written before are
    complete; those of the batch being written stay marked pending and are redone by the next run."""
    names = ", ".join(printable(d) for d in exc.docs[:3]) + (f" and {len(exc.docs) - 3} more" if len(exc.docs) > 3 else "")
    raise StoreError(f"could not write {names} to {store.config.describe()}: {exc.cause}. "
                     f"Stopped after {report.summary()}; the index as it was is still "
                     "served and a re-run completes it.") from None


@dataclass
class _Prepared:
    """One document made into passages, and what the store must do for it."""
    entry: ManifestEntry  # pending
    to_add: list[Chunk]
    to_update: list[Chunk]
    to_delete: list[str]


class _Writer:
    """Documents' writes, batched across documents (a store call costs about as much for one
    passage as for a hundred): the batch's entries are written pending in one call, its new
    passages embedded and stored EMBED_BATCH at a time, its changed and dropped passages
    updated and deleted, then its entries marked complete in one call. A document is complete
    only after all its passages are stored; a stop in between leaves it pending for the next run.

    An ingest of more than one batch embeds in worker processes (core.embed.EmbeddingWorkers,
    IURC_INGEST_WORKERS): each full batch's texts are sent to them when it is made, and batches
    are written, in order, as their vectors come back, so the ingest goes on with the next
    documents meanwhile. A smaller ingest (a staff upload) embeds in its own process, where
    the model is already loaded."""

    AHEAD = 4  # batches sent to the workers and not yet written, at most
    JOB = 128  # passages per worker job: small enough to keep every worker busy

    def __init__(self, store: Store, passages: int | None = None, workers: int | None = None):
        self.store, self.limit = store, passages or settings.get("write_batch")
        self.batch: list[_Prepared] = []
        self.size = 0
        self.wanted = settings.get("ingest_workers") if workers is None else workers
        self.workers = None  # started with the first full batch
        self.sent: deque[tuple[list[_Prepared], list]] = deque()  # (batch, its vector futures)
        # The passages written, for the read index (with the lexical tokens the workers made
        # beside their vectors): it is built without reading them back from the store.
        self.written: dict[str, index.Written] = {}

    def put(self, prepared: _Prepared) -> None:
        self.batch.append(prepared)
        self.size += len(prepared.to_add) + len(prepared.to_update) + 1
        if self.size >= self.limit:
            self._send(last=False)

    def flush(self) -> None:
        """Everything put so far written (the workers' vectors waited for)."""
        self._send(last=True)
        while self.sent:
            self._write(*self.sent.popleft())

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()
            self.workers = None

    def _send(self, last: bool) -> None:
        batch, self.batch, self.size = self.batch, [], 0
        if not batch:
            return
        self._try(lambda: self.store.put_manifests([p.entry for p in batch]), batch)
        if self.workers is None and not last and self.wanted > 0 and hasattr(self.store.embeddings, "for_worker"):
            from core.embed import EmbeddingWorkers

            self.workers = EmbeddingWorkers(self.store.embeddings, self.wanted)
        texts = [c.text for p in batch for c in p.to_add]
        tokenizer = settings.get("lexical_tokenizer")
        futures = [self.workers.submit(texts[i:i + self.JOB], tokenizer) for i in range(0, len(texts), self.JOB)] \
            if self.workers is not None else []
        self.sent.append((batch, futures))
        # Write what is ready; wait for the oldest only when too far ahead.
        while self.sent and (len(self.sent) > self.AHEAD or all(f.done() for f in self.sent[0][1])):
            self._write(*self.sent.popleft())

    def _write(self, batch: list[_Prepared], futures: list) -> None:
        store = self.store
        adds = [(c, p.entry.sha256) for p in batch for c in p.to_add]
        vectors, tokens = None, [None] * len(adds)
        if futures:
            try:
                done = [f.result() for f in futures]
                vectors = np.concatenate([v for v, _ in done])
                tokens = [t for _, made in done for t in made]
            except Exception:  # noqa: BLE001 - a worker gone: this batch, and the rest, embedded here
                self.close()
                self.wanted, vectors = 0, None

        def write() -> None:
            if vectors is not None:  # the workers' vectors: the whole batch in one call
                store.add([c for c, _ in adds], [sha for _, sha in adds], vectors)
            else:
                for i in range(0, len(adds), EMBED_BATCH):
                    part = adds[i:i + EMBED_BATCH]
                    store.add([c for c, _ in part], [sha for _, sha in part],
                              store.embeddings.embed_documents([c.text for c, _ in part]))
            for p in batch:
                if p.to_update:
                    store.update_metadata(p.to_update, p.entry.sha256)
            store.delete([cid for p in batch for cid in p.to_delete])
            store.put_manifests([replace(p.entry, status="complete") for p in batch])

        self._try(write, batch)
        self.written.update((c.chunk_id, index.Written({"id": c.chunk_id, "text": c.text,
                                                        "metadata": chunk_metadata(c, sha)}, made))
                            for (c, sha), made in zip(adds, tokens))

    @staticmethod
    def _try(step: Callable[[], None], batch: list[_Prepared]) -> None:
        try:
            step()
        except Exception as exc:  # chromadb's errors for disk full / read-only / HTTP vary in type
            raise StoreWriteError(exc, [p.entry.doc for p in batch]) from exc


def _document_language(chunks: list[Chunk]) -> str:
    langs = {c.language for c in chunks}
    return langs.pop() if len(langs) == 1 else "mixed"
