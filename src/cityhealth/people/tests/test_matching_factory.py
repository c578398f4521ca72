"""A small synthetic population and noisy copies of it, for the matcher's tests (no tests here).

Deliberately independent of `cityhealth.synth`: a few hundred persons with weighted
Vietnamese surnames, sex-dependent middle and given names, wards, phones and addresses; and
incoming records made from them with the errors hospital records show (typos, lost diacritics,
day and month swapped, Võ for Vũ, family and given names swapped, missing fields).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field, replace

from cityhealth.core.names import name_key
from cityhealth.core.text import fold_for_search
from cityhealth.geo.enums import WardKind
from cityhealth.geo.models import Province, Ward
from cityhealth.people.enums import DatePrecision, IdentifierKind, Sex
from cityhealth.people.matching.types import IncomingRecord
from cityhealth.people.models import Person, PersonIdentifier

SURNAMES = [
    ("Nguyễn", 35.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.1), ("Hoàng", 3.0),
    ("Huỳnh", 2.0), ("Phan", 4.5), ("Vũ", 2.2), ("Võ", 1.7), ("Đặng", 2.1), ("Bùi", 2.0),
    ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Trương", 1.0),
    ("Đinh", 0.8), ("Lương", 0.6), ("Tạ", 0.4), ("Mai", 0.5), ("Kiều", 0.3),
]  # fmt: skip
MIDDLE = {
    Sex.MALE: ["Văn", "Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Công", "Xuân"],
    Sex.FEMALE: ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Hồng", "Phương", "Kim"],
}
GIVEN = {
    Sex.MALE: [
        "Anh", "Hùng", "Dũng", "Minh", "Tuấn", "Nam", "Long", "Hải", "Sơn", "Thắng", "Cường",
        "Hiếu", "Đức", "Phúc", "Khoa", "Bình", "Quân", "Trung", "Kiên", "Tùng", "Vinh", "Lâm",
    ],
    Sex.FEMALE: [
        "Anh", "Lan", "Hương", "Hoa", "Linh", "Trang", "Hà", "Mai", "Thảo", "Ngọc", "Hằng",
        "Yến", "Nhung", "Phương", "Huyền", "Thủy", "Vân", "Loan", "Duyên", "Quỳnh", "Chi",
    ],
}  # fmt: skip
STREETS = ["Xã Đàn", "Kim Mã", "Láng Hạ", "Giải Phóng", "Minh Khai", "Hào Nam", "Tây Sơn"]
WARDS = ["00004", "00008", "00016", "00025", "00031", "00037", "00040", "00043"]


def ensure_wards() -> None:
    province, _ = Province.objects.get_or_create(
        code="01", defaults={"name": "Thành phố Hà Nội", "kind": "thành phố trung ương"}
    )
    for n, code in enumerate(WARDS):
        Ward.objects.get_or_create(
            code=code,
            defaults={
                "name": f"Phường Thử {n}",
                "short_name": f"Thử {n}",
                "kind": WardKind.WARD,
                "province": province,
            },
        )


@dataclass
class Truth:
    person: Person
    citizen_id: str


@dataclass
class Population:
    persons: list[Truth] = field(default_factory=list)


def _pick_weighted(rng: random.Random, items: list[tuple[str, float]]) -> str:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def random_identity(rng: random.Random) -> dict[str, object]:
    """Fields of a person who may or may not be in the index."""
    sex = rng.choice([Sex.MALE, Sex.FEMALE])
    family = _pick_weighted(rng, SURNAMES)
    parts = [family, rng.choice(MIDDLE[sex]), rng.choice(GIVEN[sex])]
    if rng.random() < 0.12:  # a second middle name
        parts.insert(2, rng.choice(MIDDLE[sex][3:]))
    year = rng.randint(1940, 2023)
    birth_date = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
    year_only = year < 1960 and rng.random() < 0.3
    return {
        "full_name": " ".join(parts),
        "birth_date": None if year_only else birth_date,
        "birth_year": year,
        "birth_date_precision": DatePrecision.YEAR if year_only else DatePrecision.DAY,
        "sex": sex,
        "ward_id": rng.choice(WARDS),
        "phone": f"09{rng.randint(10_000_000, 99_999_999)}" if rng.random() < 0.7 else "",
        "address": (
            f"Số {rng.randint(1, 200)} ngõ {rng.randint(1, 300)} phố {rng.choice(STREETS)}"
            if rng.random() < 0.8
            else ""
        ),
    }


def citizen_id_for(rng: random.Random, year: int, sex: str) -> str:
    century = (year // 100 - 19) * 2 + (1 if sex == Sex.FEMALE else 0)
    return f"001{century}{year % 100:02d}{rng.randint(0, 999_999):06d}"


def build_population(size: int, *, seed: int = 7) -> Population:
    """`size` persons saved with their citizen IDs (bulk, so `search_text` is set here)."""
    ensure_wards()
    rng = random.Random(seed)
    identities = [random_identity(rng) for _ in range(size)]
    persons = Person.objects.bulk_create(
        [Person(search_text=name_key(str(i["full_name"])), **i) for i in identities]
    )
    numbers = [citizen_id_for(rng, p.birth_year or 2000, p.sex) for p in persons]
    PersonIdentifier.objects.bulk_create(
        [
            PersonIdentifier(person=p, kind=IdentifierKind.CITIZEN_ID, value=number)
            for p, number in zip(persons, numbers, strict=True)
        ]
    )
    return Population([Truth(p, n) for p, n in zip(persons, numbers, strict=True)])


def save_person(**fields: object) -> Person:
    fields.setdefault("ward_id", WARDS[0])
    person = Person(**fields)
    person.save()
    return person


# --- noise ------------------------------------------------------------------------------------


def strip_diacritics(text: str) -> str:
    folded = fold_for_search(text)
    return " ".join(w.capitalize() for w in folded.split())


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word + rng.choice("aeiou")
    i = rng.randrange(1, len(word))
    kind = rng.choice(["drop", "swap", "replace"])
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "swap" and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice("aeioumnht") + word[i + 1 :]


REGIONAL = {"Vũ": "Võ", "Võ": "Vũ", "Hoàng": "Huỳnh", "Huỳnh": "Hoàng"}


def noisy_copy(rng: random.Random, person: Person, *, errors: int) -> IncomingRecord:
    """A hospital's record of `person`, with `errors` kinds of error and no identifiers."""
    words = person.full_name.split()
    birth_date, precision = person.birth_date, DatePrecision(person.birth_date_precision)
    ward, phone, address, sex = person.ward_id or "", person.phone, person.address, person.sex
    kinds = rng.sample(
        [
            "typo_given", "typo_family", "no_diacritics", "swap_day_month", "regional",
            "western_order", "drop_middle", "no_phone", "no_ward", "year_only", "moved",
            "no_sex", "no_address",
        ],
        errors,
    )  # fmt: skip
    for kind in kinds:
        if kind == "typo_given":
            words[-1] = typo(rng, words[-1])
        elif kind == "typo_family":
            words[0] = typo(rng, words[0])
        elif kind == "regional" and words[0] in REGIONAL:
            words[0] = REGIONAL[words[0]]
        elif kind == "drop_middle" and len(words) >= 3:
            del words[1]
        elif kind == "swap_day_month" and birth_date and birth_date.day <= 12:
            birth_date = birth_date.replace(month=birth_date.day, day=birth_date.month)
        elif kind == "year_only" and birth_date:
            birth_date, precision = birth_date.replace(month=1, day=1), DatePrecision.YEAR
        elif kind == "no_phone":
            phone = ""
        elif kind == "no_ward":
            ward = ""
        elif kind == "moved":
            ward, address = rng.choice(WARDS), ""
        elif kind == "no_sex":
            sex = ""
        elif kind == "no_address":
            address = ""
    name = " ".join(words)
    if "western_order" in kinds:
        name = " ".join(words[-1:] + words[:-1])
    if "no_diacritics" in kinds:
        name = strip_diacritics(name)
    return IncomingRecord(
        full_name=name,
        birth_date=birth_date,
        birth_year=person.birth_year,
        birth_date_precision=precision,
        sex="" if sex == Sex.UNKNOWN else sex,
        phone=phone,
        ward_code=ward,
        address=address,
        source_record_id=f"HIS-{person.pk}",
    )


def stranger(rng: random.Random) -> IncomingRecord:
    """A record of someone who is not in the index."""
    identity = random_identity(rng)
    return IncomingRecord(
        full_name=str(identity["full_name"]),
        birth_date=identity["birth_date"],  # type: ignore[arg-type]
        birth_year=identity["birth_year"],  # type: ignore[arg-type]
        birth_date_precision=identity["birth_date_precision"],  # type: ignore[arg-type]
        sex=str(identity["sex"]),
        phone=str(identity["phone"]),
        ward_code=str(identity["ward_id"]),
        address=str(identity["address"]),
    )


def noisy_records(
    population: Population, rng: random.Random, *, copies: int, strangers: int
) -> tuple[list[IncomingRecord], list[int | None]]:
    """Noisy copies of `copies` persons (1–3 errors each) and `strangers` unknown persons."""
    chosen = rng.sample(population.persons, copies)
    records: list[IncomingRecord] = []
    truth: list[int | None] = []
    for entry in chosen:
        records.append(noisy_copy(rng, entry.person, errors=rng.choice([1, 2, 2, 3])))
        truth.append(entry.person.pk)
    for _ in range(strangers):
        records.append(stranger(rng))
        truth.append(None)
    order = list(range(len(records)))
    rng.shuffle(order)
    return [records[i] for i in order], [truth[i] for i in order]


def with_fields(record: IncomingRecord, **changes: object) -> IncomingRecord:
    return replace(record, **changes)  # type: ignore[arg-type]
