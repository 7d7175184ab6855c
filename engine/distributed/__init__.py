"""``--engine dask``: the scoring stage partitioned by customer over a Dask cluster (README.md)."""
