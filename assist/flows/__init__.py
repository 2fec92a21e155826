"""Chat flows (bot): definition and validation, the engine behind the chat pre-routing hook, reports."""
