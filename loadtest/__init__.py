"""Load testing: simulated clinicians walking a pathway over HTTP (standard library only)."""
