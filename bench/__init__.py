"""Cold-start and warm-path benchmark of the function (`make bench`; see bench/README.md)."""
