"""Adapters: the ports of services/ports.py implemented on real infrastructure."""
