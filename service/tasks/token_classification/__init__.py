"""Token classification (named entities): texts cut into windows, tags decoded into entities."""
