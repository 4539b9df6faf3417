"""Microsoft Teams on the Microsoft 365 Agents SDK (``TOUCHBASE_TEAMS_SDK=agents``), beside the
botbuilder adapter in `adapters.teams`. The SDK (``microsoft_agents``) is imported by
`runtime`, `bot`, `auth` and `messenger`, never here. What an activity means is decided by the
SDK-free `adapters.teams.activity` and `adapters.teams.turn`, shared with the botbuilder adapter."""
