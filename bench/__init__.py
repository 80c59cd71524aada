"""Benchmarks of the stream path with baselines (issue 10); see bench/README.md."""
