"""mimamori core: the product, usable without LINE. Never imports ``bot``."""
