"""Logins that resist guessing: client IP behind proxies, lockout, session timeouts, a second factor.

``client_ip`` (which address a request came from), ``lockout`` (5 failures per user and per IP lock
for 15 minutes, on the shared cache), ``sessions`` (idle and absolute timeouts), ``two_factor`` (TOTP
devices and recovery codes) and the middleware that enforces them. docs/security.md says which test
guards each.
"""
