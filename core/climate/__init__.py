"""Heat and cold: learn each home's cooling and heating (``profiles``), and run the gentle
ladder on hot days and cold nights (``ladder``). The maths is core.detection.climate."""
