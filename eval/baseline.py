"""The naive baseline that the evaluation and every benchmark compare against:
the default RecursiveCharacterTextSplitter (chunk 400), the same embedder, Chroma top-4,
answer = the top chunk, never abstains."""
from __future__ import annotations

import hashlib
import time

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.load import LoadError, load
from ingest.pipeline import IngestReport, discover


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
        files, _ = discover(paths, IngestReport(), warn=lambda message: None)
        for found in files:  # the same files and document names as ours
            try:
                doc = load(found.path, found.doc, 20_000_000)
            except LoadError:
                continue
            for n, piece in enumerate(splitter.split_text(doc.text)):
                texts.append(piece)
                metadatas.append({"doc": doc.doc, "location": f"chunk {n + 1}"})
                ids.append(hashlib.sha256(f"{doc.doc}\n{n}\n{piece}".encode()).hexdigest())
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

