"""Evidence: verifying an archive, evidence packages (WACZ) and checking them, signing."""
