"""Keep links in step with a round's chosen councils when they are edited (e.g. in the admin)."""

from __future__ import annotations

from django.db import transaction


def chosen_councils_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """A council taken out of a round's chosen list can no longer use its links."""
    if action not in ("post_remove", "post_clear"):
        return
    from surveys.models import Survey
    from surveys.services import links_revoke_outside_population

    if not reverse:
        surveys = [instance]
    elif pk_set:
        surveys = list(Survey.objects.filter(pk__in=pk_set))
    else:  # every round cleared from the council's side: check each it had a response in
        surveys = list(Survey.objects.filter(responses__authority=instance).distinct())
    for survey in surveys:
        transaction.on_commit(lambda survey=survey: links_revoke_outside_population(survey=survey))
