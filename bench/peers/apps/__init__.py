"""Servers run by the peers' own virtual environments (started by path, not imported here)."""
