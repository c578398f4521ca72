"""Use cases of the person registry that write. Keyword-only arguments; they never commit.

Rules every use case keeps:

- One person per real human. An identifier that would belong to two persons is never moved
  or duplicated silently: the use case writes an `ID_CLAIMED_TWICE` review item and raises
  `errors.IdClaimedTwice` (409) before changing anything else.
- A card scan never overwrites what the registry holds. Where it disagrees the person is
  returned with `conflict=True` and a `SCAN_CONFLICT` review item keeps both versions; only
  empty (or less precise but agreeing) fields are filled from the card.
- Row locks are taken in one order, the lower person id first (merge, unmerge).
- Everything is audited (`person.created`, `person.identified`, `person.updated`,
  `person.id_reissued`, `person.merged`, `person.unmerged`, `review_item.resolved`, ...).
- Every change to what a person is reaches the apps that keep copies of persons
  (`hooks.persons_changed`, inside the use case's transaction; listeners register with
  `on_persons_changed`).
"""

from cityhealth.people.hooks import on_persons_changed
from cityhealth.people.services.incoming import (
    IncomingMatch,
    match_incoming_record,
    register_incoming_record,
)
from cityhealth.people.services.merging import merge_persons, unmerge
from cityhealth.people.services.registration import UNKNOWN_NAME, Registration, register_person
from cityhealth.people.services.reissue import record_id_reissue
from cityhealth.people.services.review import ReviewDecision, decisions_for, resolve_review_item
from cityhealth.people.services.scan import ScanResult, register_from_scan

__all__ = [
    "UNKNOWN_NAME",
    "IncomingMatch",
    "Registration",
    "ReviewDecision",
    "ScanResult",
    "decisions_for",
    "match_incoming_record",
    "merge_persons",
    "on_persons_changed",
    "record_id_reissue",
    "register_from_scan",
    "register_incoming_record",
    "register_person",
    "resolve_review_item",
    "unmerge",
]
