"""The records generator: a person's clinical history over the last `years` years before the
reference date (`as_of`, the population's), as FHIR R4 resources.

Pure and deterministic: the history of a person depends only on the seed, the person (id,
birth date, sex, ward, primary-care hospital), the registry's facilities and the shipped
parameters. Each person draws from its own stream, `random.Random(seed, person id)`, so a
person's resources are the same whichever persons come before it, and the generator holds
nothing but one person at a time.

What a history holds (rates and sources in `data/synth/records.json` and SOURCE.md):
- chronic conditions present at the end by their prevalence for age and sex, each with
  follow-up visits (vital signs, the labs of the condition with a DiagnosticReport,
  prescriptions, a yearly ECG for some);
- acute ambulatory, emergency and inpatient visits at yearly rates by age and sex, each with
  a diagnosis, vital signs, labs for some, prescriptions, procedures for some stays;
- for children, the Expanded Programme on Immunization's doses and growth measurements at
  well-child visits (WHO growth standards, each child on its own z-score track);
- tuberculosis episodes, and an allergy for a few.

Logical ids are `s<seed>p<person>-<n>`: unique across types, stable for a seed and person.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Any

from cityhealth.synth.records import shapes
from cityhealth.synth.records.catalog import (
    Catalog,
    Chronic,
    Code,
    Vaccine,
    band_of,
    bands,
    by_age,
    growth_at,
)
from cityhealth.synth.records.directory import City

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = 30.4375
# Outpatient arrivals by hour (reference population-and-health.md §4.3, grouped).
_CLINIC_HOURS = (6, 7, 8, 9, 10, 13, 14, 15)
_CLINIC_WEIGHTS = (15, 20, 15, 10, 10, 8, 6, 4)
_FEVER_SEASON = range(7, 12)  # dengue: July to November


@dataclass(frozen=True)
class PersonInput:
    person_id: int
    birth_date: dt.date
    sex: str  # male / female / unknown
    ward_code: str
    primary_care: str = ""  # BHYT code of the card's primary-care facility


def age_on(birth: dt.date, day: dt.date) -> float:
    return (day - birth).days / DAYS_PER_YEAR


class RecordsGenerator:
    def __init__(self, *, catalog: Catalog, city: City, seed: int, years: int) -> None:
        if years < 1:
            raise ValueError("years must be at least 1")
        self.catalog = catalog
        self.city = city
        self.seed = seed
        self.years = years
        self.end = catalog.as_of
        self.start = self.end - dt.timedelta(days=round(years * DAYS_PER_YEAR))

    def person(self, person: PersonInput) -> list[dict[str, Any]]:
        """Every resource of the person's history (empty if born after the reference date)."""
        if person.birth_date >= self.end:
            return []
        return _Story(self, person).tell()


@dataclass
class _Visit:
    """An encounter being written: what later resources of the visit refer to."""

    encounter_id: str
    facility: str
    practitioner: str
    when: dt.datetime
    minutes: int = 0


@dataclass
class _ChronicCase:
    chronic: Chronic
    onset: dt.date
    regimen: tuple[str, ...]
    condition_id: str = ""


@dataclass
class _Story:
    gen: RecordsGenerator
    person: PersonInput
    out: list[dict[str, Any]] = field(default_factory=list)
    _count: int = 0

    def __post_init__(self) -> None:
        p = self.person
        self.rng = random.Random(self.gen.seed * 1_000_000_007 + p.person_id)  # noqa: S311
        self.catalog = self.gen.catalog
        self.city = self.gen.city
        self.raw = self.catalog.raw
        self.sex = "female" if p.sex == "female" else "male"
        self.patient = shapes.ref("Patient", p.person_id)
        self.prefix = f"s{self.gen.seed}p{p.person_id}"
        self.start = max(self.gen.start, p.birth_date)
        self.born = dt.datetime.combine(p.birth_date, dt.time(0), tzinfo=shapes.LOCAL_ZONE)
        self.end = self.gen.end
        self.station = self.city.station_of_ward.get(p.ward_code, "")
        self.hospital = self.city.hospital_of_insurance.get(p.primary_care) or self.rng.choice(
            self.city.general
        )
        self.station = self.station or self.hospital
        rng = self.rng
        adult = self.raw["vitals"]["adult_height"]
        mean, sd = adult[self.sex]
        self.adult_height = rng.gauss(mean, sd)
        self.bmi_z = rng.gauss(0.0, 1.0)
        growth = self.raw["child_growth"]
        self.haz = rng.gauss(*growth["haz"])
        corr = growth["waz_haz_correlation"]
        waz_mean, waz_sd = growth["waz"]
        haz_unit = (self.haz - growth["haz"][0]) / growth["haz"][1]
        self.waz = waz_mean + waz_sd * (corr * haz_unit + math.sqrt(1 - corr**2) * rng.gauss(0, 1))
        self.head_z = 0.4 * haz_unit + 0.9 * rng.gauss(0.0, 1.0)
        self.cases: list[_ChronicCase] = []

    # --- small helpers -------------------------------------------------------------------

    def new_id(self) -> str:
        self._count += 1
        return f"{self.prefix}-{self._count}"

    def add(self, body: dict[str, Any]) -> str:
        self.out.append(body)
        return str(body["id"])

    def age(self, day: dt.date) -> float:
        return age_on(self.person.birth_date, day)

    def code(self, code: str) -> Code:
        return self.catalog.code(code)

    def has(self, code: str, day: dt.date) -> bool:
        return any(c.chronic.code == code and c.onset <= day for c in self.cases)

    def day_between(self, first: dt.date, last: dt.date) -> dt.date:
        span = (last - first).days
        return first + dt.timedelta(days=self.rng.randrange(span) if span > 0 else 0)

    def at_clinic(self, day: dt.date) -> dt.datetime:
        hour = self.rng.choices(_CLINIC_HOURS, _CLINIC_WEIGHTS)[0]
        return dt.datetime.combine(
            day, dt.time(hour, self.rng.randrange(60)), tzinfo=shapes.LOCAL_ZONE
        )

    def at_any_hour(self, day: dt.date) -> dt.datetime:
        minute = self.rng.randrange(24 * 60)
        return dt.datetime.combine(
            day, dt.time(minute // 60, minute % 60), tzinfo=shapes.LOCAL_ZONE
        )

    def poisson(self, mean: float) -> int:
        limit, k, product = math.exp(-mean), 0, self.rng.random()
        while product > limit:
            k += 1
            product *= self.rng.random()
        return k

    # --- the story -----------------------------------------------------------------------

    def tell(self) -> list[dict[str, Any]]:
        if self.start >= self.end:
            return []
        self.chronic_conditions()
        self.allergy()
        self.child_health()
        for kind in ("ambulatory", "emergency", "inpatient"):
            self.acute_visits(kind)
        self.tuberculosis()
        return self.out

    def chronic_conditions(self) -> None:
        rng = self.rng
        age_end = self.age(self.end)
        for chronic in self.catalog.chronic:
            if rng.random() >= by_age(chronic.prevalence, age_end, self.sex):
                continue
            earliest_age = chronic.prevalence[0][0]
            earliest = self.person.birth_date + dt.timedelta(days=earliest_age * DAYS_PER_YEAR)
            back = rng.uniform(0.0, chronic.onset_years_before) * DAYS_PER_YEAR
            onset = max(self.end - dt.timedelta(days=back), earliest)
            if onset >= self.end:
                continue
            regimen = chronic.medications[: rng.randint(1, len(chronic.medications))]
            self.cases.append(_ChronicCase(chronic=chronic, onset=onset, regimen=regimen))
        if not self.cases:
            return
        # Follow-up dates of each condition, then visits: dates close together are one visit.
        due: list[tuple[dt.date, int]] = []
        for index, case in enumerate(self.cases):
            step = case.chronic.follow_up_days
            day = (
                case.onset
                if case.onset >= self.start
                else self.start + dt.timedelta(days=rng.randrange(step))
            )
            while day < self.end:
                due.append((day, index))
                day += dt.timedelta(days=round(step * rng.uniform(0.75, 1.25)))
        due.sort()
        groups: list[tuple[dt.date, list[int]]] = []
        for day, index in due:
            if groups and (day - groups[-1][0]).days <= 10 and index not in groups[-1][1]:
                groups[-1][1].append(index)
            else:
                groups.append((day, [index]))
        for day, indexes in groups:
            self.follow_up(day, [self.cases[i] for i in indexes])
        for case in self.cases:
            if not case.condition_id:  # diagnosed before the window, never seen in it
                self.chronic_condition(case, None, self.at_clinic(self.start))

    def chronic_condition(self, case: _ChronicCase, visit: _Visit | None, seen: dt.datetime) -> str:
        onset = dt.datetime.combine(case.onset, dt.time(9), tzinfo=shapes.LOCAL_ZONE)
        case.condition_id = self.add(
            shapes.condition(
                logical_id=self.new_id(),
                patient=self.patient,
                code=self.code(case.chronic.code),
                chronic=True,
                onset=onset,
                recorded=max(onset, seen),
                abated=None,
                encounter_id=visit.encounter_id if visit else None,
                practitioner=visit.practitioner
                if visit
                else self.city.practitioner(self.hospital, self.rng),
            )
        )
        return case.condition_id

    def follow_up(self, day: dt.date, cases: list[_ChronicCase]) -> None:
        rng = self.rng
        lead = cases[0].chronic
        facility = self.station if rng.random() < lead.station_share else self.hospital
        visit = self.open_visit("AMB", facility, self.at_clinic(day), minutes=(10, 40))
        for case in cases:
            if not case.condition_id:
                self.chronic_condition(case, visit, visit.when)
        self.add_encounter(visit, "AMB", self.code(lead.code), [c.condition_id for c in cases])
        self.vital_signs(visit, fever=False, full=False)
        labs: set[str] = set()
        for case in cases:
            share = case.chronic.follow_up_days / DAYS_PER_YEAR
            labs.update(
                code for code, yearly in case.chronic.labs.items() if rng.random() < yearly * share
            )
            if rng.random() < case.chronic.ecg_yearly * share:
                self.procedure(visit, "29303009", case.condition_id)
        if labs:
            self.lab_panel(visit, sorted(labs))
        for case in cases:
            days = min(90, max(30, round(case.chronic.follow_up_days / 30) * 30))
            for medication in case.regimen:
                self.prescribe(visit, medication, days, case.condition_id)

    def acute_visits(self, kind: str) -> None:
        rng = self.rng
        rates = self.catalog.visit_rates[kind]
        weights_of: dict[str, list[float]] = self.raw["acute"][kind]
        codes = list(weights_of)
        first = self.start
        while first < self.end:
            last = min(first + dt.timedelta(days=365), self.end)
            mean_age = self.age(first + (last - first) / 2)
            expected = by_age(rates, mean_age, self.sex) * (last - first).days / 365
            for _ in range(self.poisson(expected)):
                day = self.day_between(first, last)
                band = band_of(self.age(day))
                in_season = day.month in _FEVER_SEASON
                weights = [
                    weights_of[c][band] * ((3.0 if in_season else 0.3) if c == "A91" else 1.0)
                    for c in codes
                ]
                if sum(weights) <= 0:
                    continue
                diagnosis = rng.choices(codes, weights)[0]
                self.acute_visit(kind, day, diagnosis)
            first = last

    def facility_for(self, kind: str, day: dt.date) -> str:
        rng = self.rng
        visits = self.raw["visits"]
        if kind == "ambulatory" and rng.random() < visits["ambulatory_at_station_share"]:
            return self.station
        if self.age(day) < 16 and rng.random() < 0.5:
            return rng.choice(self.city.paediatric)
        central = self.raw["central_hospital_share"].get(kind, 0.0)
        return rng.choice(self.city.central) if rng.random() < central else self.hospital

    def acute_visit(
        self, kind: str, day: dt.date, diagnosis: str, condition_id: str | None = None
    ) -> None:
        rng = self.rng
        visits = self.raw["visits"]
        code = self.code(diagnosis)
        facility = self.facility_for(kind, day)
        if kind == "ambulatory":
            klass, when, minutes = "AMB", self.at_clinic(day), (10, 45)
        elif kind == "emergency":
            klass, when, minutes = "EMER", self.at_any_hour(day), (60, 360)
        else:
            klass, when = "IMP", self.at_any_hour(day)
            shortest, longest = visits["inpatient_days"]
            minutes = (shortest * 24 * 60, longest * 24 * 60)
        visit = self.open_visit(klass, facility, when, minutes=minutes)
        check_up = diagnosis.startswith("Z")
        if condition_id is None and not check_up:
            abated = visit.when + dt.timedelta(days=rng.randint(5, 21))
            condition_id = self.add(
                shapes.condition(
                    logical_id=self.new_id(),
                    patient=self.patient,
                    code=code,
                    chronic=False,
                    onset=max(visit.when - dt.timedelta(days=rng.randint(0, 4)), self.born),
                    recorded=visit.when,
                    abated=abated if abated < self.end_instant else None,
                    encounter_id=visit.encounter_id,
                    practitioner=visit.practitioner,
                )
            )
        encounter = self.add_encounter(visit, klass, code, [condition_id] if condition_id else [])
        fever = diagnosis in self.raw["vitals"]["fever_codes"]
        self.vital_signs(visit, fever=fever, full=True)
        if klass == "IMP":
            discharge = _Visit(
                visit.encounter_id, facility, visit.practitioner, self.visit_end(encounter)
            )
            self.vital_signs(discharge, fever=False, full=False)
        age = self.age(day)
        if kind == "ambulatory":
            share = visits["labs_share"]["ambulatory_adult"] if age >= 18 else 0.0
        else:
            share = visits["labs_share"][kind]
        if rng.random() < share:
            self.lab_panel(visit, list(self.raw["routine_labs"]))
        if kind != "ambulatory":
            for procedure in self.raw["procedures"].get(diagnosis, []):
                self.procedure(visit, procedure, condition_id)
        for medication in self.raw["acute_medications"].get(diagnosis, []):
            self.prescribe(visit, medication, rng.randint(3, 7), condition_id)
        if kind == "emergency" and rng.random() < visits["emergency_admitted_share"]:
            self.acute_visit("inpatient", day, diagnosis, condition_id)

    @property
    def end_instant(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time(0), tzinfo=shapes.LOCAL_ZONE)

    def visit_end(self, encounter: dict[str, Any]) -> dt.datetime:
        return dt.datetime.fromisoformat(encounter["period"]["end"])

    def open_visit(
        self, klass: str, facility: str, when: dt.datetime, *, minutes: tuple[int, int]
    ) -> _Visit:
        practitioner = self.city.practitioner(facility, self.rng)
        return _Visit(self.new_id(), facility, practitioner, when, self.rng.randint(*minutes))

    def add_encounter(
        self, visit: _Visit, klass: str, reason: Code, conditions: list[str]
    ) -> dict[str, Any]:
        end = min(visit.when + dt.timedelta(minutes=visit.minutes), self.end_instant)
        body = shapes.encounter(
            logical_id=visit.encounter_id,
            patient=self.patient,
            kind=klass,
            start=visit.when,
            end=max(end, visit.when),
            facility=visit.facility,
            practitioner=visit.practitioner,
            reason=reason,
            conditions=conditions,
        )
        self.add(body)
        return body

    # --- measurements --------------------------------------------------------------------

    def observe(self, visit: _Visit, code: str, value: float, digits: int = 1) -> str:
        return self.add(
            shapes.observation(
                logical_id=self.new_id(),
                patient=self.patient,
                encounter_id=visit.encounter_id,
                code=self.code(code),
                when=visit.when,
                value=value,
                digits=digits,
            )
        )

    def vital_signs(self, visit: _Visit, *, fever: bool, full: bool) -> None:
        rng = self.rng
        vitals = self.raw["vitals"]
        day = visit.when.date()
        age = self.age(day)
        if age >= vitals["bp_from_age"]:
            systolic, diastolic = self.blood_pressure(age, day)
            self.add(
                shapes.blood_pressure(
                    logical_id=self.new_id(),
                    patient=self.patient,
                    encounter_id=visit.encounter_id,
                    panel=self.code("85354-9"),
                    systolic=(self.code("8480-6"), systolic),
                    diastolic=(self.code("8462-4"), diastolic),
                    when=visit.when,
                )
            )
        rate_mean, rate_sd = _step(vitals["heart_rate"], age)
        heart = rng.gauss(rate_mean, rate_sd) + (15 if fever else 0)
        self.observe(visit, "8867-4", max(45.0, heart), 0)
        if full:
            temperature = rng.uniform(38.0, 39.8) if fever else rng.uniform(36.4, 37.2)
            self.observe(visit, "8310-5", temperature)
        height, weight = self.size(day)
        self.observe(visit, "29463-7", weight)
        adult_height = age >= 18 and rng.random() < self.raw["visits"]["height_share_adult"]
        if adult_height or (full and age < 18):
            self.observe(visit, "8302-2" if age >= 2 else "8306-3", height)
            if age >= 2:
                self.observe(visit, "39156-5", weight / (height / 100) ** 2)

    def blood_pressure(self, age: float, day: dt.date) -> tuple[int, int]:
        rng = self.rng
        vitals = self.raw["vitals"]
        systolic, diastolic = _pair(vitals["bp"], age)
        sd_s, sd_d = vitals["bp_sd"]
        if self.has("I10", day):
            add_s, add_d = vitals["bp_hypertension_add"]
            systolic += add_s
            diastolic += add_d
        s = rng.gauss(systolic, sd_s)
        d = rng.gauss(diastolic, sd_d)
        return round(max(s, d + 20)), round(max(d, 40))

    def size(self, day: dt.date) -> tuple[float, float]:
        """Height (cm) and weight (kg) on `day`: WHO standards on the child's z-score track
        under five, a smooth path to the adult size after."""
        rng = self.rng
        age = self.age(day)
        noise = self.raw["child_growth"]["visit_noise"]
        if age < 5:
            point = growth_at(self.catalog, self.sex, age * 12)
            height = point.length * (1 + (self.haz + rng.gauss(0, noise)) * point.length_cv)
            weight = point.weight * (1 + (self.waz + rng.gauss(0, noise)) * point.weight_cv)
            return height, max(weight, 1.5)
        five = growth_at(self.catalog, self.sex, 60)
        child_height = five.length * (1 + self.haz * five.length_cv)
        bmi_mean, bmi_sd = _step(self.raw["vitals"]["adult_bmi"], max(age, 16))
        adult_bmi = bmi_mean + self.bmi_z * bmi_sd
        if age < 18:
            t = (age - 5) / 13
            height = child_height + (self.adult_height - child_height) * math.sqrt(t)
            bmi = 15.5 + (adult_bmi - 15.5) * t
        else:
            shrink = self.raw["vitals"]["adult_height"]["older_shrink_per_decade_after_50"]
            height = self.adult_height - max(0.0, age - 50) / 10 * shrink
            bmi = adult_bmi
        weight = bmi * (height / 100) ** 2 * (1 + rng.gauss(0, 0.015))
        return height, weight

    def lab_panel(self, visit: _Visit, codes: list[str]) -> None:
        rng = self.rng
        day = visit.when.date()
        labs = self.raw["labs"]
        taken = visit.when + dt.timedelta(minutes=rng.randint(5, 30))
        results = []
        for loinc in codes:
            shifted = next((c for c in labs[loinc] if c != "normal" and self.has(c, day)), "normal")
            mean, sd, low = labs[loinc][shifted]
            value = max(low, rng.gauss(mean, sd))
            digits = 0 if self.code(loinc).unit in ("umol/L", "U/L") else 1
            lab_visit = _Visit(visit.encounter_id, visit.facility, visit.practitioner, taken)
            body = shapes.observation(
                logical_id=self.new_id(),
                patient=self.patient,
                encounter_id=visit.encounter_id,
                code=self.code(loinc),
                when=lab_visit.when,
                value=value,
                digits=digits,
                laboratory=True,
            )
            results.append(self.add(body))
        self.add(
            shapes.lab_report(
                logical_id=self.new_id(),
                patient=self.patient,
                encounter_id=visit.encounter_id,
                code=self.code("11502-2"),
                when=taken,
                issued=taken + dt.timedelta(minutes=rng.randint(45, 180)),
                facility=visit.facility,
                results=results,
            )
        )

    def procedure(self, visit: _Visit, code: str, reason: str | None) -> None:
        self.add(
            shapes.procedure(
                logical_id=self.new_id(),
                patient=self.patient,
                encounter_id=visit.encounter_id,
                code=self.code(code),
                when=visit.when + dt.timedelta(minutes=self.rng.randint(10, 120)),
                practitioner=visit.practitioner,
                reason_id=reason,
            )
        )

    def prescribe(self, visit: _Visit, medication: str, days: int, reason: str | None) -> None:
        self.add(
            shapes.medication_request(
                logical_id=self.new_id(),
                patient=self.patient,
                encounter_id=visit.encounter_id,
                medication=self.code(medication),
                authored=visit.when,
                days=days,
                active=visit.when + dt.timedelta(days=days) > self.end_instant,
                practitioner=visit.practitioner,
                reason_id=reason,
            )
        )

    # --- children ------------------------------------------------------------------------

    def child_health(self) -> None:
        """Immunisation doses and well-child visits of the under-fives in the window."""
        birth = self.person.birth_date
        five = birth + dt.timedelta(days=round(5 * DAYS_PER_YEAR))
        if five <= self.start:
            return
        rng = self.rng
        programme = self.raw["immunisation"]
        doses: dict[dt.date, list[tuple[Vaccine, int]]] = {}
        birth_doses: list[tuple[Vaccine, int]] = []
        due = self.vaccination_days(programme["delay_days_mean"])
        for vaccine in self.catalog.vaccines:
            if vaccine.applies_from and birth < vaccine.applies_from:
                continue
            if rng.random() >= vaccine.coverage:
                continue
            for number, at_days in enumerate(vaccine.doses, start=1):
                if number > 1 and rng.random() < programme["coverage_dropout_per_dose"] * number:
                    break
                if vaccine.at_hospital:
                    birth_doses.append((vaccine, number))
                    continue
                doses.setdefault(due[at_days], []).append((vaccine, number))
        for vaccine, number in birth_doses:
            if self.start <= birth < self.end:
                when = self.at_any_hour(birth)
                practitioner = self.city.practitioner(self.hospital, rng)
                self.immunize(vaccine, number, when, self.hospital, practitioner, None)
        days = set(doses)
        for month in self.raw["child_growth"]["extra_visits_months"]:
            days.add(birth + dt.timedelta(days=round(month * DAYS_PER_MONTH) + rng.randrange(14)))
        for day in sorted(days):
            if not (self.start <= day < self.end) or day >= five:
                continue
            visit = self.open_visit("AMB", self.station, self.at_clinic(day), minutes=(10, 30))
            self.add_encounter(visit, "AMB", self.code("Z00.1"), [])
            self.growth_measurements(visit)
            for vaccine, number in doses.get(day, []):
                self.immunize(
                    vaccine, number, visit.when, visit.facility, visit.practitioner, visit
                )

    def vaccination_days(self, mean_delay: float) -> dict[int, dt.date]:
        """The day each due age (in days) of the schedule is kept: vaccines due together are
        given together, a child late once stays late (by its own lateness, a few days of
        jitter), and doses never come closer than the schedule's gap or four weeks."""
        rng = self.rng
        birth = self.person.birth_date
        lateness = rng.expovariate(1 / mean_delay)
        ages = sorted({d for v in self.catalog.vaccines if not v.at_hospital for d in v.doses})
        days: dict[int, dt.date] = {}
        previous: tuple[int, dt.date] | None = None
        for age in ages:
            day = birth + dt.timedelta(days=age + round(lateness + rng.uniform(0, 7)))
            if previous is not None:
                gap = dt.timedelta(days=min(28, age - previous[0]))
                day = max(day, previous[1] + gap)
            days[age] = day
            previous = (age, day)
        return days

    def growth_measurements(self, visit: _Visit) -> None:
        growth = self.raw["child_growth"]
        months = self.age(visit.when.date()) * 12
        height, weight = self.size(visit.when.date())
        self.observe(visit, "29463-7", weight, 2)
        lying = months < growth["length_lying_until_months"]
        self.observe(visit, "8306-3" if lying else "8302-2", height)
        if months < growth["head_circumference_until_months"]:
            point = growth_at(self.catalog, self.sex, months)
            head = point.head * (1 + (self.head_z + self.rng.gauss(0, 0.1)) * point.head_cv)
            self.observe(visit, "9843-4", head)

    def immunize(
        self,
        vaccine: Vaccine,
        number: int,
        when: dt.datetime,
        facility: str,
        practitioner: str,
        visit: _Visit | None,
    ) -> None:
        batch = self.rng.randrange(1, 40)
        lot = f"{vaccine.code.upper().replace('-', '')[:6]}{when.year % 100:02d}{batch:02d}"
        self.add(
            shapes.immunization(
                logical_id=self.new_id(),
                patient=self.patient,
                encounter_id=visit.encounter_id if visit else None,
                vaccine=vaccine,
                dose=number,
                when=when,
                facility=facility,
                practitioner=practitioner,
                lot=lot,
            )
        )

    # --- rarer things --------------------------------------------------------------------

    def allergy(self) -> None:
        rng = self.rng
        allergies = self.raw["allergies"]
        if rng.random() >= allergies["share"]:
            return
        items = allergies["items"]
        code = rng.choices(list(items), list(items.values()))[0]
        self.add(
            shapes.allergy(
                logical_id=self.new_id(),
                patient=self.patient,
                code=self.code(code),
                recorded=self.at_clinic(self.day_between(self.start, self.end)),
                high=rng.random() < 0.2,
            )
        )

    def tuberculosis(self) -> None:
        episode = self.raw["episodes"]["A15.0"]
        incidence = bands(episode["incidence"])
        first = self.start
        while first < self.end:
            last = min(first + dt.timedelta(days=365), self.end)
            rate = by_age(incidence, self.age(first), self.sex)
            if self.rng.random() < rate * (last - first).days / 365:
                self.treat_tuberculosis(self.day_between(first, last), episode)
                return
            first = last

    def treat_tuberculosis(self, day: dt.date, episode: dict[str, Any]) -> None:
        rng = self.rng
        facility = self.hospital
        for month in range(int(episode["months"])):
            visit_day = day + dt.timedelta(days=round(month * DAYS_PER_MONTH))
            if visit_day >= self.end:
                break
            visit = self.open_visit("AMB", facility, self.at_clinic(visit_day), minutes=(15, 40))
            if month == 0:
                done = visit.when + dt.timedelta(days=round(episode["months"] * DAYS_PER_MONTH))
                condition_id = self.add(
                    shapes.condition(
                        logical_id=self.new_id(),
                        patient=self.patient,
                        code=self.code("A15.0"),
                        chronic=True,
                        onset=max(visit.when - dt.timedelta(days=rng.randint(14, 60)), self.born),
                        recorded=visit.when,
                        abated=done if done < self.end_instant else None,
                        encounter_id=visit.encounter_id,
                        practitioner=visit.practitioner,
                    )
                )
                self.procedure(visit, episode["procedure"], condition_id)
            self.add_encounter(visit, "AMB", self.code("A15.0"), [condition_id])
            self.vital_signs(visit, fever=False, full=False)
            for medication in episode["medications"]:
                self.prescribe(visit, medication, 30, condition_id)


def _step(rows: list[list[float]], age: float) -> tuple[float, float]:
    """(mean, sd) of the last row whose first value is at most `age`."""
    chosen = rows[0]
    for row in rows:
        if row[0] <= age:
            chosen = row
    return float(chosen[1]), float(chosen[2])


def _pair(rows: list[list[float]], age: float) -> tuple[float, float]:
    return _step(rows, age)
