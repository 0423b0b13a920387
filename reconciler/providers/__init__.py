"""Provider adapters behind one protocol. Each adapter module imports its SDK lazily."""
