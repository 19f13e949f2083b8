"""The release benchmark on PostgreSQL: the real path, ``python -m reporting.bench --database``.

Loads synthetic submitted responses (``reporting.synthetic``, the 353 councils of 2015 and
copies of them) into a PostgreSQL database of its own, ``survey_bench_release`` on the server
of ``DATABASE_URL`` (created and migrated on first use, one round per size, kept for the
next run), then times a release's stages as ``reporting.services`` runs them: loading and
grouping (the database's GROUP BY), building the linked system, protection, derivation,
with the process's peak resident memory after each stage. Each size is loaded in one
process and measured in another, so that the peak is the build's own.
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import time
from urllib.parse import urlsplit, urlunsplit

BENCH_DATABASE = "survey_bench_release"
CHUNK_COPIES = 20  # copies of the 353 councils generated and written at a time
SEED = 2015


def bench_url() -> str:
    """``BENCH_RELEASE_DATABASE_URL`` when set, else ``survey_bench_release`` on the server of
    ``DATABASE_URL``."""
    chosen = os.environ.get("BENCH_RELEASE_DATABASE_URL")
    base = chosen or os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(base)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit("the database benchmark needs DATABASE_URL on a PostgreSQL server")
    return chosen or urlunsplit(parts._replace(path="/" + BENCH_DATABASE))


def _database_name() -> str:
    return urlsplit(bench_url()).path.lstrip("/")


def environment() -> dict[str, str]:
    """The benchmark's processes' environment: its own database, development settings (as
    benchmarks/campaign.py runs them: no production keys needed)."""
    return {**os.environ, "DATABASE_URL": bench_url(), "DEBUG": "true"}


def database_create() -> bool:
    """Create the benchmark's database if missing; True when created."""
    import psycopg

    server = urlunsplit(urlsplit(bench_url())._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [_database_name()]
        ).fetchone()
        if found:
            return False
        connection.execute(f'CREATE DATABASE "{_database_name()}"')
    return True


def _django() -> None:
    os.environ["DATABASE_URL"] = bench_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "survey_site.settings")
    import django

    django.setup()


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _slug(scale: int) -> str:
    return f"bench-x{scale}"


def _copy_code(number: int) -> str:
    """Four characters starting with a digit: never a real council's three-letter code."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    digits = []
    for _ in range(3):
        number, rest = divmod(number, 36)
        digits.append(alphabet[rest])
    return "123456789"[number] + "".join(reversed(digits))


def _copy_gss(gss: str, copy: int) -> str:
    return f"{gss[:3]}{copy:03d}{gss[-3:]}"


def load(scale: int) -> dict[str, object]:
    """Write the round of ``scale`` x 353 synthetic submitted responses (once)."""
    _django()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from authorities.models import ENGLAND_2015_DATE, Authority
    from reporting.bench import ROOT
    from reporting.services import release_catalogue
    from reporting.synthetic import SYNTHETIC_ACTOR, synthetic_inputs
    from surveys.choices import PopulationKind, ResponseStatus, SurveyStatus
    from surveys.models import Answer, Figure, Question, Response, Survey, TransactionAnswer
    from surveys.questionnaires import questionnaire_load

    started = time.perf_counter()
    existing = Survey.objects.filter(slug=_slug(scale)).first()
    if existing is not None and Response.objects.filter(survey=existing).count() == 353 * scale:
        return {"loaded": "kept", "responses": 353 * scale}
    if not Authority.objects.exists():
        call_command(
            "import_authorities", ROOT / "fixtures" / "authorities" / "england_councils.csv"
        )
    data = json.loads((ROOT / "fixtures" / "questionnaire-2015.json").read_text(encoding="utf-8"))
    questionnaire, _ = questionnaire_load(data=data)
    originals = list(Authority.objects.existing_on(ENGLAND_2015_DATE).order_by("gss_code"))
    now = timezone.now()
    with transaction.atomic():
        if existing is not None:
            for model in (Figure, TransactionAnswer, Answer):
                model.objects.filter(response__survey=existing).delete()
            Response.objects.filter(survey=existing).delete()
            existing.delete()
        survey = Survey.objects.create(
            slug=_slug(scale),
            name=f"Release benchmark: {353 * scale} synthetic councils",
            questionnaire=questionnaire,
            opens_at=now - datetime.timedelta(days=60),
            closes_at=now - datetime.timedelta(days=30),
            population=PopulationKind.CHOSEN,
            status=SurveyStatus.CLOSED,
        )
        # Copy k of council E07000123 is E07kkk123 (k = 001...999): no real code looks so.
        wanted = [(0, a) for a in originals] + [
            (copy, a) for copy in range(1, scale) for a in originals
        ]
        gss_of = [_copy_gss(a.gss_code, c) if c else a.gss_code for c, a in wanted]
        have = set(Authority.objects.filter(gss_code__in=gss_of).values_list("gss_code", flat=True))
        taken = set(Authority.objects.values_list("code", flat=True))
        codes = (c for c in map(_copy_code, range(9 * 36**3)) if c not in taken)
        Authority.objects.bulk_create(
            [
                Authority(
                    gss_code=gss,
                    code=next(codes),
                    official_name=f"{SYNTHETIC_ACTOR}: copy {copy} of {a.gss_code}",
                    short_name=f"Copy {copy} of {a.gss_code}",
                    kind=a.kind,
                    region=a.region,
                    start_date=a.start_date,
                    end_date=a.end_date,
                )
                for (copy, a), gss in zip(wanted, gss_of, strict=True)
                if gss not in have
            ],
            batch_size=5000,
        )
        authorities = dict(
            Authority.objects.filter(gss_code__in=gss_of).values_list("gss_code", "pk")
        )
        through = Survey.chosen_authorities.through
        through.objects.bulk_create(
            [through(survey_id=survey.pk, authority_id=authorities[g]) for g in gss_of],
            batch_size=5000,
        )
        Response.objects.bulk_create(
            [
                Response(
                    survey=survey,
                    authority_id=authorities[g],
                    status=ResponseStatus.SUBMITTED,
                    submitted_by=SYNTHETIC_ACTOR,
                    submitted_at=now,
                    started_at=now,
                    submission_count=1,
                )
                for g in gss_of
            ],
            batch_size=5000,
        )
        response_of = dict(
            Response.objects.filter(survey=survey).values_list("authority__gss_code", "pk")
        )
        catalogue = release_catalogue(survey=survey)
        tiers = dict(questionnaire.transactions.values_list("slug", "tiers"))
        transactions = dict(questionnaire.transactions.values_list("slug", "pk"))
        channels = dict(questionnaire.channels.values_list("code", "pk"))
        questions = dict(
            Question.objects.filter(section__questionnaire=questionnaire).values_list("slug", "pk")
        )
        kinds = [(g, a.kind, a.region) for (_c, a), g in zip(wanted, gss_of, strict=True)]
        counts = {"figures": 0, "transaction_answers": 0, "answers": 0}
        step = 353 * CHUNK_COPIES
        with connection.cursor() as cursor:
            raw = cursor.cursor
            for start in range(0, len(kinds), step):
                import pandas as pd

                part = kinds[start : start + step]
                councils = pd.DataFrame(
                    [(response_of[g], g, k, r) for g, k, r in part],
                    columns=["response", "gss", "kind", "region"],
                ).set_index("response")
                inputs = synthetic_inputs(catalogue, councils, tiers, seed=SEED + start)
                counts["transaction_answers"] += _copy(
                    raw,
                    TransactionAnswer,
                    ["response_id", "transaction_id", "provision", "channels_offered",
                     "end_to_end", "confirmed_figures"],
                    (
                        (rid, transactions[s], p, json.dumps(list(o)), e, "")
                        for rid, s, p, o, e in inputs.transactions.itertuples(index=False)
                    ),
                    now,
                )  # fmt: skip
                counts["figures"] += _copy(
                    raw,
                    Figure,
                    ["response_id", "transaction_id", "channel_id", "value", "not_recorded",
                     "estimate"],
                    (
                        (rid, transactions[s], channels[c], None if pd.isna(v) else int(v),
                         bool(n), bool(e) and not pd.isna(v))
                        for rid, s, c, v, n, e in inputs.figures.itertuples(index=False)
                    ),
                    now,
                )  # fmt: skip
                counts["answers"] += _copy(
                    raw,
                    Answer,
                    ["response_id", "question_id", "value"],
                    (
                        (rid, questions[s], json.dumps(v))
                        for rid, s, v in inputs.answers.itertuples(index=False)
                        if s in questions
                    ),
                    now,
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "loaded": "now",
        "responses": len(gss_of),
        **counts,
        "load_s": round(time.perf_counter() - started, 1),
    }


def _copy(cursor, model, columns: list[str], rows, now) -> int:
    """Write rows with COPY (the ORM's bulk_create held every object at once)."""
    table = model._meta.db_table
    names = ", ".join([*columns, "version", "updated_at", "updated_by"])
    written = 0
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row, 1, now, "synthetic"))
            written += 1
    return written


def run(scale: int) -> dict[str, object]:
    """Time a release's stages on the loaded round, as ``reporting.services._run`` runs them."""
    _django()
    from django.db import transaction

    from reporting.derived import derive
    from reporting.disclosure import protect
    from reporting.services import disclosure_rules, release_catalogue, release_load
    from reporting.tables import build_system
    from surveys.models import Survey

    survey = Survey.objects.get(slug=_slug(scale))
    stages: dict[str, float] = {}
    peaks: dict[str, int] = {"start": _peak_mb()}
    clock = time.perf_counter()
    with transaction.atomic():
        catalogue = release_catalogue(survey=survey)
        inputs = release_load(survey=survey, catalogue=catalogue)
    stages["load_and_group"] = time.perf_counter() - clock
    peaks["load_and_group"] = _peak_mb()
    clock = time.perf_counter()
    system = build_system(catalogue, inputs)
    stages["build_system"] = time.perf_counter() - clock
    peaks["build_system"] = _peak_mb()
    clock = time.perf_counter()
    result = protect(system.cells, system.relations, rules=disclosure_rules())
    stages["protection"] = time.perf_counter() - clock
    peaks["protection"] = _peak_mb()
    clock = time.perf_counter()
    published = {c.id: c.published_value for c in result.cells}
    derived = derive(catalogue, published.__getitem__, system.linear)
    stages["derivation"] = time.perf_counter() - clock
    peaks["derivation"] = _peak_mb()
    hidden: dict[str, dict[str, int]] = {}
    for cell in result.cells:
        table = system.meta[cell.id].table
        counts = hidden.setdefault(table, {"cells": 0, "primary": 0, "secondary": 0})
        counts["cells"] += 1
        if cell.status in ("primary", "secondary"):
            counts[cell.status] += 1
    contributions = sum(
        len(c.contributions.values)
        for c in system.cells
        if c.contributions is not None and hasattr(c.contributions, "values")
    )
    return {
        "mode": "postgresql",
        "councils": len(inputs.councils),
        "transaction_answers": len(inputs.transactions),
        "counted_figures": sum(len(v) for _, v in inputs.grouped.volumes.values())
        if inputs.grouped
        else len(inputs.figures),
        "answers": len(inputs.answers),
        "cells": len(system.cells),
        "contributions": contributions,
        "relations": len(system.relations),
        "derived_cells": len(derived),
        "passed": result.passed,
        **{f"{k}_s": round(v, 2) for k, v in stages.items()},
        **{f"{k}_s": round(v, 2) for k, v in result.timings.items()},
        "total_s": round(sum(stages.values()), 2),
        "peak_rss_mb": peaks,
        "hidden_by_table": {
            t: {
                **c,
                "primary_%": round(100 * c["primary"] / c["cells"], 1),
                "secondary_%": round(100 * c["secondary"] / c["cells"], 1),
            }
            for t, c in hidden.items()
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
