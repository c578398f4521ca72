"""Health insurance (BHYT): eligibility checked online through the social-security (VSS)
gateway, with a simulator of the same contract for the demo and the tests.

Public: `services.check_eligibility` (a visit's card check: reused within the day, pending
when the gateway cannot answer, re-checked by `tasks.recheck_eligibility` after the commit),
`selectors.eligibility_of` (a check's current state in words), `selectors.kiosk_staff`,
`types.Eligibility` and `types.EligibilityResult`. `gateway.VssClient` is the HTTP client,
`simulator.VssSimulator` the simulated gateway (`cityhealth insurance vss-simulator`).
"""
