"""The shared core, used by the write side (ingest/), the read side (app/) and the evaluation:
typed models, settings, the name table and each language's vocabulary (lang/), the word
bridge, the lexical and read-side index, the store contract and its factory, the embedder,
the format registry (formats/) and the text rules both sides apply (text.py). It imports
nothing from ingest/, app/ or eval/ (.importlinter)."""
