"""Benchmarks: `python -m bench <name>`; each lives in `bench/<name>.py` with `main(argv) -> int`."""
