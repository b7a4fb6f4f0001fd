"""Dynamic batching: the pure policy (`policy`), the limits per execution provider (`limits`), the
fixed shapes of CUDA (`shapes`), thread priority (`priority`) and the queue with its consumer
(`batcher`)."""
