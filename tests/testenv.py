"""Loaded with `-p tests.testenv` before Django starts: the environment the suite runs in.

Tests run as production does (DEBUG off) but over plain http, with a throwaway key.
Values already in the environment win, so CI can point at other servers.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-key-4f7c1e9b2a8d6035e1c7b94f0a2d8e6c3b5a7f9d1e0c")
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("DEBUG", "false")
# Production requires it (links in mail); tests that follow links set their own.
os.environ.setdefault("SITE_URL", "http://testserver")
