"""Load scenarios through the local gateway (make load)."""
