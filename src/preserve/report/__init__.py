"""`preserve report`: what became of articles and their sources, as data, text and HTML."""
