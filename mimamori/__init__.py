"""The ``mimamori`` command line. The product lives in ``core`` and ``bot``."""
