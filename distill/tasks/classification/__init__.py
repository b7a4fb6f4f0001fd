"""Text classification as a `distill` task: single texts or text pairs, class labels."""
