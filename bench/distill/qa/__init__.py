"""Question-answering recipe studies: the loss/depth sweep, the recipe variants, their step cost."""
