"""Extractive question answering: pairs cut into windows, spans searched across them."""
