"""Run one ingest with the deterministic fake embedder (for crash and lock tests).

usage: python fake_ingest.py STORE_DIR DELAY_SECONDS PATH...
Prints "embedding" before each embedding batch, markers around every store write
("add:start", "manifest:complete:end", ...: a batch of documents' entries per manifest write), and the report's summary at the end.
"""
import os
import sys
from pathlib import Path

# One document per write batch, so a kill can land inside every phase of each document's write.
os.environ.setdefault("IURC_WRITE_BATCH", "1")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core.glossary import load_glossary  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402
from core.store import Store, StoreConfig, StoreError  # noqa: E402
from tests.fakes import FakeEmbeddings  # noqa: E402


class LoudFakeEmbeddings(FakeEmbeddings):
    def embed_documents(self, texts):
        print("embedding", flush=True)
        return super().embed_documents(texts)


def _announce(name: str, method):
    """Print a marker before and after a store write, so a test can kill inside a phase."""
    def wrapper(self, *args, **kwargs):
        phase = f"{name}:{args[0][0].status}" if name == "manifest" else name
        print(f"{phase}:start", flush=True)
        result = method(self, *args, **kwargs)
        print(f"{phase}:end", flush=True)
        return result
    return wrapper


for _name, _attr in (("add", "add"), ("delete", "delete"), ("manifest", "put_manifests")):
    setattr(Store, _attr, _announce(_name, getattr(Store, _attr)))


def main() -> int:
    store_dir, delay, *paths = sys.argv[1:]
    try:
        store = Store(StoreConfig(store_dir, "", 8000, "iurc"), LoudFakeEmbeddings(delay=float(delay)))
        report = ingest(paths, store, load_glossary(ROOT / "corpus/glossary.csv"), progress=False)
    except StoreError as exc:
        print(f"error: {exc}", flush=True)
        return 2
    print(report.summary(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
