"""Synthetic submitted responses, for demos, scale tests and the benchmark.

Plausible figures: council sizes are heavy-tailed (a few councils dominate the cells they are
in), some figures are not recorded and some are estimates. Pure frames first (the benchmark
uses them directly); ``reporting.services_synthetic`` writes them to the database.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reporting.tables import Catalogue, Inputs

SYNTHETIC_ACTOR = "Synthetic data"

# Probability that a council offers each channel for a transaction it provides.
OFFER_PROBABILITY = {
    "F2F": 0.85,
    "PHONE": 0.95,
    "IVR": 0.2,
    "WEB": 0.9,
    "EMAIL": 0.6,
    "POST": 0.5,
    "APP": 0.15,
    "SOCIAL": 0.2,
    "CHAT": 0.1,
    "OTHER": 0.1,
}
# Typical share of a transaction's volume by channel (before noise).
CHANNEL_WEIGHT = {
    "F2F": 0.15,
    "PHONE": 0.3,
    "IVR": 0.05,
    "WEB": 0.35,
    "EMAIL": 0.06,
    "POST": 0.05,
    "APP": 0.02,
    "SOCIAL": 0.01,
    "CHAT": 0.01,
    "OTHER": 0.05,
}
TIER_BY_KIND = {"county": "C", "district": "D"}


def synthetic_inputs(
    catalogue: Catalogue,
    councils: pd.DataFrame,
    tiers: dict[str, str],
    *,
    seed: int = 2015,
) -> Inputs:
    """Frames of submitted answers for ``councils`` (index: response id; gss, kind, region)."""
    rng = np.random.default_rng(seed)
    n = len(councils)
    size = rng.pareto(1.5, n) + 0.3
    # One council in fifty is very large: it dominates whatever cell it lands in.
    size[rng.random(n) < 0.02] *= 25
    ids = councils.index.to_numpy()
    kinds = councils["kind"].to_numpy()
    transactions, figures, answers = [], [], []
    codes = [c.code for c in catalogue.channels]
    probs = np.array([OFFER_PROBABILITY.get(c, 0.2) for c in codes])
    weights = np.array([CHANNEL_WEIGHT.get(c, 0.02) for c in codes])
    for number, (slug, _name) in enumerate(catalogue.transactions):
        tier = tiers.get(slug, "")
        base = 2000 * (1 + (number % 5))
        delivers = np.array(
            [not tier or TIER_BY_KIND.get(k, "U") in tier for k in kinds], dtype=bool
        )
        offered = rng.random((n, len(codes))) < probs
        values = np.round(size[:, None] * base * weights * rng.lognormal(0, 0.6, (n, len(codes))))
        not_recorded = rng.random((n, len(codes))) < 0.05
        estimate = rng.random((n, len(codes))) < 0.2
        end_to_end = rng.choice(["yes", "partly", "no"], n, p=[0.3, 0.45, 0.25])
        for i in range(n):
            if not delivers[i]:
                transactions.append((ids[i], slug, "not_responsible", [], ""))
                continue
            chosen = [codes[j] for j in np.flatnonzero(offered[i])]
            transactions.append((ids[i], slug, "yes", chosen, end_to_end[i]))
            for j in np.flatnonzero(offered[i]):
                value = None if not_recorded[i, j] else float(values[i, j])
                figures.append(
                    (ids[i], slug, codes[j], value, bool(not_recorded[i, j]), bool(estimate[i, j]))
                )
    for question in catalogue.questions:
        choice = rng.choice(list(question.categories), n)
        skipped = rng.random(n) < 0.05
        answers.extend((ids[i], question.slug, choice[i]) for i in range(n) if not skipped[i])
    own = rng.random(n) < 0.2
    for code, scale in (("F2F", 8.6), ("PHONE", 2.8), ("WEB", 0.15)):
        costs = np.round(scale * rng.lognormal(0, 0.3, n), 2)
        answers.extend(
            (ids[i], f"unit-cost-{code.lower()}", f"{costs[i]:.2f}") for i in range(n) if own[i]
        )
    figure_frame = pd.DataFrame(
        figures, columns=["response", "transaction", "channel", "value", "not_recorded", "estimate"]
    )
    return Inputs(
        councils=councils,
        transactions=pd.DataFrame(
            transactions, columns=["response", "transaction", "provision", "offered", "end_to_end"]
        ),
        figures=figure_frame,
        answers=pd.DataFrame(answers, columns=["response", "question", "value"]),
    )
