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
import time
from urllib.parse import urlsplit, urlunsplit

from reporting.disclosure.parallel import peak_rss_mb

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
    benchmarks/campaign.py runs them: no production keys needed), tasks run in process (no
    Redis): the release is built where it is timed."""
    return {**os.environ, "DATABASE_URL": bench_url(), "DEBUG": "true", "REDIS_URL": ""}


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
    return round(peak_rss_mb())


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
    # The 353 real councils, not the copies a larger size loaded before (they exist on that
    # day too).
    originals = list(
        Authority.objects.existing_on(ENGLAND_2015_DATE)
        .exclude(official_name__startswith=f"{SYNTHETIC_ACTOR}: copy ")
        .order_by("gss_code")
    )
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
        # Every council's code and id in one read: 353,000 codes in an IN list would be more
        # parameters than PostgreSQL takes in one statement (65,535).
        have = dict(Authority.objects.values_list("gss_code", "pk"))
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
        authorities = dict(Authority.objects.values_list("gss_code", "pk"))
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
    """Build a release of the loaded round as the Celery task does (``release_build``: load,
    group, protect, audit, derive, store) and report its stages' times (the release's own
    ``timings``), the process's peak memory after each stage and the cells hidden."""
    _django()
    from reporting import services
    from reporting.models import ReleaseCell
    from surveys.models import Survey

    survey = Survey.objects.get(slug=_slug(scale))
    seen: dict[str, object] = {}
    peaks: dict[str, int] = {"start": _peak_mb()}
    # The stage a build reports reaching ends the one before it: its peak is that stage's.
    ended = {"aggregating": "load", "protecting": "aggregate", "deriving": "protect_and_audit"}
    progress, build, protect = services._progress, services.build_system, services.protect

    def progress_spy(release_id, attempt, stage, percent):
        if stage in ended:
            peaks[ended[stage]] = _peak_mb()
        return progress(release_id, attempt, stage, percent)

    def build_spy(catalogue, inputs, **options):
        # Sizes only: holding the inputs would keep them alive through protection.
        grouped = inputs.grouped
        seen["sizes"] = {
            "councils": len(inputs.councils),
            "transaction_answers": len(inputs.transactions),
            "counted_figures": sum(len(v) for _, v in grouped.volumes.values())
            if grouped
            else len(inputs.figures),
            "answers": len(inputs.answers),
        }
        seen["system"] = build(catalogue, inputs, **options)
        return seen["system"]

    def protect_spy(*args, **kwargs):
        seen["result"] = protect(*args, **kwargs)
        return seen["result"]

    services._progress, services.build_system, services.protect = (
        progress_spy, build_spy, protect_spy
    )  # fmt: skip
    release = services.release_build(survey_id=survey.pk)
    peaks["derive_and_write"] = _peak_mb()
    timings = release.timings
    system, result = seen["system"], seen["result"]
    summary = result.summary(lambda cell_id: system.meta[cell_id].table)
    return {
        "mode": "postgresql",
        "status": release.status,
        **seen["sizes"],
        "cells": len(system.cells),
        "relations": len(system.relations),
        "stored_cells": ReleaseCell.objects.filter(release=release).count(),
        "stages_s": {
            "load_and_aggregate": round(timings["load"] + timings["aggregation"], 2),
            "protect": round(timings["protection_rules"] + timings["protection_suppression"], 2),
            "audit": round(timings["protection_audit"], 2),
            "write": round(timings.get("derivation", 0) + timings.get("store", 0), 2),
            # The answers' fingerprints read again under the round's lock (published or not).
            "publication_check": round(timings.get("publication", 0), 2),
        },
        "detail_s": {k: round(v, 2) for k, v in timings.items()},
        "total_s": round(timings["total"], 2),
        "peak_rss_mb": peaks,
        "hidden": {
            "share": summary["hidden_share"],
            "tables": {
                table: {
                    "cells": tally["cells"],
                    "hidden_share": tally["hidden_share"],
                    "primary_rule": tally["primary_rule"],
                    "group_rule": tally["group_rule"],
                    "secondary": tally["secondary"],
                }
                for table, tally in summary["tables"].items()
            },
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
