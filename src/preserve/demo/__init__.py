"""`preserve demo`: a built-in sample web, captured, changed and checked."""
