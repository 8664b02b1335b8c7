"""Server-side cost of every page's map: build time and payload, full territory and per EPCI.

For each map: median seconds to build the folium map (what a filter change costs on the
server), bytes of the component arguments streamlit-folium sends to the browser (the
payload), and the number of features. Baseline measured in the same run: folium's default
GeoJson of the same frames (all attributes, full-precision coordinates, default CDN
header), so the ratio shows what the display preparation saves.

    .venv/bin/python benchmarks/maps.py [--repeat 5]

Budgets (issue: planners' layers): payload < 2 MB for the full territory, rebuild < 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import folium

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layers.assumptions import load_assumptions
from layers.brownfields import BrownfieldFilter, apply_filter, brownfields_map, prepare
from layers.catalog import read_layer
from layers.mapping import territory_map
from layers.parks import CONTEXT_LAYERS, load_planning, parks_map
from layers.settings import Settings
from layers.territory import Selection, load_territory, selected_communes, within_selection

BUDGET_BYTES = 2_000_000
BUDGET_SECONDS = 1.0


def component_bytes(fmap: folium.Map) -> int:
    """Size of what st_folium sends: map script, header and html (as JSON)."""
    from streamlit_folium import _get_header, _get_html, generate_leaflet_string

    fmap.get_root().render()
    args = {
        "script": generate_leaflet_string(fmap),
        "header": _get_header(fmap),
        "html": _get_html(fmap),
    }
    return len(json.dumps(args).encode("utf-8"))


def timed(func, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def baseline(frames) -> folium.Map:
    fmap = folium.Map(tiles="OpenStreetMap")
    for frame in frames:
        folium.GeoJson(frame).add_to(fmap)
    return fmap


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = Settings()
    territory = load_territory(settings.geodata_dir)
    planning = load_planning(settings.geodata_dir, territory)
    hyp = load_assumptions(settings.geodata_dir)
    friches = prepare(read_layer(territory.catalog["friches"], settings.geodata_dir), hyp)

    def cases(sel: Selection):
        communes = selected_communes(territory, sel)
        parks = within_selection(planning.parks, territory, sel)
        cav = within_selection(planning.cavaliers, territory, sel)
        links = within_selection(planning.links, territory, sel)
        context = {k: within_selection(v, territory, sel) for k, v in planning.context.items()}
        fr = within_selection(friches, territory, sel)
        return {
            "accueil": (lambda: territory_map(communes, territory, settings), [communes]),
            "parcs": (
                lambda: parks_map(planning, parks, cav, links, {}, settings),
                [parks, cav, links],
            ),
            "parcs+contexte": (
                lambda: parks_map(planning, parks, cav, links, context, settings),
                [parks, cav, links, *context.values()],
            ),
            "friches": (lambda: brownfields_map(fr, territory, settings), [fr]),
            "friches filtrées": (
                lambda: brownfields_map(
                    apply_filter(fr, BrownfieldFilter(statuses=("friche sans projet",))),
                    territory,
                    settings,
                ),
                [fr],
            ),
        }

    header = (
        f"{'carte':<18}{'sélection':<11}{'build (s)':>10}{'charge (o)':>12}"
        f"{'base (o)':>11}{'ratio':>7}  budget"
    )
    print(header)
    print("-" * len(header))
    worst_t, worst_b = 0.0, 0
    for label, sel in [
        ("PMA", Selection()),
        ("CALL", Selection(("CALL",))),
        ("CAHC", Selection(("CAHC",))),
    ]:
        for name, (build, frames) in cases(sel).items():
            seconds, fmap = timed(build, args.repeat)
            size = component_bytes(fmap)
            base = component_bytes(baseline([f for f in frames if len(f)]))
            worst_t, worst_b = max(worst_t, seconds), max(worst_b, size)
            ok = "ok" if seconds < BUDGET_SECONDS and size < BUDGET_BYTES else "DÉPASSÉ"
            print(
                f"{name:<18}{label:<11}{seconds:>10.3f}{size:>12,}{base:>11,}"
                f"{size / base:>7.2f}  {ok}"
            )
    from layers.cadastre import get_roof, open_cadastre, roofs_near_latlng
    from layers.cadastre_colours import map_classes
    from layers.cadastre_map import MapView, cadastre_map
    from layers.signage_report import signage_map
    from layers.signage_store import open_store

    cad = open_cadastre(settings.cadastre_path)
    if cad is not None:
        first = get_roof(cad, cad.reader.read("toits", max_features=1)["cleabs"].iloc[0])
        centre = first.geometry.representative_point()
        near = roofs_near_latlng(cad, centre.y, centre.x)
        breaks = map_classes(load_assumptions(settings.geodata_dir))
        seconds, fmap = timed(
            lambda: cadastre_map(cad, settings, breaks, MapView(selected=first, near=near)),
            args.repeat,
        )
        size = component_bytes(fmap)
        worst_t, worst_b = max(worst_t, seconds), max(worst_b, size)
        print(
            f"{'cadastre (démo)':<18}{'un toit':<11}{seconds:>10.3f}{size:>12,}"
            f"{'—':>11}{'—':>7}  {len(near)} toits voisins"
        )
    store_path = settings.geodata_dir / "signaletique.gpkg"
    if store_path.is_file():
        signs = open_store(store_path, territory).signs()
        seconds, fmap = timed(
            lambda: signage_map(signs, planning.parks, settings, ["x"]), args.repeat
        )
        size = component_bytes(fmap)
        worst_t, worst_b = max(worst_t, seconds), max(worst_b, size)
        print(
            f"{'signalétique':<18}{'PMA':<11}{seconds:>10.3f}{size:>12,}{'—':>11}{'—':>7}"
            f"  {len(signs)} panneaux"
        )
    print(
        f"\npire cas : {worst_t:.3f} s (budget {BUDGET_SECONDS} s), {worst_b:,} o "
        f"(budget {BUDGET_BYTES:,} o) ; couches de contexte : {', '.join(CONTEXT_LAYERS)}"
    )


if __name__ == "__main__":
    main()
