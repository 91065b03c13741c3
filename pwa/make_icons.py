"""Draw the app's icons (run once, commit the PNGs): `python -m pwa.make_icons`.

A market-stall awning in white on Souk's dark blue. The maskable icon keeps the drawing inside
the central 80 % safe zone and paints the background to the edges, as platforms crop it.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BLUE = (0, 58, 112)
WHITE = (255, 255, 255)
ORANGE = (255, 176, 59)
HERE = Path(__file__).resolve().parent / "icons"


def draw(size: int, *, maskable: bool) -> Image.Image:
    scale = 4  # draw large, then shrink: smooth edges without antialiasing support
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=BLUE)
        inset = big * 0.22  # the drawing stays well inside the 80 % safe circle
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.18, fill=BLUE)
        inset = big * 0.14
    left, right = inset, big - inset
    top, bottom = inset * 1.05, big - inset
    width = right - left
    awning_bottom = top + (bottom - top) * 0.36
    stripes = 5
    stripe = width / stripes
    for i in range(stripes):
        colour = WHITE if i % 2 == 0 else ORANGE
        x0 = left + i * stripe
        pen.rectangle((x0, top, x0 + stripe, awning_bottom), fill=colour)
        radius = stripe / 2
        pen.pieslice((x0, awning_bottom - radius, x0 + stripe, awning_bottom + radius), start=0, end=180, fill=colour)
    post = width * 0.07
    counter_top = top + (bottom - top) * 0.68
    pen.rectangle((left + post * 0.5, awning_bottom, left + post * 1.5, bottom), fill=WHITE)
    pen.rectangle((right - post * 1.5, awning_bottom, right - post * 0.5, bottom), fill=WHITE)
    pen.rectangle((left, counter_top, right, counter_top + (bottom - top) * 0.12), fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for size in (192, 512):
        draw(size, maskable=False).save(HERE / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(HERE / "maskable-512.png", optimize=True)
    draw(180, maskable=True).convert("RGB").save(HERE / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
