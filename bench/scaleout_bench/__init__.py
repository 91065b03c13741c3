"""The parts of bench_scaleout.py: the plan, the database, seeding (demo market, write world,
bulk items), the index build of a new node, the mixed write + search load, the report."""
