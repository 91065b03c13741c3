"""The parts of bench_sync.py: pulls (in process and over HTTP) and the 500 queued mutations."""
