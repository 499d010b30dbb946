"""What the assistant returns for one question, typed (`Assistant.answer`). `as_dict()` is the
`iurc ask --json` object, the JSON API's response and the evaluation's input: its keys are a
contract (README, "Answers as JSON")."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class CitedPassage:
    """One numbered source of the answer: the passage and the exact span quoted from it."""

    n: int
    doc: str
    location: str
    text: str  # the whole passage
    quote: str  # verbatim from `text`
    score: float
    language: str = ""  # of the passage: ja, en or mixed


@dataclass(frozen=True)
class RelatedPassage:
    """A passage shown as related (the closest ones, also when the answer abstains)."""

    doc: str
    location: str
    text: str
    score: float  # dense similarity to the question
    language: str = ""


@dataclass(frozen=True)
class Timings:
    retrieve: float  # milliseconds
    answer: float
    total: float


@dataclass
class AskResult:
    question: str
    answer: str
    language: str  # of the answer: the asker's
    abstained: bool
    citations: list[CitedPassage]
    related: list[RelatedPassage]
    timings_ms: Timings
    answer_kind: str = "abstained"  # extractive, facts, abstained, generated
    evidence: float = 0.0
    entities: list[str] = field(default_factory=list)  # name-table entities the question names
    error: str = ""  # why the question could not be asked (too long, empty, ...)
    retrieved: list[RelatedPassage] | None = None  # the retriever's ranking (evaluation only)

    def as_dict(self) -> dict:
        out = asdict(self)
        if not self.error:
            del out["error"]
        if self.retrieved is None:
            del out["retrieved"]
        else:
            out["retrieved"] = [{k: r[k] for k in ("doc", "location", "text")} for r in out["retrieved"]]
        return out
