"""Grouping in PostgreSQL hands the disclosure engine the same input as grouping in pandas."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from pandas.testing import assert_frame_equal

from reporting import grouping
from reporting.disclosure import DeferredMembers, Members
from reporting.services import release_build, release_catalogue, release_load, responses_generate
from reporting.tables import Contributions, System, build_system
from surveys.models import Answer, Figure, Question, TransactionAnswer
from surveys.tests.factories import make_authority

pytestmark = pytest.mark.django_db

# Every council type, City of London and the Isles of Scilly included (reported with peers).
GROUPS = [
    ("E06", "unitary", "north_east", 4),
    ("E06", "unitary", "london", 2),
    ("E07", "district", "east", 5),
    ("E08", "metropolitan", "north_west", 3),
    ("E09", "london_borough", "london", 3),
    ("E09", "city_of_london", "london", 1),
    ("E06", "isles_of_scilly", "south_west", 1),
    ("E10", "county", "east", 2),
]


@pytest.fixture
def synthetic_round(survey):
    number = 0
    for prefix, kind, region, count in GROUPS:
        for _ in range(count):
            number += 1
            survey.chosen_authorities.add(
                make_authority(f"{prefix}{number:06d}", kind=kind, region=region)
            )
    responses_generate(survey_id=survey.pk, seed=11)
    # Answers that must not count: a figure for a channel taken off, one for a transaction
    # no longer provided, offered channels that are no list.
    offered = TransactionAnswer.objects.filter(provision="yes").exclude(channels_offered=[])
    first, second, third = offered.order_by("pk")[:3]
    first.channels_offered = first.channels_offered[1:]
    first.save()
    second.provision = "other_organisation"
    second.save()
    third.channels_offered = {"WEB": True}
    third.save()
    assert Figure.objects.filter(response=first.response, value__isnull=False).exists()
    # Own unit costs as councils may give them: with a pound sign, as a JSON number, equal to
    # the default, unusable (the default applies), with many decimals (pence round half to
    # even); and a figure of 0 (does not decide whether a cell is priced at the default).
    questions = {q.slug: q for q in Question.objects.filter(slug__startswith="unit-cost-")}
    responses = list(survey.responses.order_by("pk"))
    given = [
        ("unit-cost-phone", "£3.10"),
        ("unit-cost-web", 0.125),
        ("unit-cost-f2f", "8.62"),
        ("unit-cost-email", "not known"),
        ("unit-cost-post", "1,234.5"),
        ("unit-cost-web", "0.105"),
    ]
    for response, (slug, value) in zip(responses[1:], given, strict=False):
        Answer.objects.update_or_create(
            response=response, question=questions[slug], defaults={"value": value}
        )
    Figure.objects.filter(
        pk=Figure.objects.filter(value__gt=0).order_by("pk").values("pk")[:1]
    ).update(value=0)
    return survey


def _normal(system: System) -> list:
    """Everything the engine and the release read from a system, in comparable form."""
    cells = []
    for cell in system.cells:
        contributions = cell.contributions
        if isinstance(contributions, Contributions):
            named = contributions.contributors
            if contributions.labels is not None:  # the compact form: positions into labels
                named = contributions.labels[named]
            # Integers (whole figures, grouped) or float64: the engine compiles both to
            # the same float64 values.
            values = np.asarray(contributions.values, dtype=np.float64)
            contributions = (list(named), list(values))
        contributors = cell.contributors
        if isinstance(contributors, DeferredMembers):
            contributors = contributors.made()
        if isinstance(contributors, Members):
            contributors = contributors.labels[contributors.positions]
        if contributors is not None and not isinstance(contributors, int):
            contributors = list(contributors)
        cells.append((cell.id, cell.value, contributions, contributors, cell.upper, cell.frequency))
    return [
        cells,
        system.relations,
        {k: (m.table, m.keys, m.order) for k, m in system.meta.items()},
        system.values,
        system.linear,
    ]


def test_cells_grouped_by_postgresql_equal_cells_grouped_by_pandas(synthetic_round):
    assert connection.vendor == "postgresql"
    catalogue = release_catalogue(survey=synthetic_round)
    in_pandas = release_load(survey=synthetic_round, catalogue=catalogue, grouped=False)
    in_database = release_load(survey=synthetic_round, catalogue=catalogue)
    assert in_pandas.grouped is None and in_database.grouped is not None
    assert in_database.figures.empty  # no figure read into Python one by one
    # The frames build_system still reads, rebuilt from the database's groups.
    frames = ["response", "transaction", "provision", "end_to_end"]
    # The same values; the grouped frames hold their text as categories (a byte per row).
    grouped_text = in_database.transactions[["transaction", "provision", "end_to_end"]]
    assert all(isinstance(t, pd.CategoricalDtype) for t in grouped_text.dtypes)
    assert isinstance(in_database.answers["question"].dtype, pd.CategoricalDtype)
    assert isinstance(in_database.answers["value"].dtype, pd.CategoricalDtype)
    assert in_database.answers["response"].dtype == in_database.transactions["response"].dtype
    assert in_database.answers["response"].dtype == np.int32
    assert_frame_equal(
        in_database.transactions[frames].astype(object),
        in_pandas.transactions[frames].astype(object),
    )
    by_answer = ["response", "question"]
    assert_frame_equal(
        in_database.answers.astype({"question": object, "value": object, "response": np.int64})
        .sort_values(by_answer)
        .reset_index(drop=True),
        in_pandas.answers.sort_values(by_answer).reset_index(drop=True),
    )
    old = build_system(catalogue, in_pandas)
    new = build_system(catalogue, in_database)
    magnitudes = [c for c in old.cells if isinstance(c.contributions, Contributions)]
    assert sum(len(c.contributions.values) for c in magnitudes) > 1000
    # Own costs both protected (some council's own price) and derived (all at the default).
    assert any(c.id.startswith("cost_own|") and c.contributions is not None for c in old.cells)
    assert any(cell.table == "cost_own" for cell in old.linear)
    assert np.isclose(sum(old.values.values()), sum(new.values.values()))
    assert _normal(new) == _normal(old)


def test_a_release_built_on_postgresql_reads_no_figure_frame(small_round, monkeypatch):
    """The build itself takes the database's grouping (and still publishes)."""
    seen = []
    original = build_system

    def spy(catalogue, inputs, **options):
        seen.append(inputs.grouped is not None)
        system = original(catalogue, inputs, **options)
        # The build spends its inputs: the transaction answers are dropped once read.
        seen.append(inputs.transactions is None)
        return system

    monkeypatch.setattr("reporting.services.build_system", spy)
    release = release_build(survey_id=small_round.pk)
    assert release.status == "ready" and release.published_at is not None
    assert seen == [True, True]


SQLITE_BUILD = """
import json
from pathlib import Path

from django.core.management import call_command

from reporting.services import release_build
from reporting.tests.factories import close_round, make_small_round
from surveys.questionnaires import questionnaire_load
from surveys.tests.factories import make_survey

call_command("migrate", verbosity=0)
data = json.loads(Path("fixtures/questionnaire-2015.json").read_text(encoding="utf-8"))
survey = make_survey(questionnaire_load(data=data)[0])
make_small_round(survey)
release = release_build(survey_id=close_round(survey).pk)
print(release.status, release.counts["respondents"], release.counts["cells"])
"""


def test_the_demo_on_sqlite_builds_a_release_with_the_pandas_grouping(tmp_path, settings):
    """SQLite has no array_agg or jsonb: the demo's database groups in pandas, as before."""
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "survey_site.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + SQLITE_BUILD],
        cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    status, respondents, cells = done.stdout.split()
    assert (status, respondents) == ("ready", "6") and int(cells) > 100


@pytest.mark.parametrize("ids", [[7, 5, 9, 6], [7, 5, 3_000_000, 6]])
def test_councils_find_each_response_by_lookup_or_by_search(ids):
    """Dense ids are looked up in a table, sparse ones searched: the same positions."""
    from reporting.grouping import _Councils

    councils = pd.DataFrame(
        {
            "gss": [f"E0{i}" for i in ids],
            "kind": ["unitary"] * len(ids),
            "region": ["london"] * len(ids),
        },
        index=ids,
    )
    places = _Councils(councils)
    assert (places.lookup is None) == (max(ids) > 1000)
    asked = np.array([ids[2], ids[0], ids[2], ids[3], ids[1]], dtype=np.int64)
    assert list(places.gss[places.where(asked)]) == [f"E0{i}" for i in asked]


@pytest.mark.parametrize(
    ("values", "category"),
    [
        (["yes", None, "2.50", 3, 0.125], True),
        # A category would merge 1 and true (equal in Python), and cannot hold a list or NaN.
        ([1, True], False),
        (["a", ["b", "c"]], False),
        (["a", float("nan")], False),
    ],
)
def test_decoded_answers_are_a_category_only_where_every_value_stays_itself(values, category):
    sizes = [2] * len(values)
    column = grouping._decoded(values, sizes)
    assert isinstance(column, pd.Categorical) is category
    read = list(np.asarray(column, dtype=object))
    expected = [value for value in values for _ in range(2)]
    assert len(read) == len(expected)
    for got, want in zip(read, expected, strict=True):
        if want is None:
            assert got is None or got != got  # NaN in a category
        elif want != want:
            assert got != got
        else:
            assert got == want and type(got) is type(want)
