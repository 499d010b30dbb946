"""How the web pages look and behave in the browser: the chat's stylesheet, its scripts, the
language switch every page shares (the chat, Gradio's login page and the staff login), and the
brand block those login pages open with. The words come from `ui_text` in
core/lang/<language>.yaml; this module only lays them out.

The language a reader picks is kept in the browser (localStorage `iurc-lang`) and applied in
three places: our own text (the switch's Python handler, and on login pages a stylesheet rule
that shows only the chosen language's block), and Gradio's built-in labels (its upload box,
thumbs, footer), whose language Gradio otherwise takes from the browser once at start.
`window.iurcLocale(code)` does all three in the browser."""
from __future__ import annotations

import html
import json

from core.languages import languages, pivot

from app.web.render import ui_text

# What the chat page does in the browser, once loaded: footnotes, thumbs' confirmations, the
# conversations list, the upload box's name, kept errors, the source preview's dialog.
# Footnote clicks open the matching source in the panel instead of following the link: the
# panel holds the sources of every answer of the conversation, one section per answer, and
# shows the section of the answer whose footnote was clicked ("src-<message>-<n>").
PAGE_JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href*="#src-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const id = link.getAttribute('href').split('#')[1];
    const message = id.split('-')[1];
    document.querySelectorAll('#sources section.answer-sources').forEach(
      (section) => section.classList.toggle('inactive', section.dataset.msg !== message));
    const found = document.getElementById(id);
    const target = found && (found.closest('details') || found);
    if (target) { target.open = true; target.scrollIntoView({behavior: 'smooth', block: 'nearest'});
                  target.classList.add('flash'); setTimeout(() => target.classList.remove('flash'), 1200); }
  }, true);
  // Which thumb was clicked last (the confirmation is put beside it).
  document.addEventListener('click', (event) => {
    const thumb = event.target.closest('#chat button[aria-label]');
    if (thumb) window.iurcLastThumb = thumb;
  }, true);
  // The conversations list closes when the focus leaves it (as Esc does).
  document.addEventListener('focusout', (event) => {
    const list = event.target.closest && event.target.closest('#conversations');
    if (!list) return;
    setTimeout(() => {
      if (list.contains(document.activeElement)) return;
      const input = list.querySelector('input');
      if (input) input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));
    }, 0);
  }, true);
  // The upload box's accessible name is its visible text (Gradio names it in other words).
  const nameUploads = () => document.querySelectorAll('#upload [aria-label]').forEach((el) => {
    const text = (el.innerText || '').replace(/\\s+/g, ' ').trim();
    if (text && el.getAttribute('aria-label') !== text) el.setAttribute('aria-label', text);
  });
  new MutationObserver(nameUploads).observe(document.body, {subtree: true, childList: true, characterData: true});
  // An error toast stays until dismissed: Gradio's fade after seconds, so each is kept in a box
  // at the top of the page, with a button that closes it.
  new MutationObserver((records) => { for (const r of records) r.addedNodes.forEach((node) => {
    if (node.nodeType !== 1) return;
    const toasts = node.matches('[data-testid="toast-body"].error') ? [node]
      : [...node.querySelectorAll('[data-testid="toast-body"].error')];
    for (const toast of toasts) {
      const text = [...toast.querySelectorAll('[data-testid="toast-text"]')].map((t) => t.innerText.trim())
        .filter(Boolean).join(' ') || toast.innerText.trim();
      if (!text) continue;
      const message = window.iurcRestated ? window.iurcRestated(text) : text;
      let box = document.getElementById('kept-errors');
      if (!box) { box = document.createElement('div'); box.id = 'kept-errors'; box.setAttribute('role', 'alert');
                  document.body.prepend(box); }
      const item = document.createElement('div'); item.className = 'kept-error';
      const said = document.createElement('span'); said.textContent = message;
      const close = document.createElement('button'); close.type = 'button';
      close.textContent = document.documentElement.dataset.dismiss || '×';
      close.addEventListener('click', () => item.remove());
      item.append(said, close); box.append(item);
    }
  }); }).observe(document.body, {subtree: true, childList: true});
  // A source's preview opens in a dialog over the chat (Esc or the close button shut it, and the
  // focus goes back to the link that opened it).
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a.preview');
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    let dialog = document.getElementById('preview-dialog');
    if (!dialog) {
      dialog = document.createElement('dialog');
      dialog.id = 'preview-dialog';
      dialog.innerHTML = '<div class="preview-bar"><span class="preview-title"></span>' +
                         '<button type="button" class="preview-close"></button></div><iframe></iframe>';
      document.body.appendChild(dialog);
      dialog.querySelector('.preview-close').addEventListener('click', () => dialog.close());
      dialog.addEventListener('close', () => { if (dialog.opener && dialog.opener.isConnected) dialog.opener.focus(); });
    }
    dialog.opener = link;
    dialog.querySelector('.preview-title').textContent = link.textContent;
    dialog.querySelector('.preview-close').textContent = link.dataset.close || '×';
    const frame = dialog.querySelector('iframe');
    frame.title = link.textContent;
    frame.src = link.href;
    dialog.showModal();
    dialog.querySelector('.preview-close').focus();
  }, true);
}
"""

COPY_JS = "(text) => { if (text && navigator.clipboard) { navigator.clipboard.writeText(text); } return []; }"

# After a thumb: the confirmation (or why nothing was recorded) beside the thumb that was clicked.
THUMB_NOTE_JS = """(said) => {
  const thumb = window.iurcLastThumb;
  document.querySelectorAll('#chat .thumb-note').forEach((n) => n.remove());
  if (said && thumb && thumb.isConnected) {
    const note = document.createElement('span');
    note.className = 'thumb-note';
    note.setAttribute('role', 'status');
    note.textContent = said;
    (thumb.parentElement || thumb).appendChild(note);
  }
  return [];
}"""

# After the language switch (and the first load): Gradio's own labels follow, and the choice is
# kept for the login pages.
LOCALE_JS = "(code) => { if (window.iurcLocale) { window.iurcLocale(code); } return []; }"

# The first load reads the language chosen on a login page (or earlier here) before the saved one.
FIRST_LANGUAGE_JS = ("(saved, ...rest) => { let chosen = ''; try { chosen = localStorage.getItem('iurc-lang') || ''; }"
                     " catch (e) {} return [chosen || saved, ...rest]; }")

CSS = """
/* Contrast (WCAG AA, 4.5:1 for text): the primary button and the footer's link, both themes. */
:root { --button-primary-background-fill: #0b5394; --button-primary-background-fill-hover: #073763;
        --button-primary-text-color: #ffffff; --button-primary-border-color: #0b5394;
        --button-primary-text-color-hover: #ffffff; }
.dark { --button-primary-background-fill: #1f5fbf; --button-primary-background-fill-hover: #174a94;
        --button-primary-text-color: #ffffff; --button-primary-border-color: #1f5fbf; }
:root { --button-cancel-background-fill: #b42318; --button-cancel-background-fill-hover: #8f1c13;
        --button-cancel-text-color: #ffffff; --button-cancel-border-color: #b42318; }
.dark { --button-cancel-background-fill: #b42318; --button-cancel-background-fill-hover: #8f1c13;
        --button-cancel-text-color: #ffffff; --button-cancel-border-color: #b42318; }
#upload .or { color: #57606a !important; }
.dark #upload .or { color: #9198a1 !important; }
footer .show-api, footer a, footer button { color: #57606a !important; }
.dark footer .show-api, .dark footer a, .dark footer button { color: #9198a1 !important; }
#header h1 { margin: 0; font-size: 1.6em; }
.sources details { border: 1px solid #ddd; border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
.sources details.flash { outline: 3px solid #f5b700; }
.sources summary { cursor: pointer; font-weight: 600; }
.sources mark { background: #fff3a3; color: #1a1a1a; padding: 0 1px; }
.dark .sources mark { background: #6b5900; color: #fff8d6; }
.sources .passage { white-space: pre-wrap; font-size: 0.92em; overflow-wrap: anywhere; }
.sources summary { overflow-wrap: anywhere; }
.sources .abstained { color: #8a4b00; font-weight: 600; }
.dark .sources .abstained { color: #ffb86b; }
.sources a.original { font-size: 0.85em; }
.sources section.inactive { display: none; }
.sources .asked { font-size: 0.9em; opacity: 0.8; margin: 4px 0; }
#chat .thumb-note { font-size: 0.85em; margin-left: 8px; align-self: center; white-space: nowrap; }
#staff-badge { flex: 0 0 auto !important; min-width: 0 !important; width: auto !important; }
.staff-badge { display: inline-block; background: #0b5394; color: #fff; border-radius: 4px; padding: 2px 10px;
               font-weight: 600; white-space: nowrap; }
.dark .staff-badge { background: #1f5fbf; }
#staff-panel .prose { padding: 4px 10px; }
#kept-errors { position: sticky; top: 0; z-index: 1000; }
.kept-error { display: flex; justify-content: space-between; gap: 12px; align-items: center; background: #fdecea;
              color: #8a1c12; border: 1px solid #b42318; border-radius: 6px; padding: 8px 12px; margin: 4px 8px; }
.kept-error button { border: 1px solid currentColor; background: none; color: inherit; border-radius: 4px;
                     padding: 2px 10px; cursor: pointer; }
.sources .source-links { font-size: 0.85em; margin: 2px 0 6px; }
#preview-dialog { width: min(1100px, 96vw); height: 90vh; padding: 0; border: 1px solid #8c959f; border-radius: 8px;
                  display: none; flex-direction: column; }
#preview-dialog[open] { display: flex; }
#preview-dialog::backdrop { background: rgba(0, 0, 0, 0.45); }
#preview-dialog .preview-bar { display: flex; justify-content: space-between; align-items: center; gap: 8px;
                               padding: 6px 10px; border-bottom: 1px solid #d0d7de; }
#preview-dialog .preview-title { font-weight: 600; overflow-wrap: anywhere; }
#preview-dialog .preview-close { padding: 4px 14px; border: 1px solid currentColor; border-radius: 4px;
                                 background: none; color: inherit; cursor: pointer; }
#preview-dialog iframe { flex: 1; width: 100%; border: 0; }
.dark #preview-dialog { background: #0d1117; color: #e6edf3; }
#network svg { display: block; max-width: 560px; width: 100%; height: auto; margin: 0 auto; }
#network .network-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; list-style: none; padding: 0;
                           justify-content: center; margin: 6px 0; }
#network .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 50%; margin-right: 6px;
                   vertical-align: -1px; }
#network .network-list { display: none; }
/* Tables: headers wrap between words only; a wide table scrolls inside its own box. */
#pairs th, #glossary th, #documents th, #pairs [role=columnheader], #glossary [role=columnheader] {
  word-break: keep-all; overflow-wrap: normal; white-space: normal; }
#pairs .table-wrap, #glossary .table-wrap, #documents .table-wrap { overflow-x: auto; max-width: 100%; }
#pairs td, #glossary td { min-width: 6em; }
#pairs td:first-child, #pairs th:first-child, #glossary td:first-child, #glossary th:first-child {
  position: sticky !important; left: 0; z-index: 2; background: var(--background-fill-primary); }
/* The header: the title and the language switch on one line, the switch never clipped. */
#header { align-items: center; flex-wrap: nowrap; gap: 8px; }
#header h1, #header h2 { margin: 0; word-break: keep-all; overflow-wrap: anywhere; }
#send { white-space: nowrap; }
#ui-language { flex: 0 0 auto !important; min-width: 0 !important; width: auto !important; }
#ui-language .wrap { flex-wrap: nowrap; overflow: visible; gap: 4px; }
#ui-language label { white-space: nowrap; padding: 2px 8px; }
#intro p, #indexed p { margin: 2px 0; }
/* Short text blocks never scroll (a scrolling region would need a keyboard stop of its own). */
#title, #sources-heading, #intro, #indexed, #title *, #sources-heading *, #intro *, #indexed * {
  overflow: visible !important; max-height: none !important; }
/* The chat box is as tall as what it holds: empty, the input and the examples stay in view. */
#chat .placeholder-content, #chat .placeholder { font-size: 0.95em; padding-top: 1.6em; }
@media (max-width: 640px) {
  #header h1 { font-size: 1.15em; }
  #intro { display: none; }
  #chat { max-height: 55vh !important; }
  #network .network-drawing { display: none; }
  #network .network-list { display: block; padding-left: 1.2em; }
  .sources details { padding: 4px 6px; }
}
"""


def _blocks(render, tag: str = "div") -> str:
    """One block per installed language, only the chosen one shown (_language_rules)."""
    return "".join(f'<{tag} class="iurc-l iurc-l-{code}" lang="{code}">{render(code)}</{tag}>' for code in languages())


def language_switch() -> str:
    """Buttons for a login page: one per installed language, named in that language."""
    label = html.escape(" / ".join(ui_text("language_label", code) for code in languages()), quote=True)
    return (f'<div class="iurc-switch" role="group" aria-label="{label}">'
            + "".join(f'<button type="button" data-iurc-switch="{code}" lang="{code}">'
                      f'{html.escape(ui_text("language_name", code))}</button>' for code in languages())
            + "</div>")


def brand_block(line_key: str = "login_line") -> str:
    """The top of a login page: the product's name and one line on what it is, in each language
    (the chosen one shown), and the language switch."""
    def render(code: str) -> str:
        return (f'<h1 class="iurc-product">{html.escape(ui_text("product", code))}</h1>'
                f'<p class="iurc-line">{html.escape(ui_text(line_key, code))}</p>')

    return f'<div class="iurc-brand">{language_switch()}{_blocks(render)}</div>'


def _language_rules() -> str:
    """Show only the chosen language's blocks: the html element carries `data-ui` once a
    language is chosen; before that, the pivot's."""
    rules = [f'html:not([data-ui]) .iurc-l:not(.iurc-l-{pivot()}) {{ display: none; }}']
    rules += [f'html[data-ui="{code}"] .iurc-l:not(.iurc-l-{code}) {{ display: none; }}' for code in languages()]
    rules += [f'html[data-ui="{code}"] [data-iurc-switch="{code}"], html:not([data-ui]) '
              f'[data-iurc-switch="{pivot()}"] {{ font-weight: 700; text-decoration: underline; }}'
              for code in languages()]
    return "\n".join(rules)


BRAND_CSS = """
.iurc-brand { text-align: center; margin: 0 0 12px; }
.iurc-brand .iurc-product { font-size: 1.6rem; font-weight: 700; margin: 8px 0 4px; line-height: 1.25;
                            word-break: keep-all; overflow-wrap: anywhere; }
.iurc-brand .iurc-line { margin: 0 0 4px; opacity: 0.9; }
.iurc-switch { display: flex; justify-content: flex-end; gap: 6px; }
.iurc-switch button { background: none; border: 1px solid currentColor; border-radius: 4px; padding: 2px 10px;
                      cursor: pointer; color: inherit; font: inherit; font-size: 0.9em; }
"""

# Runs in the head of every page: the chosen language on the html element, Gradio's locale set to
# it once Gradio's core module has loaded, and the login pages' switch buttons.
_HEAD_SCRIPT = """
(() => {
  const installed = %(installed)s, fallback = %(pivot)s, dismiss = %(dismiss)s;
  const pick = (code) => { code = (code || '').split('-')[0].toLowerCase();
                           return installed.includes(code) ? code : ''; };
  let stored = ''; try { stored = pick(localStorage.getItem('iurc-lang')); } catch (e) {}
  const first = stored || pick(navigator.language) || fallback;
  const gradioLocale = async (code, tries) => {
    const core = performance.getEntriesByType('resource').map((e) => e.name)
      .find((n) => /\\/assets\\/core-[^\\/]*\\.js$/.test(n));
    if (!core) { if (tries > 0) setTimeout(() => gradioLocale(code, tries - 1), 250); return; }
    try { (await import(core)).changeLocale(code); } catch (e) {}
  };
  window.iurcLocale = (code, keep = true) => {
    code = pick(code) || fallback;
    document.documentElement.dataset.ui = code;
    document.documentElement.lang = code;
    document.documentElement.dataset.dismiss = (dismiss[code] || dismiss[fallback] || '×');
    if (keep) { try { localStorage.setItem('iurc-lang', code); } catch (e) {} }
    gradioLocale(code, 40);
    if (window.iurcRelabel) window.iurcRelabel();
  };
  // Gradio's own labels it does not translate (aria-label, title, placeholder), from the packs'
  // builtin_labels: kept in the chosen language as Gradio renders and re-renders them.
  const labels = %(labels)s, gradioWord = {};
  for (const map of Object.values(labels)) for (const [own, said] of Object.entries(map)) gradioWord[said] = own;
  const word = (value) => { const own = gradioWord[value] || value;
                            return (labels[document.documentElement.dataset.ui] || {})[own] || own; };
  const relabelOne = (el) => { for (const name of ['aria-label', 'title', 'placeholder']) {
    const value = el.getAttribute(name); if (!value) continue;
    const said = word(value); if (said !== value) el.setAttribute(name, said); } };
  const relabel = (root) => { if (root.nodeType !== 1) return; relabelOne(root);
    root.querySelectorAll('[aria-label],[title],[placeholder]').forEach(relabelOne); };
  window.iurcRelabel = () => relabel(document.documentElement);
  // Words Gradio writes as text, not through its i18n (its progress line, its upload errors), from
  // the packs' builtin_patterns.
  const patterns = %(patterns)s;
  const gradioText = '[data-testid="status-tracker"], [data-testid="toast-body"]';
  window.iurcRestated = (text) => {
    for (const [pattern, said] of patterns[document.documentElement.dataset.ui] || []) {
      text = text.replace(new RegExp(pattern), said); }
    return text;
  };
  const restate = (node) => {
    if (node.nodeType !== 3 || !node.parentElement || !node.parentElement.closest(gradioText)) return;
    const text = window.iurcRestated(node.textContent);
    if (text !== node.textContent) node.textContent = text;
  };
  new MutationObserver((records) => { for (const r of records) {
    if (r.type === 'attributes') relabelOne(r.target);
    else if (r.type === 'characterData') restate(r.target);
    else r.addedNodes.forEach((n) => { relabel(n); restate(n);
      if (n.nodeType === 1 && n.closest && (n.closest(gradioText) || n.querySelector(gradioText))) {
        const walk = document.createTreeWalker(n, NodeFilter.SHOW_TEXT);
        for (let t = walk.nextNode(); t; t = walk.nextNode()) restate(t); } }); } })
    .observe(document.documentElement, {subtree: true, childList: true, characterData: true, attributes: true,
                                        attributeFilter: ['aria-label', 'title', 'placeholder']});
  window.iurcLocale(first, false);
  document.addEventListener('click', (event) => {
    const button = event.target.closest('[data-iurc-switch]');
    if (button) { event.preventDefault(); window.iurcLocale(button.dataset.iurcSwitch); }
  });
})();
"""


def head() -> str:
    """What every page carries in its head: the language switch's script and rules, and the
    brand block's style."""
    labels = {code: ui_text("builtin_labels", code) or {} for code in languages()}
    script = _HEAD_SCRIPT % {"installed": json.dumps(list(languages())), "pivot": json.dumps(pivot()),
                             "labels": json.dumps(labels, ensure_ascii=False),
                             "patterns": json.dumps({code: ui_text("builtin_patterns", code) or []
                                                     for code in languages()}, ensure_ascii=False),
                             "dismiss": json.dumps({code: ui_text("dismiss", code) for code in languages()},
                                                   ensure_ascii=False)}
    return f"<script>{script}</script><style>{_language_rules()}{BRAND_CSS}</style>"


# --- the login pages: the readers' (before the chat) and the staff's (/staff) ---------------------

LOGIN_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans JP", sans-serif; margin: 0;
       background: #f4f5f7; color: #1f2328; }
main { max-width: 440px; margin: 8vh auto; padding: 24px; background: #fff; border-radius: 12px;
       box-shadow: 0 1px 4px rgba(0, 0, 0, 0.12); }
.iurc-badge { display: inline-block; background: #0b5394; color: #fff; border-radius: 4px; padding: 2px 8px;
              font-size: 0.85em; font-weight: 600; }
label { display: block; margin: 14px 0 4px; font-weight: 600; }
input { width: 100%; padding: 10px; box-sizing: border-box; border: 1px solid #8c959f; border-radius: 6px;
        font: inherit; }
button[type=submit] { margin-top: 18px; width: 100%; padding: 10px; border: 0; border-radius: 6px;
                      background: #0b5394; color: #fff; font: inherit; font-weight: 700; cursor: pointer; }
.msg { color: #a40e26; min-height: 1.2em; }
a { color: #0b5394; }
@media (prefers-color-scheme: dark) {
  body { background: #0d1117; color: #e6edf3; }
  main { background: #161b22; box-shadow: none; border: 1px solid #30363d; }
  input { background: #0d1117; color: #e6edf3; border-color: #6e7681; }
  button[type=submit], .iurc-badge { background: #1f6feb; }
  .msg { color: #ff8182; }
  a { color: #79c0ff; }
}
@media (max-width: 480px) { main { margin: 0; border-radius: 0; min-height: 100vh; } }
"""

_LOGIN_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>{head}<style>{css}</style></head><body><main>
{brand}{badge}
<p class="msg" id="message" role="alert">{message}</p>
<form id="login-form" method="post" action="{action}">
<label for="username">{user}</label><input id="username" name="username" autocomplete="username" required>
<label for="password">{password}</label><input id="password" name="password" type="password"
 autocomplete="current-password" required>
<button type="submit" id="{button_id}">{login}</button></form>
{after}</main>{script}</body></html>"""

# The readers' form goes to Gradio's own login route, which answers in JSON: sent from here, and
# the chat loaded on success (the failure shown in the chosen language).
_READER_SCRIPT = """<script>
document.getElementById('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await fetch('{action}', {method: 'POST', body: new FormData(event.target),
                                           credentials: 'same-origin'});
  if (response.ok) { location.reload(); return; }
  document.getElementById('failed').hidden = false;
});
</script>"""


def _each(key: str, **values) -> str:
    """A text in every installed language, the chosen one shown."""
    return _blocks(lambda code: html.escape(ui_text(key, code, **values)), "span")


def login_page(staff: bool = False, message_key: str = "", action: str = "/login", back: str = "/") -> str:
    """A login page: the brand block and the language switch, then the form (a staff page says
    it is the staff's, and links back to the chat)."""
    return _LOGIN_PAGE.format(
        lang=pivot(), title=html.escape(" · ".join(ui_text("staff_page_title" if staff else "product", code)
                                                  for code in languages())),
        head=head(), css=LOGIN_CSS, brand=brand_block("staff_page_intro" if staff else "login_line"),
        badge=f'<p><span class="iurc-badge">{_each("staff_badge")}</span></p>' if staff else "",
        message=_each(message_key) if message_key else f'<span id="failed" hidden>{_each("login_failed")}</span>',
        action=action,
        user=_each("staff_page_user"), password=_each("staff_page_password"), login=_each("staff_page_login"),
        button_id="staff-login" if staff else "reader-login",
        after=f'<p><a href="{back}">{_each("staff_page_back")}</a></p>' if staff else "",
        script="" if staff else _READER_SCRIPT.replace("{action}", action))


def gradio_translations():
    """Gradio's own i18n keys its locales lack (core/lang/<language>.yaml: gradio_keys), for
    `launch(i18n=...)`."""
    import gradio as gr

    return gr.I18n(**{code: dict(ui_text("gradio_keys", code) or {}) for code in languages()})
