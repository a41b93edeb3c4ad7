"""Expected answer kinds: which questions need an amount, a quantity or contact details,
and which sentences hold one (no model needed)."""

from __future__ import annotations

import pytest

from assistant.answer_kinds import answers_kind, expected_kind, has_kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Hoeveel geld is er begroot voor het IVB 2024-2027?", "money"),
        ("How much money does Noordoostpolder spend on safety each year?", "money"),
        ("Wat kost een paspoort of identiteitskaart?", "money"),
        ("Wat is het budget voor cybercrime?", "money"),
        ("Hoeveel agenten werken er bij het basisteam?", "number"),
        ("Hoeveel themasessies zijn er gehouden?", "number"),
        ("Wat is het telefoonnummer van de contactpersoon?", "contact"),
        ("Wanneer is de beeldvormende vergadering?", "date"),
        ("Hoe laat begint de vergadering?", "time"),
        ("Wie geeft de toelichting op de politiecijfers?", "person"),
        # Residents' other languages: quantities and money.
        ("Wie viel Geld gibt die Gemeinde Urk jedes Jahr für Sicherheit aus?", "money"),
        ("Urk belediyesi güvenlik için her yıl ne kadar para harcıyor?", "money"),
        ("Ile pieniędzy wydaje gmina Urk na bezpieczeństwo?", "money"),
        ("Скільки поліцейських працює в Урку?", "number"),
        ("Bu konu ile ilgili ne yapılıyor?", None),  # Turkish "ile" (with) is no cue
        # Dutch words that merely look like money words, and a duration.
        ("Hoeveel gastouders zijn er in Urk?", "number"),
        ("Hoeveel kostwinners telt de gemeente?", "number"),
        ("Hoeveel tijd kost een aanvraag?", "number"),
        ("Bütçe ile ilgili ne yapılıyor?", None),
        # Not a question of amount: a money word alone, or "een aantal".
        ("Wat is het doel van de kosten?", None),
        ("Wie betaalt de kosten?", "person"),
        ("Noem een aantal maatregelen tegen ondermijning.", None),
        ("Geldt het verbod in alle scholen?", None),
    ],
)
def test_expected_kind(question, kind):
    assert expected_kind(question) == kind


def test_a_quantity_is_not_the_question_s_own_number_a_year_or_a_clock_time():
    q = "Hoeveel agenten werkten er in 2023 bij het basisteam?"
    assert not has_kind("19:40 uur Toelichting politiecijfers door Tom Nauta", "number", q)
    assert not has_kind("In 2023 werkte het basisteam samen met de gemeenten.", "number", q)
    assert not has_kind("Het IVB 2024-2027 dient als kapstok.", "number", q)
    assert has_kind("Er werkten 45 agenten.", "number", q)
    assert has_kind("In april en mei zijn zes themasessies gehouden.", "number", q)
    # "een" is an article, not a number.
    assert not has_kind("Er is een toelichting gegeven.", "number", q)
    # A question about years is answered by years.
    assert has_kind("Het IVB loopt van 2024 tot en met 2027.", "number", "Hoeveel jaar loopt het?")


def test_money_and_contact_need_an_amount_or_an_address():
    assert has_kind("Er is € 50.000 begroot.", "money")
    assert has_kind("Het kost 2 miljoen euro.", "money")
    assert not has_kind("Het IVB 2024-2027 dient als kapstok.", "money")
    assert has_kind("Bel 14 0321 of mail info@dronten.nl.", "contact")
    assert has_kind("Telefoon: 0527-633 911", "contact")
    assert not has_kind("Contactpersoon: L. Jonker", "contact")
    assert not has_kind("Vastgesteld op 01-03-2024.", "contact")  # a date, not a number
    # "ten aanzien van" is no number.
    assert not has_kind("Ten aanzien van de politie is niets bekend.", "number", "Hoeveel?")


def test_strict_kinds_refuse_an_answer_without_one_others_do_not():
    budget = "Hoeveel geld is er begroot voor het IVB 2024-2027?"
    assert not answers_kind(budget, ["Het IVB 2024-2027 dient als kapstok."])
    assert answers_kind(budget, ["Voor 2025 is € 120.000 begroot."])
    phone = "Wat is het telefoonnummer van contactpersoon L. Jonker?"
    assert not answers_kind(phone, ["Contactpersoon: L. Jonker"])
    # A person or date question is not refused for lack of a name or date: ranked only.
    assert answers_kind("Wie is verantwoordelijk?", ["De gemeenten samen."])
