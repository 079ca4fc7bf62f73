"""`make bench`: the benchmark, outside the runtime code (it builds its own data in a database of its own)."""
