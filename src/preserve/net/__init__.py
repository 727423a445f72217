"""The network: one GET with limits, the private-address guard, deadlines and TLS facts."""
