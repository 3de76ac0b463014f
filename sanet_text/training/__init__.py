"""Training stages, data, checkpoints and the training loop (`python -m sanet_text.train`)."""
