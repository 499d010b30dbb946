"""Plain dataclasses passed between the ingest stages."""
from __future__ import annotations

import hashlib

from dataclasses import dataclass, field


@dataclass
class SourceDoc:
    """A loaded file: decoded text plus where it came from."""

    path: str  # file system path it was read from
    doc: str  # stable document name used in ids and citations
    text: str  # decoded text; pages separated by "\f"
    sha256: str  # of the file bytes
    encoding: str
    format: str  # txt, md, pdf, docx, html


@dataclass
class CleanLine:
    """One logical line after rejoining lines broken by extraction."""

    text: str
    first_line: int  # 1-based source line numbers
    last_line: int
    page: int  # 1-based page or slide; 0 when the format has none
    blank_before: int  # blank source lines before it
    indented: bool  # the source line started with white space
    start: int = 0  # character offsets into CleanDoc.text
    end: int = 0


@dataclass
class CleanDoc:
    source: SourceDoc
    lines: list[CleanLine]
    text: str


@dataclass
class TableRow:
    """A table row recovered from flattened text, kept as a record (a fact)."""

    table: str  # table title
    columns: list[str]
    values: dict[str, str]
    group: str  # the group label the row sits under, e.g. "1st batch 2017-"
    start_year: str  # first year found in the group label, "" if none
    entities: list[str]  # glossary entity ids found in the row's cells

    @property
    def cell_text(self) -> str:
        """The row's cells, in order: what names are looked for in."""
        return " | ".join(self.values.values())

    @classmethod
    def from_record(cls, record: dict) -> "TableRow":
        """The row stored with a passage (its JSON record), typed again for the read side."""
        return cls(table=record.get("table", ""), columns=list(record.get("columns", [])),
                   values=dict(record.get("values", {})), group=record.get("group", ""),
                   start_year=record.get("start_year", ""), entities=list(record.get("entities", [])))

    def as_record(self) -> dict:
        return {
            "table": self.table,
            "columns": self.columns,
            "values": self.values,
            "group": self.group,
            "start_year": self.start_year,
            "entities": self.entities,
        }


@dataclass
class Block:
    """A heading, a paragraph run or a table row, with the lines it spans."""

    kind: str  # "heading", "text" or "table_row"
    section: str
    lines: list[CleanLine]
    row: TableRow | None = None

    @property
    def start(self) -> int:
        return self.lines[0].start

    @property
    def end(self) -> int:
        return self.lines[-1].end


@dataclass
class StructuredDoc:
    clean: CleanDoc
    blocks: list[Block] = field(default_factory=list)

    @property
    def rows(self) -> list[TableRow]:
        return [b.row for b in self.blocks if b.row is not None]


@dataclass
class Chunk:
    """One stored passage."""

    chunk_id: str
    doc: str
    location: str
    section: str
    language: str  # ja, en or mixed
    kind: str  # "text" or "table_row"
    text: str
    char_start: int  # offsets into the cleaned document text
    char_end: int
    line_start: int
    line_end: int
    page: int
    record: dict | None = None


@dataclass(slots=True)
class Passage:
    """A stored passage as the read side holds it: what retrieval, answers and citations use."""

    chunk_id: str
    doc: str
    location: str
    section: str
    language: str
    kind: str
    text: str
    record: TableRow | None  # the table row a passage is, typed
    entities: frozenset[str] = frozenset()  # name-table entities the passage names


@dataclass(frozen=True)
class ManifestEntry:
    """The document registry's record of one ingested document (written "pending" before its
    passages, "complete" after them)."""
    doc: str
    path: str = ""
    sha256: str = ""
    fingerprint: str = ""  # glossary, chunk size and embedder the passages were made with
    format: str = ""
    encoding: str = ""
    chunk_count: int = 0
    language: str = ""  # a language code (core/languages.py) or "mixed"
    status: str = "pending"
    ingested_at: str = ""  # ISO 8601, UTC
    names: str = ""  # JSON: the names discovered in it (left empty by a registry listing)
    names_sha: str = ""  # sha256 of `names` ("" for none): what a listing tells them by
    stat: str = ""  # "size:mtime_ns" of the file as read ("" when it was being written then)

    def __post_init__(self):
        if self.names and not self.names_sha:
            object.__setattr__(self, "names_sha", hashlib.sha256(self.names.encode("utf-8")).hexdigest())

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def as_metadata(self) -> dict:
        """Scalar values only, as a store keeps them."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    @classmethod
    def from_metadata(cls, metadata: dict) -> "ManifestEntry":
        """From a stored record (keys it does not know are ignored; missing ones take defaults)."""
        known = {k: v for k, v in metadata.items() if k in cls.__dataclass_fields__}
        if "chunk_count" in known:
            known["chunk_count"] = int(known["chunk_count"] or 0)
        return cls(**known)
