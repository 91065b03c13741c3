"""What every benchmark needs around the code it measures, one module per job:

- `process`: a real `souk serve` process on a free port of 127.0.0.1 (started as tests/conftest.py
  does), a migrated data folder, the server's log checked for tracebacks;
- `machine`: the load average, CPU time, RSS and open files of a process (from /proc), the
  open-file limit;
- `stats`: percentiles and the small formatting helpers the reports share;
- `data`: a market on a data folder's database, the demo market loaded into it, database copies;
- `seed`: the bench events, vendor stalls and visitor conversations made through the domain;
- `client`: what a client of the running server needs (bearer header, an authenticated live socket);
- `chromium`: Debian's Chromium launch settings and a CSP-proof `wait_for_function`.

Benchmarks are run as scripts (`python bench/bench_x.py`), so this folder is on `sys.path` and
they import this package as `harness`. Only `machine` and `stats` are standard library alone:
`bench_photo_memory.py`'s measuring child imports nothing else.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
