"""Pictures: image files in and out, tensors, in-memory pictures and masks, colour and palettes."""
