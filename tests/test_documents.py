"""Printed programmes: content per language, fonts, metadata, safety, cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role, User
from app.ceremonies.models import Ceremony, CeremonyStatus, ItemKind
from app.ceremonies.services import ProgrammeItemData, add_item, set_status
from app.documents.pdf import RefusingFetcher, renderer_for
from app.documents.services import renderer
from app.extensions import db
from app.settings.services import set_setting
from tests import pdf_tools

KAZAKH = "Қайрат Нұрланұлы Әбілов: Қ Ң Ө Ү Ұ Һ Ә І ғ қ ң ө ү ұ һ ә і"
HOSTILE = "<link rel=attachment href=file:///etc/hostname><img src=http://127.0.0.1:9/x.png>"


@pytest.fixture
def published(edition: Callable[..., Ceremony]) -> Ceremony:
    ceremony = edition("4-mei", 2026)
    set_status(ceremony, CeremonyStatus.PUBLISHED)
    db.session.commit()
    return ceremony


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "nl",
            [
                "Nationale Dodenherdenking",
                "81e herdenking",
                "maandag 4 mei 2026",
                "Twee minuten stilte",
                "Vlag halfstok van 18:00 tot zonsondergang (21:08)",
            ],
        ),
        (
            "en",
            [
                "National Remembrance",
                "81st commemoration",
                "Monday 4 May 2026",
                "Two minutes' silence",
                "half-mast from 18:00 until sunset (21:08)",
            ],
        ),
        ("ru", ["Национальный день памяти", "81-я годовщина", "4 мая 2026", "Две минуты молчания"]),
        (
            "nl-en",
            [
                "Nationale Dodenherdenking",
                "National Remembrance",
                "Twee minuten stilte",
                "Two minutes' silence",
            ],
        ),
    ],
)
def test_programme_in_each_language(
    client: FlaskClient, published: Ceremony, tmp_path: Path, lang: str, expected: list[str]
) -> None:
    response = client.get(f"/ceremonies/{published.slug}/programme.pdf?lang={lang}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    content = " ".join(pdf_tools.text(response.data, tmp_path).split())
    for words in expected:
        assert words in content
    assert "20:00" in content


def test_programme_leaves_out_internal_items(
    client: FlaskClient, edition: Callable[..., Ceremony], tmp_path: Path
) -> None:
    ceremony = edition("koedriest", 2026)
    set_status(ceremony, CeremonyStatus.PUBLISHED)
    db.session.commit()
    pdf = client.get(f"/ceremonies/{ceremony.slug}/programme.pdf?lang=en").data
    content = pdf_tools.text(pdf, tmp_path)
    assert "Pupils light 77 red and 24 white candles" in content
    assert "Breakfast" not in content


def test_fonts_are_embedded_and_cover_kazakh(
    client: FlaskClient, published: Ceremony, tmp_path: Path
) -> None:
    add_item(
        published,
        ProgrammeItemData(
            ItemKind.SPEECH, None, None, 5, KAZAKH, KAZAKH, KAZAKH, "", "", KAZAKH, True
        ),
    )
    db.session.commit()
    pdf = client.get(f"/ceremonies/{published.slug}/programme.pdf?lang=ru").data
    assert KAZAKH in pdf_tools.text(pdf, tmp_path)
    fonts = pdf_tools.fonts(pdf, tmp_path)
    assert fonts
    for row in fonts:
        assert row[0].split("+", 1)[1].startswith("Noto"), row  # no fallback font
        assert row[-5:-2] == ["yes", "yes", "yes"], row  # embedded, subset, unicode map


def test_metadata_and_tagging(client: FlaskClient, published: Ceremony, tmp_path: Path) -> None:
    pdf = client.get(f"/ceremonies/{published.slug}/programme.pdf?lang=en").data
    info = pdf_tools.info(pdf, tmp_path)
    assert info["Title"] == "National Remembrance"
    assert info["Author"] == "Stichting Sovjet Ereveld"
    assert info["Tagged"] == "yes"
    assert info["Page size"].startswith("419.528 x 595.276")  # A5


def test_a4_setting(client: FlaskClient, published: Ceremony, tmp_path: Path) -> None:
    set_setting(db.session, "programme_paper", "a4")
    db.session.commit()
    pdf = client.get(f"/ceremonies/{published.slug}/programme.pdf").data
    assert pdf_tools.info(pdf, tmp_path)["Page size"].startswith("595.276 x 841.89")


def test_hostile_text_prints_as_text(
    app: Flask, client: FlaskClient, published: Ceremony, tmp_path: Path
) -> None:
    add_item(
        published,
        ProgrammeItemData(
            ItemKind.SPEECH,
            None,
            None,
            5,
            HOSTILE,
            HOSTILE,
            HOSTILE,
            HOSTILE,
            HOSTILE,
            HOSTILE,
            True,
        ),
    )
    published.venue.notes = HOSTILE
    db.session.commit()
    pdf = client.get(f"/ceremonies/{published.slug}/programme.pdf?lang=en").data
    assert "<link rel=attachment href=file:///etc/hostname>" in " ".join(
        pdf_tools.text(pdf, tmp_path).split()
    )
    assert "0 embedded files" in pdf_tools.attachments(pdf, tmp_path)
    assert (
        renderer_for(
            Path(str(app.static_folder)), Path(app.instance_path) / "pdf-cache"
        ).last_refused
        == []
    )


def test_the_fetcher_refuses_even_unescaped_html(app: Flask, tmp_path: Path) -> None:
    """If escaping ever failed, the fetcher still lets nothing in but static files."""
    with app.test_request_context():
        pdf_renderer = renderer()
        pdf = pdf_renderer.render_uncached(
            "<html><head><meta charset=utf-8>"
            + HOSTILE
            + '<img src="file:///etc/passwd"></head><body><p>x</p>'
            + '<img src="../../../../../../etc/hostname"></body></html>',
            title="t",
            lang="en",
        )
        refused = pdf_renderer.last_refused
    assert "0 embedded files" in pdf_tools.attachments(pdf, tmp_path)
    assert "file:///etc/hostname" in refused
    assert "http://127.0.0.1:9/x.png" in refused
    assert "file:///etc/passwd" in refused
    assert "file:///etc/hostname" in " ".join(refused)  # the relative one resolves there too


def test_fetcher_serves_static_files(app: Flask) -> None:
    static = Path(str(app.static_folder))
    fetcher = RefusingFetcher(static)
    response = fetcher.fetch((static / "pdf" / "print.css").as_uri())
    assert response.status == 200
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch((static / ".." / "pyproject.toml").resolve().as_uri())


def test_rendered_once_per_content(app: Flask, client: FlaskClient, published: Ceremony) -> None:
    url = f"/ceremonies/{published.slug}/programme.pdf"
    with app.test_request_context():
        pdf_renderer = renderer()
    first = client.get(url)
    renders = pdf_renderer.renders
    again = client.get(url)
    assert again.data == first.data
    assert pdf_renderer.renders == renders  # served from the cache
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    published.title_nl = "Nationale Dodenherdenking 2026"
    db.session.commit()
    changed = client.get(url)
    assert changed.data != first.data
    assert pdf_renderer.renders == renders + 1


def test_drafts_only_for_staff(
    client: FlaskClient,
    edition: Callable[..., Ceremony],
    login: Callable[[Role], User],
    tmp_path: Path,
) -> None:
    draft = edition("9-mei", 2026)
    assert client.get(f"/ceremonies/{draft.slug}/programme.pdf").status_code == 404
    staff_url = f"/staff/ceremonies/{draft.slug}/programme.pdf?lang=en"
    assert client.get(staff_url).status_code == 302
    login(Role.VIEWER)
    response = client.get(staff_url)
    assert response.status_code == 200
    assert "Victory Day and Day of Memory" in pdf_tools.text(response.data, tmp_path)
    assert client.get("/staff/ceremonies/nope/programme.pdf").status_code == 404


def test_unknown_language_falls_back_to_dutch(
    client: FlaskClient, published: Ceremony, tmp_path: Path
) -> None:
    pdf = client.get(f"/ceremonies/{published.slug}/programme.pdf?lang=xx").data
    assert "Nationale Dodenherdenking" in pdf_tools.text(pdf, tmp_path)
