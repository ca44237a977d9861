"""Messages to patients: an outbox of text messages and emails, each queued in the transaction of the change
that causes it and sent by the background jobs through a pluggable sender (console, email, Twilio SMS),
retried with backoff and shown as sent only when the provider accepted it; and each patient's opt-out per
channel."""
