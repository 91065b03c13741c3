"""The parts of bench_chat.py: the plan, seeding, the sockets, the sends measured, the phases and their report."""
