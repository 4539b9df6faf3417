"""Platform adapters: Slack, Teams, the console and the web chat."""
