"""Starting i-PI and its clients for a named case, and collecting the outputs."""
