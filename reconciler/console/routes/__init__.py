"""The console's routes, one module per concern: channels (the settings page), templates (list and
editor), changes (diff and commit), sends (Send Test SMS), history."""
