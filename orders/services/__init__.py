"""Services: every write of the orders module goes through these keyword-only functions."""
