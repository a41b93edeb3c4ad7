"""Requests the assistant refuses before retrieval: attempts to override its instructions
or to extract the system prompt, the audit log or other users' questions."""

from __future__ import annotations

import re

from assistant.analysis import fold
from assistant.types import RefusalReason

_PATTERNS = [
    r"\b(negeer|vergeet|overschrijf)\b.{0,40}\b(instructie|regel|opdracht|prompt)",
    r"\bignore\b.{0,40}\b(instruction|rule|prompt|previous|above)",
    r"\bdisregard\b.{0,40}\b(instruction|rule|prompt)",
    r"\b(system|systeem)\s*-?\s*(prompt|bericht|message|instructie)",
    r"\b(jailbreak|dan mode|developer mode|ontwikkelaarsmodus)\b",
    r"\b(hidden|verborgen|geheime?|secret)\b.{0,30}\b(message|bericht|instructions?|instructies|prompt)",
    r"\bdeveloper (message|instructions?)\b",
    r"\b(audit\s*-?\s*log|logbestand|auditlog)",
    r"\b(vragen|vroegen|vroeg|stelden|questions|asked|chats?|gesprekken)\b.{0,30}\b(andere|other)\s+(gebruikers|users|mensen|people|bezoekers|inwoners)",
    r"\b(andere|other)\s+(gebruikers|users)\b.{0,40}\b(vragen|gevraagd|asked|questions)",
    r"\b(je|jouw|your)\s+(instructies|instructions|prompt|regels)\b",
    r"\bdoe alsof\b|\bpretend (you are|to be)\b|\bact as\b|\bje bent nu\b|\byou are now\b",
]
_REGEX = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.DOTALL)


def is_injection(question: str) -> bool:
    """True when the question tries to override or extract the assistant's instructions."""
    return bool(_REGEX.search(fold(question)))


def check(question: str) -> RefusalReason | None:
    """The reason to refuse a question before retrieval, or None (the pipeline decides)."""
    return RefusalReason.INJECTION if is_injection(question) else None
