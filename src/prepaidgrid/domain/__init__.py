"""The pure domain: values in, values and events out. No I/O, no clock reads, no frameworks."""
