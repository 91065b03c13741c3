"""Printing: stall signs, price tags and the QR codes on them (server-side; the browser apps only link to them).

A visitor at a weekend market finds a stall by its printed sign and opens it in the web app by scanning the QR
code on it, so the one thing these documents must get right is a QR that scans from a metre or two away, on cheap
printers, in daylight. Everything else (name, stall number, location, hashtags) helps a person find the stall and
the organiser sort the printouts. Pure functions over plain frozen dataclasses: no database, no HTTP, so the routes
that serve these stay thin and the output can be tested by rasterising it with independent tools.

- `qr`: the one QR maker (module matrix, SVG, PNG), used by signs, tags, stall links and the kiosk.
- `fonts`: finding TrueType files on the machine; `shaping`: cleaning text, bidi, fallback fonts, widths.
- `fitting`: shrinking, wrapping and truncating text to a width.
- `layout`: what goes where on a sign or a tag sheet, as drawing operations both renderers consume.
- `pdf` and `svg`: the two renderers.
"""
