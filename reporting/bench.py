"""Benchmark: build a release's tables from synthetic responses, ``python -m reporting.bench``.

Sizes: the 353 councils of 2015, and 100 times that (copies of every council). No database:
the catalogue comes from fixtures/ and the answers from reporting.synthetic, so the figures
are aggregation (pandas), protection (the disclosure engine: rules, suppression, audit) and
derivation. Each size runs in a fresh process so that its peak memory is its own.
Options: ``--scales 1,100``, ``--timeout SECONDS`` per size and ``--seed N`` (synthetic
responses; any seed but 2015 is a held-out round). Each line also gives the share of cells
hidden per table and why, and the secondary cells of the untrimmed pattern (the reference the
number of suppressions is compared with). ``--database``: the real path on PostgreSQL
instead (``reporting.bench_db``: synthetic responses in a database of its own, grouped by
the database, each stage timed with its peak memory).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from reporting.derived import derive
from reporting.disclosure import Rules, protect
from reporting.disclosure.parallel import peak_rss_mb
from reporting.synthetic import synthetic_inputs
from reporting.tables import Catalogue, ChannelInfo, QuestionInfo, build_system

ROOT = Path(__file__).resolve().parent.parent
DAY_2015 = "2015-07-01"
KINDS = (
    "county",
    "district",
    "unitary",
    "metropolitan",
    "london_borough",
    "city_of_london",
    "isles_of_scilly",
)
REGIONS = (
    "north_east",
    "north_west",
    "yorkshire",
    "east_midlands",
    "west_midlands",
    "east",
    "london",
    "south_east",
    "south_west",
)
ANSWER_SECTIONS = ("platforms", "capability", "complex-services")


KIND_BY_TYPE = {
    ("CTY", "County council"): "county",
    ("NMD", "Non-metropolitan district"): "district",
    ("UA", "Unitary authority"): "unitary",
    ("UA", "Isles of Scilly"): "isles_of_scilly",
    ("MD", "Metropolitan borough"): "metropolitan",
    ("LBO", "London borough"): "london_borough",
    ("CC", "City of London"): "city_of_london",
}
REGION_BY_NAME = {
    "North East": "north_east",
    "North West": "north_west",
    "Yorkshire and The Humber": "yorkshire",
    "East Midlands": "east_midlands",
    "West Midlands": "west_midlands",
    "East of England": "east",
    "London": "london",
    "South East": "south_east",
    "South West": "south_west",
}


def councils_2015(scale: int) -> pd.DataFrame:
    """The 353 councils of 1 July 2015 (fixtures), ``scale`` copies each with new codes."""
    frame = pd.read_csv(ROOT / "fixtures" / "authorities" / "england_councils.csv", dtype=str)
    frame = frame[frame["in_2015"] == "True"]
    base = pd.DataFrame(
        {
            "gss": frame["gss_code"],
            "kind": [
                KIND_BY_TYPE[t]
                for t in zip(frame["la_type_code"], frame["authority_type"], strict=True)
            ],
            "region": frame["region"].map(REGION_BY_NAME),
        }
    )
    copies = []
    for copy in range(scale):
        part = base.copy()
        if copy:
            part["gss"] = part["gss"].str[:3] + f"C{copy:03d}" + part["gss"].str[-3:]
        copies.append(part)
    result = pd.concat(copies, ignore_index=True)
    result.index.name = "response"
    return result


def catalogue_2015(councils: pd.DataFrame) -> tuple[Catalogue, dict[str, str]]:
    data = json.loads((ROOT / "fixtures" / "questionnaire-2015.json").read_text(encoding="utf-8"))
    channels = tuple(
        ChannelInfo(
            c["code"],
            c["name"],
            c["is_digital"],
            float(c["default_unit_cost"]) if c.get("default_unit_cost") else None,
        )
        for c in data["channels"]
    )
    transactions = tuple((t["slug"], t["name"]) for t in data["transactions"])
    tiers = {t["slug"]: t.get("tiers", "") for t in data["transactions"]}
    questions = tuple(
        QuestionInfo(q["slug"], s["slug"], q["text"], tuple(str(c[0]) for c in q["choices"]))
        for s in data["sections"]
        if s["slug"] in ANSWER_SECTIONS
        for q in s.get("questions", [])
        if q["kind"] in ("choice", "scale") and not q.get("free_text")
    )
    invited = councils.groupby(["kind", "region"]).size().to_dict()
    kinds = tuple(k for k in KINDS if any(g[0] == k for g in invited))
    regions = tuple(r for r in REGIONS if any(g[1] == r for g in invited))
    return Catalogue(transactions, channels, kinds, regions, invited, questions), tiers


def run(scale: int, seed: int = 2015) -> dict[str, object]:
    councils = councils_2015(scale)
    catalogue, tiers = catalogue_2015(councils)
    inputs = synthetic_inputs(catalogue, councils, tiers, seed=seed)
    started = time.perf_counter()
    system = build_system(catalogue, inputs)
    aggregation = time.perf_counter() - started
    clock = time.perf_counter()
    result = protect(system.cells, system.relations, rules=Rules())
    protection = time.perf_counter() - clock
    clock = time.perf_counter()
    published = {c.id: c.published_value for c in result.cells}
    derived = derive(catalogue, published.__getitem__, system.linear)
    derivation = time.perf_counter() - clock
    statuses = [c.status for c in result.cells]
    summary = result.summary()
    return {
        "seed": seed,
        "councils": len(councils),
        "figures": len(inputs.figures),
        "cells": len(system.cells),
        "relations": len(system.relations),
        "derived_cells": len(derived),
        "primary": statuses.count("primary"),
        "secondary": statuses.count("secondary"),
        # The same choice before the trim published the secondary cells nothing needed: the
        # reference pattern the held-out check compares with.
        "secondary_untrimmed": result.secondary_untrimmed,
        "hidden_share": summary["hidden_share"],
        # Share of each table's cells hidden, and by why (primary rule, group rule, secondary).
        "hidden_by_table": {
            table: {
                "share": tally["hidden_share"],
                "primary_rule": tally["primary_rule"],
                "group_rule": tally["group_rule"],
                "secondary": tally["secondary"],
            }
            for table, tally in summary["tables"].items()
        },
        "passed": result.passed,
        "aggregation_s": round(aggregation, 2),
        "rules_s": round(result.timings["rules"], 2),
        "suppression_s": round(result.timings["suppression"], 2),
        "audit_s": round(result.timings["audit"], 2),
        "protection_s": round(protection, 2),
        "derivation_s": round(derivation, 2),
        "total_s": round(aggregation + protection + derivation, 2),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,100")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument(
        "--seed",
        type=int,
        default=2015,
        help="seed of the synthetic responses (another one is a held-out round)",
    )
    parser.add_argument("--database", action="store_true", help="the real path, PostgreSQL")
    parser.add_argument(
        "--repeat", type=int, default=1, help="builds per size with --database (medians)"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.database:
        from reporting import bench_db

        if args.load is not None:
            sys.stdout.write(json.dumps(bench_db.load(args.load)) + "\n")
            return
        if args.one is not None:
            sys.stdout.write(json.dumps(bench_db.run(args.one)) + "\n")
            return
        bench_db.database_create()
        subprocess.run(  # noqa: S603 (fixed arguments)
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            check=True, cwd=ROOT, env=bench_db.environment(),
        )  # fmt: skip
    elif args.one is not None:
        sys.stdout.write(json.dumps(run(args.one, args.seed)) + "\n")
        return
    if args.database:
        _database_runs(args)
        return
    for scale in (int(s) for s in args.scales.split(",")):
        label = f"{353 * scale} councils (x{scale})"
        output = _child(label, "--one", scale, args)
        if output is not None:
            sys.stdout.write(f"{label}: {output}\n")
            sys.stdout.flush()


def _database_runs(args) -> None:
    """Each size loaded once, then built ``--repeat`` times (each in a fresh process); prints
    every run, then per size the medians, the split by stage and the hidden cells, with
    ratios against the first size measured in this run."""
    import os
    import statistics

    results = {}
    for scale in (int(s) for s in args.scales.split(",")):
        label = f"{353 * scale} councils (x{scale})"
        loaded = _child(label, "--load", scale, args)
        if loaded is None:
            continue
        sys.stdout.write(f"{label} loading: {loaded}\n")
        runs = []
        for number in range(args.repeat):
            output = _child(label, "--one", scale, args)
            if output is None:
                break
            sys.stdout.write(f"{label} run {number + 1}: {output}\n")
            sys.stdout.flush()
            runs.append(json.loads(output))
        if runs:
            results[scale] = runs
    if not results:
        return
    base_scale = min(results)
    median = statistics.median

    def figures(runs):
        stages = {k: median(r["stages_s"][k] for r in runs) for k in runs[0]["stages_s"]}
        peak = median(max(r["peak_rss_mb"].values()) for r in runs)
        return median(r["total_s"] for r in runs), stages, peak

    base_total, base_stages, base_peak = figures(results[base_scale])
    out = sys.stdout.write
    out(f"\nRelease on PostgreSQL: medians of {args.repeat} run(s) per size; ratios against")
    out(f" x{base_scale} in this run. Load average now: {os.getloadavg()[0]:.2f}\n")
    for scale, runs in results.items():
        first = runs[0]
        total, stages, peak = figures(runs)
        out(
            f"x{scale}: {first['councils']:,} councils,"
            f" {first['transaction_answers']:,} transaction answers,"
            f" {first['counted_figures']:,} counted figures, {first['answers']:,} answers;"
            f" {first['cells']:,} cells, {first['relations']:,} relations\n"
        )
        out(
            f"  total {total:.2f} s ({total / base_total:.1f}x), peak {peak:.0f} MB"
            f" ({peak / base_peak:.1f}x); status {first['status']}\n"
        )
        for stage, seconds in stages.items():
            ratio = seconds / base_stages[stage] if base_stages[stage] else float("nan")
            out(f"  {stage:<20} {seconds:8.2f} s ({ratio:.1f}x)\n")
        out(f"  hidden {100 * first['hidden']['share']:.1f}% of cells; by table:\n")
        for table, tally in first["hidden"]["tables"].items():
            out(
                f"    {table:<12} {tally['cells']:>6} cells, {100 * tally['hidden_share']:5.1f}%"
                f" hidden (primary rule {tally['primary_rule']}, group rule"
                f" {tally['group_rule']}, secondary {tally['secondary']})\n"
            )


def _child(label: str, step: str, scale: int, args) -> str | None:
    """Run one step in a fresh process (its own peak memory); its last line, or None."""
    command = [sys.executable, "-m", "reporting.bench", step, str(scale), "--seed", str(args.seed)]
    environment = None
    if args.database:
        from reporting.bench_db import environment as bench_environment

        command.append("--database")
        environment = bench_environment()
    try:
        done = subprocess.run(  # noqa: S603 (this module, fixed arguments)
            command,
            capture_output=True,
            text=True,
            timeout=args.timeout,
            check=True,
            cwd=ROOT,
            env=environment,
        )
    except subprocess.TimeoutExpired:
        sys.stdout.write(f"{label}: did not finish within {args.timeout:.0f} s\n")
        return None
    except subprocess.CalledProcessError as error:
        sys.stdout.write(f"{label}: failed\n{error.stderr[-2000:]}\n")
        return None
    return done.stdout.strip().splitlines()[-1]


if __name__ == "__main__":
    main()
