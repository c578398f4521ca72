"""Feeds from outside the dispatch centre: the telephone system announcing calls and the
crews' devices reporting positions (AVL).

`client.DispatchClient` speaks our own HTTP contract (`/api/emergency/...`) and is what a
PBX adapter or a crew's device gateway would run; `phone` and `avl` are simulators that use
that same client, so the demo and the tests exercise the real API end to end.
"""

from cityhealth.emergency.feeds.client import (
    DispatchClient,
    FeedError,
    FeedUnavailable,
    Position,
)

__all__ = ["DispatchClient", "FeedError", "FeedUnavailable", "Position"]
