"""Reception: check-in with the citizen ID card at a kiosk or desk, one visit moving through
the hospital's queues (clinic, lab, pharmacy, cashier), call-next, display boards, wait
statistics and staffing."""
