"""How frames flow: scheduler, workers, ring buffers, writer, CLI."""
