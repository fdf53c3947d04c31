"""Local stand-ins for the outside world, mounted only when MIMAMORI_ENV=dev."""
