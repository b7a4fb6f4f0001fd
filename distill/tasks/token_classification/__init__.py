"""Token classification (named entities): CoNLL-style tagged words, a tag per word."""
