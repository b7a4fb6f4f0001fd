"""What the benchmarks share: one server launcher, one HTTP JSON client, one results writer."""
