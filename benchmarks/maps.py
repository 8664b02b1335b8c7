"""Server-side cost of the maps: build time and payload size, per selection.

Prints, for each selection: seconds to build the folium map (median of N), bytes of the
component arguments streamlit-folium sends to the browser, and the number of features.
Baseline in the same run: folium's default GeoJson of the same communes (all attributes,
full-precision coordinates, default CDN header), so the ratio shows what the display
preparation (rounding, column pruning, Leaflet-only header) saves.

    .venv/bin/python benchmarks/maps.py [--repeat 7]
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

from layers.mapping import territory_map  # noqa: E402
from layers.settings import Settings  # noqa: E402
from layers.territory import Selection, load_territory, selected_communes  # noqa: E402


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


def timed(func, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    settings = Settings()
    territory = load_territory(settings.geodata_dir)
    print(
        f"{'sélection':<22}{'entités':>8}{'build (s)':>11}{'charge (o)':>12}"
        f"{'base (s)':>10}{'base (o)':>11}{'ratio o':>9}"
    )
    for label, sel in [
        ("PMA entier", Selection()),
        ("CABBALR", Selection(("CABBALR",))),
        ("CALL", Selection(("CALL",))),
        ("CAHC", Selection(("CAHC",))),
        ("Lens", Selection(communes=("62498",))),
    ]:
        communes = selected_communes(territory, sel)
        t_map, fmap = timed(lambda c=communes: territory_map(c, territory, settings), args.repeat)
        size = component_bytes(fmap)

        def baseline(c=communes):
            m = folium.Map(tiles="OpenStreetMap")
            folium.GeoJson(
                c, tooltip=folium.GeoJsonTooltip(["nom", "epci_nom", "population"])
            ).add_to(m)
            return m

        t_base, base_map = timed(baseline, args.repeat)
        base_size = component_bytes(base_map)
        print(
            f"{label:<22}{len(communes):>8}{t_map:>11.3f}{size:>12,}{t_base:>10.3f}"
            f"{base_size:>11,}{size / base_size:>9.2f}"
        )


if __name__ == "__main__":
    main()
