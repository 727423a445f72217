"""From a response body to what preserve compares: decoding, the HTML tree, normalised main
text, citations and requisites, and the worker processes that do it."""
