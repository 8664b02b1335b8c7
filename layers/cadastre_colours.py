"""The irradiation map's colour classes: one source for the map tiles, the legend, the PDF.

Light on purpose: the tile route imports this and the store's reader only.
"""

from __future__ import annotations

from layers.assumptions import Assumptions
from layers.errors import AtlasError
from layers.formatting import fmt_int
from layers.web_tiles import Breaks

MAP_COLORS = ("#3b4b5c", "#6c8ebf", "#f3d250", "#f28c28", "#c62828")


def map_classes(hyp: Assumptions) -> Breaks:
    """Colour classes of the irradiation map, from the same thresholds as the roof classes.

    ``solaire.carte_tres_faible`` (the map's darkest class) and ``solaire.classe_moyen``,
    ``classe_bon``, ``classe_excellent`` of ``hypotheses.toml``: one source for the map,
    its legend and the roof cards.
    """

    def t(name: str) -> float:
        return float(hyp.get("solaire", name).central)

    lows = [t("carte_tres_faible"), t("classe_moyen"), t("classe_bon"), t("classe_excellent")]
    if lows != sorted(lows):
        raise AtlasError("Hypothèses : seuils de classes d'irradiation non croissants.")
    n = [fmt_int(v) for v in lows]
    labels = [
        f"moins de {n[0]}",
        f"{n[0]} à {n[1]} (faible)",
        f"{n[1]} à {n[2]} (moyen)",
        f"{n[2]} à {n[3]} (bon)",
        f"{n[3]} et plus (excellent)",
    ]
    return list(zip([0.0, *lows], MAP_COLORS, labels, strict=True))
