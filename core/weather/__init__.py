"""Weather for heat and cold: JMA's daily forecast and the Ministry of the Environment's WBGT.

``areas`` finds a home's forecast office; ``jma`` reads the two published formats;
``sources`` fetches them (real sites with timeout and retries, or the saved fixtures);
``store`` is the scheduled pull and the cache (``weather_day``) the climate ladder reads.
"""
