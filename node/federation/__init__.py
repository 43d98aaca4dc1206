"""Protocol logic of the federation, free of any transport: trust, routing, sync, search, fetch."""
