"""The `iurc` command line. Heavy libraries are imported inside commands to keep start-up fast."""
from __future__ import annotations

import json
import sys

import click

from core import settings


def store_options(func):
    """--store / --chroma-host / --chroma-port, accepted by every command."""
    func = click.option("--chroma-port", type=int, default=None, envvar="IURC_CHROMA_PORT",
                        help="Chroma server port [env IURC_CHROMA_PORT, default 8000].")(func)
    func = click.option("--chroma-host", default=None, envvar="IURC_CHROMA_HOST",
                        help="Use a Chroma server instead of the embedded store [env IURC_CHROMA_HOST].")(func)
    func = click.option("--store", "store_dir", default=None, envvar="IURC_STORE",
                        help="The store: a folder (embedded), chroma+http://host:port or memory://name "
                             "[env IURC_STORE, default .iurc/store].")(func)
    return func


def _config(store_dir, chroma_host, chroma_port):
    from core.store import StoreConfig

    return StoreConfig.from_settings(store_dir, chroma_host, chroma_port)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


class _Commands(click.Group):
    """The `iurc` commands: this module's, and those other packages declare under the
    "iurc.commands" entry point (the evaluation's `iurc eval` and `iurc feedback`, eval/cli.py),
    imported only when named, so the assistant never imports them."""

    def _plugins(self) -> dict:
        from importlib.metadata import entry_points

        return {ep.name: ep for ep in entry_points(group="iurc.commands")}

    def list_commands(self, ctx) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugins()))

    def get_command(self, ctx, name: str):
        found = super().get_command(ctx, name)
        if found is None and name in self._plugins():
            found = self._plugins()[name].load()
        return found


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """IURC programme assistant: bilingual (Japanese + English) answers with citations.

    \b
    Examples:
      iurc ingest corpus/                 index the corpus (incremental)
      iurc chunks --json                  inspect what is stored
      iurc settings                       list every setting and its IURC_* variable
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--rebuild", is_flag=True, help="Drop the store's passages and start over.")
@click.option("--glossary", default=None, help="Glossary CSV [env IURC_GLOSSARY].")
@click.option("--json", "as_json", is_flag=True, help="Print the counts and every file's outcome as JSON.")
@store_options
def ingest(paths, rebuild, glossary, as_json, store_dir, chroma_host, chroma_port):
    """Index files or folders (every format in core/formats/) into the store.

    \b
    Unchanged files are skipped without embedding; changed ones are replaced; files gone from
    an ingested folder are deleted. A file that cannot be indexed (unsupported type, unreadable,
    empty) counts as failed, with its reason on stderr, and ingest carries on.
    Examples:
      iurc ingest corpus/
      iurc ingest reports/ minutes.docx --store /data/iurc
      iurc ingest corpus/ --chroma-host 127.0.0.1 --chroma-port 8000
    """
    from core.embed import EmbedderError, make_embedder
    from core.glossary import GlossaryError, curated_glossary
    from ingest.pipeline import ingest as run_ingest
    from core.store import StoreError, acquire, open_store, writer_lock

    paths = list(paths) or ["corpus"]
    try:
        gloss, messages = curated_glossary(glossary, paths)
        for message in messages:
            click.echo(f"glossary: {message}", err=True)
        config = _config(store_dir, chroma_host, chroma_port)
        lock = writer_lock(config)
        acquire(lock, config)  # before opening: a running ingest may be creating the store
        try:
            store = open_store(config, make_embedder())
            report = run_ingest(paths, store, gloss, rebuild=rebuild)
        finally:
            lock.release()
    except (StoreError, EmbedderError, GlossaryError, settings.SettingError) as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps({"added": report.added, "updated": report.updated, "skipped": report.skipped,
                               "deleted": report.deleted, "failed": report.failed,
                               "seconds": round(report.seconds, 3), "files": report.files},
                              ensure_ascii=False, indent=1))
    else:
        click.echo(report.summary())
    click.echo(f"ingest work took {report.seconds:.2f} s", err=True)
    sys.exit(1 if report.failed and not (report.added or report.skipped or report.updated) else 0)


@main.command()
@click.argument("docs", nargs=-1, required=True)
@click.option("--glossary", default=None, help="Glossary CSV [env IURC_GLOSSARY].")
@store_options
def remove(docs, glossary, store_dir, chroma_host, chroma_port):
    """Take documents out of the index by their stored names (as `iurc chunks` and the Documents
    view list them): their passages, then the name table and the read-side index. Files are
    left alone: delete a file too, or the next ingest of its folder adds it again.

    \b
    Example:
      iurc remove corpus/uploads/minutes.docx
    """
    from core.glossary import GlossaryError, curated_glossary
    from ingest.pipeline import remove as run_remove
    from core.store import StoreError, open_store

    try:
        gloss, _ = curated_glossary(glossary, [])
        store = open_store(_config(store_dir, chroma_host, chroma_port), None, create=False)
        report = run_remove(list(docs), store, gloss)
    except (StoreError, GlossaryError, settings.SettingError) as exc:
        _fail(str(exc))
    for f in report.files:
        click.echo(f"{f['doc']}: " + (f"removed ({f['passages']} passages)" if f["status"] == "removed"
                                       else f"not removed: {f['reason']}"))
    sys.exit(1 if report.failed else 0)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array of passages.")
@click.option("--doc", default=None, help="Only passages of this document.")
@store_options
def chunks(as_json, doc, store_dir, chroma_host, chroma_port):
    """List stored passages (id, document, location, language, text)."""
    from core.store import StoreError, open_store

    try:
        store = open_store(_config(store_dir, chroma_host, chroma_port), None, create=False)
        rows = store.all_chunks()
    except (StoreError, settings.SettingError) as exc:
        _fail(str(exc))
    items = []
    for row in rows:
        meta = row["metadata"]
        if doc and meta["doc"] != doc:
            continue
        item = {"id": row["id"], "document": meta["doc"], "location": meta["location"],
                "section": meta["section"], "language": meta["language"], "kind": meta["kind"],
                "text": row["text"]}
        if meta.get("record"):
            item["record"] = json.loads(meta["record"])
        items.append(item)
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=1))
        return
    for item in items:
        click.echo(f"{item['id'][:12]}  {item['document']}  [{item['location']}]  {item['language']}")
        click.echo("    " + item["text"].replace("\n", "\n    "))


@main.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as one JSON object.")
@click.option("-k", "top_k", type=int, default=None, help="Passages retrieved [env IURC_TOP_K, default 5].")
@click.option("--batch", "batch_file", type=click.Path(exists=True, dir_okay=False),
              help='JSONL file, one {"id", "question", "history"?} per line; one answer per line.')
@store_options
def ask(question, as_json, top_k, batch_file, store_dir, chroma_host, chroma_port):
    """Answer a question (English or Japanese) with citations to the source passages.

    \b
    Examples:
      iurc ask "What did Kamakura and Umeå work on?"
      iurc ask "トヨタとグルノーブルの協力テーマは?" --json
      iurc ask --batch questions.jsonl --json > answers.jsonl
    """
    from core.store import StoreError

    from app.answering.service import Assistant

    if not question and not batch_file:
        _fail("give a QUESTION or --batch FILE")
    try:
        assistant = Assistant(_config(store_dir, chroma_host, chroma_port))
    except (StoreError, settings.SettingError) as exc:
        _fail(str(exc))
    if batch_file:
        with open(batch_file, encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    if len(line) > settings.get("max_body_bytes"):
                        raise ValueError(f"{len(line)} characters > IURC_MAX_BODY_BYTES")
                    item = json.loads(line)
                    result = assistant.ask(item["question"], item.get("history") or [], top_k)
                    result = {"id": item.get("id", line_no), **result}
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    result = {"id": line_no, "error": f"line {line_no}: not a {{\"id\", \"question\"}} "
                              f"object ({exc})"}
                click.echo(json.dumps(result, ensure_ascii=False))
        return
    result = assistant.ask(question, [], top_k)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    click.echo(result["answer"])
    for c in result["citations"]:
        click.echo(f"[{c['n']}] {c['doc']} · {c['location']}")
    if result["abstained"] and result["related"]:
        click.echo("related:")
        for r in result["related"]:
            click.echo(f"  - {r['doc']} · {r['location']}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=7860, show_default=True, type=int, help="Port.")
@store_options
def serve(host, port, store_dir, chroma_host, chroma_port):
    """Start the chat UI (and the /ask API for gradio_client).

    \b
    Examples:
      iurc serve                                  http://127.0.0.1:7860
      IURC_AUTH=staff:secret iurc serve --port 8080
    """
    from core.store import StoreError

    from app.answering.service import Assistant

    import threading

    # The assistant starts in a thread while this one imports the web UI: Gradio's import is
    # Python, the model's and the store's loads are mostly native code, so they overlap.
    made: dict = {}

    def start() -> None:
        try:
            made["assistant"] = Assistant(_config(store_dir, chroma_host, chroma_port))
        except BaseException as exc:  # noqa: BLE001 - raised again below, in this thread
            made["error"] = exc

    starting = threading.Thread(target=start, name="assistant-start", daemon=True)
    starting.start()
    try:
        from app.web.ui import serve as run_server

        starting.join()
        if "error" in made:
            raise made["error"]
        assistant = made["assistant"]
        assistant.watch()  # reloads when an ingest from any process changed the store
        run_server(assistant, host, port)
    except (StoreError, settings.SettingError) as exc:
        _fail(str(exc))


@main.command("chroma-guard")
@click.option("--listen", default="127.0.0.1:8001", show_default=True, help="host:port the app processes reach.")
@click.option("--upstream", default="127.0.0.1:8000", show_default=True,
              help="host:port of `chroma run` (keep it on loopback).")
def chroma_guard(listen, upstream):
    """Put a token check (IURC_CHROMA_TOKEN) in front of a Chroma server, which has none itself.

    \b
    Examples:
      chroma run --path /data/chroma --host 127.0.0.1 --port 8000
      IURC_CHROMA_TOKEN=$(cat /etc/iurc/chroma.token) iurc chroma-guard --listen 10.0.0.5:8001
    """
    from core import chroma_guard as guard

    token = settings.get("chroma_token")
    if len(token) < 16:
        _fail("set IURC_CHROMA_TOKEN (at least 16 characters) for the guard and for every app process")
    guard.serve(listen, upstream, token)


@main.command()
@click.option("--unknown", is_flag=True, help="Only names the curated glossary does not list.")
@click.option("--json", "as_json", is_flag=True, help="Every name as JSON: forms, kind, documents, link.")
@click.option("--suggest", is_flag=True, help="CSV rows (glossary columns) to review and paste into corpus/glossary.csv.")
@store_options
def names(unknown, as_json, suggest, store_dir, chroma_host, chroma_port):
    """The names found in the documents: their forms in both scripts, where they occur and how
    they were linked (the name table stored with the collection at ingest).

    \b
    Examples:
      iurc names                 every name, one line each
      iurc names --unknown       names nobody has put in corpus/glossary.csv
      iurc names --suggest > suggested.csv
    """
    from core.glossary import NAME_COLUMN
    from core.languages import languages
    from core.names import NameReport, suggest_rows
    from core.store import StoreError, open_store

    try:
        store = open_store(_config(store_dir, chroma_host, chroma_port), None, create=False)
        stored = store.stored_names()
    except (StoreError, settings.SettingError) as exc:
        _fail(str(exc))
    if not stored:
        _fail("no name table in this store yet: run iurc ingest first")
    data = json.loads(stored)
    rows = [r for r in data["names"] if not (unknown and r.get("merged_into"))]
    if suggest:
        from core.names import Link

        report = NameReport(rows, [Link(**s) for s in data["suggestions"]])
        click.echo(suggest_rows(report), nl=False)
    elif as_json:
        click.echo(json.dumps({"names": rows, "suggestions": data["suggestions"]}, ensure_ascii=False, indent=1))
    else:
        for r in rows:
            link = r.get("link") or {}
            where = f"curated row {r['merged_into']}" if r.get("merged_into") else r.get("entity_id", "")
            names = " | ".join(r.get(NAME_COLUMN.format(code)) or "–" for code in languages())
            click.echo(f"{names} | {r['kind']} | {where} | "
                       f"{link.get('evidence', 'not linked')}"
                       + (f" ({link['confidence']})" if link.get("confidence") else "")
                       + f" | {', '.join(r['docs'][:3])}")
        from core.names import Link

        for s in (Link(**d) for d in data["suggestions"]):
            click.echo(f"suggestion: {s.en} = {s.ja} ({s.confidence}: {s.evidence})")


@main.command(name="settings")
def show_settings():
    """List every setting, its default and its IURC_* environment variable."""
    click.echo(settings.describe())


if __name__ == "__main__":
    main()
