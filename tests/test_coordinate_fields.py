"""Every field where a person types coordinates says which order it expects, and its example agrees: longitude
first (x, y), as the lon/lat boxes beside them and the API's [lon, lat]."""
from __future__ import annotations

import re

import pytest

from .conftest import login

# (who, page): every form with a typed coordinate field
FORMS = [(None, "/report"), ("admin", "/revisions/new"), ("admin", "/sites/GZ-0001/inspections/new"),
         ("admin", "/rescues"), ("admin", "/sections/GZS-0001"), ("admin", "/downloads"), ("admin", "/fieldkit")]
COORDINATE_FIELDS = {"coordinates", "point", "location_text", "boundary_text", "bbox"}
FIRST_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _labelled_fields(html: str):
    """(label text, field name, placeholder) of each coordinate field: the text of the <label> around it, else the
    label (or radio label) just before it."""
    for m in re.finditer(r'<(input|textarea)\b([^>]*)\bname="([^"]+)"([^>]*)>', html):
        name = m.group(3)
        if name not in COORDINATE_FIELDS:
            continue
        attrs = m.group(2) + m.group(4)
        placeholder = re.search(r'placeholder="([^"]*)"', attrs)
        before = html[:m.start()]
        label = before[before.rfind("<label"):]
        yield re.sub(r"<[^>]+>", " ", label), name, placeholder.group(1) if placeholder else ""


@pytest.mark.parametrize("lang, lon_word", [("zh", "经度"), ("en", "longitude")])
def test_every_coordinate_field_says_longitude_first(app, lang, lon_word):
    staff = login(app.test_client(), "admin")
    seen = set()
    for who, path in FORMS:
        client = staff if who else app.test_client()
        html = client.get(f"{path}?lang={lang}").get_data(as_text=True)
        for label, name, placeholder in _labelled_fields(html):
            seen.add(name)
            text = label.lower()
            assert lon_word in text, (path, name, label)
            lat_word = "纬度" if lang == "zh" else "latitude"
            assert text.index(lon_word) < text.index(lat_word), (path, name, label)  # longitude named first
            number = FIRST_NUMBER.search(placeholder.replace("&#10;", " "))
            if number and "X=" not in placeholder[:number.start()]:
                assert 73 <= float(number.group(0)) <= 136, (path, name, placeholder)  # a longitude in China
    assert seen == COORDINATE_FIELDS
