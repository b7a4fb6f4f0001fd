"""`distill import`: an existing Hugging Face checkpoint folder (or hub id) into a validated model
folder, through the same export as a distilled student, without a training run."""
