"""This service against other serving systems (infinity-emb, LitServe) on the same model folder."""
