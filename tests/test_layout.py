"""The layout tells the truth (issue 26): the import contracts in .importlinter hold and can
fail; no caller constructs a concrete store; nothing outside the format plug-ins names a format."""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LINT = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--config", str(root / ".importlinter"), "--no-cache"], cwd=root,
                          capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin",
                                                                             "PYTHONPATH": str(root)})


def test_the_import_contracts_hold():
    run = _lint(ROOT)
    assert run.returncode == 0 and "0 broken" in run.stdout, run.stdout + run.stderr


def test_the_import_contracts_fail_on_a_forbidden_import(tmp_path):
    """The same contracts over a copy of the code in which the assistant imports the evaluation
    inside a function (the kind of import that hid the cycle before), ingest imports app, the
    core imports a write-side stage and the assistant reaches into one."""
    for package in ("core", "ingest", "app", "eval", "bench"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "corpus"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    with open(tmp_path / "app" / "answering" / "answer.py", "a", encoding="utf-8") as handle:
        handle.write("\n\ndef _sneaky():\n    from eval import runner\n    return runner\n")
    with open(tmp_path / "ingest" / "chunk.py", "a", encoding="utf-8") as handle:
        handle.write("\n\ndef _sneaky():\n    import app.web.render\n    return app.web.render\n")
    with open(tmp_path / "core" / "lexical.py", "a", encoding="utf-8") as handle:
        handle.write("\n\ndef _sneaky():\n    from ingest import structure\n    return structure\n")
    with open(tmp_path / "app" / "answering" / "question.py", "a", encoding="utf-8") as handle:
        handle.write("\n\ndef _sneaky():\n    from ingest.clean import clean\n    return clean\n")
    run = _lint(tmp_path)
    assert run.returncode != 0 and "4 broken" in run.stdout, run.stdout + run.stderr
    for edge in ("app.answering.answer -> eval.runner", "ingest.chunk -> app.web.render",
                 "core.lexical -> ingest.structure", "app.answering.question -> ingest.clean"):
        assert edge in run.stdout, (edge, run.stdout)


def _python_files(*folders: str):
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_no_caller_constructs_a_concrete_store():
    """The CLI, the service, the evaluation and the benchmarks get a store from `open_store`
    (core/store.py), so another store is one branch there."""
    found = []
    for path in _python_files("app", "eval", "bench", "ingest", "core"):
        if path == ROOT / "core" / "store.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Store":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_no_module_outside_the_plug_ins_names_a_format():
    """Format names and file endings ("pptx", ".pdf") appear only in core/formats/: the rest
    reads the registry (an ending inside an f-string, such as an export's file name, is not a
    format check)."""
    from core.formats import FORMATS

    words = {f.name for f in FORMATS} | {e for f in FORMATS for e in f.extensions}
    found = []
    for path in _python_files("app", "ingest", "core"):
        if path.is_relative_to(ROOT / "core" / "formats"):
            continue
        tree = ast.parse(path.read_text("utf-8"))
        in_fstrings = {id(c) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for c in node.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in words \
                    and id(node) not in in_fstrings:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert found == []


def test_the_calibrated_weights_live_in_one_profile(tmp_path, monkeypatch):
    """eval/profile.yaml is read once into a typed Profile; the answering modules' weights and
    the threshold settings' defaults are its values; a broken profile is a clear error."""
    import yaml

    from app.answering import answer, generate, retrieve
    from core import profile, settings

    loaded = profile.load()
    data = yaml.safe_load((ROOT / "eval" / "profile.yaml").read_text("utf-8"))
    assert loaded.bound_bonus == data["answer"]["bound_bonus"] == answer.BOUND_BONUS
    assert loaded.rrf_k == retrieve.RRF_K and loaded.min_support == generate.MIN_SUPPORT
    assert settings.SETTINGS["min_sentence_score"].default == data["thresholds"]["min_sentence_score"]
    broken = tmp_path / "profile.yaml"
    broken.write_text("answer:\n  bound_bonus: lots\n", "utf-8")
    import pytest

    with pytest.raises(profile.ProfileError, match="missing"):
        profile.load(str(broken))
    data["answer"]["bound_bonus"] = "lots"
    broken.write_text(yaml.safe_dump(data), "utf-8")
    with pytest.raises(profile.ProfileError, match="bound_bonus must be a number"):
        profile.load(str(broken))
