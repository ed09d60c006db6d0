"""The Outbox: a local SMTP server that keeps every message it receives, and reads them back."""
