"""Microsoft Teams. The SDK (botbuilder) is imported by `runtime`, `bot`, `auth` and `messenger`,
never here. `activity`, `turn`, `handler`, `proactive`, `endpoint`, `guard`, `universal`, `cards`
and `limits` need no SDK: the Agents SDK adapter (`adapters.agents`) runs the same rules through
them."""
