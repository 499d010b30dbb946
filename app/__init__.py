"""Read side of the IURC programme assistant: retrieval, answering, UI and CLI."""
