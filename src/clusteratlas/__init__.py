"""Cluster Atlas: regional innovation clusters, from statistics to partners and matchmaking."""

__version__ = "0.1.0.dev0"
