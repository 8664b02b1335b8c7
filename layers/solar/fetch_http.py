"""HTTP for ``solar fetch``: one file at a time, whole and valid, or a French reason why not.

A real network is unreliable: 429 (``Retry-After`` honoured), 5xx, time-outs and cut
connections are retried with exponential back-off; a body is written under a temporary
name and renamed only once complete and valid; each file has an overall deadline (a server
trickling a byte at a time never hangs a fetch) and a largest size (a gzip bomb or an
endless body is cut); a redirect away from the web or in a loop, a corrupt gzip fail their
file with the real reason.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layers.solar.errors import SolarError

TILE_MB = 16.0  # a LiDAR HD MNS/MNT GeoTIFF, 2000² float32, uncompressed: the upper bound [MB]
# the largest body each answer may have (a bigger one is cut and refused: a gzip bomb, a
# body without length that never ends) [bytes]
MAX_BYTES = {
    "tile": int(TILE_MB * 1e6) + 1_000_000,  # the raster and its GeoTIFF header
    "json": 64_000_000,  # a WFS page of 1 000 buildings is ~1–3 MB, a PVGIS TMY ~2 MB
    "ban": 400_000_000,  # adresses-62.csv.gz is ~40 MB
}
USER_AGENT = "atlas-pma/0.1 (cadastre solaire du Pôle Métropolitain de l'Artois; pma-atlas)"


class FetchError(SolarError):
    """A service answered something unusable (after every retry)."""


@dataclass(frozen=True)
class Services:
    """Where each service is (settings: ``ATLAS_GEOPF_WMS`` …; an intranet mirror works)."""

    wms: str = "https://data.geopf.fr/wms-r"
    wfs: str = "https://data.geopf.fr/wfs/ows"
    ban: str = "https://adresse.data.gouv.fr/data/ban/adresses/latest/csv"
    pvgis: str = "https://re.jrc.ec.europa.eu/api/v5_3"
    user_agent: str = USER_AGENT
    timeout: float = 60.0  # [s] per read, and the least a whole file is given
    retries: int = 6
    backoff: float = 1.0  # [s] first wait; doubled at every retry (capped at 60 s)
    # [bytes/s] the slowest a body may come: a file gets max(timeout, its largest size /
    # min_rate) in all, then is retried (a server trickling a byte every 2 s never trips a
    # per-read time-out); 50 kB/s gives a 16 MB tile 5 min 20 s
    min_rate: float = 50_000.0

    def deadline_s(self, max_bytes: int) -> float:
        """The time a whole file of at most ``max_bytes`` is given [s].

        Parameters
        ----------
        max_bytes
            The largest the file may be [bytes].

        Returns
        -------
        float
            ``max(timeout, max_bytes / min_rate)``.
        """
        return max(self.timeout, max_bytes / self.min_rate)


class Retry(Exception):
    """A transient failure: try again (after ``wait`` seconds if given)."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


def _looks_like_error(head: bytes) -> str | None:
    """An XML exception or an HTML page where data was expected (servers answer 200)."""
    text = head[:400].lstrip().lower()
    if b"serviceexception" in text or b"exceptionreport" in text:
        return "exception WMS/WFS renvoyée avec le statut 200"
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text[:200]:
        return "page HTML renvoyée à la place des données"
    if text.startswith(b"<?xml"):
        return "document XML renvoyé à la place des données"
    return None


class Fetcher:
    """Downloads with retries, validation and atomic renames; one HTTP session per thread."""

    def __init__(self, services: Services, sleep: Callable[[float], None] = time.sleep) -> None:
        self.services = services
        self.sleep = sleep
        self._local = threading.local()

    def _session(self):
        import requests

        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = self.services.user_agent
            session.max_redirects = 5
            self._local.session = session
        return session

    def download(
        self,
        url: str,
        params: dict | None,
        target: Path,
        validate: Callable[[Path], None],
        max_bytes: int = MAX_BYTES["json"],
    ) -> None:
        """Download into a file: written aside, validated, renamed; retried when transient.

        Parameters
        ----------
        url
            The service's address.
        params
            Query parameters, or ``None``.
        target
            The file; it appears whole and validated, or not at all.
        validate
            Raises on a body that is not what was asked (an XML exception or an HTML page
            served with status 200, a truncated GeoTIFF…).
        max_bytes
            The largest the body may be (:data:`MAX_BYTES`): a bigger one is cut and the file
            fails; it also sets the file's overall deadline (``Services.deadline_s``).

        Returns
        -------
        None

        Raises
        ------
        FetchError
            Still failing after ``services.retries`` attempts (exponential back-off), or a
            permanent error (4xx, a redirect away from the web or in a loop, a body larger
            than ``max_bytes``), in French, with the real reason.
        """
        import requests
        import urllib3.exceptions as u3

        tmp = target.with_name(f".{target.name}.part")
        last = "?"
        for attempt in range(self.services.retries + 1):
            try:
                self._get_to(url, params, tmp, max_bytes)
                validate(tmp)
                os.replace(tmp, target)
                return
            except Retry as err:
                last, wait = str(err), err.wait
            except (requests.ConnectionError, requests.Timeout, u3.ReadTimeoutError) as err:
                last, wait = f"connexion coupée ou trop lente ({type(err).__name__})", None
            except (requests.exceptions.ChunkedEncodingError, u3.ProtocolError):
                last, wait = "réponse coupée en cours de route", None
            except (u3.DecodeError, requests.exceptions.ContentDecodingError):
                last, wait = "réponse compressée illisible (gzip abîmé)", None
            except requests.TooManyRedirects as err:
                raise FetchError("redirections en boucle : adresse du service à vérifier") from err
            except (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL) as err:
                raise FetchError(
                    f"le service renvoie vers une adresse qui n'est pas web ({str(err)[:80]})"
                ) from err
            except requests.RequestException as err:  # never read as a disk error
                raise FetchError(f"requête impossible ({type(err).__name__})") from err
            finally:
                tmp.unlink(missing_ok=True)
            if attempt < self.services.retries:
                backoff = min(60.0, self.services.backoff * 2**attempt)
                self.sleep(max(wait or 0.0, backoff))
        raise FetchError(last)

    def _get_to(self, url: str, params: dict | None, tmp: Path, max_bytes: int) -> None:
        """One request into ``tmp``, within the file's deadline and size (see :meth:`download`)."""
        deadline = time.monotonic() + self.services.deadline_s(max_bytes)
        response = self._session().get(
            url, params=params, stream=True, timeout=self.services.timeout
        )
        with response:
            if response.status_code == 429:
                raise Retry("trop de requêtes (429)", _retry_after(response))
            if response.status_code >= 500:
                raise Retry(f"erreur du service ({response.status_code})")
            if response.status_code != 200:
                raise FetchError(f"refusé par le service ({response.status_code})")
            encoded = bool(response.headers.get("Content-Encoding"))
            expected = response.headers.get("Content-Length")
            if expected is not None and not encoded and int(expected) > max_bytes:
                raise FetchError(_too_big(max_bytes))
            size = _copy_body(response.raw, tmp, max_bytes, deadline)
            if expected is not None and not encoded and size != int(expected):
                raise Retry(f"réponse tronquée ({size} octets sur {expected})")
        with open(tmp, "rb") as fh:
            problem = _looks_like_error(fh.read(400))
        if problem:
            raise Retry(problem)

    def get_json(self, url: str, params: dict) -> Any:
        """A JSON answer, retried like a download.

        Parameters
        ----------
        url
            The service's address.
        params
            Query parameters.

        Returns
        -------
        object
            The parsed JSON.

        Raises
        ------
        FetchError
            As :meth:`download`.
        """
        out: dict[str, Any] = {}

        def parse(path: Path) -> None:
            try:
                out["value"] = json.loads(path.read_bytes())
            except ValueError as err:
                raise Retry("réponse JSON illisible") from err

        import tempfile

        with tempfile.TemporaryDirectory(prefix="atlas-fetch-") as holder:
            self.download(url, params, Path(holder) / "page.json", parse)
        return out["value"]


def _too_big(max_bytes: int) -> str:
    return f"réponse plus grosse que prévu (au plus {max_bytes / 1e6:.0f} Mo) : arrêtée"


def _copy_body(raw, tmp: Path, max_bytes: int, deadline: float) -> int:
    """Write a response body (decoded) to ``tmp`` as it arrives; its size [bytes].

    Each read returns what has arrived (``read1``), so a body trickling a byte at a time
    still meets the deadline check; a body past ``max_bytes`` is cut and refused.
    """
    size = 0
    with open(tmp, "wb") as fh:
        while True:
            chunk = raw.read1(1 << 16, decode_content=True)
            if not chunk:
                return size
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(_too_big(max_bytes))
            fh.write(chunk)
            if time.monotonic() > deadline:
                raise Retry(f"réponse trop lente ({size / 1e3:.0f} ko reçus dans le délai)")


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return min(300.0, max(0.0, float(value)))
    except ValueError:
        return None
