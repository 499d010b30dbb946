"""The answering profile (eval/profile.yaml, or the file IURC_PROFILE names): the calibrated
scoring weights and thresholds, read once, typed. The answering modules bind their constants
from here and core/settings.py takes its threshold defaults from here, so a weight lives in one
file and calibration edits only that file."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / "eval" / "profile.yaml"


class ProfileError(RuntimeError):
    pass


@dataclass(frozen=True)
class Profile:
    rrf_k: int
    min_matched_share: float
    other_language_slot: int
    bridge_channel: int
    bridge_lead: float
    rows_per_table: int
    intent_bonus: float
    ordinal_bonus: float
    attribute_bonus: float
    coverage_bonus: float
    cross_language_bonus: float
    whole_margin: float
    asked_word_bonus: float
    bound_bonus: float
    other_subject_penalty: float
    phrase_bonus: float
    order_bonus: float
    list_name_bonus: float
    asked_word_cap: int
    lead_pool_margin: float
    min_support: float
    min_sentence_score: float
    min_named_sentence_score: float
    name_link_threshold: float


@lru_cache(maxsize=None)
def load(path: str | None = None) -> Profile:
    """The profile at `path` (default: IURC_PROFILE, else eval/profile.yaml). Every field must be
    there, with a number; anything else is a ProfileError naming the file."""
    import yaml

    from .languages import load_yaml

    where = Path(path or os.environ.get("IURC_PROFILE") or DEFAULT)
    try:
        data = load_yaml(where.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"cannot read the answering profile {where}: {exc}") from None
    values = {key: value for section in data.values() if isinstance(section, dict) for key, value in section.items()}
    fields = Profile.__dataclass_fields__
    missing = sorted(set(fields) - set(values))
    unknown = sorted(set(values) - set(fields))
    if missing or unknown:
        raise ProfileError(f"{where}: " + "; ".join(
            ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unknown {', '.join(unknown)}"] if unknown else [])))
    typed = {}
    for name, spec in fields.items():
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ProfileError(f"{where}: {name} must be a number, not {value!r}")
        typed[name] = int(value) if spec.type == "int" else float(value)
    return Profile(**typed)
