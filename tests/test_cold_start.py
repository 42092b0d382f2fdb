"""Cold start (issue 24: "cold start to the first answer < 2 s"): the start imports and builds only what every answer
needs; the heavy libraries of rarer answers (GDAL's writers and pandas for downloads, folium for map pages, pypinyin for
writes' search terms, psycopg for PostGIS) and the OpenAPI document's schemas wait for the first request that needs
them. Checked in a fresh interpreter started as `make run` starts the server (`python -m`, the project's root first on
the path); the figures are bench/bench_cold_start.py's."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from fossil_registry import ROOT

# Imported by the first request that needs them, never by the start or by the commonest first answers.
LEFT_FOR_LATER = ("pandas", "geopandas", "pyogrio", "folium", "branca", "pypinyin", "psycopg", "psycopg_pool",
                  "fossil_registry.api.models", "fossil_registry.downloads.writers", "fossil_registry.downloads.tables")
FIRST_ANSWERS = ("/ogcapi/collections/sites/items?limit=10", "/map/sites.geojson?zoom=7", "/map/search.json?q=guanling",
                 "/ogcapi/collections/sites/items/GZ-0005", "/api/sites?limit=5", "/api/nothing-here")

PROBE = textwrap.dedent("""
    import json, sys
    import fossil_registry.serve
    from fossil_registry import create_app
    from fossil_registry.http import openapi

    app = create_app({"DATA_DIR": sys.argv[1], "SECRET_KEY": "cold-start-test"})
    client = app.test_client()
    statuses = [client.get(path).status_code for path in json.loads(sys.argv[2])]
    print(json.dumps({"statuses": statuses, "components": len(openapi._COMPONENTS),
                      "loaded": sorted(m for m in sys.modules if m.split(".")[0] in {"pandas", "geopandas", "pyogrio",
                                       "folium", "branca", "pypinyin", "psycopg", "psycopg_pool"}
                                       or m.startswith(("fossil_registry.api.models", "fossil_registry.downloads.")))}))
""")


def _probe(data_dir, paths) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, str(data_dir), json.dumps(paths)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_start_and_the_first_reads_leave_the_heavy_libraries_and_the_openapi_schemas_for_later(demo_data_dir):
    probe = _probe(demo_data_dir, FIRST_ANSWERS)
    assert probe["statuses"] == [200, 200, 200, 200, 200, 404]
    assert [m for m in probe["loaded"] if m.startswith(LEFT_FOR_LATER)] == []
    # nor was any model's schema made, by the start or by a problem+json answer (the 404): the OpenAPI document's
    # schemas are made when it is first asked for
    assert probe["components"] == 0


def test_folium_is_imported_only_by_map_functions_after_maps_patched_its_templates(demo_data_dir):
    """maps.py replaces branca's Template (an element's output without template syntax is kept as text, not compiled:
    docs/security.md) when it is imported; with folium loaded by the first map page, no module may import folium or
    branca at its top but maps.py, and the first map page finds the replacement in place."""
    import ast

    package = ROOT / "fossil_registry"
    at_top = sorted({str(path.relative_to(package)) for path in package.rglob("*.py")
                    for node in ast.parse(path.read_text()).body
                    if isinstance(node, (ast.Import, ast.ImportFrom))
                    and any((getattr(node, "module", None) or alias.name).split(".")[0] in ("folium", "branca")
                            for alias in node.names)})
    assert at_top == ["maps.py"]
    probe = textwrap.dedent("""
        import sys
        import fossil_registry.serve
        from fossil_registry import create_app

        client = create_app({"DATA_DIR": sys.argv[1], "SECRET_KEY": "cold-start-test"}).test_client()
        assert "folium" not in sys.modules
        assert client.get("/").status_code == 200
        import branca.element
        from fossil_registry import maps
        print(branca.element.Template is maps._output_or_template)
    """)
    done = subprocess.run([sys.executable, "-c", probe, str(demo_data_dir)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["True"]


def test_an_unknown_user_name_is_checked_against_a_real_hash_made_by_the_first_sign_in(conn, monkeypatch):
    """The dummy hash (so that an unknown name takes as long as a wrong password) costs a scrypt run: made by the first
    sign-in that needs it, not by the import of auth, and kept."""
    from fossil_registry import auth

    monkeypatch.setattr(auth, "_DUMMY_HASH", None)
    made = []
    for _ in range(2):
        with pytest.raises(auth.AuthenticationFailed):
            auth.authenticate(conn, "nobody-of-this-name", "a-password-of-nobody")
        made.append(auth._DUMMY_HASH)
    assert made[0].startswith(auth.PASSWORD_HASH_METHOD.split(":")[0] + ":") and made[1] is made[0]


def test_the_served_process_loads_what_the_start_left_in_the_background(demo_data_dir):
    """`make run` (serve.py) warms up once it has answered its first request: folium, the county seats, the OpenAPI
    schemas, pypinyin and the downloads' writers are loaded by a background thread, so that the first map page,
    document, write or download does not pay for them."""
    probe = textwrap.dedent("""
        import json, sys, threading
        from fossil_registry import create_app, serve
        from fossil_registry.http import openapi

        app = create_app({"DATA_DIR": sys.argv[1], "SECRET_KEY": "cold-start-test"})
        serve._warm_later(app)
        warm_up = next(t for t in threading.enumerate() if t.name == "warm-up")
        warm_up.join(timeout=1)
        assert warm_up.is_alive() and "pypinyin" not in sys.modules   # it waits for the first answer
        assert app.test_client().get("/ogcapi/collections/sites/items?limit=1").status_code == 200
        warm_up.join(timeout=240)
        from fossil_registry import county_context
        heavy = ("folium.plugins", "fossil_registry.maps", "pypinyin", "pandas", "pyogrio")
        print(json.dumps({"components": len(openapi._COMPONENTS), "county_seats": len(county_context._LOADED),
                          "loaded": sorted(m for m in heavy if m in sys.modules)}))
    """)
    done = subprocess.run([sys.executable, "-c", probe, str(demo_data_dir)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    warmed = json.loads(done.stdout.strip().splitlines()[-1])
    assert warmed["loaded"] == ["folium.plugins", "fossil_registry.maps", "pandas", "pyogrio", "pypinyin"]
    assert warmed["components"] > 100 and warmed["county_seats"] == 1


def test_a_process_configured_without_warm_up_leaves_everything_to_the_first_request_that_needs_it(demo_data_dir):
    """FLASK_WARM_UP=false (the tests' served apps): no warm-up thread and no readers' pool after the first answer."""
    probe = textwrap.dedent("""
        import json, sys, threading
        from fossil_registry import create_app, serve, untrusted

        names = {t.name for t in threading.enumerate()}
        for warm_up in (False, True):
            app = create_app({"DATA_DIR": sys.argv[1], "SECRET_KEY": "cold-start-test", "WARM_UP": warm_up})
            serve._warm_up(app, readers=True)
            assert app.test_client().get("/ogcapi/collections/sites/items?limit=1").status_code == 200
            print(json.dumps(sorted({t.name for t in threading.enumerate()} - names)))
    """)
    done = subprocess.run([sys.executable, "-c", probe, str(demo_data_dir)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    off, on = (json.loads(line) for line in done.stdout.strip().splitlines()[-2:])
    assert off == [] and "warm-up" in on


def test_a_worker_that_answered_nothing_yet_warms_up_all_the_same(demo_data_dir):
    """With WORKERS > 1 the first requests may all go to one process (one client's kept-alive connection): the others
    warm up after ``unanswered_s`` without an answer, not in the middle of the first burst of readers they are given
    (measured: a second worker's warm-up, ~3-5 s of CPU, raised the server's CPU of issue 24's 8 readers after an
    approval: 90 -> 100-210 ms, docs/national-scale.md)."""
    probe = textwrap.dedent("""
        import json, sys, threading
        from fossil_registry import create_app, serve

        app = create_app({"DATA_DIR": sys.argv[1], "SECRET_KEY": "cold-start-test"})
        serve._warm_later(app, unanswered_s=0.5)
        warm_up = next(t for t in threading.enumerate() if t.name == "warm-up")
        warm_up.join(timeout=240)
        print(json.dumps({"alive": warm_up.is_alive(), "pinyin": "pypinyin" in sys.modules}))
    """)
    done = subprocess.run([sys.executable, "-c", probe, str(demo_data_dir)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"alive": False, "pinyin": True}
