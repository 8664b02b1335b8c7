"""The Base Adresse Nationale's département CSV (``adresses-62.csv``), read one way.

Used by the territory build (addresses tied to buildings) and by the app's offline search.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from layers.solar.errors import SolarError


def fold(text: str) -> str:
    """Text folded for address matching: lower-case ASCII words, one space apart.

    Parameters
    ----------
    text
        Any text (« Rue de l'Égalité »).

    Returns
    -------
    str
        ``"rue de l egalite"``: accents dropped, punctuation turned into spaces.
    """
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(re.findall(r"[a-z0-9]+", plain.lower()))


def read_ban(path: Path, required: Sequence[str]) -> pd.DataFrame:
    """Read a BAN address file (Base Adresse Nationale, CSV « ; »).

    Parameters
    ----------
    path
        The file, as ``adresse.data.gouv.fr`` ships it (``adresses-62.csv``).
    required
        The BAN columns the caller needs (``numero``, ``nom_voie``, ``lon``…).

    Returns
    -------
    pandas.DataFrame
        Every column as text, plus ``label`` (« 3bis rue … 62750 Commune »).

    Raises
    ------
    SolarError
        The file is missing, unreadable or lacks a required column (French message).
    """
    import zlib

    try:
        frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    except (OSError, EOFError, zlib.error, pd.errors.ParserError, UnicodeDecodeError) as err:
        why = "archive tronquée" if isinstance(err, EOFError) else str(err)[:160]
        raise SolarError(
            f"Fichier d'adresses illisible ({Path(path).name}) : {why}. Relancez « pma-atlas "
            "solar fetch » (il le retélécharge) ou remplacez-le."
        ) from err
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SolarError(f"Fichier d'adresses sans colonnes BAN {missing} : {path}")
    parts = ["numero", "rep", "nom_voie", "code_postal", "nom_commune"]
    label = frame["numero"] + frame["rep"]
    for name in parts[2:]:
        label = label + " " + frame[name]
    frame["label"] = label.str.replace(r"\s+", " ", regex=True).str.strip()
    return frame
