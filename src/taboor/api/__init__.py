"""HTTP surfaces. Domain packages know nothing of HTTP; everything contract-specific
(envelopes, status codes, message keys) lives under here."""
