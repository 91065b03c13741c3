"""The parts of bench_writes.py: the workload's plan, seeding, the load, one level, raw drivers,
PostgreSQL/Redis and server processes, the report."""
