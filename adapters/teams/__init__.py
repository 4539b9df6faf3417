"""Microsoft Teams. The SDK (botbuilder) is imported by `runtime`, `bot`, `auth` and `messenger`,
never here, so the Adaptive Card renderer (`cards`) can be imported without it."""
