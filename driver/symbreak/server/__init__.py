"""The i-PI socket client that serves a (symmetrized) potential, and its command line."""
