"""surveys/compiled.py: queries compiled once per process give what the plain ORM gives."""

import django
import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError

from authorities.models import AccessLink
from surveys import compiled
from surveys.choices import ChangeKind
from surveys.contributors import contributor_add
from surveys.models import ChangeRecord, TransactionAnswer
from surveys.services import link_issue

from .factories import fill_everything, make_authority, new_response


def test_written_for_this_django():
    # compiled.py uses Django's compiler internals as they are in this version: read them
    # again (SQLCompiler.as_sql, select, klass_info, results_iter; ModelIterable) first.
    assert django.VERSION[:2] == compiled.DJANGO_VERSION


def _as_data(obj, depth=0):
    """Every column of the object and of the related objects loaded with it."""
    if obj is None:
        return None
    values = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    related = {name: _as_data(rel, depth + 1) for name, rel in obj._state.fields_cache.items()}
    return (type(obj).__name__, obj._state.db, obj._state.adding, values, related)


@pytest.fixture
def two_responses(survey, hartlepool):
    other = new_response(survey, make_authority("E06000002", official_name="Middlesbrough"))
    first = new_response(survey, hartlepool)
    fill_everything(first)
    fill_everything(other, actor="Other")
    contributor_add(
        response=first, name="Sam Officer", email="sam@council.example", role="Revenues",
        sections=[], all_sections=True, can_submit=False, actor="Test",
    )  # fmt: skip
    for key in ("odd_%\\/value", "oddX%\\/value", "oddXYZ/value", "odd_%\\X/value"):
        ChangeRecord.objects.create(
            response=first, changed_by="Test", kind=ChangeKind.ANSWER, key=key, new_value=1
        )
    return first, other


def _cases(responses):
    links = [link_issue(response=r) for r in responses] + list(
        AccessLink.objects.filter(contributor__isnull=False)
    )
    for link in links:
        yield compiled.RESPONDENT_LINK, {"link": link.pk, "response": link.response_id}
        # A link asked for with another response's id: nothing.
        yield compiled.RESPONDENT_LINK, {"link": link.pk, "response": link.response_id + 99}
    for response in responses:
        for answer in TransactionAnswer.objects.filter(response=response)[:3]:
            values = {"response": response.pk, "transaction": answer.transaction_id}
            yield from ((query, values) for query in compiled.ALL[1:5])
        for answer in TransactionAnswer.objects.filter(response=response)[:3]:
            prefix = f"{answer.transaction.slug}/"
            yield compiled.HISTORY, {"response": response.pk, "prefix": prefix}
        yield compiled.LOCKED_RESPONSE, {"response": response.pk}
        yield compiled.LOCKED_RESPONSE, {"response": response.pk + 999}  # none
        # LIKE's own characters in the prefix match only themselves, as with the ORM.
        yield compiled.HISTORY, {"response": response.pk, "prefix": "odd_%\\/"}


@pytest.mark.django_db(transaction=True)
def test_compiled_queries_return_the_orms_objects(two_responses):
    seen = set()
    for query, values in _cases(two_responses):
        with transaction.atomic():  # the locked ones need one
            plain = [_as_data(obj) for obj in query.queryset(**values)]
            fast = [_as_data(obj) for obj in query(**values)]
        assert fast == plain
        seen.add((query, bool(plain)))
    # Every query was compared with rows and (the link) without.
    assert {q for q, found in seen if found} == set(compiled.ALL)
    assert (compiled.RESPONDENT_LINK, False) in seen
    # A contributor's link brings its contributor; a council's has none.
    links = [
        compiled.RESPONDENT_LINK(link=link.pk, response=link.response_id)[0]
        for link in AccessLink.objects.all()
    ]
    assert {link.contributor is None for link in links} == {True, False}
    assert all(link.response.survey.questionnaire.pk for link in links)
    odd = compiled.HISTORY(response=two_responses[0].pk, prefix="odd_%\\/")
    assert [record.key for record in odd] == ["odd_%\\/value"]


@pytest.mark.django_db(transaction=True)
def test_locked_queries_need_a_transaction(response):
    with transaction.atomic():
        compiled.LOCKED_FIGURES(response=response.pk, transaction=1)
    with pytest.raises(TransactionManagementError):
        compiled.LOCKED_FIGURES(response=response.pk, transaction=1)


@pytest.mark.django_db
def test_a_value_must_be_one_parameter_of_the_query():
    query = compiled.CompiledQuery(lambda response: TransactionAnswer.objects.all(), "response")
    with pytest.raises(ValueError, match="not one parameter"):
        query(response=1)
