"""The serving tasks: one `ServingTask` (`base`) per task of the model-folder contract, found
through `registry`. Each owns its request items and checks, encoding, decoding, /v2 tensors, the
fp16 agreement rule of its start-up check, the page's form and the card's metric names."""
