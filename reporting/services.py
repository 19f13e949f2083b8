"""Writes for reporting: building releases from submitted responses.

A release is requested (a "building" row, at most one per round), then built by a Celery task:
load a consistent snapshot of submitted answers, aggregate every table, protect them all as
one linked system, derive shares, take-up and costs from the published cells only, and store
the result in one transaction. A refused audit stores nothing but the refusal.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import hashlib
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import NamedTuple

import pandas as pd
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, JSONField, Max, Sum
from django.utils import timezone

from authorities.choices import AuthorityKind, Region
from authorities.models import Authority
from reporting.derived import derive
from reporting.disclosure import REASONS, ProtectionResult, Rules, protect
from reporting.grouping import SUBMITTED, grouped_answers, grouped_load
from reporting.models import CellStatus, Release, ReleaseCell, ReleaseStatus, Withheld
from reporting.synthetic import SYNTHETIC_ACTOR, synthetic_inputs
from reporting.tables import (
    Catalogue,
    ChannelInfo,
    Inputs,
    QuestionInfo,
    build_system,
)
from survey_site.queue import enqueue_on_commit
from surveys.choices import PopulationKind, QuestionKind, ResponseStatus, SectionKind
from surveys.models import (
    Answer,
    AnswerChanges,
    Figure,
    Question,
    Response,
    Survey,
    TransactionAnswer,
)
from surveys.selectors import collection_end, collection_finished, survey_population
from surveys.services import PREFILLED_BY

logger = logging.getLogger(__name__)

# Sections whose closed questions are published as frequency tables.
ANSWER_SECTIONS = ("platforms", "capability", "complex-services")
STORE_BATCH = 2000


class ReleaseBuildSuperseded(Exception):
    """Another run of the same release took over: this run writes nothing."""


def disclosure_rules() -> Rules:
    """The confidential rule parameters from settings (never printed on outputs)."""
    nk = settings.DISCLOSURE_NK
    return Rules(
        min_contributors=settings.DISCLOSURE_MIN_CONTRIBUTORS,
        p=float(settings.DISCLOSURE_P_PERCENT),
        nk=(int(nk[0]), float(nk[1])) if nk else None,
        group_min_size=settings.DISCLOSURE_GROUP_MIN_SIZE,
    )


def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


MALLOC_TRIM = _malloc_trim()


# Respondents from which a build collects and hands back memory between its stages; below,
# the stages are small (about 240 MB at 353 councils) and a full collection costs more
# (about 55 ms each, three times a build) than it saves.
MEMORY_RELEASE_FROM = 5000


def _memory_release(respondents: int) -> None:
    """Collect what the last stage let go of and hand the freed pages back to the system
    before the next stage grows: glibc keeps freed memory for reuse, in pieces the next
    stage's arrays did not fit in, so each stage's peak stacked on the last one's."""
    if respondents < MEMORY_RELEASE_FROM:
        return
    gc.collect()
    if MALLOC_TRIM is not None:
        MALLOC_TRIM(0)


def _rules_record(rules: Rules) -> dict:
    return json.loads(json.dumps(asdict(rules)))


# --- Inputs ------------------------------------------------------------------------


def _submitted(survey: Survey):
    """Submitted responses of councils still in the round (one taken out is not counted,
    nor among the invited)."""
    population = survey_population(survey=survey).values("pk")
    return Response.objects.filter(
        survey=survey, status=ResponseStatus.SUBMITTED, authority__in=population
    )


def release_inputs(*, survey: Survey) -> list[list]:
    """Which submitted responses a release would read, each with a fingerprint of its answers.

    Any saved change to a figure, transaction answer or answer raises its version and
    updated_at, so the fingerprint changes with it; on PostgreSQL, any write to them adds
    to their response's count of changes instead (``_inputs_grouped``). The fingerprints
    are compared only with others read from the same database (the answers read twice by
    one build, a refused build's), so each database's path may spell the stamps its own way.
    """
    if connection.vendor == "postgresql":
        return _inputs_grouped(survey)
    responses = list(
        _submitted(survey)
        .order_by("pk")
        .values_list("pk", "authority__gss_code", "updated_at", "submission_count")
    )
    stamps: dict[int, list] = {r[0]: [] for r in responses}
    submitted = _submitted(survey).values("pk")
    for model in (Figure, TransactionAnswer, Answer):
        rows = (
            model.objects.filter(response_id__in=submitted)
            .values("response_id")
            .annotate(changed=Max("updated_at"), versions=Sum("version"), n=Count("pk"))
            .values_list("response_id", "changed", "versions", "n")
        )
        for pk, changed, versions, n in rows:
            stamps[pk].append([changed.isoformat() if changed else "", versions, n])
    result = []
    for pk, gss, updated_at, submissions in responses:
        text = json.dumps([updated_at.isoformat(), submissions, stamps[pk]], sort_keys=True)
        result.append([pk, gss, _stamp_hash(text)])
    return result


def _stamp_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _inputs_grouped(survey: Survey) -> list[list]:
    """``release_inputs`` in one statement, from each response's count of writes to its
    answers (``surveys.AnswerChanges``, kept by the database's triggers) rather than from
    the answers themselves: a statement that writes a figure, transaction answer or answer
    adds one to its response's count as it commits. Scanning and grouping every figure took
    36 to 45 s at 353,000 councils, and was done twice per build (read, then checked before
    publishing) and on every check whether a build is due. Times as the database writes
    them (Django's datetime conversion of 141,200 times took a third of the time at 35,300
    councils)."""
    sub_sql, params = _submitted(survey).values("pk").query.sql_with_params()
    names = {m: m._meta.db_table for m in (AnswerChanges, Response, Authority)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""{SUBMITTED.format(submitted=sub_sql)}
                SELECT r.id, a.gss_code,
                       r.updated_at::text || '|' || r.submission_count || '/'
                       || coalesce(c.changes, 0)
                FROM s JOIN {names[Response]} r ON r.id = s.id
                JOIN {names[Authority]} a ON a.id = r.authority_id
                LEFT JOIN {names[AnswerChanges]} c ON c.response_id = r.id
                ORDER BY r.id""",  # noqa: S608 (table names from the models)
            params,
        )
        return [[pk, gss, _stamp_hash(text)] for pk, gss, text in cursor]


def _fingerprint(inputs: list[list], rules: dict) -> str:
    text = json.dumps([inputs, rules], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _inputs_text(*, survey: Survey) -> str:
    """``release_inputs`` as its JSON text: what a build keeps of it until the release is
    stored. A list of three Python objects per response was held through the whole build:
    at 353,000 councils, keeping the text instead lowered the build's peak by 55 MB."""
    return json.dumps(release_inputs(survey=survey))


def _text_fingerprint(inputs_text: str, rules: dict) -> str:
    """``_fingerprint`` of the record whose JSON text is ``inputs_text`` (the same text:
    the record holds no mapping for ``sort_keys`` to reorder)."""
    text = f"[{inputs_text}, {json.dumps(rules, sort_keys=True)}]"
    return hashlib.sha256(text.encode()).hexdigest()


def release_catalogue(*, survey: Survey) -> Catalogue:
    """Transactions, channels, closed questions and the invited population of a round."""
    questionnaire = survey.questionnaire
    channels = tuple(
        ChannelInfo(
            c.code,
            c.name,
            c.is_digital,
            float(c.default_unit_cost) if c.default_unit_cost is not None else None,
        )
        for c in questionnaire.channels.order_by("order")
    )
    transactions = tuple(questionnaire.transactions.order_by("number").values_list("slug", "name"))
    questions = tuple(
        QuestionInfo(q.slug, q.section.slug, q.text, tuple(str(c[0]) for c in q.choices))
        for q in Question.objects.filter(
            section__questionnaire=questionnaire,
            section__kind=SectionKind.QUESTIONS,
            section__slug__in=ANSWER_SECTIONS,
            kind__in=[QuestionKind.CHOICE, QuestionKind.SCALE],
            free_text=False,
            personal_data=False,
        )
        .select_related("section")
        .order_by("section__order", "order")
    )
    invited = {
        (row["kind"], row["region"]): row["n"]
        for row in survey_population(survey=survey).values("kind", "region").annotate(n=Count("pk"))
    }
    kinds = tuple(k for k in AuthorityKind.values if any(g[0] == k for g in invited))
    regions = tuple(r for r in Region.values if any(g[1] == r for g in invited))
    return Catalogue(transactions, channels, kinds, regions, invited, questions)


def transaction_answers_frame(answers) -> pd.DataFrame:
    """Transaction answers as ``Inputs.transactions``: response, transaction, provision,
    offered (list), end_to_end."""
    transactions = pd.DataFrame(
        list(
            answers.values_list(
                "response_id", "transaction__slug", "provision", "channels_offered", "end_to_end"
            )
        ),
        columns=["response", "transaction", "provision", "offered", "end_to_end"],
    )
    transactions["offered"] = transactions["offered"].map(
        lambda v: list(v) if isinstance(v, list) else []
    )
    return transactions


def release_load(
    *,
    survey: Survey,
    catalogue: Catalogue,
    grouped: bool | None = None,
    answers: Callable[[], pd.DataFrame] | None = None,
) -> Inputs:
    """Submitted answers as frames (no free text, no personal data).

    ``grouped`` (the default on PostgreSQL): figures and offered channels are grouped into
    cells by the database (``reporting.grouping``) instead of read as frames; the cells
    handed to the disclosure engine are the same. ``answers``, on that path: what gives the
    closed answers (``release_closed_answers``) once they are needed, read elsewhere in the
    same snapshot (``_read_snapshot``); by default they are read here.
    """
    if grouped is None:
        grouped = connection.vendor == "postgresql"
    # Each council's type and region as one shared text per value: a text object per row
    # each took 60 bytes (42 MB of the councils' frame at 353,000 councils).
    shared: dict[str, str] = {}
    councils = pd.DataFrame(
        [
            (pk, gss, shared.setdefault(kind, kind), shared.setdefault(region, region))
            for pk, gss, kind, region in _submitted(survey)
            .order_by("pk")
            .values_list("pk", "authority__gss_code", "authority__kind", "authority__region")
            .iterator(chunk_size=10000)
        ],
        columns=["response", "gss", "kind", "region"],
    ).set_index("response")
    submitted_pks = _submitted(survey).values("pk")
    submitted = {"response__in": submitted_pks}
    if grouped:
        if answers is None:
            answers = functools.cache(
                functools.partial(release_closed_answers, survey=survey, catalogue=catalogue)
            )
        groups, transactions = grouped_load(submitted_pks, councils, catalogue, answers)
        figures = pd.DataFrame(columns=["response", "transaction", "channel", "value"])
        figures["value"] = figures["value"].astype("float64")
        return Inputs(councils, transactions, figures, answers(), grouped=groups)
    transactions = transaction_answers_frame(
        TransactionAnswer.objects.filter(**submitted).order_by("response_id", "pk")
    )
    figures = pd.DataFrame(
        list(
            Figure.objects.filter(**submitted, value__isnull=False)
            .order_by("response_id", "pk")
            .values_list("response_id", "transaction__slug", "channel__code", "value")
        ),
        columns=["response", "transaction", "channel", "value"],
    )
    figures["value"] = figures["value"].astype("float64")
    answers = pd.DataFrame(
        list(
            Answer.objects.filter(
                **submitted,
                question__slug__in=_wanted(catalogue),
                question__free_text=False,
                question__personal_data=False,
            ).values_list("response_id", "question__slug", "value")
        ),
        columns=["response", "question", "value"],
    )
    return Inputs(councils, transactions, figures, answers)


def _wanted(catalogue: Catalogue) -> list[str]:
    """The closed questions a release reads: those published, and the councils' unit costs."""
    return [q.slug for q in catalogue.questions] + [
        f"unit-cost-{c.code.lower()}" for c in catalogue.channels
    ]


def release_closed_answers(*, survey: Survey, catalogue: Catalogue) -> pd.DataFrame:
    """``Inputs.answers`` grouped by the database (PostgreSQL)."""
    return grouped_answers(_submitted(survey).values("pk"), _wanted(catalogue))


# --- Requesting and building -------------------------------------------------------


def release_request(*, survey_id: int) -> Release:
    """Create a building release for a round (or return the one already building) and queue
    its build once the transaction commits."""
    from reporting.tasks import release_build_task

    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey_id)
        building = Release.objects.filter(survey=survey, status=ReleaseStatus.BUILDING).first()
        if building is not None:
            return building
        number = (Release.objects.filter(survey=survey).aggregate(n=Max("number"))["n"] or 0) + 1
        try:
            with transaction.atomic():
                release = Release.objects.create(survey=survey, number=number)
        except IntegrityError:
            # Another request created the building release first; use that one.
            return Release.objects.get(survey=survey, status=ReleaseStatus.BUILDING)
        enqueue_on_commit(release_build_task, release.pk)
    return release


def release_build(*, survey_id: int) -> Release:
    """Request a release of a round and build it here and now (commands, tests, benchmarks)."""
    release = release_request(survey_id=survey_id)
    release.refresh_from_db()
    if release.status == ReleaseStatus.BUILDING:
        release_run(release_id=release.pk)
        release.refresh_from_db()
    return release


def _claim(release_id: int) -> tuple[Release, int] | None:
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release_id)
        if release.status != ReleaseStatus.BUILDING:
            return None
        release.attempt += 1
        release.progress_stage = "loading"
        release.progress_percent = 5
        release.save(update_fields=["attempt", "progress_stage", "progress_percent"])
        return release, release.attempt


def _progress(release_id: int, attempt: int, stage: str, percent: int) -> None:
    updated = Release.objects.filter(
        pk=release_id, status=ReleaseStatus.BUILDING, attempt=attempt
    ).update(progress_stage=stage, progress_percent=percent)
    if not updated:
        raise ReleaseBuildSuperseded(f"release {release_id} was taken over")


def release_run(*, release_id: int) -> str:
    """Build one requested release; a finished release is returned untouched (idempotent)."""
    claimed = _claim(release_id)
    if claimed is None:
        return Release.objects.get(pk=release_id).status
    release, attempt = claimed
    try:
        return _run(release, attempt)
    except ReleaseBuildSuperseded:
        logger.info("release %s: superseded by a later attempt", release_id)
        return "superseded"
    except Exception as error:
        if _is_transient(error):
            raise
        logger.exception("release %s failed", release_id)
        _finish(
            release.pk,
            attempt,
            status=ReleaseStatus.FAILED,
            fields={"error": f"{type(error).__name__}: {error}"[:2000]},
        )
        return ReleaseStatus.FAILED


def _read_snapshot(survey: Survey, catalogue: Catalogue, *, shared: bool):
    """The answers' fingerprints and the answers themselves, as one snapshot shows them.

    ``shared``: this build opened a REPEATABLE READ transaction on PostgreSQL, so its
    snapshot can be exported (``pg_export_snapshot``). A second connection then imports it
    and reads the closed answers, then the fingerprints, while this one reads the
    transaction answers and figures: the scans run side by side, on two cores, and all see
    exactly the same rows. Otherwise (SQLite; inside a caller's transaction, as in tests,
    where the rows may not be committed) all are read here.
    """
    if not shared:
        return _inputs_text(survey=survey), release_load(survey=survey, catalogue=catalogue)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="release-inputs") as pool:
        answers = pool.submit(
            _in_snapshot, snapshot, release_closed_answers, survey=survey, catalogue=catalogue
        )
        fingerprints = pool.submit(_in_snapshot, snapshot, _inputs_text, survey=survey)
        # Leaving the pool waits for its reads, even on an error here: the snapshot lives
        # as long as this transaction.
        inputs = release_load(survey=survey, catalogue=catalogue, answers=answers.result)
        return fingerprints.result(), inputs


def _in_snapshot(snapshot: str, read, **arguments):
    """``read(**arguments)`` in a snapshot exported by another transaction (on this
    thread's own connection, closed when done)."""
    from psycopg import sql

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            statement = sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot))
            cursor.execute(statement.as_string(cursor.connection))
            return read(**arguments)
    finally:
        connection.close()


def _is_transient(error: Exception) -> bool:
    from django.db import InterfaceError, OperationalError

    return isinstance(error, OperationalError | InterfaceError)


def _run(release: Release, attempt: int) -> str:
    timings: dict[str, float] = {}
    started = clock = time.perf_counter()
    rules = disclosure_rules()
    rules_record = _rules_record(rules)
    survey = release.survey
    # One consistent snapshot of every answer, even while councils keep saving (inside a
    # caller's transaction, that transaction's).
    own_snapshot = not connection.in_atomic_block and connection.vendor == "postgresql"
    with transaction.atomic():
        if own_snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # Whether any council could still change its answers when the snapshot was taken:
        # only a release of finished answers is published (see reporting.models).
        collected = collection_finished(survey=survey, now=timezone.now())
        end = collection_end(survey=survey)
        catalogue = release_catalogue(survey=survey)
        inputs_text, inputs = _read_snapshot(survey, catalogue, shared=own_snapshot)
    timings["load"] = time.perf_counter() - clock
    _progress(release.pk, attempt, "aggregating", 20)
    clock = time.perf_counter()
    respondents = len(inputs.councils)
    _memory_release(respondents)
    system = build_system(catalogue, inputs, spend=True)
    # The answers are in the system's cells now: freed before protection, the build's peak.
    del inputs
    _memory_release(respondents)
    timings["aggregation"] = time.perf_counter() - clock
    _progress(release.pk, attempt, "protecting", 35)
    clock = time.perf_counter()
    result = protect(system.hand_over(), system.relations, rules=rules)
    timings["protection"] = time.perf_counter() - clock
    timings.update({f"protection_{k}": v for k, v in result.timings.items()})
    relations = [[r.total, list(r.parts)] for r in system.relations]
    audit = _audit_record(result, system.cells)
    common = {
        "inputs": json.loads(inputs_text),
        "inputs_fingerprint": _text_fingerprint(inputs_text, rules_record),
        "rules": rules_record,
        "audit": audit,
        "relations": relations,
    }
    counts = {
        "respondents": respondents,
        "invited": sum(catalogue.invited.values()),
        "cells": len(system.cells),
        "relations": len(relations),
        **_status_counts(result),
    }
    if not audit["passed"]:
        timings["total"] = time.perf_counter() - started
        _finish(
            release.pk,
            attempt,
            status=ReleaseStatus.REFUSED,
            fields={**common, "relations": [], "counts": counts, "timings": timings},
        )
        return ReleaseStatus.REFUSED
    _progress(release.pk, attempt, "deriving", 80)
    clock = time.perf_counter()
    _memory_release(respondents)
    rows = _protected_rows(release, system, result)
    published = {row.cell_id: row.value for row in rows}
    derived = derive(catalogue, published.__getitem__, system.linear)
    order = len(rows)
    for offset, cell in enumerate(derived):
        rows.append(
            _CellRow(
                release_id=release.pk,
                cell_id=cell.cell_id,
                table=cell.table,
                keys=cell.keys,
                value=cell.value,
                status=cell.status,
                order=order + offset,
            )
        )
    counts["derived"] = len(derived)
    # The share hidden by table and why, for the release's notes (Publication.hidden_shares).
    counts["hidden"] = _hidden_record(result, rows)
    timings["derivation"] = time.perf_counter() - clock
    _progress(release.pk, attempt, "storing", 90)
    clock = time.perf_counter()
    with transaction.atomic():
        if _lock_if_mine(release.pk, attempt):
            ReleaseCell.objects.filter(release_id=release.pk).delete()
            _cells_store(rows)
            timings["store"] = time.perf_counter() - clock
            clock = time.perf_counter()
            publication = _publication(survey, collected=collected, end=end, read=inputs_text)
            # Whether the answers changed while they were read: the fingerprints read again.
            timings["publication"] = time.perf_counter() - clock
            timings["total"] = time.perf_counter() - started
            _finish(
                release.pk,
                attempt,
                status=ReleaseStatus.READY,
                fields={**common, "counts": counts, "timings": timings, **publication},
                locked=True,
            )
            return ReleaseStatus.READY
    raise ReleaseBuildSuperseded(f"release {release.pk} was taken over")


def _publication(survey: Survey, *, collected: bool, end, read: str) -> dict:
    """Publish a ready release only if its answers were final and none is published yet.

    Called under the release's row lock; the unique constraint on published releases is the
    backstop. The round's row is locked too (as campaigns.services.deadline_extend locks it),
    so a second build of the same round sees the first one's publication, and an extension
    granted while this one was building (a later collection end) withholds it. So does a
    save that began before the deadline and was committed after the answers were read
    (``read``, the record's JSON text): the next build, which beat requests, holds it and is
    published instead.
    """
    Survey.objects.select_for_update().filter(pk=survey.pk).exists()
    if not collected or collection_end(survey=survey) != end:
        return {"withheld": Withheld.COLLECTING}
    if _inputs_text(survey=survey) != read:
        return {"withheld": Withheld.COLLECTING}
    if Release.objects.filter(survey=survey, published_at__isnull=False).exists():
        return {"withheld": Withheld.SUPERSEDED}
    return {"published_at": timezone.now()}


class _CellRow(NamedTuple):
    """A ReleaseCell's fields, to write (a model instance each held ~30 MB at 19,000 cells)."""

    release_id: int
    cell_id: str
    table: str
    keys: dict
    value: float | None
    status: str
    interval_low: float | None = None
    interval_high: float | None = None
    order: int = 0


def _protected_rows(release: Release, system, result: ProtectionResult) -> list[_CellRow]:
    rows = []
    for outcome in result.cells:
        meta = system.meta[outcome.id]
        hidden = outcome.status in (CellStatus.PRIMARY, CellStatus.SECONDARY)
        low, high = outcome.interval if (hidden and outcome.interval) else (None, None)
        rows.append(
            _CellRow(
                release_id=release.pk,
                cell_id=outcome.id,
                table=meta.table,
                keys=meta.keys,
                value=None if hidden else outcome.value,
                status=outcome.status,
                interval_low=low,
                interval_high=high,
                order=meta.order,
            )
        )
    rows.sort(key=lambda row: row.order)
    return rows


def _cells_store(rows: list[_CellRow]) -> None:
    """Write a release's cells: with COPY on PostgreSQL (a fraction of the time of bulk
    inserts at 100,000 cells), else in batches."""
    if connection.vendor != "postgresql":
        for start in range(0, len(rows), STORE_BATCH):
            batch = rows[start : start + STORE_BATCH]
            ReleaseCell.objects.bulk_create([ReleaseCell(**row._asdict()) for row in batch])
        return
    fields = [f for f in ReleaseCell._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {ReleaseCell._meta.db_table} ({columns}) FROM STDIN"
    encoded = [(f.attname, isinstance(f, JSONField)) for f in fields]
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(getattr(row, name)) if is_json else getattr(row, name)
                    for name, is_json in encoded
                ]
            )


def _status_counts(result: ProtectionResult) -> dict[str, int]:
    counts = {"published": 0, "primary": 0, "secondary": 0, "empty": 0}
    for cell in result.cells:
        counts[cell.status] += 1
    return counts


def _hidden_record(result: ProtectionResult, rows: list[_CellRow]) -> dict:
    """Cells, hidden cells, their share and why they are hidden, per table of the release and
    for all of them: counts only (no cell, no rule parameter).

    Why: the primary rule (too few councils, or one dominates), the group rule (every council
    of a small group gave one answer) or secondary, from the disclosure engine; "withheld" for
    a derived figure (share, take-up, cost) computed from a hidden cell.
    """
    reasons = result.summary(lambda cell_id: cell_id.split("|", 1)[0])["tables"]
    measures = ("cells", "hidden", "hidden_share", *REASONS, CellStatus.WITHHELD.value)
    tables: dict[str, dict] = {}
    for row in rows:
        tally = tables.setdefault(row.table, dict.fromkeys(measures, 0))
        tally["cells"] += 1
        if row.status == CellStatus.WITHHELD:
            tally["hidden"] += 1
            tally[CellStatus.WITHHELD.value] += 1
    for table, tally in tables.items():
        for reason in REASONS:
            tally[reason] = reasons.get(table, {}).get(reason, 0)
            tally["hidden"] += tally[reason]
    everything = {m: sum(t[m] for t in tables.values()) for m in measures}
    for tally in (*tables.values(), everything):
        tally["hidden_share"] = round(tally["hidden"] / max(tally["cells"], 1), 4)
    return {"tables": dict(sorted(tables.items())), "all": everything}


def _audit_record(result: ProtectionResult, cells) -> dict:
    """What the audit of the release proved (kept with it; never shown to analysts).

    Passed only when no attacker found anything (outsiders; each council with all of its own
    figures known in every table: exact values and the p% rule; groups) and the public facts
    were in the attacker's hands: every public cell published, and every hidden cell's
    interval within its public bound (the councils invited to a group), so the audit bounded
    it as the world can.
    """
    audit = result.audit
    public = _public_facts(result, cells)
    return {
        "passed": result.passed and public["passed"],
        "exact_disclosures": list(audit.exact_disclosures)[:100],
        "under_protected": list(audit.under_protected)[:100],
        "insider_disclosures": [[d.contributor, d.cell] for d in audit.insider_disclosures[:100]],
        # p%-unsafe cells that their second-largest contributor, with all its own figures known
        # in every table at once, bounds too closely (issue 10, attack 2).
        "insider_under_protected": [
            [d.contributor, d.cell] for d in audit.insider_under_protected[:100]
        ],
        "group_disclosures": list(audit.group_disclosures)[:100],
        "hidden_cells_audited": len(audit.intervals),
        "public_facts": public,
    }


def _public_facts(result: ProtectionResult, cells) -> dict:
    """Whether the audit held the public facts: public cells published (fixed for every
    attacker) and hidden cells bounded by their public upper bounds."""
    outcomes = {outcome.id: outcome for outcome in result.cells}
    public = [cell.id for cell in cells if cell.public]
    hidden_public = [c for c in public if outcomes[c].status in ("primary", "secondary")]
    bounded = {cell.id: cell.upper for cell in cells if cell.upper is not None}
    beyond = []
    for cell_id, upper in bounded.items():
        outcome = outcomes[cell_id]
        if outcome.status not in ("primary", "secondary"):
            continue
        high = outcome.interval[1] if outcome.interval else None
        if high is None or high > upper + 1e-6 * max(1.0, upper):
            beyond.append(cell_id)
    return {
        "passed": not hidden_public and not beyond,
        "public_cells": len(public),
        "public_cells_hidden": hidden_public[:100],
        "bounded_cells": len(bounded),
        "bounded_hidden_cells": sum(
            outcomes[c].status in ("primary", "secondary") for c in bounded
        ),
        "intervals_beyond_bound": beyond[:100],
    }


def _lock_if_mine(release_id: int, attempt: int) -> bool:
    return (
        Release.objects.select_for_update()
        .filter(pk=release_id, status=ReleaseStatus.BUILDING, attempt=attempt)
        .exists()
    )


def _finish(
    release_id: int, attempt: int, *, status: str, fields: dict, locked: bool = False
) -> None:
    with transaction.atomic():
        if not locked and not _lock_if_mine(release_id, attempt):
            raise ReleaseBuildSuperseded(f"release {release_id} was taken over")
        release = Release.objects.get(pk=release_id)
        for name, value in fields.items():
            setattr(release, name, value)
        release.status = status
        release.finished_at = timezone.now()
        release.progress_stage = "finished"
        release.progress_percent = 100
        release.save()


# --- Building when collection ends ------------------------------------------------


def release_build_if_due(*, survey_id: int, now=None) -> Release | None:
    """Request the release to publish, once every council's deadline has passed.

    Nothing before that (releases of changing answers are never shown), nothing once a
    release is published, and nothing again after a build of the final answers was refused
    by the audit, unless the answers or the rules have changed since.
    """
    now = now or timezone.now()
    survey = Survey.objects.get(pk=survey_id)
    if not collection_finished(survey=survey, now=now):
        return None
    end = collection_end(survey=survey)
    releases = Release.objects.filter(survey=survey)
    if releases.filter(published_at__isnull=False).exists():
        return None
    if releases.filter(status=ReleaseStatus.BUILDING).exists():
        return None
    current = _fingerprint(release_inputs(survey=survey), _rules_record(disclosure_rules()))
    tried = releases.filter(
        status=ReleaseStatus.REFUSED, created_at__gte=end, inputs_fingerprint=current
    )
    if tried.exists():
        return None
    return release_request(survey_id=survey_id)


# --- Synthetic responses -------------------------------------------------------------


class SyntheticRefused(Exception):
    """The round holds real responses (or cannot take the copies asked for)."""


def _holds_real_responses(survey: Survey) -> bool:
    responses = Response.objects.filter(survey=survey)
    real_status = responses.exclude(status=ResponseStatus.NOT_STARTED).exclude(
        submitted_by=SYNTHETIC_ACTOR
    )
    if real_status.exists():
        return True
    # Tier pre-answers ("not our responsibility" for a district's county services) are
    # written when a council is invited, not by anyone answering.
    machine_written = [SYNTHETIC_ACTOR, PREFILLED_BY]
    return any(
        model.objects.filter(response__survey=survey)
        .exclude(updated_by__in=machine_written)
        .exists()
        for model in (Figure, TransactionAnswer, Answer)
    )


def _scale_copies(survey: Survey, scale: int) -> list[Authority]:
    """K-1 synthetic copies of every council of the population, with new GSS-like codes."""
    originals = list(survey_population(survey=survey).order_by("gss_code"))
    if scale <= 1:
        return originals
    taken = set(Authority.objects.values_list("code", flat=True))
    # Four characters starting with a digit: never a real council's three-letter code.
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    letters = (
        a + b + c + d for a in "123456789" for b in alphabet for c in alphabet for d in alphabet
    )
    free_codes = (code for code in letters if code not in taken)
    existing = set(Authority.objects.values_list("gss_code", flat=True))
    by_prefix: dict[str, int] = {}
    created = []
    for copy in range(1, scale):
        for original in originals:
            index = by_prefix.get(original.gss_code[:3], 0)
            by_prefix[original.gss_code[:3]] = index + 1
            gss = f"{original.gss_code[:3]}{copy * 1000 + index % 1000 + 100000:06d}"
            if gss in existing:
                continue
            code = next(free_codes, None)
            if code is None:
                raise SyntheticRefused("not enough free three-letter codes for that many copies")
            created.append(
                Authority(
                    gss_code=gss,
                    code=code,
                    official_name=f"{SYNTHETIC_ACTOR}: copy {copy} of {original.gss_code}",
                    short_name=f"Copy {copy} of {original.gss_code}",
                    kind=original.kind,
                    region=original.region,
                    start_date=original.start_date,
                    end_date=original.end_date,
                )
            )
        by_prefix.clear()
    Authority.objects.bulk_create(created, batch_size=STORE_BATCH)
    copies = list(Authority.objects.filter(gss_code__in=[a.gss_code for a in created]))
    if survey.population == PopulationKind.CHOSEN:
        survey.chosen_authorities.add(*copies)
    return list(survey_population(survey=survey).order_by("gss_code"))


def responses_generate(*, survey_id: int, seed: int = 2015, scale: int = 1) -> int:
    """Fill a round with synthetic submitted responses for its whole population.

    Refused on a round holding any real response; running it again replaces the synthetic
    answers. Returns the number of responses written.
    """
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey_id)
        if _holds_real_responses(survey):
            raise SyntheticRefused(f"round {survey.slug} holds real responses")
        authorities = _scale_copies(survey, scale)
        now = timezone.now()
        existing = {r.authority_id: r for r in Response.objects.filter(survey=survey)}
        new = [Response(survey=survey, authority=a) for a in authorities if a.pk not in existing]
        Response.objects.bulk_create(new, batch_size=STORE_BATCH)
        responses = list(Response.objects.filter(survey=survey, authority__in=authorities))
        Response.objects.filter(pk__in=[r.pk for r in responses]).update(
            status=ResponseStatus.SUBMITTED,
            submitted_by=SYNTHETIC_ACTOR,
            submitted_at=now,
            started_at=now,
            submission_count=1,
            updated_at=now,
        )
        for model in (Figure, TransactionAnswer, Answer):
            model.objects.filter(response__in=responses).delete()
        by_authority = {a.pk: a for a in authorities}
        councils = pd.DataFrame(
            [
                (
                    r.pk,
                    by_authority[r.authority_id].gss_code,
                    by_authority[r.authority_id].kind,
                    by_authority[r.authority_id].region,
                )
                for r in responses
            ],
            columns=["response", "gss", "kind", "region"],
        ).set_index("response")
        catalogue = release_catalogue(survey=survey)
        questionnaire = survey.questionnaire
        tiers = dict(questionnaire.transactions.values_list("slug", "tiers"))
        inputs = synthetic_inputs(catalogue, councils, tiers, seed=seed)
        transactions = {t.slug: t for t in questionnaire.transactions.all()}
        channels = {c.code: c for c in questionnaire.channels.all()}
        questions = {
            q.slug: q for q in Question.objects.filter(section__questionnaire=questionnaire)
        }
        actor = {"updated_by": SYNTHETIC_ACTOR}
        TransactionAnswer.objects.bulk_create(
            [
                TransactionAnswer(
                    response_id=rid,
                    transaction=transactions[slug],
                    provision=provision,
                    channels_offered=offered,
                    end_to_end=e2e,
                    **actor,
                )
                for rid, slug, provision, offered, e2e in inputs.transactions.itertuples(
                    index=False
                )
            ],
            batch_size=STORE_BATCH,
        )
        Figure.objects.bulk_create(
            [
                Figure(
                    response_id=rid,
                    transaction=transactions[slug],
                    channel=channels[code],
                    value=None if pd.isna(value) else int(value),
                    not_recorded=bool(not_recorded),
                    estimate=bool(estimate) and not pd.isna(value),
                    **actor,
                )
                for rid, slug, code, value, not_recorded, estimate in inputs.figures.itertuples(
                    index=False
                )
            ],
            batch_size=STORE_BATCH,
        )
        Answer.objects.bulk_create(
            [
                Answer(response_id=rid, question=questions[slug], value=value, **actor)
                for rid, slug, value in inputs.answers.itertuples(index=False)
                if slug in questions
            ],
            batch_size=STORE_BATCH,
        )
    return len(responses)
