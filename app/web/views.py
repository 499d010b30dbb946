"""The chat UI's onboarding views, all built from what is ingested: the landing line, example
questions, each programme table with its own columns, the diagram of who works with whom, the
glossary and the documents."""
from __future__ import annotations

import html
import math

from core.glossary import PLACE_KINDS
from core.languages import languages, pack, vocabulary

from app.web.render import PAGE, language_name, preview_href, ui_language, ui_text
from app.answering.service import Assistant, original_key


def example_questions(assistant: Assistant, language: str | None = None) -> list[str]:
    """Example questions filled from what is ingested, in `language` (every language when None):
    the templates are in core/lang/<language>.yaml (ui_examples), the names and years come from
    the table rows."""
    glossary, rows = assistant.glossary, assistant.facts.rows
    pair = next((names for names in (
        [e for e in assistant.facts.names[r.chunk_id] if glossary.entities[e].kind in PLACE_KINDS]
        for r in rows) if len(names) >= 2), None)
    year = next((r.record.start_year for r in rows if r.record.start_year), "")
    out = []
    for language in [ui_language(language)] if language else languages():
        templates = vocabulary(language).get("ui_examples", {})
        if pair:
            a, b = (glossary.display_name(e, language) for e in pair[:2])
            out += [t.format(a=a, b=b) for t in templates.get("named", [])[:1]]
        if year:
            out += [t.format(year=year) for t in templates.get("year", [])]
        if not pair:
            out += templates.get("generic", [])
    return out


def what_is_indexed(entries: dict[str, dict], language: str = "") -> str:
    """The landing line from the manifest (`entries`): how many documents in which languages, how
    recent, and what the assistant does not do."""
    entries = [e for e in entries.values() if e.complete]
    written = sorted({lang for e in entries for lang in
                      (languages() if e.language == "mixed" else (e.language,)) if lang})
    names = ui_text("language_separator", language).join(language_name(c, ui_language(language)) for c in written)
    latest = local_time(max((e.ingested_at for e in entries), default=""), language, "day_format")
    return ui_text("indexed_one" if len(entries) == 1 else "indexed", language, count=len(entries),
                   languages=names, latest=latest or "–")


def document_table(entries: dict[str, dict], language: str = "", pages: dict[str, tuple[int, str]] | None = None):
    """The Documents view from the manifest (`entries`), in the reader's words: the language's
    name, the file type, how many pages (slides, sheets) passages were read from (`pages`, from
    page_counts), the date in the reader's locale, the state, and a link to preview it."""
    import pandas as pd

    states, counts, pages = ui_text("states", language), ui_text("page_counts", language), pages or {}
    rows = [[doc, e.chunk_count, language_names(e.language, language), e.format.upper(),
             counts.get(pages[doc][1], "{n}").format(n=pages[doc][0]) if doc in pages else "",
             local_time(e.ingested_at, language), states.get(e.status, e.status),
             f"[{ui_text('preview_document', language)}]({preview_href(original_key(doc), '', '', ui_language(language))})"
             if e.complete else ""]
            for doc, e in sorted(entries.items())]
    return pd.DataFrame(rows, columns=ui_text("document_columns", language))


DOCUMENT_TYPES = ["str", "number", "str", "str", "str", "str", "str", "markdown"]


def page_counts(assistant: Assistant) -> dict[str, tuple[int, str]]:
    """Each document's highest page (slide, sheet) a passage was read from, with its unit. Counted
    once per loaded index (the views are refreshed every few seconds; the index changes rarely)."""
    passages = assistant.retriever.passages
    if _COUNTED[0] is passages:
        return _COUNTED[1]
    counts: dict[str, tuple[int, str]] = {}
    for doc, location in zip(passages.docs(), passages.locations()):
        found = PAGE.match(location)
        if found and int(found.group(2)) > counts.get(doc, (0, ""))[0]:
            counts[doc] = (int(found.group(2)), found.group(1))
    _COUNTED[:] = [passages, counts]
    return counts


_COUNTED: list = [None, {}]  # the index last counted, and its counts


def language_names(code: str, language: str = "") -> str:
    """A document's language(s) named in the reader's language ("mixed": every language)."""
    codes = languages() if code == "mixed" else [code] if code else []
    return ui_text("language_separator", language).join(language_name(c, ui_language(language)) for c in codes)


def local_time(iso: str, language: str = "", pattern: str = "date_format") -> str:
    """An ISO time stamp in the reader's locale, in this machine's time zone ("3 Dec 2026, 09:30";
    `pattern`: which of the pack's date patterns, "day_format" for the day alone)."""
    from datetime import datetime

    from babel.dates import format_datetime

    try:
        when = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso or ""
    return format_datetime(when.astimezone() if when.tzinfo else when, ui_text(pattern, language),
                           locale=pack(ui_language(language)).locale)


def glossary_table(assistant: Assistant, language: str = ""):
    """The name table as a reader knows it: each entry's kind and country in the reader's words,
    its name in every language, the other spellings documents use."""
    import pandas as pd

    glossary, codes, kinds = assistant.glossary, languages(), ui_text("kinds", language)
    rows = [[kinds.get(e.kind, e.kind),
             glossary.display_name(e.country, language) if e.country in glossary.entities else e.country,
             *(e.label(c) for c in codes), " | ".join(e.aliases)]
            for e in glossary.entities.values()]
    _, kind, country, variants = ui_text("glossary_columns", language)
    # one column per language, named in the UI's language (CLDR)
    names = [language_name(c, ui_language(language)) for c in codes]
    return pd.DataFrame(rows, columns=[kind, country, *names, variants])


def programme_tables(assistant: Assistant) -> list[str]:
    """The ingested tables' titles, the one with most rows first (each shown with its own columns)."""
    counts: dict[str, int] = {}
    for passage in assistant.facts.rows:
        counts[passage.record.table] = counts.get(passage.record.table, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t))


def _chosen_rows(assistant: Assistant, table: str | None, query: str, year: str):
    tables = programme_tables(assistant)
    table = table if table in tables else (tables[0] if tables else "")
    wanted = {m.entity_id for m in assistant.glossary.find(query)} if query else set()
    rows = []
    for passage in (p for p in assistant.facts.rows if p.record.table == table):
        record = passage.record
        if year != "all" and record.start_year != year:
            continue
        text = " ".join(list(record.values.values()) + [record.group]).casefold()
        if query and not (wanted & set(record.entities) or query.casefold() in text):
            continue
        rows.append(passage)
    return table, rows


def programme_table(assistant: Assistant, table: str | None = None, query: str = "", year: str = "all",
                    language: str = ""):
    """One table as ingested: its own columns, then group, start year and document; rows
    filtered by any name (either script or spelling) or word, and by start year."""
    import pandas as pd

    table, rows = _chosen_rows(assistant, table, query, year)
    everything = [p for p in assistant.facts.rows if p.record.table == table]
    columns = list(dict.fromkeys(c for p in everything for c in p.record.columns))
    return pd.DataFrame([[p.record.values.get(c, "") for c in columns] + [p.record.group, p.record.start_year, p.doc]
                         for p in rows], columns=columns + ui_text("programme_columns", language))


def network_svg(assistant: Assistant, table: str | None = None, query: str = "", year: str = "all",
                language: str = "") -> str:
    """Who works with whom, as an SVG drawn here (no map tiles, nothing fetched): every place
    the name table knows that a row of the chosen table names is a dot on a circle, grouped by
    country; the places one row names together are joined by a line whose tooltip is the row.
    Names are shown in the reader's language. The filters of the table view apply."""
    glossary = assistant.glossary
    _, rows = _chosen_rows(assistant, table, query, year)
    edges: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        places = list(dict.fromkeys(e for e in assistant.facts.names.get(row.chunk_id, [])
                                    if e in glossary.entities and glossary.entities[e].kind in PLACE_KINDS))
        for i, a in enumerate(places):
            for b in places[i + 1:]:
                edges.setdefault(tuple(sorted((a, b))), []).append(row.record.cell_text or row.text)
    if not edges:
        return f'<p class="network-empty">{html.escape(ui_text("network_empty", language))}</p>'
    nodes = sorted({n for pair in edges for n in pair})
    by_country: dict[str, list[str]] = {}
    for n in nodes:
        by_country.setdefault(glossary.entities[n].country or "", []).append(n)
    countries = sorted(by_country, key=lambda c: (-len(by_country[c]), c))
    # Places that work together sit side by side on the circle (each group of linked places in one
    # arc, the largest first), so lines are short chords and rarely cross.
    order = [n for group in _linked_groups(nodes, edges)
             for n in sorted(group, key=lambda e: (countries.index(glossary.entities[e].country or ""),
                                                   glossary.display_name(e, language)))]
    size, radius = 720, 230
    centre = size / 2
    where = {n: (centre + radius * math.cos(2 * math.pi * i / len(order) - math.pi / 2),
                 centre + radius * math.sin(2 * math.pi * i / len(order) - math.pi / 2)) for i, n in enumerate(order)}
    colour = {c: f"hsl({(i * 137) % 360}, 60%, 45%)" if c else "hsl(0, 0%, 55%)" for i, c in enumerate(countries)}
    parts = [f'<svg class="network" viewBox="0 0 {size} {size}" role="img" xmlns="http://www.w3.org/2000/svg" '
             f'aria-label="{html.escape(ui_text("network_heading", language).lstrip("# "))}">']
    for (a, b), said in sorted(edges.items()):
        (x1, y1), (x2, y2) = where[a], where[b]
        tip = html.escape(" / ".join(said)[:300])
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="currentColor" '
                     f'stroke-opacity="0.55" stroke-width="{1.5 + len(said)}"><title>{tip}</title></line>')
    for n in order:
        x, y = where[n]
        entity = glossary.entities[n]
        name = glossary.display_name(n, language)
        country = glossary.display_name(entity.country, language) if entity.country in glossary.entities \
            else entity.country
        right = x >= centre
        lx = x + (10 if right else -10)
        parts.append(f'<g class="place" data-id="{html.escape(n)}"><circle cx="{x:.1f}" cy="{y:.1f}" r="6" '
                     f'fill="{colour[entity.country or ""]}"><title>{html.escape(name)} ({html.escape(country)})'
                     f'</title></circle><text x="{lx:.1f}" y="{y + 4:.1f}" font-size="13" fill="currentColor" '
                     f'text-anchor="{"start" if right else "end"}">{html.escape(name)}</text></g>')
    parts.append("</svg>")

    def country_name(code: str) -> str:
        return glossary.display_name(code, language) if code in glossary.entities else \
            (code or ui_text("country_unknown", language))

    legend = "".join(f'<li><span class="swatch" style="background: {colour[c]}"></span>{html.escape(country_name(c))}'
                     f"</li>" for c in countries)
    # On a phone the drawing's names would be a few pixels high: the pairs are listed instead.
    listed = "".join(f'<li title="{html.escape(" / ".join(said)[:300], quote=True)}">'
                     f"{html.escape(glossary.display_name(a, language))} — {html.escape(glossary.display_name(b, language))}"
                     f"</li>" for (a, b), said in sorted(edges.items(), key=lambda kv: order.index(kv[0][0])))
    return (f'<div class="network-drawing">{"".join(parts)}</div>'
            f'<ul class="network-legend" aria-label="{html.escape(ui_text("legend", language), quote=True)}">'
            f"{legend}</ul><ul class=\"network-list\">{listed}</ul>")


def _linked_groups(nodes: list[str], edges: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """The places joined by some chain of rows, one group each, largest first."""
    parent = {n: n for n in nodes}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in edges:
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for n in nodes:
        groups.setdefault(root(n), []).append(n)
    return sorted(groups.values(), key=lambda g: (-len(g), sorted(g)))
