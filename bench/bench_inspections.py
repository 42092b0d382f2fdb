"""Figures for inspections: reading a phone-sized photo (EXIF, checks, thumbnail and display copies), parsing a long GPX
track, recording an inspection with photos and track, and computing the schedule. Prints figures; asserts nothing."""
from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from fossil_registry import inspections, store  # noqa: E402
from fossil_registry.formats import parse_gpx  # noqa: E402
from fossil_registry.blobs import BlobStore  # noqa: E402
from fossil_registry.photos import Upload, read_photo  # noqa: E402
from fossil_registry.registry import init_registry  # noqa: E402
from tests.inspection_helpers import gpx_xml, jpeg  # noqa: E402


def timed(fn, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    noise = Image.effect_noise((4000, 3000), 40).convert("RGB")  # 12 MP, noisy so JPEG stays phone-sized
    buf = io.BytesIO()
    noise.save(buf, "JPEG", quality=90)
    plain = buf.getvalue()
    print(f"12 MP photo ({len(plain) / 1e6:.1f} MB noisy JPEG): read + EXIF + thumbnail + display copy "
          f"{timed(lambda: read_photo(Upload('p.jpg', plain), max_bytes=10**8, max_pixels=10**8), 3) * 1000:.0f} ms")
    points = [(105.3 + i * 1e-5, 25.8 + (i % 100) * 1e-5) for i in range(20_000)]
    track = gpx_xml(points)
    print(f"GPX with 20,000 points ({len(track) / 1e6:.1f} MB): parsed in "
          f"{timed(lambda: parse_gpx(track, max_bytes=10**8), 3) * 1000:.0f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sites" / "registry.gpkg"
        init_registry(path, demo=True)
        conn = store.connect(path)
        store.migrate(conn)
        photos = BlobStore(Path(tmp))
        settings = inspections.Settings.defaults()
        record = inspections.parse_record({"date": "2024-05-01", "condition": "fair", "inspectors": ["bench"]})
        t = time.perf_counter()
        inspections.record_inspection(conn, photos, "GZ-0001", record, settings=settings, actor="bench",
                                      track=Upload("t.gpx", gpx_xml(points[:2000])),
                                      photos=[Upload(f"{i}.jpg", jpeg(lon=105.37, lat=25.88, taken="2024:05:01 10:00:00",
                                                                       size=(2000, 1500), colour=(i, i, i)))
                                              for i in range(5)])
        print(f"record with 5 photos (3 MP) and a 2,000-point track: {(time.perf_counter() - t) * 1000:.0f} ms")
        codes = [r[0] for r in conn.execute("SELECT code FROM site_locations")]
        day = date(2024, 7, 1)
        for i in range(500):
            inspections.record_inspection(
                conn, photos, codes[i % len(codes)],
                inspections.parse_record({"date": (day + timedelta(days=i)).isoformat(), "condition": "good",
                                          "inspectors": ["bench"]}), settings=settings, actor="bench",
                today=date(2026, 1, 1))
        ms = timed(lambda: inspections.schedule(conn, settings, date(2026, 1, 1))) * 1000
        print(f"schedule of {len(codes)} sites with 500 inspection records: {ms:.1f} ms")
        conn.close()


if __name__ == "__main__":
    main()
