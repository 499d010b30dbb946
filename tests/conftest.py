"""Shared fixtures: network blocked, fake embedder, temporary stores."""
from __future__ import annotations

import ipaddress
import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CORPUS = ROOT / "corpus"
GLOSSARY = CORPUS / "glossary.csv"
OUTPUT = Path(__file__).resolve().parent / "output"

os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class NetworkBlocked(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def block_network(monkeypatch):
    """Only loopback and Unix sockets: anything that tries to reach the internet fails loudly."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(self, address):
        if not _is_local(address):
            raise NetworkBlocked(f"network access blocked in tests: {address!r}")
        return real_connect(self, address)

    def guarded_ex(self, address):
        if not _is_local(address):
            raise NetworkBlocked(f"network access blocked in tests: {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)
    yield


@pytest.fixture
def glossary():
    from core.glossary import load_glossary

    return load_glossary(GLOSSARY)


@pytest.fixture
def fake_embeddings():
    from tests.fakes import FakeEmbeddings

    return FakeEmbeddings()


@pytest.fixture
def store_config(tmp_path):
    """An in-memory store of this test's own (tests that need files on disk build their own)."""
    from core.store import StoreConfig

    return StoreConfig.from_url(f"memory://{tmp_path}")


@pytest.fixture
def fake_store(store_config, fake_embeddings):
    """The unit tests' store, reached as every caller reaches a store: through the factory."""
    from core.store import open_store

    return open_store(store_config, fake_embeddings)


@pytest.fixture(scope="session")
def venv_bin() -> Path:
    return Path(sys.executable).parent


def iurc_env(**extra) -> dict:
    env = dict(os.environ)
    env.update({"ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False",
                "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)})
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture(scope="session")
def corpus_assistant_fake(tmp_path_factory):
    """The corpus in a real Chroma store with the fake embedder, and an Assistant over it."""
    from app.answering.service import Assistant
    from core.glossary import load_glossary
    from ingest.pipeline import ingest
    from core.store import StoreConfig, open_store
    from tests.fakes import FakeEmbeddings

    config = StoreConfig.from_url(str(tmp_path_factory.mktemp("fake_store")))
    emb = FakeEmbeddings()
    ingest([str(CORPUS)], open_store(config, emb), load_glossary(GLOSSARY), progress=False)
    # The abstention threshold is calibrated for the real embedder; hash vectors score lower.
    return Assistant(config, emb, load_glossary(GLOSSARY), min_sentence=0.05)


@pytest.fixture(scope="session")
def corpus_assistant(tmp_path_factory):
    """The corpus with the real multilingual embedder."""
    from app.answering.service import Assistant
    from core.embed import USEEmbeddings
    from core.glossary import load_glossary
    from ingest.pipeline import ingest
    from core.store import Store, StoreConfig

    config = StoreConfig(str(tmp_path_factory.mktemp("use_store")), "", 8000, "iurc")
    emb = USEEmbeddings()
    ingest([str(CORPUS)], Store(config, emb), load_glossary(GLOSSARY), progress=False)
    return Assistant(config, emb, load_glossary(GLOSSARY))


def check_citations(result: dict) -> None:
    """Every [n] resolves to a citation and every quote is a verbatim span of its passage."""
    import re

    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", result["answer"])}
    listed = {c["n"] for c in result["citations"]}
    assert numbers == listed, (numbers, listed)
    for c in result["citations"]:
        assert c["quote"] and c["quote"] in c["text"], c
