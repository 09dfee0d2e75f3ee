"""What a Coverage node shows, decided on plain data: of a coverage result (client coverage.read_result), the hole
its Hole knob names, the menu of that hole's proposals, the one its Proposal knob names (else the best), the
knob values of the Read that shows its frames and the note the node shows about it.

Nuke has no timeline: the node runs the tool on a timeline file once (every hole's proposals rendered) and shows
one proposal of one hole at a time for comp work; choosing another is no new run.
"""
from typing import Any, Dict, List, Optional

from matchcut_nuke.client import coverage

#: The Read's knob values when the node shows no proposal (a hole with none): no file, no frames.
NO_READ = {"file": "", "first": 1, "last": 1, "origfirst": 1, "origlast": 1}


def choose(data: Dict[str, Any], hole: Any, chosen: str) -> Dict[str, Any]:
    """The node's choice in ``data``: ``hole`` (its Hole knob, clamped to 1..the holes there are), ``menu`` (that
    hole's proposals as Proposal menu texts, best first), ``text`` (the menu text shown: ``chosen`` when it is one
    of them, else the best's; "" for none), ``proposal`` and ``hole_data`` (dicts of the result, or None)."""
    holes = data.get("holes") or []
    try:
        index = int(hole)
    except (TypeError, ValueError):
        index = 1
    index = min(max(index, 1), max(len(holes), 1))
    entries = coverage.proposal_menu(data, index)
    menu = [text for _, text in entries]
    text = chosen if chosen in menu else (menu[0] if menu else "")
    pid = next((p for p, t in entries if t == text), None)
    hole_data, proposal = coverage.find_proposal(data, pid) if pid else (None, None)
    if hole_data is None:
        hole_data = next((h for h in holes if h["index"] == index), None)
    return {"hole": index, "menu": menu, "text": text, "proposal": proposal, "hole_data": hole_data}


def read_values(proposal: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The Read knob values that show a proposal's rendered frames (as the tool numbered them), or NO_READ."""
    if not proposal or not proposal.get("rendered"):
        return dict(NO_READ)
    rendered = proposal["rendered"]
    first, last = int(rendered["first"]), int(rendered["last"])
    return {"file": rendered["pattern"], "first": first, "last": last, "origfirst": first, "origlast": last}


def note(choice: Dict[str, Any], holes: int) -> str:
    """The node's note on its choice: the hole (of how many), the proposal, why it scored so, where it goes in
    the edit (record frames) and which frames show it; or why the hole has no proposal."""
    hole, proposal = choice["hole_data"], choice["proposal"]
    if hole is None:
        return "no hole in the edit: every frame shows a shot" if not holes else "no hole {}".format(choice["hole"])
    lines: List[str] = ["{} of {}".format(coverage.hole_line(hole), holes), str(hole.get("why") or "")]
    if proposal is not None:
        record = proposal["record"]
        lines.append("{}: {}".format(proposal.get("label") or proposal["id"], proposal.get("reason") or ""))
        if proposal.get("score_text"):
            lines.append(str(proposal["score_text"]))
        made = coverage.made_line(int(proposal.get("synthetic_frames") or 0), record[1] - record[0] + 1)
        if made:
            lines.append(made + " (their headers say so: matchcut/frame synthetic)")
        lines.append("record frames {}-{} of the edit; frames {}-{} here".format(
            record[0], record[1], proposal["rendered"]["first"], proposal["rendered"]["last"]))
    return "\n".join(line for line in lines if line)
