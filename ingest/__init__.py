"""Write side of the IURC programme assistant: load, clean, structure, chunk, embed, store."""
