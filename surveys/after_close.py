"""What a council's link still opens once its round has closed.

Links expire when the round closes (README, "Security design of links"): after that the
journey is over. An app above the survey may offer a council's link one read-only page for
a closed round (the public release's "How your council compares", ``publishing.comparison``)
by registering a function here from its ``AppConfig.ready``; the survey imports nothing
from it. A session started this way reaches only views marked ``open_after_close`` (the
page itself, keep-alive and sign-out): never a page that could change an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from surveys.models import Response


@dataclass(frozen=True)
class AfterClose:
    """Where a closed round's link goes, and what its landing page says about it."""

    url: str
    title: str
    description: str


Destination = Callable[[Response], AfterClose | None]
_destinations: list[Destination] = []


def register(destination: Destination) -> None:
    if destination not in _destinations:
        _destinations.append(destination)


def destination(response: Response) -> AfterClose | None:
    """The first registered page a closed round's link may open for this council, if any."""
    for candidate in _destinations:
        found = candidate(response)
        if found is not None:
            return found
    return None


def open_after_close(view: Callable) -> Callable:
    """Mark a view that a session opened after the round closed may reach."""
    view.open_after_close = True
    return view
