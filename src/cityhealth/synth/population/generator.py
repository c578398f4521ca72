"""The generator: persons, their identifiers, BHYT cards and guardians, chunk by chunk.

Each chunk of `CHUNK_SIZE` persons is drawn with NumPy from its own random stream,
`default_rng([seed, chunk index])`, and comes out as column lists ready to load; nothing of a
chunk is kept after it is loaded except the counters of the number spaces (a few hundred
thousand integers), so memory does not grow with the population. The same seed and size give
the same rows, whatever the batch size of the load.

Children under 14 are linked to a mother (and usually her husband) drawn from the same chunk and
ward, so families never straddle chunks. ID numbers are unique by construction (`numbers.py`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cityhealth.people.enums import (
    DatePrecision,
    IdentifierKind,
    IdentifierStatus,
    Relationship,
    Sex,
)
from cityhealth.synth.population.numbers import NumberSpace
from cityhealth.synth.population.tables import (
    FEMALE,
    VALIDITY_RULES,
    Categorical,
    Tables,
)

CHUNK_SIZE = 1 << 16  # persons per generation chunk: part of the output's definition
SOURCE_PREFIX = "synth:"

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
DateArray = npt.NDArray[np.datetime64]
ObjArray = npt.NDArray[np.object_]

_DAY = np.timedelta64(1, "D")
_KEY_STRIDE = 1 << 10  # ward * stride + (birth year - 1800): one sortable key
_REISSUE_REASON_TEXT = {
    "birth_year": "Hủy do xác định lại năm sinh; cấp số định danh mới",
    "sex": "Hủy do xác định lại giới tính; cấp số định danh mới",
    "registration": "Hủy do đăng ký khai sinh lại; cấp số định danh mới",
}
_OLD_ID_REASON = "Chứng minh nhân dân 9 số, thay bằng số định danh cá nhân"


@dataclass(frozen=True)
class Const:
    """A column with one value on every row."""

    value: Any


Column = list[Any] | Const


@dataclass
class Batch:
    """Rows for one table, as columns. Values: int, str, None (NULL), bool, ISO date strings,
    or aware datetimes (constants only)."""

    table: str
    columns: tuple[str, ...]
    values: tuple[Column, ...]
    count: int

    def column(self, name: str) -> Column:
        return self.values[self.columns.index(name)]

    def rows(self) -> Iterator[tuple[Any, ...]]:
        iterables = [
            itertools.repeat(v.value, self.count) if isinstance(v, Const) else v
            for v in self.values
        ]
        return zip(*iterables, strict=False)


@dataclass(frozen=True)
class IdBases:
    """First id of each table for this run (reserved from the sequences by the loader)."""

    person: int = 1
    identifier: int = 1
    card: int = 1
    guardianship: int = 1


@dataclass(frozen=True)
class PersonFacts:
    """What a legacy record is copied from."""

    person_id: int
    family: str
    middles: tuple[str, ...]
    given: str
    sex: str
    birth_date: dt.date
    precision: str
    citizen_id: str
    social_insurance_number: str
    phone: str
    ward_index: int
    address: str


@dataclass
class Chunk:
    index: int
    start: int  # row number of the chunk's first person in the population
    persons: Batch
    identifiers: Batch
    cards: Batch
    guardianships: Batch
    # Kept for legacy records and checks: per person of the chunk.
    name_tokens: IntArray = field(repr=False)  # (n, 4): family, middle, middle, given
    ward: IntArray = field(repr=False)
    citizen_id: list[str] = field(repr=False)  # "" when none
    bhxh: list[str] = field(repr=False)

    @property
    def size(self) -> int:
        return self.persons.count

    @property
    def batches(self) -> tuple[Batch, ...]:
        return (self.persons, self.identifiers, self.cards, self.guardianships)

    def facts(self, rows: IntArray, tables: Tables) -> list[PersonFacts]:
        words = tables.names.tokens.bare
        ids = self.persons.column("id")
        names = self.persons.column("full_name")
        sexes = self.persons.column("sex")
        births = self.persons.column("birth_date")
        precisions = self.persons.column("birth_date_precision")
        phones = self.persons.column("phone")
        addresses = self.persons.column("address")
        assert not isinstance(ids, Const)
        assert not isinstance(names, Const)
        assert not isinstance(sexes, Const)
        assert not isinstance(births, Const)
        assert not isinstance(precisions, Const)
        assert not isinstance(phones, Const)
        assert not isinstance(addresses, Const)
        out = []
        for row in rows.tolist():
            family, m1, m2, given = (str(words[t]) for t in self.name_tokens[row])
            out.append(
                PersonFacts(
                    person_id=ids[row],
                    family=family,
                    middles=tuple(m for m in (m1, m2) if m),
                    given=given,
                    sex=sexes[row],
                    birth_date=dt.date.fromisoformat(births[row]),
                    precision=precisions[row],
                    citizen_id=self.citizen_id[row],
                    social_insurance_number=self.bhxh[row],
                    phone=phones[row],
                    ward_index=int(self.ward[row]),
                    address=addresses[row],
                )
            )
        return out


def source_tag(seed: int, persons: int) -> str:
    """What every generated identifier carries in `source`: which run made it."""
    return f"{SOURCE_PREFIX}{seed}:{persons}"


def _to_dates(value: dt.date) -> np.datetime64:
    return np.datetime64(value.isoformat(), "D")


def _years_before(as_of: dt.date, years: IntArray) -> DateArray:
    """The date `years` years before `as_of` (29 February falls to 1 March)."""
    year = (as_of.year - years - 1970).astype("datetime64[Y]")
    month = year.astype("datetime64[M]") + (as_of.month - 1)
    return month.astype("datetime64[D]") + (as_of.day - 1)


def _add_years(dates: DateArray, years: int) -> DateArray:
    """The same day `years` later (29 February falls to 1 March)."""
    year = dates.astype("datetime64[Y]")
    months = dates.astype("datetime64[M]") - year.astype("datetime64[M]")
    days = dates - dates.astype("datetime64[M]").astype("datetime64[D]")
    moved: DateArray = ((year + years).astype("datetime64[M]") + months).astype(
        "datetime64[D]"
    ) + days
    return moved


def _iso(dates: DateArray) -> list[str]:
    return [str(s) for s in np.datetime_as_string(dates, unit="D").tolist()]


def _step(thresholds: tuple[tuple[int, float], ...], age: IntArray) -> FloatArray:
    ages = np.array([a for a, _ in thresholds], dtype=np.int64)
    shares = np.array([s for _, s in thresholds], dtype=np.float64)
    return shares[np.clip(np.searchsorted(ages, age, side="right") - 1, 0, len(shares) - 1)]


def _closest(
    candidates: IntArray,
    candidate_key: IntArray,
    target: IntArray,
    low: IntArray,
    high: IntArray,
    u: FloatArray,
) -> IntArray:
    """For each target key, a candidate whose key lies in [low, high], as close to the target
    as possible, chosen at random among equal keys; -1 where there is none."""
    if candidates.size == 0 or target.size == 0:
        return np.full(target.size, -1, dtype=np.int64)
    order = np.argsort(candidate_key, kind="stable")
    keys = candidate_key[order]
    first = np.searchsorted(keys, low, side="left")
    last = np.searchsorted(keys, high, side="right") - 1
    found = last >= first
    above = np.clip(np.searchsorted(keys, target, side="left"), first, np.maximum(last, first))
    below = np.clip(above - 1, first, np.maximum(last, first))
    above = np.minimum(above, keys.size - 1)
    below = np.minimum(below, keys.size - 1)
    pick = np.where(np.abs(keys[below] - target) < np.abs(keys[above] - target), below, above)
    run_start = np.searchsorted(keys, keys[pick], side="left")
    run_end = np.searchsorted(keys, keys[pick], side="right")
    pick = run_start + (u * (run_end - run_start)).astype(np.int64)
    return np.where(found, candidates[order][np.minimum(pick, keys.size - 1)], -1)


class PopulationGenerator:
    """Draws the population of `persons` people for `seed`, chunk by chunk."""

    def __init__(
        self,
        tables: Tables,
        *,
        persons: int,
        seed: int,
        bases: IdBases | None = None,
        created_at: dt.datetime | None = None,
    ) -> None:
        if persons < 0:
            raise ValueError("the number of persons cannot be negative")
        self.tables = tables
        self.params = tables.params
        self.persons = persons
        self.seed = seed
        self.bases = bases or IdBases()
        self.as_of = self.params.as_of
        self.as_of_day = _to_dates(self.as_of)
        self.created_at = created_at or dt.datetime.combine(self.as_of, dt.time(), tzinfo=dt.UTC)
        self.source = source_tag(seed, persons)
        spaces = np.random.default_rng([seed, 0x5EED])
        provinces = len(tables.provinces.id_codes)
        # Personal ID: one space of 10⁶ per (province, century/sex digit, two-digit year).
        self._citizen_ids = NumberSpace(
            spaces, groups=provinces * 10 * 100, half=1000, label="personal ID"
        )
        # Old 9-digit ID: 2-digit prefix + 10⁷; BHXH number: 2-digit prefix + 10⁸.
        self._old_ids = NumberSpace(spaces, groups=100, half=1000, blocks=10, label="old ID")
        self._bhxh = NumberSpace(spaces, groups=100, half=10_000, label="BHXH number")
        self._province_number = np.array(
            [int(c) for c in tables.provinces.id_codes], dtype=np.int64
        )
        self._old_prefix = np.array(
            [int(p) for p in tables.provinces.old_id_prefix], dtype=np.int64
        )
        self._bhxh_prefix = np.array([int(p) for p in tables.provinces.bhxh_prefix], dtype=np.int64)
        reasons = self.params.identity.reissue_reasons
        self._reason_names = tuple(reasons)
        self._reasons = Categorical.of(list(range(len(reasons))), list(reasons.values()))
        self._next_identifier = self.bases.identifier
        self._next_card = self.bases.card
        self._next_guardianship = self.bases.guardianship
        self._next_chunk = 0

    @property
    def chunk_count(self) -> int:
        return -(-self.persons // CHUNK_SIZE)

    def chunks(self) -> Iterator[Chunk]:
        """All chunks in order (the number spaces carry over from one to the next)."""
        if self._next_chunk:
            raise RuntimeError("a generator runs once")
        for index in range(self.chunk_count):
            self._next_chunk = index + 1
            start = index * CHUNK_SIZE
            yield self._chunk(index, start, min(CHUNK_SIZE, self.persons - start))

    # --- one chunk -----------------------------------------------------------------------------

    def _chunk(self, index: int, start: int, n: int) -> Chunk:
        rng = np.random.default_rng([self.seed, index])
        t = self.tables
        ages = t.ages

        band = ages.bands.pick(rng.random(n))
        age = ages.age_from[band] + (
            rng.random(n) * (ages.age_to[band] - ages.age_from[band] + 1)
        ).astype(np.int64)
        female = rng.random(n) >= ages.male_share[band]
        latest = _years_before(self.as_of, age)
        earliest = _years_before(self.as_of, age + 1) + _DAY
        span = (latest - earliest).astype(np.int64) + 1
        birth = earliest + (rng.random(n) * span).astype(np.int64).astype("timedelta64[D]")
        birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
        ward = t.wards.pick.pick(rng.random(n))

        mother, father, ward = self._families(rng, age, female, birth_year, ward)
        tokens = self._names(rng, female, birth_year, mother, father)

        year_only = rng.random(n) < ages.year_only_share[band]
        stored_birth = np.where(
            year_only, birth.astype("datetime64[Y]").astype("datetime64[D]"), birth
        )
        address = self._addresses(rng, ward, mother, father)
        phone = self._phones(rng, age)
        eid = rng.random(n) < _step(self.params.contact.eid_share_from_age, age)

        person_ids = self.bases.person + start + np.arange(n, dtype=np.int64)
        names = t.names.tokens
        full_name = (
            names.bare[tokens[:, 0]]
            + names.spaced[tokens[:, 1]]
            + names.spaced[tokens[:, 2]]
            + names.spaced[tokens[:, 3]]
        )
        search_text = (
            names.bare_keys[tokens[:, 0]]
            + names.spaced_keys[tokens[:, 1]]
            + names.spaced_keys[tokens[:, 2]]
            + names.spaced_keys[tokens[:, 3]]
        )
        created = self.created_at
        persons = Batch(
            table="people_persons",
            columns=(
                "id",
                "full_name",
                "search_text",
                "birth_date",
                "birth_year",
                "birth_date_precision",
                "sex",
                "nationality",
                "ward_id",
                "address",
                "phone",
                "deceased",
                "deceased_on",
                "eid_linked",
                "merged_into_id",
                "created_at",
                "updated_at",
            ),
            values=(
                person_ids.tolist(),
                full_name.tolist(),
                search_text.tolist(),
                _iso(stored_birth),
                birth_year.tolist(),
                np.where(year_only, DatePrecision.YEAR.value, DatePrecision.DAY.value).tolist(),
                np.where(female, Sex.FEMALE.value, Sex.MALE.value).tolist(),
                Const("VN"),
                [t.wards.codes[w] for w in ward.tolist()],
                address,
                phone,
                Const(False),
                Const(None),
                eid.tolist(),
                Const(None),
                Const(created),
                Const(created),
            ),
            count=n,
        )
        identifiers, citizen_id, province = self._identifiers(
            rng, person_ids, age, female, birth, birth_year, band
        )
        cards, bhxh = self._cards(rng, person_ids, age, female, birth, ward, province)
        guardianships = self._guardianships(person_ids, mother, father)
        return Chunk(
            index=index,
            start=start,
            persons=persons,
            identifiers=identifiers,
            cards=cards,
            guardianships=guardianships,
            name_tokens=tokens,
            ward=ward,
            citizen_id=citizen_id,
            bhxh=bhxh,
        )

    # --- families --------------------------------------------------------------------------------

    def _families(
        self,
        rng: np.random.Generator,
        age: IntArray,
        female: BoolArray,
        birth_year: IntArray,
        ward: IntArray,
    ) -> tuple[IntArray, IntArray, IntArray]:
        """Mother and father (row numbers, -1 for none) of every child; the child moves to the
        ward of the parent found, so a family lives in one ward."""
        g = self.params.guardians
        n = age.size
        mother = np.full(n, -1, dtype=np.int64)
        father = np.full(n, -1, dtype=np.int64)
        children = np.flatnonzero(age < g.child_age_below)
        if children.size == 0:
            return mother, father, ward
        year = birth_year - 1800
        key = ward * _KEY_STRIDE + year
        gap = np.clip(
            np.rint(rng.normal(g.mother_age_mean, g.mother_age_sd, children.size)),
            g.mother_age_min,
            g.mother_age_max,
        ).astype(np.int64)
        child_year = year[children]
        women = np.flatnonzero(female & (age >= g.mother_age_min))
        target = child_year - gap
        low, high = child_year - g.mother_age_max, child_year - g.mother_age_min
        u = rng.random(children.size)
        base = ward[children] * _KEY_STRIDE
        found = _closest(women, key[women], base + target, base + low, base + high, u)
        # Where the ward has no woman of the right age, look city-wide and move the child.
        missing = found < 0
        if missing.any():
            found[missing] = _closest(
                women, year[women], target[missing], low[missing], high[missing], u[missing]
            )
        mother[children] = found
        has_mother = mother >= 0
        ward = ward.copy()
        ward[has_mother] = ward[mother[has_mother]]

        # Each mother's husband: a man of about her age in her ward, for most mothers.
        wives = np.unique(mother[has_mother])
        men = np.flatnonzero(~female & (age >= 18))
        husband_gap = np.clip(
            np.rint(rng.normal(g.father_age_gap_mean, g.father_age_gap_sd, wives.size)),
            g.father_age_gap_min,
            g.father_age_gap_max,
        ).astype(np.int64)
        wife_base = ward[wives] * _KEY_STRIDE
        wife_year = year[wives]
        husband = _closest(
            men,
            key[men],
            wife_base + wife_year - husband_gap,
            wife_base + wife_year - g.father_age_gap_max,
            wife_base + wife_year - g.father_age_gap_min,
            rng.random(wives.size),
        )
        husband[rng.random(wives.size) >= g.father_share] = -1
        husband_of = np.full(n, -1, dtype=np.int64)
        husband_of[wives] = husband
        father[has_mother] = husband_of[mother[has_mother]]
        # A father must have been an adult at the birth.
        too_young = (father >= 0) & (birth_year - birth_year[np.maximum(father, 0)] < 18)
        father[too_young] = -1

        # Children with no mother at all (tiny populations): a father of the right age.
        orphans = children[mother[children] < 0]
        if orphans.size:
            year_o = year[orphans]
            found = _closest(
                men,
                year[men],
                year_o - 31,
                year_o - 60,
                year_o - 18,
                rng.random(orphans.size),
            )
            father[orphans] = found
            ok = found >= 0
            ward[orphans[ok]] = ward[found[ok]]
        return mother, father, ward

    def _guardianships(self, person_ids: IntArray, mother: IntArray, father: IntArray) -> Batch:
        rows_m = np.flatnonzero(mother >= 0)
        rows_f = np.flatnonzero(father >= 0)
        child = np.concatenate([person_ids[rows_m], person_ids[rows_f]])
        guardian = np.concatenate([person_ids[mother[rows_m]], person_ids[father[rows_f]]])
        relationship = [Relationship.MOTHER.value] * rows_m.size + [
            Relationship.FATHER.value
        ] * rows_f.size
        count = int(child.size)
        ids = list(range(self._next_guardianship, self._next_guardianship + count))
        self._next_guardianship += count
        return Batch(
            table="people_guardianships",
            columns=("id", "child_id", "guardian_id", "relationship", "created_at"),
            values=(ids, child.tolist(), guardian.tolist(), relationship, Const(self.created_at)),
            count=count,
        )

    # --- names -----------------------------------------------------------------------------------

    def _names(
        self,
        rng: np.random.Generator,
        female: BoolArray,
        birth_year: IntArray,
        mother: IntArray,
        father: IntArray,
    ) -> IntArray:
        """Token indices (family, middle, middle, given) per person."""
        nt = self.tables.names
        n = female.size
        empty = nt.tokens.empty
        years = birth_year.astype(np.float64)

        family = nt.surnames.pick(rng.random(n))
        # Children take their father's family name, or their mother's when he is unknown.
        has_father = father >= 0
        family[has_father] = family[father[has_father]]
        mother_only = ~has_father & (mother >= 0)
        family[mother_only] = family[mother[mother_only]]

        def by_sex(pair: tuple[Categorical, Categorical], u: FloatArray) -> IntArray:
            return np.where(female, pair[FEMALE].pick(u), pair[0].pick(u))

        marker_share = np.where(
            female,
            np.interp(years, nt.cohort_years, nt.marker_share[FEMALE]),
            np.interp(years, nt.cohort_years, nt.marker_share[0]),
        )
        marker = np.where(female, nt.marker[FEMALE], nt.marker[0])
        first = np.where(rng.random(n) < marker_share, marker, by_sex(nt.middles, rng.random(n)))
        second = by_sex(nt.middles, rng.random(n))
        for _ in range(3):  # no "Minh Minh"
            same = second == first
            if not same.any():
                break
            second[same] = by_sex(nt.middles, rng.random(n))[same]

        shape = rng.random(n)
        two = shape < np.interp(years, nt.cohort_years, nt.two_token_share)
        four = shape >= 1.0 - np.interp(years, nt.cohort_years, nt.four_token_share)
        first[two] = empty
        second[~four] = empty

        p = self.params.names
        young = np.clip((years - p.old_until) / (p.young_from - p.old_until), 0.0, 1.0)
        use_young = rng.random(n) < young
        u = rng.random(n)
        given = np.where(use_young, by_sex(nt.given_young, u), by_sex(nt.given_old, u))
        for _ in range(3):
            same = (given == first) | (given == second)
            if not same.any():
                break
            u = rng.random(n)
            redraw = np.where(use_young, by_sex(nt.given_young, u), by_sex(nt.given_old, u))
            given[same] = redraw[same]
        return np.stack([family, first, second, given], axis=1)

    # --- addresses and phones --------------------------------------------------------------------

    def _addresses(
        self, rng: np.random.Generator, ward: IntArray, mother: IntArray, father: IntArray
    ) -> list[str]:
        w = self.tables.wards
        n = ward.size
        house = rng.integers(1, 250, n).tolist()
        alley = rng.integers(1, 400, n).tolist()
        street_group = rng.integers(1, 60, n).tolist()
        hamlet = rng.integers(1, 25, n).tolist()
        with_alley = (rng.random(n) < 0.6).tolist()
        urban = w.urban[ward].tolist()
        suffix = self.tables.province_label
        out = []
        for i, wi in enumerate(ward.tolist()):
            place = f"{w.names[wi]}, {suffix}"
            if urban[i]:
                if with_alley[i]:
                    out.append(
                        f"Số {house[i]}, ngõ {alley[i]}, tổ dân phố {street_group[i]}, {place}"
                    )
                else:
                    out.append(f"Số {house[i]}, tổ dân phố {street_group[i]}, {place}")
            else:
                out.append(f"Thôn {hamlet[i]}, {place}")
        # A husband lives with his wife; children with their mother (or father).
        wives = np.flatnonzero(mother >= 0)
        for child, mum, dad in zip(
            wives.tolist(), mother[wives].tolist(), father[wives].tolist(), strict=True
        ):
            if dad >= 0:
                out[dad] = out[mum]
            out[child] = out[mum]
        for child in np.flatnonzero((mother < 0) & (father >= 0)).tolist():
            out[child] = out[int(father[child])]
        return out

    def _phones(self, rng: np.random.Generator, age: IntArray) -> list[str]:
        n = age.size
        has = rng.random(n) < _step(self.params.contact.phone_share_from_age, age)
        prefix = self.tables.phones.pick(rng.random(n)).tolist()
        digits = rng.integers(0, 10_000_000, n).tolist()
        prefixes = self.tables.phone_prefixes
        return [
            f"{prefixes[p]}{d:07d}" if h else ""
            for p, d, h in zip(prefix, digits, has.tolist(), strict=True)
        ]

    # --- identifiers -----------------------------------------------------------------------------

    def _citizen_numbers(
        self, province: IntArray, female: BoolArray, birth_year: IntArray
    ) -> list[str]:
        century_sex = (birth_year - 1900) // 100 * 2 + female.astype(np.int64)
        two_digit = birth_year % 100
        group = (province * 10 + century_sex) * 100 + two_digit
        block = self._citizen_ids.draw(group)
        value = (
            self._province_number[province] * 1_000_000_000
            + century_sex * 100_000_000
            + two_digit * 1_000_000
            + block
        )
        return [f"{v:012d}" for v in value.tolist()]

    def _issue_dates(
        self, rng: np.random.Generator, birth: DateArray, birth_year: IntArray
    ) -> DateArray:
        """When each person's personal ID number was assigned: at birth registration for
        those born since the numbers began, else when the city issued them."""
        p = self.params.identity
        first = _to_dates(p.number_first_issued)
        last = _to_dates(p.number_issued_until)
        n = birth.size
        registration = birth + rng.integers(7, 60, n).astype("timedelta64[D]")
        spread = (last - first).astype(np.int64) + 1
        issued = first + (rng.random(n) * spread).astype(np.int64).astype("timedelta64[D]")
        issued = np.maximum(issued, registration)
        at: DateArray = np.minimum(np.where(birth >= first, registration, issued), self.as_of_day)
        return at

    def _identifiers(
        self,
        rng: np.random.Generator,
        person_ids: IntArray,
        age: IntArray,
        female: BoolArray,
        birth: DateArray,
        birth_year: IntArray,
        band: IntArray,
    ) -> tuple[Batch, list[str], IntArray]:
        """Personal ID numbers (active, and cancelled ones of re-issues) and old 9-digit IDs.

        Also returns each person's number and province of registration (-1: no number yet).
        """
        t = self.tables
        p = self.params.identity
        n = age.size
        provinces = t.provinces
        elsewhere = rng.random(n) < t.ages.elsewhere_share[band]
        province = np.where(elsewhere, provinces.origins.pick(rng.random(n)), provinces.local)
        age_days = (self.as_of_day - birth).astype(np.int64)
        unregistered = (age_days < p.unregistered_newborn_days) & (
            rng.random(n) < p.unregistered_newborn_share
        )
        registered = ~unregistered
        issued = self._issue_dates(rng, birth, birth_year)

        # Re-issued numbers: the earlier one differed in birth year, sex or province.
        reissue = registered & (age >= 1) & (rng.random(n) < p.reissue_share)
        reason = self._reasons.pick(rng.random(n))
        step = np.where(rng.random(n) < 0.5, -1, 1)
        by_year = reason == self._reason_names.index("birth_year")
        by_sex = reason == self._reason_names.index("sex")
        by_registration = reason == self._reason_names.index("registration")
        old_year = np.where(by_year, birth_year + step, birth_year)
        old_year = np.where(old_year > self.as_of.year, birth_year - 1, old_year)
        old_female = np.where(by_sex, ~female, female)
        moved = np.where(
            province == provinces.local, provinces.origins.pick(rng.random(n)), provinces.local
        )
        old_province = np.where(by_registration, moved, province)
        reissued_on = issued + (
            rng.random(n) * np.maximum((self.as_of_day - issued).astype(np.int64), 1)
        ).astype(np.int64).astype("timedelta64[D]")
        reissued_on = np.minimum(reissued_on + _DAY, self.as_of_day)

        active_rows = np.flatnonzero(registered)
        cancelled_rows = np.flatnonzero(reissue)
        rows = np.concatenate([active_rows, cancelled_rows])
        numbers = self._citizen_numbers(
            np.concatenate([province[active_rows], old_province[cancelled_rows]]),
            np.concatenate([female[active_rows], old_female[cancelled_rows]]),
            np.concatenate([birth_year[active_rows], old_year[cancelled_rows]]),
        )
        citizen_id = [""] * n
        for row, number in zip(active_rows.tolist(), numbers, strict=False):
            citizen_id[row] = number

        # Old 9-digit ID cards, for adults born before the cut-off.
        has_old = (
            registered & (birth_year < p.old_id_born_before) & (rng.random(n) < p.old_id_share)
        )
        old_rows = np.flatnonzero(has_old)
        prefix = self._old_prefix[province[old_rows]]
        old_numbers = prefix * 10_000_000 + self._old_ids.draw(prefix)
        old_from = birth[old_rows] + ((14 + rng.random(old_rows.size) * 10) * 365.25).astype(
            np.int64
        ).astype("timedelta64[D]")
        old_from = np.maximum(old_from, _to_dates(p.old_id_first_issued))
        replaced = issued[old_rows]
        old_from = np.minimum(old_from, replaced - np.timedelta64(365, "D"))

        count = rows.size + old_rows.size
        a, c = active_rows.size, cancelled_rows.size
        active_from = np.where(reissue, reissued_on, issued)
        valid_from = _iso(
            np.concatenate([active_from[active_rows], issued[cancelled_rows], old_from])
        )
        valid_to: list[str | None] = [None] * a
        valid_to += _iso(reissued_on[cancelled_rows])
        valid_to += _iso(replaced)
        reason_names = self._reason_names
        reasons = [""] * a
        reasons += [_REISSUE_REASON_TEXT[reason_names[r]] for r in reason[cancelled_rows].tolist()]
        reasons += [_OLD_ID_REASON] * old_rows.size
        ids = list(range(self._next_identifier, self._next_identifier + count))
        self._next_identifier += count
        batch = Batch(
            table="people_identifiers",
            columns=(
                "id",
                "person_id",
                "kind",
                "value",
                "issuer",
                "status",
                "valid_from",
                "valid_to",
                "reason",
                "source",
                "created_at",
            ),
            values=(
                ids,
                np.concatenate([person_ids[rows], person_ids[old_rows]]).tolist(),
                [IdentifierKind.CITIZEN_ID.value] * (a + c)
                + [IdentifierKind.OLD_ID.value] * old_rows.size,
                numbers + [f"{v:09d}" for v in old_numbers.tolist()],
                Const(""),
                [IdentifierStatus.ACTIVE.value] * a
                + [IdentifierStatus.CANCELLED.value] * (c + old_rows.size),
                valid_from,
                valid_to,
                reasons,
                Const(self.source),
                Const(self.created_at),
            ),
            count=count,
        )
        return batch, citizen_id, np.where(registered, province, -1)

    # --- insurance -------------------------------------------------------------------------------

    def _cards(
        self,
        rng: np.random.Generator,
        person_ids: IntArray,
        age: IntArray,
        female: BoolArray,
        birth: DateArray,
        ward: IntArray,
        province: IntArray,
    ) -> tuple[Batch, list[str]]:
        """One BHYT card per insured person (none for newborns without a number yet)."""
        t = self.tables
        ins = t.insurance
        n = age.size
        group = np.full(n, -1, dtype=np.int64)
        for b in ins.bands:
            mask = (age >= b.age_from) & (age <= b.age_to)
            if b.sex >= 0:
                mask &= female == bool(b.sex == FEMALE)
            rows = np.flatnonzero(mask)
            group[rows] = b.groups.pick(rng.random(rows.size))
        group[province < 0] = -1
        rows = np.flatnonzero(group >= 0)
        g = group[rows]

        # The lifelong BHXH number: opened in the city for most, in the home province for some.
        elsewhere = province[rows] != t.provinces.local
        home = elsewhere & (
            rng.random(rows.size) < self.params.insurance.bhxh_number_home_province_share
        )
        prefix = np.where(home, self._bhxh_prefix[province[rows]], int(t.province_code))
        number = prefix * 100_000_000 + self._bhxh.draw(prefix)
        bhxh_text = [f"{v:010d}" for v in number.tolist()]
        level = ins.levels[g]
        codes = [
            f"{ins.groups[gi]}{lv}{t.province_code}{number}"
            for gi, lv, number in zip(g.tolist(), level.tolist(), bhxh_text, strict=True)
        ]
        nearest = t.wards.primary_care
        choice = np.minimum(
            t.wards.primary_care_weights.pick(rng.random(rows.size)), nearest.shape[1] - 1
        )
        facility = nearest[ward[rows], choice].tolist()

        valid_from, valid_to = self._card_validity(rng, ins.validity_rule[g], birth[rows])
        bhxh = [""] * n
        for r, text in zip(rows.tolist(), bhxh_text, strict=True):
            bhxh[r] = text
        count = int(rows.size)
        ids = list(range(self._next_card, self._next_card + count))
        self._next_card += count
        batch = Batch(
            table="people_insurance_cards",
            columns=(
                "id",
                "person_id",
                "code",
                "social_insurance_number",
                "group",
                "benefit_level",
                "primary_care_facility",
                "valid_from",
                "valid_to",
                "created_at",
            ),
            values=(
                ids,
                person_ids[rows].tolist(),
                codes,
                bhxh_text,
                [ins.groups[gi] for gi in g.tolist()],
                level.tolist(),
                facility,
                valid_from,
                valid_to,
                Const(self.created_at),
            ),
            count=count,
        )
        return batch, bhxh

    def _card_validity(
        self, rng: np.random.Generator, rule: IntArray, birth: DateArray
    ) -> tuple[list[str], list[str]]:
        as_of = self.as_of_day
        n = rule.size
        year_start = _to_dates(dt.date(self.as_of.year, 1, 1))
        year_end = _to_dates(dt.date(self.as_of.year, 12, 31))
        next_year_end = _to_dates(dt.date(self.as_of.year + 1, 12, 31))
        back_12 = (rng.random(n) * 365).astype(np.int64).astype("timedelta64[D]")
        back_60 = (rng.random(n) * 1826).astype(np.int64).astype("timedelta64[D]")
        sixth = _add_years(birth, 6)
        names = VALIDITY_RULES
        start = np.full(n, year_start)
        end = np.full(n, next_year_end)
        child = rule == names.index("child_until_six")
        start[child] = birth[child]
        end[child] = sixth[child] - _DAY
        calendar = rule == names.index("calendar_year")
        end[calendar] = year_end
        twelve = rule == names.index("twelve_months")
        start[twelve] = as_of - back_12[twelve]
        end[twelve] = start[twelve] + np.timedelta64(364, "D")
        five = rule == names.index("five_years")
        start[five] = as_of - back_60[five]
        end[five] = start[five] + np.timedelta64(1825, "D")
        return _iso(start), _iso(end)
