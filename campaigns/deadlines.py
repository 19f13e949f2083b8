"""Late submissions: the grace period after an extended deadline (see surveys.services)."""

from surveys.services import response_grace_deadline

__all__ = ["response_grace_deadline"]
