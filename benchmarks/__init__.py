"""Benchmarks: pytest-benchmark suites (`make bench`) and the CI perf-regression check (`make perf-check`)."""
