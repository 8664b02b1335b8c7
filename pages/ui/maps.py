"""A folium map rendered once into the streamlit-folium component's payload.

``streamlit_folium.st_folium`` renders the whole map (folium → HTML/JS strings) on every
rerun; here that happens once per map signature (see ``pages/ui/shared.py``) and the
strings are sent as they are. Lives with the pages: streamlit-folium imports Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import folium


@dataclass(frozen=True)
class MapPayload:
    """A folium map rendered once into what the streamlit-folium component is sent.

    Rendering (folium → HTML/JS strings) is most of a map's cost; a payload is plain
    strings, so it can be kept and sent to any number of sessions.
    """

    script: str
    header: str
    html: str
    map_id: str
    bounds: dict
    zoom: object
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    # component keys already derived from ``script`` (a hash over the whole script)
    keys: dict[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def component_key(self, key: str) -> str:
        """``streamlit_folium.generate_js_hash(script, key)``, computed once per key."""
        if key not in self.keys:
            from streamlit_folium import generate_js_hash

            self.keys[key] = generate_js_hash(self.script, key, False)
        return self.keys[key]

    @property
    def size(self) -> int:
        """Characters held (for memory accounting)."""
        return len(self.script) + len(self.header) + len(self.html)


def component_payload(fmap: folium.Map) -> MapPayload:
    """Render ``fmap`` exactly as ``streamlit_folium.st_folium`` does before sending it.

    Tested against ``st_folium`` itself (tests/test_mapping.py): same script, header,
    html, links and defaults.
    """
    import branca
    import folium.elements
    from streamlit_folium import _get_header, _get_html, _get_map_string, get_full_id

    fmap.get_root().render()
    fmap.render()
    html = _get_html(fmap)
    header = _get_header(fmap)
    script = _get_map_string(fmap)
    map_id = get_full_id(fmap)
    try:
        (south, west), (north, east) = fmap.get_bounds()
    except (AttributeError, TypeError, ValueError):
        south = west = north = east = None
    bounds = {
        "_southWest": {"lat": south, "lng": west},
        "_northEast": {"lat": north, "lng": east},
    }

    def walk(element):
        if isinstance(element, branca.colormap.ColorMap):
            yield element
        if isinstance(element, folium.elements.JSCSSMixin):
            yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    css: list[str] = []
    js: list[str] = []
    for element in walk(fmap):
        if isinstance(element, branca.colormap.ColorMap):
            js.insert(0, "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js")
            js.insert(0, "https://d3js.org/d3.v4.min.js")
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    return MapPayload(
        script=script,
        header=header,
        html=html,
        map_id=map_id,
        bounds=bounds,
        zoom=fmap.options.get("zoom"),
        css_links=tuple(dict.fromkeys(css)),
        js_links=tuple(dict.fromkeys(js)),
    )


def overlay_script(group: folium.FeatureGroup) -> str:
    """The JavaScript that adds ``group`` to a drawn map (streamlit-folium's dynamic layer).

    What ``st_folium(feature_group_to_add=…)`` sends: the component swaps this layer on
    the map it already shows, without reloading it (the view, zoom and tiles stay).
    """
    from streamlit_folium import _get_feature_group_string

    return _get_feature_group_string(group, folium.Map(), 0)
