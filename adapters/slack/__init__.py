"""Slack. slack-bolt is imported by `runtime` and `app`, never here, so the Block Kit renderer
(`blocks`) can be imported without it."""
