"""The sync engine: plan (pure rules), apply (intents), records, parking. Built on in the next issues."""
