"""The web page at `/`: the loaded models, a playground per task, each model's distillation
report (its model card) and a live panel from the service's own metrics.

Everything it needs ships in this package (`templates/`, `static/`): no build step, no CDN.
The page calls the same `/v1/*` endpoints a client would.
"""

from service.web.routes import card_routes, web_router

__all__ = ["card_routes", "web_router"]
