"""The assistant's retrieval as a LangChain retriever: hybrid dense + BM25 search that knows the
programme's names in both scripts, returning LangChain `Document`s, so a LangChain application
(a chain, an agent) can use it like any other retriever.

    from app.answering.retriever_lc import AssistantRetriever
    from app.answering.service import Assistant
    retriever = AssistantRetriever(assistant=Assistant(), k=5)
    docs = retriever.invoke("What did Kamakura and Umeå work on?")
"""
from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever


class AssistantRetriever(BaseRetriever):
    """Passages for a question (English or Japanese), best first. Metadata: doc, location,
    section, language, kind, score (the fused rank score), dense (cosine similarity)."""

    assistant: Any
    k: int = 5
    history: list[str] = []

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.assistant.search(query, self.history, self.k)
        return [Document(page_content=h.passage.text, id=h.passage.chunk_id,
                         metadata={"doc": h.passage.doc, "location": h.passage.location,
                                   "section": h.passage.section, "language": h.passage.language,
                                   "kind": h.passage.kind, "score": round(h.fused, 6),
                                   "dense": round(h.dense, 4)})
                for h in hits]
