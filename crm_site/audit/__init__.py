"""The audit trail: who changed what and when, sealed in a keyed hash chain (docs/security.md)."""
