"""Published examples of docs/disclosure-control.md, built as cells and relations."""

from __future__ import annotations

from reporting.disclosure import Cell, Relation

# Example A (sdcTable microdata1): contributions of each region x gender cell.
EXAMPLE_A = {
    ("A", "male"): [18, 15, 13, 13, 12, 11, 10, 10, 10, 9, 9, 9, 8, 7, 7, 6, 6, 5],
    ("A", "female"): [11, 9],
    ("B", "male"): [15, 14, 14, 12, 11, 10, 10, 10, 9, 8, 8, 7, 7, 5],
    ("B", "female"): [18, 16, 14, 14, 13, 13, 12, 12, 11, 10, 10, 9, 9, 8, 8, 8, 7, 7, 5],
    ("C", "male"): [18, 12, 12, 11, 11, 11, 10, 9, 6, 6, 6, 6],
    ("C", "female"): [19, 12, 12, 11, 10, 9, 9, 9, 8, 7],
    ("D", "male"): [280, 11, 10, 9, 9, 9, 8, 8, 8, 7, 7],
    ("D", "female"): [18, 16, 14, 14, 11, 11, 11, 10, 10, 9, 9, 7, 6, 6],
}
REGIONS = ("A", "B", "C", "D")
GENDERS = ("male", "female")


def region_gender_relations() -> list[Relation]:
    """Margins of a region x gender table: region totals, gender totals, grand total."""
    relations = [Relation(f"{r}|total", (f"{r}|male", f"{r}|female")) for r in REGIONS]
    relations.append(Relation("total|total", ("total|male", "total|female")))
    relations.append(Relation("total|total", tuple(f"{r}|total" for r in REGIONS)))
    for g in GENDERS:
        relations.append(Relation(f"total|{g}", tuple(f"{r}|{g}" for r in REGIONS)))
    return relations


def example_a_magnitude() -> tuple[list[Cell], list[Relation]]:
    """Example A as a magnitude table: anonymous contributions inside, margins by value."""
    cells = [Cell(f"{r}|{g}", contributions=v) for (r, g), v in EXAMPLE_A.items()]
    for r in REGIONS:
        cells.append(Cell(f"{r}|total", value=sum(EXAMPLE_A[r, "male"] + EXAMPLE_A[r, "female"])))
    for g in GENDERS:
        cells.append(Cell(f"total|{g}", value=sum(sum(EXAMPLE_A[r, g]) for r in REGIONS)))
    cells.append(Cell("total|total", value=sum(sum(v) for v in EXAMPLE_A.values())))
    return cells, region_gender_relations()


def example_b_frequency() -> tuple[list[Cell], list[Relation]]:
    """Example B: the frequency table (counts of contributors) of example A with margins."""
    counts = {key: len(v) for key, v in EXAMPLE_A.items()}
    cells = [Cell(f"{r}|{g}", value=n, contributors=n) for (r, g), n in counts.items()]
    for r in REGIONS:
        n = counts[r, "male"] + counts[r, "female"]
        cells.append(Cell(f"{r}|total", value=n, contributors=n))
    for g in GENDERS:
        n = sum(counts[r, g] for r in REGIONS)
        cells.append(Cell(f"total|{g}", value=n, contributors=n))
    cells.append(Cell("total|total", value=100, contributors=100))
    return cells, region_gender_relations()


def example_f(x12: list) -> tuple[list[Cell], list[Relation]]:
    """Example F (Geurts 1992): X11=4, X12=3, X21=2, X22=1 with the published margins.

    ``x12`` gives the contributions of X12 (value 3), e.g. one named council or several.
    """
    cells = [
        Cell("1|1", contributions=[2, 2]),
        Cell("1|2", contributions=x12),
        Cell("1|total", value=7),
        Cell("2|1", contributions=[1, 1]),
        Cell("2|2", contributions=[0.5, 0.5]),
        Cell("2|total", value=3),
        Cell("3|1", value=3),
        Cell("3|2", value=3),
        Cell("3|total", value=6),
        Cell("total|1", value=9),
        Cell("total|2", value=7),
        Cell("total|total", value=16),
    ]
    relations = [Relation(f"{r}|total", (f"{r}|1", f"{r}|2")) for r in ("1", "2", "3", "total")]
    relations += [
        Relation(f"total|{c}", (f"1|{c}", f"2|{c}", f"3|{c}")) for c in ("1", "2", "total")
    ]
    return cells, relations


F_HIDDEN = ("1|1", "1|2", "2|1", "2|2")


# A type x region table with its margins where the p% cell r1|a (E1 100, E2 95, E3 2) is safe
# against every outsider with the hypercube r1|a, r1|b, r2|a, r2|b, but E2 also gives 30 of
# r1|b's 37: knowing that, it bounds r1|a at 204, under 95 + 1.1 x 100 = 205.
INSIDER_TABLE = {
    "r1|a": [("E1", 100), ("E2", 95), ("E3", 2)],
    "r1|b": [("E2", 30), ("E4", 4), ("E5", 3)],
    "r1|c": [("E12", 20), ("E13", 15), ("E14", 15)],
    "r2|a": [("E6", 40), ("E7", 30), ("E8", 30)],
    "r2|b": [("E9", 20), ("E10", 20), ("E11", 20)],
    "r2|c": [("E15", 25), ("E16", 25), ("E17", 20)],
}
INSIDER_HYPERCUBE = ("r1|a", "r1|b", "r2|a", "r2|b")


def insider_table() -> tuple[list[Cell], list[Relation]]:
    """:data:`INSIDER_TABLE` with row, column and grand totals."""
    values = {k: sum(v for _, v in given) for k, given in INSIDER_TABLE.items()}
    cells = [Cell(k, contributions=given) for k, given in INSIDER_TABLE.items()]
    relations = []
    for row in ("r1", "r2"):
        parts = tuple(f"{row}|{col}" for col in "abc")
        cells.append(Cell(f"{row}|all", value=sum(values[p] for p in parts)))
        relations.append(Relation(f"{row}|all", parts))
    for col in "abc":
        parts = (f"r1|{col}", f"r2|{col}")
        cells.append(Cell(f"all|{col}", value=sum(values[p] for p in parts)))
        relations.append(Relation(f"all|{col}", parts))
    cells.append(Cell("all|all", value=sum(values.values())))
    relations.append(Relation("all|all", ("all|a", "all|b", "all|c")))
    relations.append(Relation("all|all", ("r1|all", "r2|all")))
    return cells, relations
