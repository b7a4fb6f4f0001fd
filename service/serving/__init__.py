"""The models this server serves: `loading` (every model folder with its serving task) and `state`
(the running service: models, batchers, warm-up, readiness), read by the routes and the scheduler."""
