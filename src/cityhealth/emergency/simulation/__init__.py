"""A discrete-event simulation of Hà Nội's 115 dispatch, to compare dispatch policies.

    network = build_network(stations=7)
    result = run(scenario=Scenario(days=30), network=network,
                 policies=("closest", "coverage"), seed=1, replications=5)
    document = report(result=result, scenario=..., network=network, stations=7, seed=1,
                      source="generated")

Travel times come from the live travel model, tabulated per congestion level; assumptions
(demand, priority mix, service times) are listed with their sources in `params`.

A replayed day is a CSV (`read_recorded_day`); `export.recorded_day` and `export.write_day`
make one from a day of the live dispatch centre (they read the database; the rest does not).
"""

from cityhealth.emergency.simulation.demand import ReplayError, read_recorded_day
from cityhealth.emergency.simulation.network import Network, build_network
from cityhealth.emergency.simulation.params import Scenario, Timings
from cityhealth.emergency.simulation.policy import POLICIES, Policy
from cityhealth.emergency.simulation.runner import Run, report, run

__all__ = [
    "POLICIES",
    "Network",
    "Policy",
    "ReplayError",
    "Run",
    "Scenario",
    "Timings",
    "build_network",
    "read_recorded_day",
    "report",
    "run",
]
