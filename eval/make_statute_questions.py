"""Generate statute-article questions mechanically from the statutes themselves.

Every question names one article of one law, in one of many phrasings a council member
or official would use: "artikel" / "art." / "art", with or without a member ("lid 2",
"tweede lid") or a letter ("onder a", "sub b"), with the law's short name, its
abbreviation or "de wet" left implicit. The gold source is the article itself
(``{"doc_id": BWBR…, "section": "Artikel 13b"}``). The laws are the six safety-related
ones of the hand-written sets plus laws drawn at random (fixed seed) from the small
statutes that name their own short title; the articles are drawn at random (fixed seed)
from each law. Nothing here looks at how retrieval scores: the phrasings were written
before any was run.

    python eval/make_statute_questions.py [--out eval/wetten-artikelen-gen.jsonl]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STATUTES = REPO_ROOT.parent / "shared" / "corpora" / "nl-wetten-2017"
SEED = 2017
# The six laws of eval/wetten-artikelen.jsonl and eval/wetten-burgemeester.jsonl, with
# the names those questions use for them.
SAFETY_LAWS = {
    "BWBR0001941": ("Opiumwet", None),
    "BWBR0005416": ("Gemeentewet", None),
    "BWBR0013798": ("Wet Bibob", "Bibob"),
    "BWBR0031788": ("Politiewet 2012", None),
    "BWBR0027466": ("Wet veiligheidsregio's", "Wvr"),
    "BWBR0004318": ("Wet openbare manifestaties", "Wom"),
}
EXTRA_LAWS = 12  # drawn from the small statutes that name their short title
QUESTIONS_PER_LAW = {"BWBR0005416": 24}  # the Gemeentewet is the council's own law
DEFAULT_QUESTIONS = 10

_HEADING = re.compile(r"^#+\s*Artikel\s+([0-9]+[a-z]{0,3}(?:[.:][0-9]+[a-z]{0,3})*)\s*$", re.I)
_CITATION = re.compile(r"aangehaald\s+als:?\s*([^\n]{3,80}?)\.?\s*(?:\n|$)", re.I)
_MEMBER = re.compile(r"^\s*([1-9])\.\s+\S", re.M)
_LETTER = re.compile(r"^\s*([a-h])\.\s+\S", re.M)
_ORDINAL = {1: "eerste", 2: "tweede", 3: "derde", 4: "vierde", 5: "vijfde", 6: "zesde",
            7: "zevende", 8: "achtste", 9: "negende"}  # fmt: skip
_MINOR = {"van", "de", "het", "op", "der", "den", "en", "in", "tot", "inzake", "voor", "met"}

# (question template, needs) — {art} is the reference, {law} the name (with article).
TEMPLATES = [
    ("Wat regelt {art} van de {law}?", "name"),
    ("Wat staat er in {art} {law}?", "name"),
    ("Waar gaat {art} {law} over?", "name"),
    ("Wat bepaalt {art} van de {law}?", "name"),
    ("Wat zegt {art} {abbr}?", "abbr"),
    ("Waar gaat {art} {abbr} over?", "abbr"),
    ("Kunt u uitleggen wat {art} van de {law} inhoudt?", "name"),
    ("Wat is de inhoud van {art} {law}?", "name"),
    ("Wat houdt {art} van de {law} in?", "name"),
    ("In {art} {law}: wat wordt daar geregeld?", "name"),
    ("Welke regel staat in {art} van de {law}?", "name"),
    ("Wat schrijft de {law} voor in {art}?", "name"),
]


def law_name(text: str, law_id: str) -> str | None:
    """The short title the law gives itself ("kan worden aangehaald als: …")."""
    if law_id in SAFETY_LAWS:
        return SAFETY_LAWS[law_id][0]
    found = _CITATION.search(text)
    if not found:
        return None
    name = re.split(r",\s*met vermelding", found.group(1))[0].strip(" .:'\"‘’“”")
    return name if 3 <= len(name) <= 60 and "jaartal" not in name else None


def abbreviation(name: str, law_id: str) -> str | None:
    """An abbreviation as lawyers write it: the initials of the name's main words
    ("Wet openbare manifestaties" → "Wom"), the convention for names that start with
    "Wet"; None for other names."""
    if law_id in SAFETY_LAWS:
        return SAFETY_LAWS[law_id][1]
    words = [w for w in re.findall(r"[^\W\d_]+", name) if w.lower() not in _MINOR]
    if len(words) < 2 or words[0].lower() not in {"wet", "wetboek"}:
        return None
    return words[0][0].upper() + "".join(w[0].lower() for w in words[1:])


def articles(text: str) -> list[tuple[str, str]]:
    """(number, body) of every article heading in a statute's Markdown."""
    out: list[tuple[str, str]] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        found = _HEADING.match(line.strip())
        if not found:
            continue
        body = []
        for nxt in lines[i + 1 :]:
            if nxt.startswith("#"):
                break
            body.append(nxt)
        text_body = "\n".join(body).strip()
        if len(text_body) >= 80 and "vervallen" not in text_body[:60].lower():
            out.append((found.group(1).lower(), text_body))
    return out


def reference(number: str, body: str, rng: random.Random) -> str:
    """One way to name the article (and sometimes a member or letter of it)."""
    word = rng.choice(["artikel", "artikel", "art.", "art", "Artikel"])
    ref = f"{word} {number}"
    members = sorted({int(m) for m in _MEMBER.findall(body)})
    letters = sorted(set(_LETTER.findall(body)))
    roll = rng.random()
    if members and roll < 0.25:
        m = rng.choice(members)
        ref = rng.choice([f"{ref}, lid {m}", f"{ref} lid {m}", f"{ref}, {_ORDINAL[m]} lid"])
    elif letters and roll < 0.4:
        ref = f"{ref}{rng.choice([', onder ', ' sub ', ', onderdeel '])}{rng.choice(letters)}"
    return ref


def chosen_laws() -> list[str]:
    """The laws the questions are about: the six safety laws, then EXTRA_LAWS drawn from
    statutes of 8–25 kB (enough articles, cheap to embed) that name their short title."""
    rows = (STATUTES / "index.tsv").read_text(encoding="utf-8").splitlines()[1:]
    pool = []
    for row in rows:
        law_id, kind, _title, size = row.split("\t")
        if kind != "wet" or law_id in SAFETY_LAWS or not 8_000 < int(size) < 25_000:
            continue
        text = (STATUTES / f"{law_id}.md").read_text(encoding="utf-8", errors="replace")
        if law_name(text, law_id) and len(articles(text)) >= 5:
            pool.append(law_id)
    return list(SAFETY_LAWS) + random.Random(SEED).sample(sorted(pool), EXTRA_LAWS)


def generate() -> list[dict]:
    rng = random.Random(SEED)
    items: list[dict] = []
    for law_id in chosen_laws():
        text = (STATUTES / f"{law_id}.md").read_text(encoding="utf-8", errors="replace")
        name = law_name(text, law_id)
        abbr = abbreviation(name, law_id)
        arts = articles(text)
        count = min(len(arts), QUESTIONS_PER_LAW.get(law_id, DEFAULT_QUESTIONS))
        for number, body in rng.sample(arts, count):
            templates = [t for t, needs in TEMPLATES if needs == "name" or abbr]
            template = rng.choice(templates)
            law = name[0].upper() + name[1:]
            # "van de Gemeentewet" but "van de Wet …": the article is part of the template
            question = template.format(art=reference(number, body, rng), law=law, abbr=abbr)
            question = question[0].upper() + question[1:]
            items.append({
                "id": f"gen-{len(items) + 1:03d}",
                "question": question,
                "audience": "raad",
                "language": "nl",
                "answerable": True,
                "key_facts": [f"artikel {number}"],
                "sources": [{"doc_id": law_id, "section": f"Artikel {number}"}],
                "tags": ["statute", "reference", "generated"],
            })  # fmt: skip
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "eval" / "wetten-artikelen-gen.jsonl"
    )
    args = parser.parse_args()
    items = generate()
    with args.out.open("w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(items)} questions over {len(chosen_laws())} laws → {args.out}")


if __name__ == "__main__":
    main()
