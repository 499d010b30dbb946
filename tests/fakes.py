"""Deterministic test doubles."""
from __future__ import annotations

import hashlib
import re
import time

import numpy as np
from langchain_core.embeddings import Embeddings

_TOKEN = re.compile(r"[A-Za-z0-9]+|[\u3040-\u30ff\u4e00-\u9fff]")


class FakeEmbeddings(Embeddings):
    """Hash-seeded unit vectors: each word (or CJK character pair) adds a fixed random vector,
    so texts sharing words are similar, and the same text always gets the same vector."""

    name = "fake-hash"

    def __init__(self, dim: int = 64, delay: float = 0.0):
        self.dim = dim
        self.delay = delay  # seconds per batch, to widen windows in crash tests
        self.calls = 0

    def _token_vector(self, token: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(token.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dim)

    def _vector(self, text: str) -> list[float]:
        tokens = _TOKEN.findall(text.lower())
        tokens += [a + b for a, b in zip(tokens, tokens[1:])]
        vec = sum((self._token_vector(t) for t in tokens), np.zeros(self.dim)) + \
            self._token_vector("\x00bias") * 1e-3
        return (vec / np.linalg.norm(vec)).tolist()

    def embed_documents(self, texts):
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        return [self._vector(t) for t in texts]

    def embed_query(self, text):
        return self._vector(text)


class RandomEmbeddings(FakeEmbeddings):
    """Ignores the text: a deliberately broken embedder for gate tests."""

    name = "random"

    def __init__(self, dim: int = 64, seed: int = 0):
        super().__init__(dim)
        self._rng = np.random.default_rng(seed)

    def _vector(self, text: str) -> list[float]:
        vec = self._rng.standard_normal(self.dim)
        return (vec / np.linalg.norm(vec)).tolist()


class WorkerFakeEmbeddings(FakeEmbeddings):
    """The fake embedder that an ingest may send to its embedding worker processes (each child
    gets a copy, so the parent's `calls` counts only what the ingesting process embedded)."""

    def for_worker(self) -> "WorkerFakeEmbeddings":
        return WorkerFakeEmbeddings(self.dim)


class _DiesInWorker(FakeEmbeddings):
    def embed_documents(self, texts):
        import os

        os._exit(3)  # the worker process ends mid-job, as a crash or a kill would


class DyingWorkerEmbeddings(FakeEmbeddings):
    """Its workers die at their first job: the ingest must embed those batches itself."""

    def for_worker(self) -> _DiesInWorker:
        return _DiesInWorker(self.dim)
