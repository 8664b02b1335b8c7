"""The signage editing workflow, without Streamlit: what each editor action does and says.

The page collects an editor's input and calls these functions; each returns an
:class:`Outcome` (accepted or not, the French message to show, whether the open form must
be re-read from the store). The rules live here and in :mod:`layers.signage_store`:

- a save or a deletion names the sign *and the version* the editor opened; a sign changed
  since is a conflict, a sign deleted since is refused with who deleted it and when —
  never written onto another sign;
- undoing a deletion restores the sign at a *higher* version, so a form opened before the
  deletion stays stale;
- ids are never reused (see :meth:`layers.signage_store._Store.add`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from shapely.geometry import Point

from layers.errors import AtlasError
from layers.formatting import fmt_when
from layers.signage import new_sign, status_change

ACTION_UNDO = "annulation"


@dataclass(frozen=True)
class Outcome:
    """What an editor's action did: ``ok``, the message to show, whether to re-read the form."""

    ok: bool
    message: str
    reload: bool = True


def save(
    store: Any,
    opened: Mapping[str, Any],
    new_status: str,
    day: dt.date | None,
    comment: str,
    user: str,
    position: Point | None = None,
) -> Outcome:
    """Save the status form on the sign the editor **opened**, at the version opened."""
    sign_id = str(opened["sign_id"])
    changes = status_change(opened, new_status, day, comment, position)
    if not changes:
        return Outcome(False, "Rien à enregistrer : aucun champ modifié.", reload=False)
    refused = _refusal(
        lambda: store.update(sign_id, changes, int(opened["version"]), user), sign_id
    )
    return refused or Outcome(True, f"Panneau {sign_id} enregistré.")


def _refusal(action, sign_id: str) -> Outcome | None:
    """Run a store action; its refusal as an Outcome (a sign deleted since says by whom)."""
    try:
        action()
    except KeyError as err:  # DeletedError (an AtlasError too) names who deleted it, when
        text = str(err) if isinstance(err, AtlasError) else f"Le panneau {sign_id} n'existe plus."
        return Outcome(False, text, reload=False)
    except AtlasError as err:
        return Outcome(False, str(err), reload=False)
    return None


def remove(store: Any, opened: Mapping[str, Any], user: str) -> Outcome:
    """Delete the sign the editor opened, if nobody changed it since."""
    sign_id = str(opened["sign_id"])
    refused = _refusal(lambda: store.delete(sign_id, int(opened["version"]), user), sign_id)
    return refused or Outcome(True, f"Panneau {sign_id} supprimé.")


def add(
    store: Any,
    park: tuple[str, str],
    kind: str,
    status: str,
    day: dt.date,
    cost: float | None,
    region: float | None,
    position: Point,
    user: str,
) -> Outcome:
    """Add a sign at ``position``; the store gives it a new, never reused id."""
    sign = new_sign(park[0], park[1], kind, status, day, cost, region, position)
    try:
        new_id = store.add(sign, user)
    except AtlasError as err:
        return Outcome(False, str(err), reload=False)
    return Outcome(True, f"Panneau {new_id} ajouté.")


def undo(store: Any, history_id: int, user: str) -> Outcome:
    """Undo one history entry (only what it changed; refused if later changes touched it)."""
    try:
        summary = store.undo(int(history_id), user)
    except KeyError:
        return Outcome(False, "Cette modification n'existe plus dans l'historique.", reload=False)
    except AtlasError as err:
        return Outcome(False, str(err), reload=False)
    return Outcome(True, summary)


def undo_choices(history: pd.DataFrame) -> dict[int, str]:
    """History entries an editor may undo, labelled in French, the default first.

    Undo entries come last: after one undo, the newest entry is that undo, and offering it
    first made a second click re-apply the change.
    """
    rows: list[Any] = list(history.itertuples())
    ordered = [r for r in rows if r.action != ACTION_UNDO] + [
        r for r in rows if r.action == ACTION_UNDO
    ]
    return {int(r.id): f"{r.sign_id} · {r.action} · {r.qui} · {fmt_when(r.quand)}" for r in ordered}


def sign_choices(current_ids: list[str], opened_id: str | None) -> list[str]:
    """The signs an editor can pick: the inventory's, plus the one still open in the form.

    A sign deleted by someone else stays selected (and its save is refused with who deleted
    it) instead of the selector silently falling back to another sign.
    """
    ids = list(current_ids)
    if opened_id and opened_id not in ids:
        ids.insert(0, opened_id)
    return ids


def form_key(opened: Mapping[str, Any] | None) -> str:
    """A widget-key suffix for the open sign and version: another sign gets a fresh form."""
    if not opened:
        return "aucun"
    return f"{opened['sign_id']}-v{opened['version']}"
