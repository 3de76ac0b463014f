"""The networks (VGG encoder, SANet attention, decoder, text mapper, CLIP), their losses and weights."""
