"""The parts of bench_pwa.py: the scripts run in the page, the phone-sized browser, the transfer account, the report."""
