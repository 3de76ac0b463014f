"""Evaluation against peers, the speed benchmark and the peer methods."""
