"""What text classification and regression share: single texts or text pairs, one model input each."""
