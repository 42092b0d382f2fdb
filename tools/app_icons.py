"""Draws the installable app's icons (static/icons/: 192 and 512 px, and a maskable 512 px whose emblem stays inside
the 80 % safe circle) as the favicon's ammonite spiral on the registry's brown, with Pillow, supersampled 4x.
Run from the repository's root: .venv/bin/python tools/app_icons.py (docs/offline.md)."""
from PIL import Image, ImageDraw

BROWN, WHITE = (138, 59, 18, 255), (255, 255, 255, 255)
ARCS = (((16, 16), 2, 180, 360), ((13, 16), 5, 0, 180), ((17, 16), 9, 180, 360), ((14, 16), 12, 0, 90))


def emblem(draw, size, scale, offset):
    u = size * scale / 32
    for (cx, cy), r, a, b in ARCS:
        x, y = offset + cx * u, offset + cy * u
        draw.arc((x - r * u, y - r * u, x + r * u, y + r * u), a, b, fill=WHITE, width=max(1, round(2 * u)))


def icon(size, maskable=False):
    big = size * 4
    im = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    if maskable:  # full bleed; the emblem inside the 80 % safe circle
        d.rectangle((0, 0, big, big), fill=BROWN)
        emblem(d, big, 0.62, big * 0.19)
    else:
        d.ellipse((big / 32, big / 32, big * 31 / 32, big * 31 / 32), fill=BROWN)
        emblem(d, big, 1.0, 0)
    return im.resize((size, size), Image.LANCZOS)


icon(192).save("static/icons/icon-192.png", optimize=True)
icon(512).save("static/icons/icon-512.png", optimize=True)
icon(512, maskable=True).save("static/icons/maskable-512.png", optimize=True)
