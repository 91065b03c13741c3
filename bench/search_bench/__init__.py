"""The parts of bench_search.py: the corpora, the queries, the paths measured, the FTS5 baseline."""
