"""Input hardening that every edge shares: safe request text, input roots, webhook addresses.

- `text`: one base class for API request models that refuses text no database can store
  (U+0000, lone surrogates) and JSON nested deeper than any real document, field by field.
- `paths`: input and output paths must lie under the configured roots (`MONITOR_INPUT_ROOTS`,
  the artifact root), with URL schemes allow-listed.
- `addresses`: webhooks may only reach public addresses unless `MONITOR_WEBHOOK_ALLOWED_HOSTS`
  names them, checked when a webhook is created and again, after DNS resolution, when it is sent.

See `docs/security.md` for the policy as a user sees it.
"""
