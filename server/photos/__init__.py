"""Photo pipeline for item and chat photos uploaded from phones.

Every upload is untrusted bytes from the public internet or a market-stall phone, so the pipeline is deliberately
paranoid, one job a module:

- `decode`: sniff the type from the bytes, work out what the decode will cost from the header and refuse over a
  budget (decompression bombs), decode JPEGs reduced, prove the image by decoding it fully.
- `gate`: at most a few decodes at once per store; a short queue waits, the rest are told to come back later.
- `variants`: upright, sRGB, metadata stripped (EXIF GPS, comments, XMP), re-encoded, plus JPEG thumbnails,
  worked strip by strip so no second full-size copy is made.
- `store`: `PhotoStore`, the pipeline in front of a storage: content addressed (sha256 of the stored original),
  idempotent saves.
- `storage`: the `PhotoStorage` interface; its backends `disk` (files in the data dir, the embedded default) and
  `database` (the `photo_blob` table, so every node of a scale-out market serves every photo).
- `errors`: `PhotoRejected` (the photo's fault: 422) and `PhotoBusy` (try later: 429).
"""
