"""Benchmarks for the wizard step, the engine, snapshots and page weight (`make bench`)."""
