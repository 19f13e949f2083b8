"""What an outsider works out from a release's JSON download and any number printed beside it.

Only public information: the published cells, the published relations between them, and the
public upper bounds (no more councils of a group respond than were invited, and the councils
invited are published). Repeated subtraction (attack 1 of the disclosure rules) and bounds
that a published total reaches exactly; no linear programme, so it finds a subset of what the
release's own audit rules out, fast enough to run on every output of a 353-council round.
"""

from __future__ import annotations

from reporting.derived import INVITED
from reporting.tables import RESPONDED

TOLERANCE = 1e-6


def _upper_bounds(cells: dict[str, dict]) -> dict[str, float]:
    """Responding councils of a group are at most the councils invited to it (published)."""
    bounds = {}
    for cell_id, cell in cells.items():
        if cell["table"] == RESPONDED:
            invited = cells.get(cell_id.replace(RESPONDED + "|", INVITED + "|", 1))
            if invited is not None and invited["value"] is not None:
                bounds[cell_id] = float(invited["value"])
    return bounds


def worked_out(release_json: dict, extra: dict[str, float] | None = None) -> dict[str, float]:
    """Hidden cells that the published cells, relations and ``extra`` known values pin exactly."""
    cells = {cell["id"]: cell for cell in release_json["cells"]}
    known = {i: float(c["value"]) for i, c in cells.items() if c["value"] is not None}
    known.update(extra or {})
    bounds = _upper_bounds(cells)
    relations = [(r["total"], list(r["parts"])) for r in release_json["relations"]]
    changed = True
    while changed:
        changed = False
        for total, parts in relations:
            unknown = [p for p in parts if p not in known]
            if total in known and len(unknown) == 1:
                known[unknown[0]] = known[total] - sum(known[p] for p in parts if p in known)
                changed = True
            elif total not in known and not unknown:
                known[total] = sum(known[p] for p in parts)
                changed = True
            elif total in known and unknown and all(p in bounds for p in unknown):
                # The rest of the total is exactly the most the unknown parts can hold.
                room = known[total] - sum(known[p] for p in parts if p in known)
                if abs(room - sum(bounds[p] for p in unknown)) <= TOLERANCE:
                    known.update({p: bounds[p] for p in unknown})
                    changed = True
    return {i: v for i, v in known.items() if cells.get(i, {}).get("value", 0) is None}
