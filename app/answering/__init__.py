"""Answering: a question analysed (question), passages found (retrieve), facts read from table
rows (facts), the extractive answer composed (answer, lead) or an optional generated one
verified (generate), all behind the Assistant (service) and its typed result (result)."""
