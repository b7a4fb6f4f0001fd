"""Sentence embeddings (feature extraction): one vector per text, in the shape of OpenAI's embeddings API."""
