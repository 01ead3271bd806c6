"""The channels consumer messages leave by: an HTTP SMS gateway (with DLT ids), a file or
console SMS sink (the default), and SMTP. The portal inbox is not a channel: the dispatcher
copies every message into it (services/notify.py)."""
