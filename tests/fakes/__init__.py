"""Local fakes that speak real HTTP, for the Slack and Teams adapter tests.

Every fake binds to ``127.0.0.1`` on an ephemeral port and never reaches the internet:

* :class:`tests.fakes.slack_api.FakeSlackApi` plays the Slack Web API (``/api/<method>``) and
  ``response_url`` endpoints; point ``AsyncWebClient(base_url=fake.base_url)`` at it.
* :class:`tests.fakes.bot_connector.FakeBotConnector` plays the Bot Framework connector service
  a ``CloudAdapter`` replies to; use ``fake.service_url`` as the activity's ``serviceUrl``.
* :class:`tests.fakes.openid.FakeOpenIdIssuer` plays the Bot Framework token issuer (OpenID
  metadata, JWKS, a client-credentials token endpoint) and mints signed tokens.

The fakes are imported from their modules (``from tests.fakes.slack_api import FakeSlackApi``)
so that importing one does not pull in the other platform's SDK.
"""
