"""The sky side: weather, sun positions (pvlib), Perez coefficients, per-sector tables.

The tables turn the 8,760 hours of a typical year into a handful of numbers per pixel.

Irradiances are in W/m² (hourly means), sums in Wh/m² (one hour each). Directions use
pvlib's conventions: azimuth [deg] east of north, elevation [deg] above the horizontal.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, fields
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from layers.solar.errors import SolarError

if TYPE_CHECKING:
    import pandas as pd

# pandas and pvlib are imported where used: a run whose sky tables are cached never loads
# them (≈ 1.5 s of the command's start-up).

ELEVATION_STEP = 0.1  # [deg] resolution of the sun-elevation tables
COS_85 = float(np.cos(np.radians(85.0)))


class WeatherError(SolarError):
    """A weather file is missing, unreadable or not an hourly typical year."""


@dataclass(frozen=True)
class Weather:
    """An hourly typical year: ``data`` has ghi, dni, dhi [W/m²], tz-aware index.

    ``shift`` is added to each timestamp to get the instant the sun is placed at (EPW hours
    are labelled at their start once read by pvlib, so the middle is +30 min).
    """

    data: pd.DataFrame
    latitude: float
    longitude: float
    altitude: float
    source: str
    name: str
    shift: pd.Timedelta
    period: str = ""  # the years the typical year was built from, as its source states them

    def describe(self) -> dict[str, object]:
        """What ``run.json``, the store's manifest and the UI say about the climate used.

        Returns
        -------
        dict
            ``source``, ``name``, ``latitude``, ``longitude`` [deg], ``altitude`` [m],
            ``hours``, ``period`` (the years the typical year was built from: as its
            source states them, else those its months were drawn from), ``ghi_kwh_m2``
            (the year's horizontal sum [kWh/m²]).
        """
        return {
            "source": self.source,
            "name": self.name,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "altitude": self.altitude,
            "hours": int(len(self.data)),
            "period": self.period or _years(self.data.index),
            "ghi_kwh_m2": round(float(self.data["ghi"].sum()) / 1000, 1),
        }


def _years(index) -> str:
    """``2007–2020``: the years a typical year's months were drawn from."""
    import pandas as pd

    years = pd.DatetimeIndex(index).year
    return f"{years.min()}–{years.max()}"


def _declared_period(name: str) -> str:
    """The years a typical year was built from, as its file's name states them.

    ``…TMYx.2007-2021.epw`` → ``2007–2021``, ``…tmy_50.811_3.310_2005-2020…`` →
    ``2005–2020``; ``""`` when the name states none.
    """
    found = re.search(r"(?<!\d)((?:19|20)\d{2})-((?:19|20)\d{2})(?!\d)", name)
    return f"{found[1]}–{found[2]}" if found else ""


def read_weather(path: Path) -> Weather:
    """Read an hourly typical year: an EPW file or a PVGIS TMY (csv, json, epw).

    Parameters
    ----------
    path
        The file. EPW (EnergyPlus, e.g. climate.onebuilding.org TMYx) or the PVGIS TMY
        table in one of its three formats; read with ``pvlib.iotools``.

    Returns
    -------
    Weather
        ``ghi``, ``dni``, ``dhi`` [W/m²] on a tz-aware hourly index, the site's latitude,
        longitude [deg] and altitude [m], and the half-hour ``shift`` that places the sun
        in the middle of each hour.

    Raises
    ------
    WeatherError
        Missing or unreadable file, or not 8 760 / 8 784 hours.

    References
    ----------
    pvlib ``iotools.read_epw`` and ``iotools.read_pvgis_tmy``.
    """
    import pandas as pd
    import pvlib

    path = Path(path)
    if not path.is_file():
        raise WeatherError(f"Fichier météo introuvable : {path}")
    try:
        if path.suffix.lower() == ".epw":
            data, meta = pvlib.iotools.read_epw(path)
            city, country = meta.get("city", "?"), meta.get("country", "?")
            name = f"{city} ({country}), {meta.get('data_type', 'EPW')}"
            weather = Weather(
                data,
                float(meta["latitude"]),
                float(meta["longitude"]),
                float(meta.get("altitude", 0.0)),
                "EPW",
                name,
                pd.Timedelta(minutes=30),
                _declared_period(path.name),
            )
        elif _bare_pvgis_table(path):
            weather = _read_pvgis_table(path)
        else:
            data, meta = pvlib.iotools.read_pvgis_tmy(path, map_variables=True)
            loc = meta.get("location", meta.get("inputs", {}).get("location", {}))
            weather = Weather(
                data,
                float(loc.get("latitude", meta.get("latitude"))),
                float(loc.get("longitude", meta.get("longitude"))),
                float(loc.get("elevation", meta.get("elevation", 0.0)) or 0.0),
                "PVGIS TMY",
                "PVGIS TMY",
                pd.Timedelta(0),
                _declared_period(path.name),
            )
    except WeatherError:
        raise
    except Exception as err:  # pvlib raises many kinds on malformed files
        raise WeatherError(f"Fichier météo illisible ({path}) : {err}") from err
    missing = {"ghi", "dni", "dhi"} - set(weather.data.columns)
    if missing:
        raise WeatherError(f"Fichier météo sans colonnes {sorted(missing)} : {path}")
    if not 8000 <= len(weather.data) <= 8800:
        raise WeatherError(f"Année type horaire attendue (~8 760 h), {len(weather.data)} lignes.")
    return weather


PVGIS_COLUMNS = {"G(h)": "ghi", "Gb(n)": "dni", "Gd(h)": "dhi", "T2m": "temp_air",
                 "WS10m": "wind_speed", "RH": "relative_humidity", "SP": "pressure"}  # fmt: skip
_PVGIS_NAME = re.compile(r"_(-?\d{1,2}\.\d+)_(-?\d{1,3}\.\d+)_")


def _bare_pvgis_table(path: Path) -> bool:
    """A PVGIS TMY CSV whose header lines were stripped (its first line is the table's)."""
    if path.suffix.lower() != ".csv":
        return False
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.readline().startswith("time(UTC),")


def _read_pvgis_table(path: Path) -> Weather:
    """PVGIS's hourly TMY table alone (``time(UTC),T2m,RH,G(h),Gb(n),Gd(h),…``).

    PVGIS's own CSV starts with the site (latitude, longitude, elevation) above the table;
    files passed on without it still name the site the way PVGIS names downloads
    (``…tmy_50.811_3.310_2005-2020…``): the coordinates are taken from there, else refused.
    """
    import pandas as pd

    found = _PVGIS_NAME.search(path.name)
    if not found:
        raise WeatherError(
            f"Table PVGIS sans en-tête et sans coordonnées dans son nom ({path.name}) : "
            "téléchargez le fichier complet depuis PVGIS (format csv ou json)."
        )
    frame = pd.read_csv(path)
    frame = frame[frame["time(UTC)"].astype(str).str.match(r"^\d{8}:\d{4}$")]
    index = pd.to_datetime(frame["time(UTC)"], format="%Y%m%d:%H%M", utc=True)
    data = frame.drop(columns="time(UTC)").apply(pd.to_numeric, errors="coerce")
    data = data.rename(columns=PVGIS_COLUMNS).set_index(index)
    data.index.name = "time(UTC)"
    return Weather(
        data,
        float(found[1]),
        float(found[2]),
        0.0,
        "PVGIS TMY",
        "PVGIS TMY",
        pd.Timedelta(0),
        _declared_period(path.name),
    )


@dataclass(frozen=True)
class SunSky:
    """Per-hour sun geometry and sky state used by the engine (aligned numpy arrays)."""

    elevation: np.ndarray  # apparent elevation [deg]
    azimuth: np.ndarray  # [deg]
    zenith: np.ndarray  # apparent zenith [deg]
    ghi: np.ndarray
    dni: np.ndarray
    dhi: np.ndarray
    f1: np.ndarray  # Perez circumsolar brightening (0 for the isotropic model)
    f2: np.ndarray  # Perez horizon brightening (0 for the isotropic model)
    times: pd.DatetimeIndex


def sun_and_sky(weather: Weather, model: str = "perez") -> SunSky:
    """Sun positions (pvlib, at mid-interval) and the Perez F1/F2 of every hour.

    F1 and F2 are read from ``pvlib.irradiance.perez`` itself (its components on a
    horizontal and on a vertical plane), so the engine uses pvlib's coefficients.

    Parameters
    ----------
    weather
        An hourly typical year (:func:`read_weather`).
    model
        ``"perez"`` (anisotropic: circumsolar and horizon brightening) or ``"isotropic"``
        (F1 = F2 = 0).

    Returns
    -------
    SunSky
        Apparent elevation, azimuth and zenith [deg] (pvlib ``solarposition``, NREL SPA),
        GHI, DNI, DHI [W/m²], F1, F2 [-], per hour.

    References
    ----------
    Perez, R., Ineichen, P., Seals, R., Michalsky, J., Stewart, R. (1990). Modeling
    daylight availability and irradiance components from direct and global irradiance.
    Solar Energy 44(5), 271–289. Reda, I., Andreas, A. (2004). Solar position algorithm
    for solar radiation applications. Solar Energy 76(5), 577–589.
    """
    import pandas as pd
    import pvlib

    if model not in ("perez", "isotropic"):
        raise SolarError(f"Modèle de ciel inconnu : {model} (perez ou isotropic)")
    times = pd.DatetimeIndex(weather.data.index) + pd.Timedelta(weather.shift)
    sun = pvlib.solarposition.get_solarposition(
        times, weather.latitude, weather.longitude, altitude=weather.altitude
    )
    ghi, dni, dhi = (
        weather.data[c].clip(lower=0).to_numpy(dtype=float) for c in ("ghi", "dni", "dhi")
    )
    zen = sun["apparent_zenith"].to_numpy()
    azi = sun["azimuth"].to_numpy()
    f1 = np.zeros_like(ghi)
    f2 = np.zeros_like(ghi)
    if model == "perez":
        up = (zen < 90) & (dhi > 0)
        extra = pvlib.irradiance.get_extra_radiation(times).to_numpy()
        airmass = pvlib.atmosphere.get_relative_airmass(zen)
        flat = pvlib.irradiance.perez(
            0.0, 180.0, dhi, dni, extra, zen, azi, airmass, return_components=True
        )
        wall = pvlib.irradiance.perez(
            90.0, 180.0, dhi, dni, extra, zen, azi, airmass, return_components=True
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(up, 1.0 - np.asarray(flat["poa_isotropic"]) / dhi, 0.0)
            f2 = np.where(up, np.asarray(wall["poa_horizon"]) / dhi, 0.0)
        f1 = np.nan_to_num(f1)
        f2 = np.nan_to_num(f2)
    return SunSky(
        sun["apparent_elevation"].to_numpy(),
        azi,
        zen,
        ghi,
        dni,
        dhi,
        f1,
        f2,
        pd.DatetimeIndex(times),
    )


def sun_vectors(azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """Unit vectors pointing at the sun.

    Parameters
    ----------
    azimuth
        Sun azimuth [deg], clockwise from north.
    elevation
        Sun elevation [deg] above the horizontal.

    Returns
    -------
    numpy.ndarray
        Shape ``azimuth.shape + (3,)``: (east, north, up) components [-].
    """
    az, el = np.radians(azimuth), np.radians(elevation)
    return np.stack([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)], axis=-1)


def sector_of(azimuth: np.ndarray, n_sectors: int) -> np.ndarray:
    """The azimuth sector a direction falls in.

    Parameters
    ----------
    azimuth
        Azimuths [deg], clockwise from north (any real value: taken modulo 360).
    n_sectors
        Sectors around the horizon; sector ``k`` is centred on ``k · 360 / n_sectors``.

    Returns
    -------
    numpy.ndarray
        Integer sector indices in ``0 … n_sectors − 1``.
    """
    return np.round(np.asarray(azimuth) / (360.0 / n_sectors)).astype(int) % n_sectors


@dataclass(frozen=True)
class SkyTables:
    """A year of sky folded into per-sector, per-elevation cumulative tables.

    ``beam[k, i]`` is Σ W·s over the hours whose sun is in sector k at an elevation
    ≥ i·step, with W = DNI + DHI·F1/max(cos 85°, cos zenith) (the beam plus Perez's
    circumsolar part, which both follow cos(aoi)) and s the sun vector [Wh/m²]. A pixel
    then adds, per sector, n · beam[k, i] from the first elevation it can see.
    """

    beam: np.ndarray  # (n_sectors, n_bins + 1, 3), float64
    step: float
    iso: float  # Σ DHI·(1 − F1) [Wh/m²]
    horizon_band: float  # Σ DHI·F2 [Wh/m²]
    ghi: float  # Σ GHI [Wh/m²]
    albedo: float


def sky_tables(
    sky: SunSky, n_sectors: int, albedo: float, step: float = ELEVATION_STEP
) -> SkyTables:
    """Fold the hours into :class:`SkyTables` (night hours and sub-horizon sun dropped).

    Parameters
    ----------
    sky
        The year's sun and sky (:func:`sun_and_sky`).
    n_sectors
        Azimuth sectors of the horizons (sector k centred on ``k * 360 / n_sectors`` deg).
    albedo
        Ground reflectance [-] (0.2 for mixed urban ground).
    step
        Elevation bin [deg] of the cumulative beam table.

    Returns
    -------
    SkyTables
        Per sector and elevation, the cumulative beam and circumsolar vectors [Wh/m²];
        the isotropic, horizon-band and ground-reflected sums [Wh/m²].
    """
    day = sky.elevation > 0
    n_bins = int(np.ceil(90.0 / step))
    weight = sky.dni + sky.dhi * sky.f1 / np.maximum(COS_85, np.cos(np.radians(sky.zenith)))
    vec = sun_vectors(sky.azimuth[day], sky.elevation[day]) * weight[day, None]
    k = sector_of(sky.azimuth[day], n_sectors)
    b = np.minimum((sky.elevation[day] / step).astype(int), n_bins - 1)
    table = np.zeros((n_sectors, n_bins + 1, 3))
    np.add.at(table, (k, b), vec)
    beam = np.flip(np.cumsum(np.flip(table[:, :n_bins], axis=1), axis=1), axis=1)
    beam = np.concatenate([beam, np.zeros((n_sectors, 1, 3))], axis=1)
    return SkyTables(
        beam=np.ascontiguousarray(beam),
        step=step,
        iso=float(np.sum(sky.dhi * (1 - sky.f1))),
        horizon_band=float(np.sum(sky.dhi * sky.f2)),
        ghi=float(np.sum(sky.ghi)),
        albedo=float(albedo),
    )


SKY_CACHE_FORMAT = 2  # 2: the description states the period the source declares


def cached_sky_tables(
    weather_path: Path,
    model: str,
    n_sectors: int,
    albedo: float,
    cache_dir: Path | None = None,
) -> tuple[SkyTables, dict[str, object]]:
    """:func:`sky_tables` of a weather file and its :meth:`Weather.describe`, cached on disk.

    The key is the file's SHA-256, the model, sectors, albedo, elevation step and pvlib's
    version: a changed file or library gives new tables. A cache that cannot be read or
    written is ignored (the tables are then computed as without it).

    Parameters
    ----------
    weather_path
        Weather file (:func:`read_weather`).
    model
        ``"perez"`` or ``"isotropic"`` (:func:`sun_and_sky`).
    n_sectors
        Azimuth sectors.
    albedo
        Ground reflectance [-].
    cache_dir
        Where the tables are kept; ``None``: computed every time.

    Returns
    -------
    tuple
        ``(SkyTables, description)``: the tables and the weather's description (site,
        period, annual GHI [kWh/m²]).
    """
    weather_path = Path(weather_path)
    if not weather_path.is_file():
        raise WeatherError(f"Fichier météo introuvable : {weather_path}")
    if cache_dir is None:
        weather = read_weather(weather_path)
        return sky_tables(sun_and_sky(weather, model), n_sectors, albedo), weather.describe()
    try:
        pvlib_version = metadata.version("pvlib")
    except metadata.PackageNotFoundError:  # pragma: no cover - pvlib is a dependency
        pvlib_version = "?"
    key = hashlib.sha256(weather_path.read_bytes()).hexdigest()
    key = hashlib.sha256(
        f"{SKY_CACHE_FORMAT}|{key}|{model}|{n_sectors}|{albedo!r}|{ELEVATION_STEP!r}|"
        f"{pvlib_version}".encode()
    ).hexdigest()[:32]
    folder = Path(cache_dir) / "sky"
    path = folder / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as saved:
            tables = SkyTables(
                beam=np.ascontiguousarray(saved["beam"]),
                **{f.name: float(saved[f.name]) for f in fields(SkyTables) if f.name != "beam"},
            )
            described = json.loads(str(saved["weather"]))
        return tables, described
    except (OSError, KeyError, ValueError):
        pass
    weather = read_weather(weather_path)
    tables = sky_tables(sun_and_sky(weather, model), n_sectors, albedo)
    described = weather.describe()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **asdict(tables), weather=json.dumps(described, ensure_ascii=False))
        os.replace(tmp, path)
    except OSError:
        pass
    return tables, described
