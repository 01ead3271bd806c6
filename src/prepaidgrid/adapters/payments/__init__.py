"""Payment channel adapters: the gateway (simulated for the demo and tests)."""
