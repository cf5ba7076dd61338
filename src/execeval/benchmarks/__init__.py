"""The built-in benchmarks, one module each: its loader and its `Benchmark`
(execeval.benchmark), registered by an entry point in pyproject.toml."""
