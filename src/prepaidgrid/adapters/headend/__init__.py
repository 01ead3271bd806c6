"""The head-end: MQTT to and from meters (decode, dedupe, persist; relay commands out)."""
