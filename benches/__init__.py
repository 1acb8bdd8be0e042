"""Benchmarks for the warroom hub: durable command throughput and fan-out latency.

Run them with `make bench` (or `python -m benches.run`); benches/README.md explains each one.
"""
