"""Files and the outside world: image I/O, atomic store, the Hub, model cards."""
