"""The foundation's standard venues and annual series (shared/design/DOMAIN.md).

Coordinates other than the Field's are approximate and marked so in the venue notes:
they are data that staff correct, not constants.
"""

from __future__ import annotations

from datetime import time
from typing import Any

import sqlalchemy as sa

from app.ceremonies.models import (
    CeremonySeries,
    HostTemplate,
    ItemTemplate,
    OrganiserRole,
    Venue,
)
from app.extensions import DbSession

FIELD = "Sovjet Ereveld"
KOEDRIEST = "Monument Koedriest"
CAMP = "Nationaal Monument Kamp Amersfoort"

VENUES: list[dict[str, Any]] = [
    {
        "name": FIELD,
        "address": "Dodeweg 31, 3832 RB Leusden",
        "latitude": 52.1295,
        "longitude": 5.3757,
        "notes": "Gate key: the Rusthof caretaker. Flag and lanyard in the shed.",
        "access_notes_nl": "Naast begraafplaats Rusthof, Amersfoort. Parkeren bij Rusthof.",
        "access_notes_en": "Beside the Rusthof cemetery, Amersfoort. Parking at Rusthof.",
        "access_notes_ru": "Рядом с кладбищем Рустхоф, Амерсфорт. Парковка у кладбища Рустхоф.",
    },
    {
        "name": KOEDRIEST,
        "address": "Loes van Overeemlaan (end), Leusden",
        "latitude": 52.1363,
        "longitude": 5.3728,
        "notes": "Coordinates approximate: verify. Past Kamp Amersfoort, on foot from the "
        "car park at Loes van Overeemlaan 19.",
        "access_notes_nl": "Voorbij Kamp Amersfoort, te voet vanaf de parkeerplaats aan de "
        "Loes van Overeemlaan 19.",
        "access_notes_en": "Past Camp Amersfoort, on foot from the car park at "
        "Loes van Overeemlaan 19.",
        "access_notes_ru": "За бывшим лагерем Амерсфорт, пешком от парковки по адресу "
        "Loes van Overeemlaan 19.",
    },
    {
        "name": CAMP,
        "address": "Loes van Overeemlaan 19, 3832 RZ Leusden",
        "latitude": 52.1383,
        "longitude": 5.3780,
        "notes": "Coordinates approximate: verify. Start of the silent march on 4 May; "
        "breakfast after the Koedriest commemoration.",
        "access_notes_nl": "Parkeren aan de Loes van Overeemlaan 19.",
        "access_notes_en": "Parking at Loes van Overeemlaan 19.",
        "access_notes_ru": "Парковка по адресу Loes van Overeemlaan 19.",
    },
    {
        "name": "Sovjet Ereveld Experience",
        "address": "Vlooswijkseweg 1B, Leusden",
        "latitude": None,
        "longitude": None,
        "notes": "Museum of the foundation, opened March 2025.",
    },
]


def item(
    kind: str,
    nl: str,
    en: str,
    ru: str,
    *,
    at: str | None = None,
    minutes: int = 0,
    performer: tuple[str, str, str] = ("", "", ""),
    printable: bool = True,
) -> ItemTemplate:
    """A default-programme entry; without ``at`` it follows the item before.
    ``performer`` is (nl, en, ru)."""
    return ItemTemplate(
        kind=kind,
        start_time=at,
        offset_minutes=None,
        duration_minutes=minutes,
        performer_nl=performer[0],
        performer_en=performer[1],
        performer_ru=performer[2],
        text_nl=nl,
        text_en=en,
        text_ru=ru,
        printable=printable,
    )


# The foundation as a performer, and as a host, in nl, en and ru.
FOUNDATION = (
    "Stichting Sovjet Ereveld",
    "Soviet Field of Honour Foundation",
    "Фонд «Советское военное кладбище»",
)

# Who invites to the diplomatic ceremony of 9 May (DOMAIN.md: letters are co-signed by
# the mayor of Leusden and the foundation's director). Names are left to staff.
HOSTS_9_MAY: list[HostTemplate] = [
    HostTemplate(
        name="",
        function_nl="burgemeester van Leusden",
        function_en="Mayor of Leusden",
        function_ru="мэр Лёйсдена",
    ),
    HostTemplate(
        name="",
        function_nl="directeur van de Stichting Sovjet Ereveld",
        function_en="Director of the Soviet Field of Honour Foundation",
        function_ru="директор Фонда «Советское военное кладбище»",
    ),
]

SERIES: list[dict[str, Any]] = [
    {
        "slug": "koedriest",
        "title_nl": "Herdenking Koedriest",
        "title_en": "Koedriest commemoration",
        "title_ru": "Памятная церемония у Кудрист",
        "month": 4,
        "day": 9,
        "start_time": time(6, 30),
        "duration_minutes": 45,
        "venue": KOEDRIEST,
        "base_year": 1942,
        "programme": [
            item(
                "assembly",
                "Verzamelen bij Kamp Amersfoort",
                "Assembly at Camp Amersfoort",
                "Сбор у лагеря Амерсфорт",
                at="06:15",
                minutes=15,
            ),
            item(
                "speech",
                "Welkom",
                "Welcome",
                "Приветствие",
                at="06:30",
                minutes=5,
                performer=FOUNDATION,
            ),
            item(
                "speech",
                "Toespraak burgemeester van Leusden",
                "Address by the mayor of Leusden",
                "Речь мэра Лёйсдена",
                minutes=5,
            ),
            item(
                "speech",
                "Toespraak burgemeester van Amersfoort",
                "Address by the mayor of Amersfoort",
                "Речь мэра Амерсфорта",
                minutes=5,
            ),
            item(
                "candles",
                "Leerlingen ontsteken 77 rode en 24 witte kaarsen",
                "Pupils light 77 red and 24 white candles",
                "Школьники зажигают 77 красных и 24 белые свечи",
                minutes=10,
            ),
            item(
                "silence", "Een minuut stilte", "One minute's silence", "Минута молчания", minutes=1
            ),
            item("wreath_laying", "Kranslegging", "Wreath laying", "Возложение венков", minutes=10),
            item(
                "reception",
                "Ontbijt in Kamp Amersfoort",
                "Breakfast at Camp Amersfoort",
                "Завтрак в лагере Амерсфорт",
                at="07:30",
                minutes=45,
                printable=False,
            ),
        ],
    },
    {
        "slug": "bloemen-3-mei",
        "title_nl": "Bloemen op alle graven",
        "title_en": "Flowers on all graves",
        "title_ru": "Цветы на всех могилах",
        "month": 5,
        "day": 3,
        "start_time": time(10, 0),
        "duration_minutes": 180,
        "venue": FIELD,
        "base_year": None,
        "programme": [
            item(
                "assembly",
                "Ontvangst vrijwilligers",
                "Volunteers gather",
                "Сбор волонтёров",
                at="10:00",
                minutes=15,
            ),
            item(
                "other",
                "Bloemen op alle 865 graven",
                "Flowers on all 865 graves",
                "Цветы на всех 865 могилах",
                minutes=165,
            ),
        ],
    },
    {
        "slug": "4-mei",
        "title_nl": "Nationale Dodenherdenking",
        "title_en": "National Remembrance",
        "title_ru": "Национальный день памяти",
        "month": 5,
        "day": 4,
        "start_time": time(18, 45),
        "duration_minutes": 105,
        "venue": FIELD,
        "base_year": 1945,
        "organiser_role": OrganiserRole.CO_HOSTED,
        "programme": [
            item(
                "march",
                "Stille tocht van Kamp Amersfoort naar Rusthof",
                "Silent march from Camp Amersfoort to Rusthof",
                "Молчаливое шествие от лагеря Амерсфорт до кладбища Рустхоф",
                at="18:45",
                minutes=45,
            ),
            item("speech", "Toespraken", "Speeches", "Речи", at="19:35", minutes=15),
            item("bells", "Klokgelui", "Bells", "Колокольный звон", at="19:55", minutes=3),
            item(
                "taptoe", "Taptoe", "Last Post (Taptoe)", "Сигнал «Taptoe»", at="19:58", minutes=2
            ),
            item(
                "silence",
                "Twee minuten stilte",
                "Two minutes' silence",
                "Две минуты молчания",
                at="20:00",
                minutes=2,
            ),
            item(
                "anthem",
                "Wilhelmus, coupletten 1 en 6",
                "Wilhelmus, verses 1 and 6",
                "Гимн Нидерландов «Вильгельмус», куплеты 1 и 6",
                at="20:02",
                minutes=3,
            ),
            item("wreath_laying", "Kranslegging", "Wreath laying", "Возложение венков", minutes=15),
            item(
                "defile",
                "Defilé langs het monument",
                "Public flower tribute (defilé)",
                "Возложение цветов",
                minutes=10,
            ),
        ],
    },
    {
        "slug": "5-mei",
        "title_nl": "Bevrijdingsdag",
        "title_en": "Liberation Day",
        "title_ru": "День освобождения",
        "month": 5,
        "day": 5,
        "start_time": time(12, 0),
        "duration_minutes": 60,
        "venue": FIELD,
        "base_year": 1945,
        "programme": [
            item(
                "assembly",
                "Ontvangst",
                "Welcome of guests",
                "Встреча гостей",
                at="12:00",
                minutes=15,
            ),
            item("speech", "Toespraak", "Address", "Речь", minutes=10),
            item("music", "Muziek", "Music", "Музыка", minutes=10),
            item(
                "defile",
                "Bloemen bij het monument",
                "Flowers at the monument",
                "Цветы у памятника",
                minutes=20,
            ),
        ],
    },
    {
        "slug": "9-mei",
        "title_nl": "Dag van de Overwinning en Herdenking",
        "title_en": "Victory Day and Day of Memory",
        "title_ru": "День Победы и памяти",
        "month": 5,
        "day": 9,
        "start_time": time(11, 0),
        "duration_minutes": 90,
        "venue": FIELD,
        "base_year": 1945,
        "hosts": HOSTS_9_MAY,
        "programme": [
            item(
                "assembly",
                "Ontvangst van de gasten",
                "Arrival of guests",
                "Прибытие гостей",
                at="10:30",
                minutes=30,
            ),
            item(
                "speech",
                "Welkomstwoord",
                "Words of welcome",
                "Приветственное слово",
                at="11:00",
                minutes=5,
                performer=FOUNDATION,
            ),
            item(
                "speech", "Toespraak burgemeester", "Address by the mayor", "Речь мэра", minutes=10
            ),
            item(
                "speech",
                "Toespraken van ambassadeurs",
                "Addresses by ambassadors",
                "Речи послов",
                minutes=15,
            ),
            item("music", "Muziek", "Music", "Музыка", minutes=5),
            item(
                "silence", "Een minuut stilte", "One minute's silence", "Минута молчания", minutes=1
            ),
            item("wreath_laying", "Kranslegging", "Wreath laying", "Возложение венков", minutes=30),
            item(
                "procession",
                "Tocht naar Rusthof",
                "Procession to Rusthof",
                "Шествие к кладбищу Рустхоф",
                minutes=15,
            ),
        ],
    },
    {
        "slug": "lichtjes-24-december",
        "title_nl": "Lichtjesavond",
        "title_en": "Evening of lights",
        "title_ru": "Вечер свечей",
        "month": 12,
        "day": 24,
        "start_time": time(16, 30),
        "duration_minutes": 90,
        "venue": FIELD,
        "base_year": None,
        "programme": [
            item(
                "candles",
                "Kaarsjes op alle graven",
                "Candles on all graves",
                "Свечи на всех могилах",
                at="16:30",
                minutes=90,
            ),
        ],
    },
]


def seed(session: DbSession) -> tuple[int, int]:
    """Add the standard venues and series that are missing; returns how many were added.

    Existing rows are left as staff edited them: seeding again changes nothing.
    """
    venues = {v.name: v for v in session.scalars(sa.select(Venue))}
    added_venues = 0
    for fields in VENUES:
        if fields["name"] not in venues:
            venue = Venue(timezone="Europe/Amsterdam", **fields)
            session.add(venue)
            venues[venue.name] = venue
            added_venues += 1
    existing = set(session.scalars(sa.select(CeremonySeries.slug)))
    added_series = 0
    for spec in SERIES:
        if spec["slug"] in existing:
            continue
        fields = {k: v for k, v in spec.items() if k not in ("venue", "programme", "hosts")}
        series = CeremonySeries(
            **fields,
            venue=venues.get(spec["venue"]),
            default_programme=list(spec["programme"]),
            default_hosts=list(spec.get("hosts", [])),
            active=True,
            public=True,
        )
        session.add(series)
        added_series += 1
    session.flush()
    # The 9 May wreath groups, only where the series has none (staff edits stay).
    from app.wreaths.defaults import fill_series_defaults

    fill_series_defaults(session)
    return added_venues, added_series
