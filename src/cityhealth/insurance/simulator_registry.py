"""What the simulated gateway knows: cards, card holders and registered lookup staff, read
from the person registry (`people`) and the staff accounts (`accounts`), and the card-check
rules that turn a query into one of the gateway's result codes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from cityhealth.accounts.models import User
from cityhealth.insurance.contract import upper_name
from cityhealth.people.enums import DatePrecision, IdentifierKind, IdentifierStatus
from cityhealth.people.models import InsuranceCard, Person, PersonIdentifier

CARD_FORMS = re.compile(r"^(\d{10}|\d{12}|[A-Z]{2}[1-5]\d{12})$")
BIRTH_FORMS = re.compile(r"^(\d{8}|\d{2}/\d{2}/\d{4}|\d{4})$")
# Groups whose cards the security ministries' own social-security offices manage.
DEFENCE_GROUPS = frozenset({"QN", "CY"})
PUBLIC_SECURITY_GROUPS = frozenset({"CA"})


@dataclass(frozen=True)
class Verdict:
    code: str
    person: Person | None = None
    card: InsuranceCard | None = None  # the card asked about
    new_card: InsuranceCard | None = None  # its successor (003/004)
    cards: tuple[InsuranceCard, ...] = ()  # all the holder's cards, oldest first, if read


def query_format_error(body: dict[str, object]) -> str | None:
    """What is malformed in a card-check body (205), or None."""
    for key in ("maThe", "hoTen", "ngaySinh", "hoTenCb", "cccdCb"):
        if not isinstance(body.get(key), str) or not str(body[key]).strip():
            return f"missing {key}"
    if not CARD_FORMS.match(str(body["maThe"]).strip().upper()):
        return "maThe"
    if not BIRTH_FORMS.match(str(body["ngaySinh"]).strip()):
        return "ngaySinh"
    if not re.fullmatch(r"\d{12}", str(body["cccdCb"]).strip()):
        return "cccdCb"
    return None


def staff_verdict(username: str, staff_id: str, staff_name: str) -> str | None:
    """054 when the staff ID is not on the facility's list, 055 when the name differs.

    The list is the facility's active staff accounts holding a citizen ID (members of that
    facility or city-wide), and the configured kiosk operator."""
    registered: str | None = None
    if staff_id == settings.INSURANCE_KIOSK_STAFF_CITIZEN_ID:
        registered = settings.INSURANCE_KIOSK_STAFF_NAME
    else:
        insurance_code = username.removesuffix("_BV")
        user = (
            User.objects.filter(citizen_id=staff_id, is_active=True)
            .filter(
                Q(memberships__facility__isnull=True)
                | Q(memberships__facility__insurance_code=insurance_code)
            )
            .first()
        )
        if user is not None:
            registered = user.full_name
    if registered is None:
        return "054"
    if upper_name(registered) != upper_name(staff_name):
        return "055"
    return None


def _cards_of(person_id: int) -> list[InsuranceCard]:
    cards = InsuranceCard.objects.filter(person_id=person_id)
    return sorted(cards, key=lambda c: (c.valid_from or dt.date.min, c.pk))


def _holder_by_citizen_id(number: str) -> Person | None:
    row = (
        PersonIdentifier.objects.filter(kind=IdentifierKind.CITIZEN_ID, value=number)
        .exclude(status=IdentifierStatus.RETIRED)
        .order_by("status", "-id")  # "active" sorts before "cancelled"
        .select_related("person")
        .first()
    )
    return row.person if row else None


def _age_on(person: Person, day: dt.date) -> int | None:
    if person.birth_date is not None:
        born = person.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return day.year - person.birth_year if person.birth_year else None


_HOLDER_CARDS_SQL = (
    "SELECT * FROM people_insurance_cards WHERE person_id = "
    "(SELECT person_id FROM people_insurance_cards WHERE %s = %%s ORDER BY id LIMIT 1)"
)
_PERSON_SQL = "SELECT * FROM people_persons WHERE id = %s"


def find_card(card: str, today: dt.date) -> Verdict:
    """The card a maThe names: 050-053 and 130 when there is none."""
    if len(card) == 12:
        person = _holder_by_citizen_id(card)
        if person is None:
            return Verdict("050")
        cards = _cards_of(person.pk)
        if not cards:
            age = _age_on(person, today)
            return Verdict("130" if age is not None and age < 6 else "050", person=person)
        current = [c for c in cards if c.valid_to is None or c.valid_to >= today]
        return Verdict("000", person=person, card=(current or cards)[-1], cards=tuple(cards))
    number = card[-10:]
    # The card asked about with its holder's other cards (a later card answers 003/004),
    # then the holder: in SQL, as every check-in asks (the ORM's compiling cost more).
    held = sorted(
        InsuranceCard.objects.raw(
            _HOLDER_CARDS_SQL % ("code" if len(card) == 15 else "social_insurance_number"),
            [card],
        ),
        key=lambda c: (c.valid_from or dt.date.min, c.pk),
    )
    exact = next((c for c in held if c.code == card or c.social_insurance_number == card), None)
    if exact is not None:
        exact.person = next(iter(Person.objects.raw(_PERSON_SQL, [exact.person_id])))
    if exact is None and len(card) == 15:
        same_number = InsuranceCard.objects.filter(social_insurance_number=number).first()
        if same_number is None or not same_number.code:
            return Verdict("050")
        other = same_number.code
        code = "051" if other[:2] != card[:2] else "052" if other[3:5] != card[3:5] else "053"
        return Verdict(code)
    if exact is None:
        return Verdict("050")
    return Verdict("000", person=exact.person, card=exact, cards=tuple(held))


def _birth_matches(person: Person, sent: str) -> bool:
    digits = sent.replace("/", "")
    if len(digits) == 4 or person.birth_date_precision == DatePrecision.YEAR:
        year = person.birth_date.year if person.birth_date else person.birth_year
        return year is not None and str(year) == digits[-4:]
    if person.birth_date is None:
        return False
    return person.birth_date.strftime("%d%m%Y") == digits


def check_card(body: dict[str, str], today: dt.date) -> Verdict:
    """The gateway's verdict on a well-formed query from a registered staff member."""
    found = find_card(body["maThe"].strip().upper(), today)
    if found.code != "000" or found.person is None or found.card is None:
        return found
    person, card = found.person, found.card
    sent_name, held_name = upper_name(body["hoTen"]), upper_name(person.full_name)
    if sent_name != held_name:
        return Verdict("061" if sent_name[:1] == held_name[:1] else "060", person, card)
    if not _birth_matches(person, body["ngaySinh"].strip()):
        return Verdict("070", person, card)
    later = [
        c
        for c in found.cards or _cards_of(person.pk)
        if c.pk != card.pk and (c.valid_from or dt.date.min) > (card.valid_from or dt.date.min)
    ]
    expired = card.valid_to is not None and card.valid_to < today
    if later:
        return Verdict("003" if expired else "004", person, card, new_card=later[-1])
    if expired:
        return Verdict("010", person, card)
    if card.group in DEFENCE_GROUPS:
        return Verdict("001", person, card)
    if card.group in PUBLIC_SECURITY_GROUPS:
        return Verdict("002", person, card)
    return Verdict("000", person, card)
