"""The naive baseline that the evaluation and every benchmark compare against:
the default RecursiveCharacterTextSplitter (chunk 400), the same embedder, Chroma top-4,
answer = the top chunk, never abstains.

It loads files the way a first LangChain pipeline does, with its own loaders and none of ours:
text and Markdown decoded as they are (UTF-8, else cp932, else EUC-JP); PDF as pypdf's text
of each page (PyPDFLoader); DOCX as its paragraphs then its table cells (Docx2txt-like); HTML as
the whole page's text from BeautifulSoup (BSHTMLLoader); PPTX as the text of every shape, table
cell and speaker note of each slide (python-pptx, as UnstructuredPowerPointLoader gives it)."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

from langchain_text_splitters import RecursiveCharacterTextSplitter

from core import settings
from core.formats import SUPPORTED, for_name, read_file
from ingest.pipeline import IngestReport, discover


def naive_text(path: Path) -> str:
    """A first pipeline's text of a file: each format plug-in's plain extraction (pypdf for PDF,
    all paragraphs then all cells for Word, shape text for slides, get_text for HTML), no
    structure."""
    data = read_file(path, settings.get("max_file_bytes"))  # the same size limit as ours
    return for_name(path.name).naive(data)


# What the naive loaders read: every format we read.
NAIVE_FORMATS = frozenset(SUPPORTED)


def naive_files(paths: list[str]) -> list[tuple[Path, str]]:
    """Every file under the paths that the naive loaders read, named as our ingest names them."""
    files, _ = discover(paths, IngestReport(), warn=lambda message: None, supported=NAIVE_FORMATS)
    return [(f.path, f.doc) for f in files]


class NaivePipeline:
    def __init__(self, paths: list[str], embeddings, persist_dir: str, chunk_size: int = 400, k: int = 4):
        import chromadb
        from chromadb.config import Settings
        from langchain_chroma import Chroma

        self.k = k
        client = chromadb.PersistentClient(path=persist_dir, settings=Settings(anonymized_telemetry=False))
        self.store = Chroma(client=client, collection_name="naive", embedding_function=embeddings,
                            collection_configuration={"hnsw": {"space": "cosine"}})
        splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size)
        texts, metadatas, ids = [], [], []
        for path, doc in naive_files(paths):  # the same files and document names as ours
            try:
                text = naive_text(path)
            except Exception:  # a naive pipeline skips what its loader cannot read
                continue
            for n, piece in enumerate(splitter.split_text(text)):
                texts.append(piece)
                metadatas.append({"doc": doc, "location": f"chunk {n + 1}"})
                ids.append(hashlib.sha256(f"{doc}\n{n}\n{piece}".encode()).hexdigest())
        started = time.perf_counter()
        for i in range(0, len(texts), 256):
            self.store.add_texts(texts[i:i + 256], metadatas[i:i + 256], ids=ids[i:i + 256])
        self.ingest_seconds = time.perf_counter() - started
        self.size = len(texts)

    def ask(self, question: str, history=None) -> dict:
        started = time.perf_counter()
        hits = self.store.similarity_search_with_relevance_scores(question, k=self.k)
        done = time.perf_counter()
        citations = [{"n": i + 1, "doc": d.metadata["doc"], "location": d.metadata["location"],
                      "text": d.page_content, "quote": d.page_content, "score": round(s, 4)}
                     for i, (d, s) in enumerate(hits)]
        answer = (hits[0][0].page_content + " [1]") if hits else ""
        return {"question": question, "answer": answer, "language": "en", "abstained": False,
                "citations": citations[:1], "retrieved": citations,
                "timings_ms": {"retrieve": (done - started) * 1000, "answer": 0.0,
                               "total": (done - started) * 1000}}
