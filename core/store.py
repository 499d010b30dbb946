"""Store stage: a Chroma collection (embedded or server) through langchain-chroma, content-hash
ids, a manifest collection written after the vectors, and a single-writer lock."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol, runtime_checkable

from filelock import FileLock, Timeout
from langchain_core.embeddings import Embeddings

from . import settings
from .models import Chunk, ManifestEntry

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# The collections of one set: passages, the manifest, the read-side index, documents' names.
SET_SUFFIXES = ("", "__manifest", "__index", "__docnames")
PASSAGE_KEY = "passage"  # a passage's metadata and text, as one JSON string (see Store.add)
BATCH = 500  # ids per Chroma call: keeps requests well under the server's size limits
# Passages per write to an embedded store (no request to size): each call costs ~25 ms besides
# its rows (measured: 5000 passages written in 1.35 s 500 a call, 1.21 s 2500 a call).
LOCAL_WRITE = 2500


class StoreError(RuntimeError):
    """A store problem with a message for the user."""


class StoreGone(StoreError):
    """This handle's collections were dropped (a rebuild switched the store): reopen."""


MEMORY = ":memory:"  # the store_dir of an in-memory store


@dataclass(frozen=True)
class StoreConfig:
    """Which store: an embedded one (a folder), a Chroma server (host and port), or an in-memory
    one (`store_dir` ":memory:<name>"; gone with the process: tests, trials)."""
    store_dir: str
    chroma_host: str
    chroma_port: int
    collection: str

    @classmethod
    def from_settings(cls, store_dir=None, chroma_host=None, chroma_port=None, collection=None):
        """From IURC_STORE (a folder or a store URL, see `from_url`), or IURC_CHROMA_HOST/PORT
        when a host is set."""
        collection = settings.get("collection", collection)
        host = settings.get("chroma_host", chroma_host)
        if host:
            return cls(settings.get("store", store_dir), host, settings.get("chroma_port", chroma_port), collection)
        return cls.from_url(settings.get("store", store_dir), collection)

    @classmethod
    def from_url(cls, url: str, collection: str = "iurc") -> "StoreConfig":
        """"path/to/folder" or "chroma:///abs/folder" (embedded), "chroma+http://host:port"
        (a Chroma server), "memory://name" (in memory)."""
        scheme, sep, rest = str(url).partition("://")
        if not sep or len(scheme) == 1:  # a folder (or a Windows drive letter)
            return cls(str(url), "", 8000, collection)
        if scheme == "chroma":
            return cls(rest or ".iurc/store", "", 8000, collection)
        if scheme in ("chroma+http", "http"):
            host, _, port = rest.split("/", 1)[0].partition(":")
            if not host or (port and not port.isdigit()):
                raise StoreError(f"bad store address {url!r}: chroma+http://host:port")
            return cls("", host, int(port or 8000), collection)
        if scheme == "memory":
            return cls(MEMORY + rest, "", 0, collection)
        raise StoreError(f"unknown store {url!r}: a folder, chroma:///folder, chroma+http://host:port or memory://name")

    @property
    def is_server(self) -> bool:
        return bool(self.chroma_host)

    @property
    def in_memory(self) -> bool:
        return not self.is_server and self.store_dir.startswith(MEMORY)

    def describe(self) -> str:
        if self.is_server:
            return f"chroma://{self.chroma_host}:{self.chroma_port}/{self.collection}"
        if self.in_memory:
            return f"memory://{self.store_dir[len(MEMORY):]} (collection {self.collection})"
        return f"{self.store_dir} (collection {self.collection})"


def open_store(config: StoreConfig | None = None, embeddings: Embeddings | None = None,
               create: bool = True) -> "PassageStore":
    """The one place a store is made (the CLI, the service, the evaluation and the benchmarks
    call this, never a store class): today every kind of address is served by `Store` (Chroma
    embedded, server or in memory); another vector store is another branch here."""
    return Store(config or StoreConfig.from_settings(), embeddings, create)


def open_client(config: StoreConfig):
    import chromadb
    from chromadb.config import Settings

    chroma_settings = Settings(anonymized_telemetry=False, allow_reset=False)
    if config.is_server:
        try:
            from . import settings

            token = settings.get("chroma_token")
            return chromadb.HttpClient(host=config.chroma_host, port=config.chroma_port, settings=chroma_settings,
                                       headers={"X-Chroma-Token": token} if token else None)
        except Exception as exc:  # chromadb raises plain exceptions for connection failures
            raise StoreError(f"cannot reach the Chroma server at {config.chroma_host}:"
                             f"{config.chroma_port}: {exc}") from None
    if config.in_memory:
        # chromadb keeps one in-memory system per process, shared by every ephemeral client:
        # each named store is a database of its own in it.
        database = "mem-" + hashlib.sha256(config.store_dir.encode()).hexdigest()[:16]
        admin = chromadb.AdminClient(chroma_settings)
        try:
            admin.get_database(database)
        except Exception:  # noqa: BLE001 - chromadb's "not found" has no stable type
            admin.create_database(database)
        return chromadb.EphemeralClient(settings=chroma_settings, database=database)
    path = Path(config.store_dir)
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.chmod(0o700)
    except OSError as exc:
        raise StoreError(f"cannot create store directory {path}: {exc.strerror}") from None
    client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    private_tree(path)
    return client


def private_tree(path: Path) -> None:
    """The embedded store readable by its owner only: directories 0700, files 0600 (the passages
    and the originals staff uploaded are not for other local users). Files another user owns
    are left as they are."""
    for p in [path, *path.rglob("*")]:
        try:
            if p.is_symlink() or p.stat().st_uid != os.getuid():
                continue
            p.chmod(0o700 if p.is_dir() else 0o600)
        except OSError:
            continue


def chunk_metadata(chunk: Chunk, doc_sha256: str) -> dict:
    """Chroma metadata: scalar values only (no None, lists or dicts)."""
    return {
        "doc": chunk.doc, "location": chunk.location, "section": chunk.section,
        "language": chunk.language, "kind": chunk.kind, "char_start": chunk.char_start,
        "char_end": chunk.char_end, "line_start": chunk.line_start, "line_end": chunk.line_end,
        "page": chunk.page, "doc_sha256": doc_sha256,
        "record": json.dumps(chunk.record, ensure_ascii=False) if chunk.record else "",
    }


def _stored(chunk: Chunk, doc_sha256: str) -> dict:
    """What Chroma keeps of a passage beside its vector: the document name (the one key a query
    filters on) and everything else, text included, as one JSON string. Not Chroma's document: a
    local Chroma builds a full-text index of every document, which we never query (lexical
    search is ours, core/lexical.py); nor a key per field: each is a row of its metadata table.
    Measured on 11k passages: 8.2 s of writes as document and keys, 5.3 s with the text as a
    key, 3.5 s packed (bench/RESULTS.md, ingest against the embedder)."""
    return {"doc": chunk.doc, PASSAGE_KEY: json.dumps({**chunk_metadata(chunk, doc_sha256), "text": chunk.text},
                                                     ensure_ascii=False)}


def _unpacked(meta: dict) -> tuple[str | None, dict]:
    """(text, metadata) of a stored passage; the text is None where a store written before
    packing keeps it as the document."""
    if PASSAGE_KEY not in meta:
        return None, meta
    metadata = json.loads(meta[PASSAGE_KEY])
    return metadata.pop("text"), metadata


class VectorIndex(Protocol):
    """Passages and their vectors. The pipeline embeds; an index only keeps and searches what it
    is given (ids are content hashes: adding an existing id replaces it)."""

    config: StoreConfig
    embedder_name: str  # the embedder its vectors were made with (a mismatch is refused at open)

    def add(self, chunks: list[Chunk], doc_sha256: str | list[str], vectors: list[list[float]]) -> None: ...
    def update_metadata(self, chunks: list[Chunk], doc_sha256: str) -> None: ...
    def delete(self, ids: list[str]) -> None: ...
    def doc_chunks(self, doc: str) -> dict[str, dict]: ...
    def count(self) -> int: ...
    def query(self, vector: list[float], k: int) -> dict[str, float]: ...
    def warm(self) -> bool: ...
    def iter_chunks(self, page: int = 5000) -> Iterator[dict]: ...
    def chunk_ids(self) -> list[str]: ...
    def get_chunks(self, ids: list[str]) -> list[dict]: ...
    def all_chunks(self) -> list[dict]: ...


class DocumentRegistry(Protocol):
    """One entry per ingested document (`ManifestEntry`), written "pending" before its passages
    and "complete" after them."""

    def manifest_entries(self) -> dict[str, ManifestEntry]: ...
    def document_names(self, docs: list[str]) -> dict[str, str]: ...
    def put_manifest(self, entry: ManifestEntry) -> None: ...
    def put_manifests(self, entries: list[ManifestEntry]) -> None: ...
    def put_stats(self, stats: dict[str, str]) -> None: ...
    def delete_manifest(self, doc: str) -> None: ...


class NamedBlobs(Protocol):
    """What travels with the passages for serving processes: the glossary and name table they
    were built with, the read-side index, and the generation id that tells readers to reload."""

    def put_glossary(self, text: str, sha256: str, made_from: str = "") -> None: ...
    def stored_glossary(self) -> str | None: ...
    def glossary_made_from(self) -> str: ...
    def put_names(self, report_json: str) -> None: ...
    def stored_names(self) -> str | None: ...
    def put_index(self, blob: bytes, generation: str, tokenizer: str) -> None: ...
    def stored_index(self) -> tuple[str, bytes] | None: ...
    def index_head(self) -> dict: ...
    def index_intact(self) -> bool: ...
    def bump_generation(self, generation: str = "") -> str: ...
    def generation(self) -> str: ...


@runtime_checkable
class PassageStore(VectorIndex, DocumentRegistry, NamedBlobs, Protocol):
    """A whole store: the three parts, plus switching to a rebuilt set and reopening. Implement
    it beside `Store` (Chroma) and add a branch to `open_store` to use another. Ingest writes
    through all three; the read side reads `query`, `iter_chunks`, `get_chunks`, the registry's
    entries and the blobs."""

    def begin_rebuild(self) -> None: ...
    def commit_rebuild(self) -> None: ...
    def reopen(self) -> "PassageStore": ...


class Store:
    """The Chroma implementation of PassageStore (embedded or server, one client handle):
    passages, the manifest of ingested documents and the read-side index."""

    def __init__(self, config: StoreConfig, embeddings: Embeddings | None, create: bool = True):
        self.config = config
        self.embeddings = embeddings
        try:
            self.client = open_client(config)
            self._open(create)
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises many types (sqlite, Rust bindings, HTTP)
            raise StoreError(f"cannot open the store {config.describe()}: {exc}") from None

    # A rebuild writes a new set of collections and then points the store's name at it, so
    # readers answer from the old set until the new one is complete. The pointer is a record in
    # `<collection>__current`; without one (stores made before) the set is `<collection>` itself.
    POINTER_ID = "current"

    def _pointer(self):
        return self.client.get_or_create_collection(self.config.collection + "__current", embedding_function=None)

    def _current_set(self) -> str:
        got = self._pointer().get(ids=[self.POINTER_ID], include=["metadatas"])
        return got["metadatas"][0]["name"] if got["ids"] else self.config.collection

    def _open(self, create: bool, physical: str | None = None) -> None:
        config, embeddings = self.config, self.embeddings
        self.physical = physical or self._current_set()
        self._replacing: str | None = getattr(self, "_replacing", None)
        name = getattr(embeddings, "name", type(embeddings).__name__) if embeddings else ""
        existing = {c.name if hasattr(c, "name") else c for c in self.client.list_collections()}
        if self.physical not in existing and not create:
            raise StoreError(f"no collection {config.collection!r} in {config.describe()}: "
                             "run `iurc ingest` first")
        if self.physical in existing:
            self.collection = self.client.get_collection(self.physical, embedding_function=None)
        else:  # vectors come from the pipeline, never from Chroma's (downloading) default function
            self.collection = self.client.create_collection(
                self.physical, embedding_function=None, metadata={"embedder": name or "unknown"},
                configuration={"hnsw": {"space": "cosine"}})
        stored = (self.collection.metadata or {}).get("embedder")
        if embeddings is not None and stored and stored != name:
            raise StoreError(f"{config.describe()} was built with embedder {stored!r}, not {name!r}: "
                             "use the same IURC_EMBEDDER, or re-ingest with --rebuild")
        self.embedder_name = stored or name
        self.manifest = self.client.get_or_create_collection(
            self.physical + "__manifest", embedding_function=None)
        # The read-side index (core/index.py) in metadata-only records: documents would pass
        # through Chroma's full-text index, metadata does not.
        self.index = self.client.get_or_create_collection(
            self.physical + "__index", embedding_function=None)
        # Each document's discovered names (metadata-only records, one per document).
        self.names = self.client.get_or_create_collection(
            self.physical + "__docnames", embedding_function=None)

    def _drop_set(self, physical: str) -> None:
        for suffix in SET_SUFFIXES:
            try:
                self.client.delete_collection(physical + suffix)
            except Exception:  # noqa: BLE001 - already gone: nothing to drop
                pass
        folder = self._index_folder(physical)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def _index_folder(self, physical: str | None = None) -> Path | None:
        """Where an embedded store keeps its read-side index: files beside Chroma's, one per
        generation plus a head (a 20 MB blob written as Chroma metadata took seconds per part at
        110k passages; a file takes milliseconds). None for a Chroma server or an in-memory store,
        which keep it in records of `<collection>__index`."""
        if self.config.is_server or self.config.in_memory or not self.config.store_dir:
            return None
        return Path(self.config.store_dir) / "read_index" / (physical or self.physical)

    def begin_rebuild(self) -> None:
        """Write from now on into a new, empty set of collections; readers keep the current one
        until `commit_rebuild`. Sets left by a rebuild that never finished are dropped."""
        import uuid

        current = self._current_set()
        prefix = self.config.collection + "--"
        for c in self.client.list_collections():
            name = c.name if hasattr(c, "name") else c
            if name.startswith(prefix) and not name.endswith(SET_SUFFIXES[1:]) and name != current:
                self._drop_set(name)
        self._replacing = current
        self._open(create=True, physical=f"{prefix}{uuid.uuid4().hex[:12]}")

    def commit_rebuild(self) -> None:
        """Point the store's name at the rebuilt set, then drop the set it replaced (readers
        still on it reopen: `generation` tells them)."""
        if self._replacing is None:
            return
        old, self._replacing = self._replacing, None
        self._pointer().upsert(ids=[self.POINTER_ID], embeddings=[[1.0]], metadatas=[{"name": self.physical}])
        if old != self.physical:
            self._drop_set(old)

    # --- passages -----------------------------------------------------------------------
    def add(self, chunks: list[Chunk], doc_sha256: str | list[str], vectors: list[list[float]]) -> None:
        """Store passages with the vectors the pipeline made for them (the store never embeds).
        `doc_sha256`: their document's hash, or one per passage (passages of several documents)."""
        if len(vectors) != len(chunks):
            raise StoreError(f"{len(chunks)} passages but {len(vectors)} vectors")
        shas = [doc_sha256] * len(chunks) if isinstance(doc_sha256, str) else doc_sha256
        size = BATCH if self.config.is_server else LOCAL_WRITE
        for i in range(0, len(chunks), size):
            part = chunks[i:i + size]
            rows = vectors[i:i + size]  # an array (from the embedding workers) or lists
            self.collection.upsert(ids=[c.chunk_id for c in part],
                                   embeddings=rows if hasattr(rows, "shape") else [list(v) for v in rows],
                                   metadatas=[_stored(c, sha) for c, sha in zip(part, shas[i:i + size])])

    def update_metadata(self, chunks: list[Chunk], doc_sha256: str) -> None:
        for i in range(0, len(chunks), BATCH):
            part = chunks[i:i + BATCH]
            self.collection.update(ids=[c.chunk_id for c in part],
                                   metadatas=[_stored(c, doc_sha256) for c in part])

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), BATCH):
            self.collection.delete(ids=ids[i:i + BATCH])

    def doc_chunks(self, doc: str) -> dict[str, dict]:
        """Stored chunk id -> metadata for one document."""
        got = self.collection.get(where={"doc": doc}, include=["metadatas"])
        return {cid: _unpacked(meta)[1] for cid, meta in zip(got["ids"], got["metadatas"])}

    def count(self) -> int:
        return self.collection.count()

    def query(self, vector: list[float], k: int) -> dict[str, float]:
        """The k passages nearest the vector: {chunk id: cosine similarity}, nearest first.
        StoreGone when a rebuild dropped this handle's collections (the caller reopens)."""
        try:
            got = self.collection.query(query_embeddings=[vector], n_results=k, include=["distances"])
        except Exception as exc:  # noqa: BLE001 - chromadb raises NotFoundError, HTTP errors, ...
            raise StoreGone(f"the collection went away while answering ({type(exc).__name__}); reopening") from exc
        return {cid: 1.0 - dist for cid, dist in zip(got["ids"][0], got["distances"][0])}

    def warm(self) -> bool:
        """Load the vector index now, with a placeholder query of the collection's dimension (no
        model needed), so the first question does not wait for it; False when the dimension is
        not known here (the caller then warms it with a real query)."""
        dimension = getattr(getattr(self.collection, "_model", None), "dimension", None)
        if not dimension or not self.collection.count():
            return False
        self.collection.query(query_embeddings=[[1.0] * int(dimension)], n_results=1, include=[])
        return True

    def reopen(self) -> "Store":
        """A fresh handle on the same store that sees every write made since this one opened (an
        embedded client keeps serving the vector index it loaded until its cache is cleared)."""
        if not (self.config.is_server or self.config.in_memory):  # (clearing would empty memory)
            self.client.clear_system_cache()
        return Store(self.config, self.embeddings, create=False)

    def _pages(self, include: list[str], page: int):
        """The collection's records a page at a time (store order)."""
        offset = 0
        while True:
            got = self.collection.get(include=include, limit=page, offset=offset)
            yield got
            if len(got["ids"]) < page:
                return
            offset += page

    @staticmethod
    def _rows(got) -> list[dict]:
        """{id, text, metadata}, from the packed metadata, or as a store written before kept them
        (the text as the document, the metadata's keys one by one)."""
        rows = []
        for cid, document, meta in zip(got["ids"], got["documents"], got["metadatas"]):
            text, metadata = _unpacked(meta)
            rows.append({"id": cid, "text": document if text is None else text, "metadata": metadata})
        return rows

    def iter_chunks(self, page: int = 5000):
        """Every stored passage as {id, text, metadata}, a page at a time (store order)."""
        for got in self._pages(["documents", "metadatas"], page):
            yield from self._rows(got)

    def chunk_ids(self, page: int = 50_000) -> list[str]:
        """Every stored passage's id, in store order."""
        return [cid for got in self._pages([], page) for cid in got["ids"]]

    def get_chunks(self, ids: list[str]) -> list[dict]:
        """These passages as {id, text, metadata} (ids not stored are left out)."""
        return [row for i in range(0, len(ids), BATCH)
                for row in self._rows(self.collection.get(ids=ids[i:i + BATCH], include=["documents", "metadatas"]))]

    def all_chunks(self) -> list[dict]:
        """Every stored passage as {id, text, metadata}, in document order."""
        rows = list(self.iter_chunks())
        rows.sort(key=lambda r: (r["metadata"]["doc"], r["metadata"]["char_start"], r["id"]))
        return rows

    # --- manifest -----------------------------------------------------------------------
    # Besides one record per document, the manifest holds two special records: the glossary the
    # passages were built with, and a generation id that changes with every ingest that changed
    # something, so serving processes (on any machine) know when to reload.
    GLOSSARY_ID, GENERATION_ID, NAMES_ID = "__glossary__", "__generation__", "__names__"

    def manifest_entries(self) -> dict[str, ManifestEntry]:
        """Every document's entry, without its names (they are kept in records of their own,
        read only by `document_names`: a listing stays small however many names the documents
        hold). An entry written before that still lists its names."""
        got = self.manifest.get(include=["metadatas"])
        return {m["doc"]: ManifestEntry.from_metadata(m) for m in got["metadatas"] if not m["doc"].startswith("__")}

    def document_names(self, docs: list[str]) -> dict[str, str]:
        """The names JSON of these documents' entries."""
        out: dict[str, str] = {}
        for i in range(0, len(docs), BATCH):
            got = self.names.get(ids=docs[i:i + BATCH], include=["metadatas"])
            out.update((doc, meta.get("names", "")) for doc, meta in zip(got["ids"], got["metadatas"]))
        return out

    def put_glossary(self, text: str, sha256: str, made_from: str = "") -> None:
        """The name table; `made_from`: a hash of what it was built from (curated glossary and
        every document's names), so an ingest that changes neither need not build it again."""
        self._put_record(self.GLOSSARY_ID, text, {"doc": self.GLOSSARY_ID, "sha256": sha256, "made_from": made_from})

    def glossary_made_from(self) -> str:
        got = self.manifest.get(ids=[self.GLOSSARY_ID], include=["metadatas"])
        return (got["metadatas"][0] or {}).get("made_from", "") if got["ids"] else ""

    def stored_glossary(self) -> str | None:
        got = self.manifest.get(ids=[self.GLOSSARY_ID], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def put_names(self, report_json: str) -> None:
        """How the name table was built (discovered names, links, evidence): `iurc names`."""
        self._put_record(self.NAMES_ID, report_json, {"doc": self.NAMES_ID})

    def stored_names(self) -> str | None:
        got = self.manifest.get(ids=[self.NAMES_ID], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def bump_generation(self, generation: str = "") -> str:
        import uuid

        generation = generation or uuid.uuid4().hex
        self._put_record(self.GENERATION_ID, generation, {"doc": self.GENERATION_ID, "generation": generation})
        return generation

    def generation(self) -> str:
        """The current generation; "moved" when a rebuild switched the store to another set of
        collections, "gone" when this handle's set no longer exists (both: reopen)."""
        try:
            if self._replacing is None and self._current_set() != self.physical:
                return "moved"
            got = self.manifest.get(ids=[self.GENERATION_ID], include=["metadatas"])
        except Exception:  # noqa: BLE001 - chromadb's NotFoundError and friends: the set was dropped
            return "gone"
        return got["metadatas"][0]["generation"] if got["ids"] else ""

    # --- read-side index -------------------------------------------------------------------
    INDEX_PART_CHARS = 4_000_000  # base64 characters per record: well under request limits

    def put_index(self, blob: bytes, generation: str, tokenizer: str) -> None:
        """Store the read-side index for `generation`: its parts first, then the head record
        that points at them, then the previous generation's parts are dropped."""
        import base64

        folder = self._index_folder()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            _write_atomically(folder / f"{generation}.bin", blob)
            stat = (folder / f"{generation}.bin").stat()
            head = {"generation": generation, "tokenizer": tokenizer, "parts": 1,
                    "sha256": hashlib.sha256(blob).hexdigest(), "stat": [stat.st_size, stat.st_mtime_ns]}
            _write_atomically(folder / "head.json", json.dumps(head).encode("utf-8"))
            for old in folder.glob("*.bin"):
                if old.name != f"{generation}.bin":
                    old.unlink(missing_ok=True)
            return

        text = base64.b64encode(blob).decode("ascii")
        parts = [text[i:i + self.INDEX_PART_CHARS] for i in range(0, len(text), self.INDEX_PART_CHARS)] or [""]
        old = [i for i in self.index.get(include=[])["ids"] if not i.startswith(generation + ":")]
        for n, part in enumerate(parts):
            self.index.upsert(ids=[f"{generation}:{n}"], embeddings=[[1.0]], metadatas=[{"part": part}])
        self.index.upsert(ids=["__head__"], embeddings=[[1.0]], metadatas=[{
            "generation": generation, "tokenizer": tokenizer, "parts": len(parts),
            "sha256": hashlib.sha256(blob).hexdigest()}])
        old = [i for i in old if i != "__head__"]
        for i in range(0, len(old), BATCH):
            self.index.delete(ids=old[i:i + BATCH])

    def index_intact(self) -> bool:
        """Whether the stored read-side index is whole. In files: its size and modification time
        are the ones recorded when it was written (a cheap test for an ingest that changes
        nothing; every serving process still checks its sha256 when it loads it). In records:
        its parts hash to what the head says."""
        stored = self._index_file()
        if stored is not None:
            path, head = stored
            try:
                stat = path.stat()
            except OSError:
                return False
            if head.get("stat") == [stat.st_size, stat.st_mtime_ns]:
                return True
        return self.stored_index() is not None

    def _index_file(self) -> tuple[Path, dict] | None:
        """An embedded store's current index file and its head; None for a store that keeps
        its index in records, or before any index is written."""
        folder = self._index_folder()
        if folder is None or not (folder / "head.json").is_file():
            return None
        head = self.index_head()
        return folder / f"{head.get('generation')}.bin", head

    def index_head(self) -> dict:
        """The stored read-side index's generation and tokenizer ({} when none is stored)."""
        folder = self._index_folder()
        if folder is not None and (folder / "head.json").is_file():
            try:
                return json.loads((folder / "head.json").read_text("utf-8"))
            except (OSError, ValueError):
                return {}
        head = self.index.get(ids=["__head__"], include=["metadatas"])
        return head["metadatas"][0] if head["ids"] else {}

    def stored_index(self) -> tuple[str, bytes] | None:
        """(generation, blob) of the stored read-side index; None when there is none or it is
        incomplete (an ingest replaced it while it was read: the caller builds its own)."""
        import base64

        stored = self._index_file()
        if stored is not None:
            path, meta = stored
            try:
                blob = path.read_bytes()
            except OSError:
                return None  # replaced while read: the caller builds its own
            return (meta["generation"], blob) if hashlib.sha256(blob).hexdigest() == meta.get("sha256") else None
        head = self.index.get(ids=["__head__"], include=["metadatas"])
        if not head["ids"]:
            return None
        meta = head["metadatas"][0]
        ids = [f"{meta['generation']}:{n}" for n in range(int(meta["parts"]))]
        got = self.index.get(ids=ids, include=["metadatas"])
        parts = dict(zip(got["ids"], got["metadatas"]))
        if len(parts) != len(ids):
            return None
        blob = base64.b64decode("".join(parts[i]["part"] for i in ids))
        if hashlib.sha256(blob).hexdigest() != meta["sha256"]:
            return None
        return meta["generation"], blob

    def _put_record(self, record_id: str, document: str, metadata: dict) -> None:
        # The manifest is never queried by vector: a 1-d placeholder embedding is enough.
        self.manifest.upsert(ids=[record_id], embeddings=[[1.0]], documents=[document],
                             metadatas=[metadata])

    def put_manifest(self, entry: ManifestEntry) -> None:
        self.put_manifests([entry])

    def put_manifests(self, entries: list[ManifestEntry]) -> None:
        """Entries in one call per collection. A complete entry's names are written with it (a
        pending one's are not read by anything: the names table is made from complete ones)."""
        for i in range(0, len(entries), BATCH):
            part = entries[i:i + BATCH]
            complete = [e for e in part if e.complete]
            named = [e for e in complete if e.names]
            if named:
                self.names.upsert(ids=[e.doc for e in named], embeddings=[[1.0]] * len(named),
                                  metadatas=[{"names": e.names} for e in named])
            unnamed = [e.doc for e in complete if not e.names]
            if unnamed:
                self.names.delete(ids=unnamed)
            # (None drops the key from an entry that held its names: Chroma merges metadata)
            self.manifest.upsert(ids=[e.doc for e in part], embeddings=[[1.0]] * len(part),
                                 documents=[e.doc for e in part],
                                 metadatas=[{**e.as_metadata(), "names": None} for e in part])

    def put_stats(self, stats: dict[str, str]) -> None:
        """Record documents' file size and time (`ManifestEntry.stat`), nothing else of them:
        files found unchanged by their hash after their time changed (a copy, a checkout)."""
        docs = list(stats)
        for i in range(0, len(docs), BATCH):
            part = docs[i:i + BATCH]
            self.manifest.update(ids=part, metadatas=[{"stat": stats[d]} for d in part])

    def delete_manifest(self, doc: str) -> None:
        self.manifest.delete(ids=[doc])
        self.names.delete(ids=[doc])



_LOCKS: dict[str, FileLock] = {}


def writer_lock(config: StoreConfig) -> FileLock:
    """One ingest at a time per store: a second one refuses instead of corrupting it.

    The same object is returned for the same store, so nested acquires in one process count
    up instead of blocking each other."""
    if config.is_server or config.in_memory:
        where = f"{config.chroma_host}-{config.chroma_port}" if config.is_server else \
            hashlib.sha256(f"{os.getpid()}{config.store_dir}".encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"iurc-ingest-{where}-{config.collection}.lock"
    else:
        try:
            Path(config.store_dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store directory {config.store_dir}: {exc.strerror}") from None
        path = Path(config.store_dir) / "ingest.lock"
    return _LOCKS.setdefault(str(path), FileLock(str(path), timeout=0))


def acquire(lock: FileLock, config: StoreConfig) -> None:
    try:
        lock.acquire()
    except Timeout:
        raise StoreError(f"another `iurc ingest` is writing to {config.describe()}; "
                         "wait for it to finish (lock: " + lock.lock_file + ")") from None
    except OSError as exc:
        raise StoreError(f"cannot write to {config.describe()}: {exc.strerror or exc} "
                         f"(lock file {lock.lock_file})") from None


def _write_atomically(path: Path, data: bytes) -> None:
    """A file that readers see whole or not at all (written beside, then renamed over)."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name + ".", delete=False) as handle:
        handle.write(data)
        temp = handle.name
    os.replace(temp, path)
