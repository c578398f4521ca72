"""Medical cover for mass gatherings: expected patients, resources, posts and ambulances.

    estimate = estimate_casualties(event=event)
    plan = plan_cover(event=event, estimate=estimate, coverage_minutes=8)
    print(render_plan_text(plan, language="vi"))

Pure Python over plain inputs: no models, no database.
"""

from cityhealth.emergency.planning.cover import (
    CandidateSite,
    ChosenSite,
    CoverPlan,
    DemandPoint,
    Layer,
    SiteKind,
    plan_cover,
    walking_speed,
)
from cityhealth.emergency.planning.estimate import (
    Band,
    CasualtyEstimate,
    Recommendation,
    estimate_casualties,
    heat_index_c,
)
from cityhealth.emergency.planning.event import (
    EventKind,
    EventSpec,
    Mobility,
    Place,
    event_from_record,
)
from cityhealth.emergency.planning.render import render_plan_text

__all__ = [
    "Band",
    "CandidateSite",
    "CasualtyEstimate",
    "ChosenSite",
    "CoverPlan",
    "DemandPoint",
    "EventKind",
    "EventSpec",
    "Layer",
    "Mobility",
    "Place",
    "Recommendation",
    "SiteKind",
    "estimate_casualties",
    "event_from_record",
    "heat_index_c",
    "plan_cover",
    "render_plan_text",
    "walking_speed",
]
