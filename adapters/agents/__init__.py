"""Microsoft Teams on the Microsoft 365 Agents SDK (``TOUCHBASE_TEAMS_SDK=agents``), beside the
botbuilder adapter in `adapters.teams`. The SDK (``microsoft_agents``) is imported by
`runtime`, `bot`, `auth` and `messenger`, never here; `activity` and `universal` need no SDK."""
