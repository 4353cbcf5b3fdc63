"""Matrix -> Discord converters: pure functions of (event, context)."""
