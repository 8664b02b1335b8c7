"""Web assets of the maps: which scripts a map loads, from a CDN or from the app itself.

Folium's default header loads Leaflet, jQuery, Bootstrap, Font Awesome and awesome-markers
from five CDNs. Our maps only use Leaflet (vectors, tooltips, our own legend control), so
they load Leaflet alone: fewer requests, and for the offline (intranet) mode a single npm
package to vendor. streamlit-folium loads these links one by one and silently stops at the
first failure, so a short list is also a safer one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import folium

from layers.errors import AssetError
from layers.settings import Settings


def _leaflet_version() -> str:
    """The Leaflet version folium was built against (read from its default CDN link)."""
    url = dict(folium.Map.default_js)["leaflet"]
    match = re.search(r"leaflet@([\d.]+)/", url)
    if not match:  # pragma: no cover - would mean folium changed its CDN layout
        raise AssetError(f"Version de Leaflet introuvable dans {url}")
    return match.group(1)


LEAFLET_VERSION = _leaflet_version()
LEAFLET_CDN = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist"
MARKERCLUSTER_VERSION = "1.1.0"  # the version folium.plugins.MarkerCluster asks for
MARKERCLUSTER_CDN = (
    f"https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/{MARKERCLUSTER_VERSION}"
)
# npm package → files of its tarball to keep, relative to the package folder
NPM_ASSETS = {
    "leaflet": (LEAFLET_VERSION, ["dist/leaflet.js", "dist/leaflet.css", "dist/images"]),
    "leaflet.markercluster": (
        MARKERCLUSTER_VERSION,
        [
            "dist/leaflet.markercluster.js",
            "dist/MarkerCluster.css",
            "dist/MarkerCluster.Default.css",
        ],
    ),
}


def map_assets(settings: Settings) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(default_js, default_css)`` for a folium map, online (CDN) or offline (static)."""
    base = f"{settings.static_url}/leaflet" if settings.offline else LEAFLET_CDN
    return [("leaflet", f"{base}/leaflet.js")], [("leaflet_css", f"{base}/leaflet.css")]


def cluster_assets(settings: Settings) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(default_js, default_css)`` for ``folium.plugins.MarkerCluster``, CDN or offline."""
    base = f"{settings.static_url}/leaflet.markercluster" if settings.offline else MARKERCLUSTER_CDN
    return (
        [("markerclusterjs", f"{base}/leaflet.markercluster.js")],
        [
            ("markerclustercss", f"{base}/MarkerCluster.css"),
            ("markerclusterdefaultcss", f"{base}/MarkerCluster.Default.css"),
        ],
    )


def missing_assets(static_dir: Path) -> list[Path]:
    """Vendored files the offline mode needs and that are not on disk."""
    wanted = [
        static_dir / package / member.removeprefix("dist/")
        for package, (_version, members) in NPM_ASSETS.items()
        for member in members
        if "." in member.rsplit("/", 1)[-1]  # files only (folders are checked by content)
    ]
    return [p for p in wanted if not p.is_file()]


def fetch_assets(static_dir: Path, npm: str = "npm") -> list[Path]:
    """Download the vendored assets from the npm registry (``npm pack``) into ``static_dir``.

    Returns the files written. Raises :class:`AssetError` when npm is missing or fails.
    """
    if shutil.which(npm) is None:
        raise AssetError("npm est introuvable : installez Node.js/npm pour l'usage hors ligne.")
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        for package, (version, members) in NPM_ASSETS.items():
            proc = subprocess.run(
                [npm, "pack", f"{package}@{version}", "--silent", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                raise AssetError(f"npm pack {package}@{version} a échoué : {proc.stderr.strip()}")
            tarball = Path(tmp) / proc.stdout.strip().splitlines()[-1]
            target = static_dir / package
            with tarfile.open(tarball) as tar:
                for member in tar.getmembers():
                    rel = member.name.removeprefix("package/")
                    if not member.isfile() or not any(
                        rel == m or rel.startswith(m + "/") for m in members
                    ):
                        continue
                    dest = target / rel.removeprefix("dist/")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    assert source is not None
                    dest.write_bytes(source.read())
                    written.append(dest)
    return written
