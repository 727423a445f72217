"""Evidence: verifying an archive; exporting evidence packages (WACZ) and checking them."""
