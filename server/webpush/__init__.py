"""Web Push: notifying a phone of a chat reply while the app is closed (not sync's mutation upload, `sync.push`).

- `keys`: the server's VAPID key pair, kept in the data folder.
- `messages`: subscriptions, payloads, header values and send outcomes.
- `client`: `PushSender`, which encrypts, VAPID-signs and sends, with retries.
- `endpoints` and `transport`: the SSRF guard, checking an endpoint's syntax when a browser subscribes and
  before each send, and every address at connect time.

`server.notify` reads the change log and decides who gets a push;
`server.domain.push_subscriptions` keeps the subscriptions.
"""
