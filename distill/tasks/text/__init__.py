"""What the text tasks (classification and regression) share: rows of one text or a text pair
from local files or the hub, the GLUE file formats, tokenisation of pairs, evaluation and export."""
