"""Discord -> Matrix converters: pure functions of (payload, context)."""
