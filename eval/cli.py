"""The evaluation's commands, `iurc eval` and `iurc feedback export`: declared under the
"iurc.commands" entry point (pyproject.toml), so `iurc` offers them while the assistant
(app/) never imports the evaluation."""
from __future__ import annotations

import json
import sys

import click

from app.cli import _config, _fail, store_options
from core import settings


@click.command(name="eval")
@click.option("--runs", "runs_path", default="eval/runs.yaml", show_default=True,
              type=click.Path(exists=True, dir_okay=False), help="The runs: set, corpus and glossary of each.")
@click.option("--run", "run_names", multiple=True, help="Only this run (repeatable); default: every run.")
@click.option("--set", "set_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Instead of the runs: this set against the store given by --store/--chroma-host "
                   "(naming a store alone implies --set eval/questions.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Print summaries, per-kind and per-case scores as JSON.")
@click.option("--report", "report_dir", default="eval/report", show_default=True,
              help="Folder for report.md and metrics_by_run.png.")
@click.option("--corpus", "corpus", multiple=True, default=["corpus"], show_default=True,
              help="With --set: what the naive baseline indexes (repeatable).")
@click.option("--no-baseline", is_flag=True, help="Score ours only.")
@click.option("--gate", is_flag=True, help="Exit 1 when a metric falls below eval/thresholds.yaml.")
@click.option("--thresholds", default="eval/thresholds.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="Minimum (and maximum latency) per metric, run and split.")
@click.option("--eval-stores", default=".iurc/eval", show_default=True,
              help="Where each run keeps its store (re-runs are incremental).")
@store_options
def evaluate(runs_path, run_names, set_path, as_json, report_dir, corpus, no_baseline, gate, thresholds,
             eval_stores, store_dir, chroma_host, chroma_port):
    """Score the assistant and the naive baseline: the seed split, the unseen split, and the
    unseen split with the glossary reduced to its header (eval/runs.yaml).

    \b
    The unseen split needs its documents built first: python -m eval.build_corpus
    Examples:
      iurc eval                                   every run, report in eval/report/
      iurc eval --gate                            also fail when below eval/thresholds.yaml
      iurc eval --run unseen --no-baseline --json > scores.json
      iurc eval --set eval/questions.yaml --store .iurc/store     one set against one store
    """
    from pathlib import Path

    from eval import runner
    from core.embed import EmbedderError, make_embedder
    from core.glossary import GlossaryError
    from core.store import StoreError

    from app.answering.service import Assistant

    def log(message):
        click.echo(message, err=True)

    if set_path is None and (store_dir or chroma_host):
        set_path = "eval/questions.yaml"  # a store was named: score the seed set against it
    try:
        furniture = runner.load_furniture("eval/corpus/furniture.json")
        if set_path:
            name = run_names[0] if run_names else "seed"
            assistant = Assistant(_config(store_dir, chroma_host, chroma_port))
            out = runner.evaluate(assistant, runner.load_cases(set_path), None if no_baseline else list(corpus),
                                  furniture=furniture)
            results = [runner.RunResult(runner.Run(name, set_path, list(corpus), "(stored with the collection)"),
                                        out["ours"], out["baseline"])]
        else:
            runs = runner.load_runs(runs_path)
            unknown = set(run_names) - {r.name for r in runs}
            if unknown:
                _fail(f"no run named {', '.join(sorted(unknown))} in {runs_path}; runs: "
                      + ", ".join(r.name for r in runs))
            embeddings, cache, results = make_embedder(), {}, []
            for run in runs:
                if not run_names or run.name in run_names:
                    log(f"run {run.name}: {run.set_path}")
                    results.append(runner.execute_run(run, Path(eval_stores), embeddings, furniture,
                                                      not no_baseline, cache, log))
    except (runner.EvalSetError, StoreError, EmbedderError, GlossaryError, settings.SettingError) as exc:
        _fail(str(exc))
    report = runner.write_report(results, report_dir)
    if as_json:
        click.echo(json.dumps(runner.as_json(results), ensure_ascii=False, indent=1))
    else:
        click.echo(runner.runs_table(results))
        click.echo(f"report: {report}  chart: {report.parent / 'metrics_by_run.png'}")
    if gate:
        failures = runner.gate_results(results, thresholds)
        for failure in failures:
            click.echo(f"gate: {failure}", err=True)
        if failures:
            sys.exit(1)
        click.echo(f"gate: all metrics at or above {thresholds}", err=True)


@click.group()
def feedback():
    """Feedback given in the chat UI."""


@feedback.command(name="export")
@click.option("--file", "feedback_file", default=None, help="Feedback JSONL [env IURC_FEEDBACK_FILE].")
@click.option("--out", default="-", show_default=True, help="Where to write the YAML draft cases.")
def feedback_export(feedback_file, out):
    """Turn chat feedback into draft cases for eval/questions.yaml (review before adding)."""
    from eval.drafts import drafts_from_feedback

    path = settings.get("feedback_file", feedback_file)
    try:
        text, count = drafts_from_feedback(path)
    except FileNotFoundError:
        _fail(f"no feedback file at {path}")
    if out == "-":
        click.echo(text, nl=False)
    else:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
    click.echo(f"{count} draft cases", err=True)
