"""What the tests share and do not test: local web sites and a misbehaving server on
127.0.0.1, a certificate authority and a time-stamping authority made with openssl,
headless Chromium, pywb, the archive check, and running `preserve` in-process."""
