from __future__ import annotations

from cityhealth.insurance.breaker import BreakerState, CircuitBreaker
from cityhealth.insurance.tests.factories import FakeClock


def state(breaker: CircuitBreaker) -> BreakerState:
    return breaker.state  # read afresh: time may have moved it


def test_opens_after_n_failures_in_a_row_only():
    breaker = CircuitBreaker(failures=3, cooldown=30, now=FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # the run is broken: counting starts again
    breaker.record_failure()
    breaker.record_failure()
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.allow()
    breaker.record_failure()
    assert state(breaker) is BreakerState.OPEN
    assert not breaker.allow()


def test_half_opens_after_the_cool_down_for_one_trial_at_a_time():
    clock = FakeClock()
    breaker = CircuitBreaker(failures=1, cooldown=30, now=clock)
    breaker.record_failure()
    clock.advance(29.9)
    assert not breaker.allow()
    clock.advance(0.1)
    assert state(breaker) is BreakerState.HALF_OPEN
    assert breaker.allow()  # the trial
    assert not breaker.allow()  # a second caller waits for the trial's outcome
    breaker.record_success()
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.allow()


def test_a_failed_trial_opens_it_again_for_a_full_cool_down():
    clock = FakeClock()
    breaker = CircuitBreaker(failures=2, cooldown=10, now=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.advance(10)
    assert breaker.allow()
    breaker.record_failure()  # one failure is enough in half-open state
    assert state(breaker) is BreakerState.OPEN
    clock.advance(9)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()
